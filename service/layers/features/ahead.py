"""The next page made while a client reads the one before.

A client walking a layer by its next links (GDAL's OAPIF driver, so QGIS) asks for a page
only once it has read the one before: the server would wait while the client reads, and the
client while the server makes the page. When a page is asked by ``after`` (a next link) and
more follow, the page after it is made on a worker thread while this one is sent and read,
and kept for the same user and the same query for :data:`KEPT_S` seconds.

It is served only if the layer's version (``read.version``: what moves with any change to
its rows or the rows they name) is still the one it was made under, in one snapshot with
it; else it is dropped and the page made afresh. The key holds the user and the whole
query, the user's scope among its conditions: a page made for one user is never given to
another.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

from service.layers.features import read
from service.layers.features.collections import Collection
from service.layers.features.params import Query
from service.store.db import reading

KEPT_S = 30.0  # a page made ahead is dropped after this long
PAGES_KEPT = 4  # pages made ahead and not yet asked for, at most (the oldest dropped first)
MOST_FEATURES = 10_000  # pages of more features are not made ahead (memory)
WAIT_S = 30.0  # a request waits at most this long for its page still being made

_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="page-ahead")
_PAGES: dict[tuple, tuple[float, Future]] = {}
_LOCK = threading.Lock()


@dataclass
class Page:
    version: str
    count: int
    body: bytes  # the features' texts joined by ",\n"


def _key(user_id: int, c: Collection, q: Query) -> tuple:
    return (
        user_id,
        c.id,
        tuple(q.where),
        tuple(sorted((k, repr(v)) for k, v in q.params.items())),
        q.limit,
        q.after,
    )


def worth(q: Query) -> bool:
    """A page asked by a next link, of a query that reads no clock (``now()``: the same
    query would not name the same rows a moment later) and of a size kept in memory."""
    return (
        q.after is not None and q.limit <= MOST_FEATURES and not any("now()" in w for w in q.where)
    )


def _make(app, c: Collection, q: Query) -> Page:
    with reading(app) as conn:  # one snapshot: the version and the rows
        version = read.version(conn, c, q.params["city_id"])
        parts, n = [], 0
        for count, batch in read.batches(conn, c, q):
            parts.append(batch)
            n += count
    return Page(version, n, b",\n".join(parts))


def start(app, user_id: int, c: Collection, q: Query, last: int) -> None:
    """Make the page after ``last`` (the next link's) for this user on the worker thread."""
    following = replace(q, after=last, offset=0)
    key = _key(user_id, c, following)
    now = time.monotonic()
    with _LOCK:
        for k in [k for k, (made, _) in _PAGES.items() if now - made > KEPT_S]:
            del _PAGES[k]
        if key in _PAGES:
            return
        while len(_PAGES) >= PAGES_KEPT:
            _PAGES.pop(next(iter(_PAGES)))[1].cancel()
        _PAGES[key] = (now, _POOL.submit(_make, app, c, following))


def take(user_id: int, c: Collection, q: Query, version: str, returned: int) -> bytes | None:
    """The page made ahead for this user and query, if the layer is still at ``version``
    and it holds the ``returned`` features the page's head says; else None (made afresh)."""
    with _LOCK:
        held = _PAGES.pop(_key(user_id, c, q), None)
    if held is None or time.monotonic() - held[0] > KEPT_S:
        return None
    try:
        page = held[1].result(timeout=WAIT_S)
    except Exception:  # noqa: BLE001 - cancelled, failed or late: the page is made afresh
        return None
    if page.version != version or page.count != returned:
        return None
    return page.body
