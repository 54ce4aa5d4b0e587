"""Reading features: counts, one feature, and a streamed page of features."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Connection, text

from service.features.collections import Collection, feature_sql
from service.features.params import Query

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
    conn: Connection, c: Collection, q: Query, size: int = 10_000
) -> Iterator[tuple[int, str]]:
    """Features in id order as (count, text) of up to ``size`` features joined by ",\\n", each
    built by one query that starts after the last id of the one before: memory stays that
    of one chunk however many there are, and nothing crosses to Python row by row.
    (Run it in one snapshot, as ``reading()`` does, for a consistent whole.)"""
    sql = (
        f"SELECT max(id), count(*), string_agg(f, E',\\n' ORDER BY id) FROM (SELECT t.id, "
        f"{feature_sql(c)} AS f FROM {c.from_sql} WHERE {' AND '.join(q.where)} "
        "AND t.id > :after ORDER BY t.id LIMIT :size) s"
    )
    after, left = -1, q.limit
    while left > 0:
        last, n, body = conn.execute(
            text(sql), {**q.params, "after": after, "size": min(size, left)}
        ).one()
        if not n:
            return
        yield n, body
        after, left = last, left - n


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
    row = conn.execute(
        text(
            f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            f"(SELECT ST_Extent(geom) e FROM {c.table} WHERE city_id = :c) s"
        ),
        {"c": city_id},
    ).first()
    return [round(v, 7) for v in row] if row and row[0] is not None else None
