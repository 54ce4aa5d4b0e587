"""Reading features: counts, one feature, and a streamed page of features."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Connection, text

from service.layers.features.collections import Collection, feature_sql
from service.layers.features.params import Query

STREAM_BATCH = 2000


COUNTS_KEPT = 4096  # counts remembered, each under its layer's version
_COUNTS: OrderedDict = OrderedDict()
_COUNTS_LOCK = threading.Lock()


# the tables whose rows a collection's rows name (its joins), and the names their versions
# go by in layer_version (zones and grid cells have their own since migration 0007)
_JOINED = {
    "admin_area": ("admin_area",),
    "grid_cell": ("admin_area",),
    "zone": ("unit", "person", "admin_area"),
    "stall_area": ("unit",),
    "ad_site": ("unit",),
    "violation": ("grid_cell", "zone", "unit", "app_user"),
    "unit": ("admin_area",),
    "person": ("unit",),
}
_LAYER_OF = {"zone": "zones", "grid_cell": "grid_cells"}


def _version(conn: Connection, c: Collection, city_id: int) -> str:
    """What moves whenever a row of the collection (or a row its properties name) changes:
    the change numbers of the cases' bins, and the layers' versions (migrations 0007, 0013,
    0018). Users (a case's reporter) have none: a count filtered by nothing of theirs."""
    names = [_LAYER_OF.get(t, t) for t in (c.table, *_JOINED.get(c.table, ()))]
    return str(
        conn.execute(
            text(
                "SELECT coalesce((SELECT max(change) FROM violation_bin_change "
                "WHERE city_id = :c), 0) || ':' || coalesce((SELECT string_agg(layer || '=' || "
                "version, ',' ORDER BY layer) FROM layer_version WHERE city_id = :c "
                "AND layer = ANY(:names)), '')"
            ),
            {"c": city_id, "names": names},
        ).scalar_one()
    )


def count(conn: Connection, c: Collection, q: Query) -> int:
    """The features matched, counted once per version of the collection: a client paging
    through a million features is not made to wait for a count on every page. A filter on
    the time (``now()``) makes a count that is not kept."""
    sql = f"SELECT count(*) FROM {c.from_sql} WHERE {' AND '.join(q.where)}"
    if any("now()" in w for w in q.where):
        return conn.execute(text(sql), q.params).scalar_one()
    key = (c.id, sql, tuple(sorted((k, repr(v)) for k, v in q.params.items())))
    version = _version(conn, c, q.params["city_id"])
    with _COUNTS_LOCK:
        hit = _COUNTS.get(key)
        if hit and hit[0] == version:
            _COUNTS.move_to_end(key)
            return hit[1]
    n = conn.execute(text(sql), q.params).scalar_one()
    with _COUNTS_LOCK:
        _COUNTS[key] = (version, n)
        _COUNTS.move_to_end(key)
        while len(_COUNTS) > COUNTS_KEPT:
            _COUNTS.popitem(last=False)
    return n


def _page(q: Query) -> tuple[str, dict]:
    """The page's rows: after an id (keyset: the index walks straight there, however deep)
    or at an offset (the rows before it are read and dropped: slow deep down)."""
    if q.after is not None:
        return " AND t.id > :after ORDER BY t.id LIMIT :limit", {"after": q.after}
    return " ORDER BY t.id LIMIT :limit OFFSET :offset", {"offset": q.offset}


def page_end(conn: Connection, c: Collection, q: Query) -> tuple[int | None, int, bool]:
    """The page's last id, its features and whether any feature follows it (for the next
    link), read from the index before the page is streamed."""
    part, extra = _page(q)
    params = {**q.params, **extra, "limit": q.limit}
    where = " AND ".join(q.where)
    last, n = conn.execute(
        text(
            f"SELECT max(id), count(*) FROM (SELECT t.id FROM {c.from_sql} WHERE {where}{part}) s"
        ),
        params,
    ).one()
    if last is None:
        return None, 0, False
    more = conn.execute(
        text(f"SELECT EXISTS (SELECT 1 FROM {c.from_sql} WHERE {where} AND t.id > :last)"),
        {**q.params, "last": last},
    ).scalar()
    return last, n, bool(more)


def stream(conn: Connection, c: Collection, q: Query) -> Iterator[str]:
    """Feature texts in id order, fetched in batches through a server-side cursor."""
    part, extra = _page(q)
    sql = f"SELECT {feature_sql(c)} FROM {c.from_sql} WHERE {' AND '.join(q.where)}{part}"
    result = conn.execution_options(stream_results=True, yield_per=STREAM_BATCH).execute(
        text(sql), {**q.params, **extra, "limit": q.limit}
    )
    for row in result:
        yield row[0]


def chunks(
    conn: Connection, c: Collection, q: Query, size: int = 10_000, workers: int = 1
) -> Iterator[tuple[int, str]]:
    """Features in id order as (count, text) of up to ``size`` features joined by ",\\n",
    each chunk built by the database in one query: memory stays that of a few chunks however
    many there are, and nothing crosses to Python row by row.

    With ``workers`` > 1, that many more connections build chunks side by side, each on the
    snapshot of ``conn``'s transaction, so the whole is one consistent state and comes out in
    order. (On one connection, run it in one snapshot, as ``reading()`` does.)"""
    rows = f"FROM {c.from_sql} WHERE {' AND '.join(q.where)}"
    build = (
        f"SELECT max(id), count(*), string_agg(f, E',\\n' ORDER BY id) FROM (SELECT t.id, "
        f"{feature_sql(c)} AS f {rows} "
    )
    if workers > 1:
        yield from _side_by_side(conn, q, rows, build, size, workers)
        return
    sql = text(build + "AND t.id > :after ORDER BY t.id LIMIT :size) s")
    after, left = -1, q.limit
    while left > 0:
        last, n, body = conn.execute(
            sql, {**q.params, "after": after, "size": min(size, left)}
        ).one()
        if not n:
            return
        yield n, body
        after, left = last, left - n


def _side_by_side(conn, q, rows, build, size, workers) -> Iterator[tuple[int, str]]:
    snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
    if not re.fullmatch(r"[0-9A-F-]+", snapshot):  # it is inlined below: SET takes no $1
        raise ValueError(f"unexpected snapshot id {snapshot!r}")
    # the last id of every chunk, on that snapshot
    ends = conn.execute(
        text(
            "SELECT id FROM (SELECT id, rn, count(*) OVER () AS n FROM (SELECT t.id, "
            f"row_number() OVER (ORDER BY t.id) AS rn {rows} ORDER BY t.id LIMIT :limit) a) s "
            "WHERE rn % :size = 0 OR rn = n ORDER BY id"
        ),
        {**q.params, "limit": q.limit, "size": size},
    ).scalars()
    ends = list(ends)
    if not ends:
        return
    sql = text(build + "AND t.id > :lo AND t.id <= :hi) s")
    opened: list[Connection] = []
    local = threading.local()

    def chunk(bounds: tuple[int, int]) -> tuple[int, str]:
        if not hasattr(local, "conn"):
            local.conn = conn.engine.connect()
            opened.append(local.conn)
            local.conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
            local.conn.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
        _, n, body = local.conn.execute(sql, {**q.params, "lo": bounds[0], "hi": bounds[1]}).one()
        return n, body

    try:
        with ThreadPoolExecutor(workers) as pool:
            yield from pool.map(chunk, zip([-1, *ends[:-1]], ends, strict=True))
    finally:
        for other in opened:
            other.close()


def one(
    conn: Connection,
    c: Collection,
    city_id: int,
    fid: int,
    extra_where: list[str] | None = None,
    params: dict | None = None,
) -> tuple[str, int] | None:
    """A feature's GeoJSON text and its version, or None."""
    where = ["t.city_id = :city_id", "t.id = :fid", *(extra_where or [])]
    sql = f"SELECT {feature_sql(c)}, t.version FROM {c.from_sql} WHERE {' AND '.join(where)}"
    row = conn.execute(text(sql), {"city_id": city_id, "fid": fid, **(params or {})}).first()
    return (row[0], row[1]) if row else None


def extent(conn: Connection, c: Collection, city_id: int) -> list[float] | None:
    if not c.geometry_types:
        return None
    row = conn.execute(
        text(
            f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            f"(SELECT ST_Extent(geom) e FROM {c.table} WHERE city_id = :c) s"
        ),
        {"c": city_id},
    ).first()
    return [round(v, 7) for v in row] if row and row[0] is not None else None
