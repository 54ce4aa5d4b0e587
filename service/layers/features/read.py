"""Reading features: counts, one feature, and a streamed page of features."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Connection, text

from service.layers.features.collections import Collection, feature_sql
from service.layers.features.params import Query

STREAM_BATCH = 2000


def count(conn: Connection, c: Collection, q: Query) -> int:
    sql = f"SELECT count(*) FROM {c.from_sql} WHERE {' AND '.join(q.where)}"
    return conn.execute(text(sql), q.params).scalar_one()


def stream(conn: Connection, c: Collection, q: Query) -> Iterator[str]:
    """Feature texts in id order, fetched in batches through a server-side cursor."""
    sql = (
        f"SELECT {feature_sql(c)} FROM {c.from_sql} WHERE {' AND '.join(q.where)} "
        "ORDER BY t.id LIMIT :limit OFFSET :offset"
    )
    result = conn.execution_options(stream_results=True, yield_per=STREAM_BATCH).execute(
        text(sql), {**q.params, "limit": q.limit, "offset": q.offset}
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
