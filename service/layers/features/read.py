"""Reading features: counts, one feature, and a streamed page of features."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator

from sqlalchemy import Connection, text

from service.layers.features.collections import Collection, feature_from, feature_sql
from service.layers.features.params import Query

STREAM_BATCH = 2000  # features a batch: what crosses from the database to Python at once


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


def version(conn: Connection, c: Collection, city_id: int) -> str:
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


def clocked(q: Query) -> bool:
    """Whether the query's conditions read the clock (``now()``): the same query names other
    rows a moment later, so nothing read by it is kept."""
    return any("now()" in w for w in q.where)


def params_key(q: Query) -> tuple:
    """The query's parameters as a key of what is kept for it."""
    return tuple(sorted((k, repr(v)) for k, v in q.params.items()))


def count(conn: Connection, c: Collection, q: Query, at: str | None = None) -> int:
    """The features matched, counted once per version of the collection: a client paging
    through a million features is not made to wait for a count on every page. A filter on
    the time (``now()``) makes a count that is not kept. ``at``: the collection's
    :func:`version`, when read already in this transaction."""
    sql = f"SELECT count(*) FROM {c.from_sql} WHERE {' AND '.join(q.where)}"
    if clocked(q):
        return conn.execute(text(sql), q.params).scalar_one()
    key = (c.id, sql, params_key(q))
    at = at or version(conn, c, q.params["city_id"])
    with _COUNTS_LOCK:
        hit = _COUNTS.get(key)
        if hit and hit[0] == at:
            _COUNTS.move_to_end(key)
            return hit[1]
    n = conn.execute(text(sql), q.params).scalar_one()
    with _COUNTS_LOCK:
        _COUNTS[key] = (at, n)
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


def mark(conn: Connection, c: Collection, q: Query) -> str:
    """What the page's rows are as this snapshot sees them: each row's id and the
    transaction that last wrote it (``xmin``, new with every insert or update of the row),
    hashed. Two snapshots that see the same mark see the same rows, whatever order their
    writers committed in (the bins' change numbers are drawn as a statement runs, not in
    commit order, so the version alone cannot say that)."""
    part, extra = _page(q)
    return conn.execute(
        text(
            "SELECT md5(coalesce(string_agg(id || ':' || x, ',' ORDER BY id), '')) FROM "
            f"(SELECT t.id, t.xmin::text AS x FROM {c.from_sql} "
            f"WHERE {' AND '.join(q.where)}{part}) s"
        ),
        {**q.params, **extra, "limit": q.limit},
    ).scalar_one()


def _copy(conn: Connection, sql: str, params: dict) -> Iterator[tuple[int, bytes]]:
    """``sql``'s one text column through COPY, as (count, UTF-8 rows joined by ",\\n") of up
    to ``STREAM_BATCH`` rows: the rows come as the database writes them, with no cursor and
    no row objects between. COPY sends one row a message, in its text form, which escapes a
    backslash as two (and a raw tab or newline, which the features' JSON never holds: to_json
    escapes them in every type but json, and no property is of that type, as a test holds)."""
    compiled = text(sql).compile(dialect=conn.dialect)
    cursor = conn.connection.driver_connection.cursor()
    statement = f"COPY ({compiled.string}) TO STDOUT"
    with cursor, cursor.copy(statement, compiled.construct_params(params)) as out:
        rows: list = []
        for row in out:
            rows.append(row)
            if len(rows) == STREAM_BATCH:
                yield len(rows), _joined(rows)
                rows = []
        if rows:
            yield len(rows), _joined(rows)


def _joined(rows: list) -> bytes:
    data = b"".join(rows)
    if b"\\" in data:  # rare (a quote or a backslash in a text): a scan costs less than a copy
        data = data.replace(b"\\\\", b"\\")
    return data[:-1].replace(b"\n", b",\n")


def _rows(c: Collection, q: Query) -> str:
    return f"FROM {feature_from(c)} WHERE {' AND '.join(q.where)}"


def batches(conn: Connection, c: Collection, q: Query) -> Iterator[tuple[int, bytes]]:
    """The page's features in id order as (count, UTF-8 feature texts joined by ",\\n"), in
    one statement: memory stays that of a batch however many there are (an export is one
    page as long as the layer), and PostgreSQL may build them in its parallel workers (COPY
    allows a parallel plan) while this process writes them out."""
    part, extra = _page(q)
    sql = f"SELECT {feature_sql(c)} {_rows(c, q)}{part}"
    return _copy(conn, sql, {**q.params, **extra, "limit": q.limit})


def stream(conn: Connection, c: Collection, q: Query) -> Iterator[str]:
    """The page's feature texts in id order, one by one (no feature holds a raw newline)."""
    for _, batch in batches(conn, c, q):
        yield from batch.decode().split(",\n")


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
    sql = f"SELECT {feature_sql(c)}, t.version FROM {feature_from(c)} WHERE {' AND '.join(where)}"
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
