"""The tile cache keeps the most recently used tiles within its byte budget."""

from service.layers.tiles import _Cache


def test_the_cache_drops_the_least_recently_used_beyond_its_budget():
    cache = _Cache(max_bytes=10)
    cache.put("a", b"1234")
    cache.put("b", b"1234")
    assert cache.get("a") == b"1234"  # now the most recent
    cache.put("c", b"1234")  # 12 bytes: the least recent, b, goes
    assert cache.get("b") is None
    assert cache.get("a") == b"1234" and cache.get("c") == b"1234"
    cache.put("a", b"123456789")  # replacing counts the new size only: c goes
    assert cache.get("c") is None and cache.get("a") == b"123456789"
