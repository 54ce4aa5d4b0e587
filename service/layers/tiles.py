"""Vector tiles (Mapbox Vector Tile, made by PostGIS ``ST_AsMVT``) for the map's big layers.

Tiles of violations (served at ``/tiles/violations/{z}/{x}/{y}.pbf``): the cases themselves
from zoom 14 up (id, status, category, severity: what the map styles by); below zoom 13,
32 × 32 points a tile with the count of cases and of open ones, summed from
``violation_bin`` so that a tile over a whole city of a million cases costs a few thousand
rows; at zoom 13 both: a bin's count where more than ``CASES_A_BIN`` cases crowd its
8 pixels, its cases elsewhere. Filters:
``status``, ``category`` and ``unit`` (codes, comma-separated), ``from`` and ``to`` (days of
observation, city time, both included). The bins know status and category only: with a unit
or dates, and for a unit's users (who see their own cases only), counts are made from the
cases.

Tiles of grid cells: the cells with their codes from zoom 13 up.

Tiles are cached in memory by (city, layer, tile, filters, scope, version). A violations
tile's version from zoom 13 is the last change number of the bins under it and its rim, so a
new case makes stale only the tiles it shows in; below, the city's last change number (a few
tiles cover a city); a grid cells tile's is the layer's version in ``layer_version``. The
version is read in the same snapshot as the tile, so a cached tile is never older than the
data its reader can see.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict

from sqlalchemy import text

from service.layers.problems import OPEN_STATUSES
from service.store.db import reading

MVT = "application/vnd.mapbox-vector-tile"
RAW_FROM_ZOOM = 13
MAX_ZOOM = 22
BIN_ZOOM, BINS_PER_TILE = 12, 64  # the lattice of violation_bin (migration 0007)
CASES_A_BIN = 16  # at zoom 13, a bin with more cases is drawn as its count
HALF = 20037508.342789244
BIN_M = 2 * HALF / (BINS_PER_TILE * 2**BIN_ZOOM)
EXTENT, BUFFER = 4096, 64
# the tile's envelope in web mercator and, a buffer wider, in lon/lat for the index
_ENV = (
    "WITH e AS (SELECT ST_TileEnvelope(:z, :x, :y) AS env), "
    "b AS (SELECT env, ST_Transform(ST_Expand(env, "
    f"(ST_XMax(env) - ST_XMin(env)) * {BUFFER / EXTENT}), 4326) AS box FROM e) "
)


class _Cache:
    """A thread-safe LRU of tile bytes, bounded by their total size (a dense zoom-13 tile
    is most of a megabyte)."""

    def __init__(self, max_bytes: int = 256 * 1024 * 1024):
        self._items: OrderedDict[tuple, bytes] = OrderedDict()
        self._max, self._bytes, self._lock = max_bytes, 0, threading.Lock()

    def get(self, key: tuple) -> bytes | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key: tuple, value: bytes) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            self._bytes += len(value) - (len(old) if old is not None else 0)
            self._items[key] = value
            while self._bytes > self._max and len(self._items) > 1:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped)


CACHE = _Cache()

# filters of the violations tiles: lists of codes (→ a column), and days of observation
LISTS = {"status": "status", "category": "category_code", "unit": None}
DAYS = {
    "from": "t.observed_at >= CAST(:from AS date)::timestamp AT TIME ZONE {tz}",
    "to": "t.observed_at < (CAST(:to AS date) + 1)::timestamp AT TIME ZONE {tz}",
}
_TZ = "(SELECT timezone FROM city WHERE id = :c)"


def serve(conn, layer, city, z, x, y, filters, scope) -> tuple[bytes, bool]:
    """The tile from the cache, or made and kept (then True), under the version of its data."""
    if layer == "violations" and z >= RAW_FROM_ZOOM:
        # the last change to the bins under the tile and its rim
        bx0, bx1, by0, by1 = _bins(z, x, y, rim=1)
        version = conn.execute(
            text(
                "SELECT max(change) FROM violation_bin_change WHERE city_id = :c "
                "AND bx BETWEEN :bx0 AND :bx1 AND by BETWEEN :by0 AND :by1"
            ),
            {"c": city, "bx0": bx0, "bx1": bx1, "by0": by0, "by1": by1},
        ).scalar()
    elif layer == "violations":  # a few tiles cover the city: any change renews them
        version = conn.execute(
            text("SELECT max(change) FROM violation_bin_change WHERE city_id = :c"),
            {"c": city},
        ).scalar()
    else:
        version = conn.execute(
            text("SELECT version FROM layer_version WHERE city_id = :c AND layer = :l"),
            {"c": city, "l": layer},
        ).scalar()
    # a unit's scope by the units it covers now, read in this snapshot: a community moved to
    # another unit must not stay visible through a tile made before the move
    units = (
        None
        if scope is None
        else tuple(
            conn.execute(
                text(f"SELECT t.id FROM unit t WHERE {scope.where('t.id')} ORDER BY t.id"),
                scope.params,
            ).scalars()
        )
    )
    key = (city, layer, z, x, y, tuple(filters.items()), units, version or 0)
    body = CACHE.get(key)
    if body is not None:
        return body, False
    body = _make(conn, layer, city, z, x, y, filters, scope)
    CACHE.put(key, body)
    return body, True


# Making ahead: a zoom-10 tile over a city of a million cases sums a few hundred thousand
# bins (about 150 ms). The warmer makes the unfiltered violations tiles with cases (zooms
# WARM_ZOOMS) whenever the city's cases changed, so that the map's first look at them is a
# cached one. Filtered tiles and a unit's own are made when asked (a unit's zoom-13 tile
# holds its cases, as the bins do not know units: fewer than the city's).
WARM_ZOOMS = (10, 11, 12, 13)


def warm(city: int, zooms=WARM_ZOOMS) -> int:
    """Make (or find cached) every unfiltered violations tile with cases of a city at
    ``zooms``; returns how many were made."""
    made = 0
    for z in zooms:
        per = BINS_PER_TILE * 2.0 ** (BIN_ZOOM - z)
        with reading() as conn:
            tiles = conn.execute(
                text(
                    "SELECT DISTINCT floor(bx / :per)::int, floor(by / :per)::int "
                    "FROM violation_bin WHERE city_id = :c AND n > 0 ORDER BY 1, 2"
                ),
                {"c": city, "per": per},
            ).all()
        for x, y in tiles:
            with reading() as conn:
                made += serve(conn, "violations", city, z, x, y, {}, None)[1]
    return made


def start_warmer(app, every_s: float) -> threading.Thread:
    """A daemon thread that warms every city's tiles when their cases have changed."""
    log = app.logger

    def loop() -> None:
        seen: dict[int, int] = {}
        while True:
            try:
                with app.app_context():
                    with reading() as conn:
                        latest = dict(
                            conn.execute(
                                text(
                                    "SELECT city_id, max(change) FROM violation_bin_change "
                                    "GROUP BY city_id"
                                )
                            ).all()
                        )
                    for city, change in latest.items():
                        if seen.get(city) != change:
                            t0 = time.perf_counter()
                            made = warm(city)
                            seen[city] = change
                            WARM["rounds"] += 1
                            log.info(
                                "tiles of city %s warmed: %s made in %.1f s",
                                city,
                                made,
                                time.perf_counter() - t0,
                            )
            except Exception:  # the warmer must not die with one bad round
                log.exception("tile warmer")
            time.sleep(every_s)

    thread = threading.Thread(target=loop, name="tile-warmer", daemon=True)
    thread.start()
    return thread


WARM = {"rounds": 0}  # rounds of warming done (shown by /health)


def _bins(z: int, x: int, y: int, rim: int = 0) -> tuple[int, int, int, int]:
    """The violation_bin lattice's bins under a tile, and ``rim`` more on each side."""
    per = BINS_PER_TILE * 2.0 ** (BIN_ZOOM - z)
    return (
        math.floor(x * per) - rim,
        math.ceil((x + 1) * per) - 1 + rim,
        math.floor(y * per) - rim,
        math.ceil((y + 1) * per) - 1 + rim,
    )


def _make(conn, layer, city, z, x, y, filters, scope) -> bytes:
    # a tile is a few milliseconds of work: starting parallel workers would triple it
    conn.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    params = {"c": city, "z": z, "x": x, "y": y}
    if layer == "grid_cells":
        if z < RAW_FROM_ZOOM:
            return b""
        sql = (
            _ENV + "SELECT ST_AsMVT(q, 'grid_cells', 4096, 'geom', 'id') FROM (SELECT t.id, "
            "t.code, ST_AsMVTGeom(ST_Transform(t.geom, 3857), b.env, 4096, 64, true) AS geom "
            "FROM grid_cell t, b WHERE t.city_id = :c AND t.geom && b.box) q"
        )
        return bytes(conn.execute(text(sql), params).scalar() or b"")
    # (cases and bins both have these columns; the names are left unqualified for either)
    wanted = [f"{col} = ANY(:{name})" for name, col in LISTS.items() if col and name in filters]
    params |= {name: list(v) if name in LISTS else v[0] for name, v in filters.items()}
    where = ["t.city_id = :c", *wanted]
    # what the bins do not know: counted from the cases
    by_case = [DAYS[k].format(tz=_TZ) for k in DAYS if k in filters]
    if "unit" in filters:
        by_case.append(
            "t.unit_id IN (SELECT id FROM unit WHERE city_id = :c AND code = ANY(:unit))"
        )
    where += by_case
    if scope is not None:
        where.append(scope.where())
        params |= scope.params
    params["open"] = list(OPEN_STATUSES)
    if z == RAW_FROM_ZOOM and scope is None and not by_case:
        return _mixed(conn, z, x, y, wanted, params)
    if z >= RAW_FROM_ZOOM:
        sql = (
            # what the map styles by; a click reads the rest from the features API
            _ENV + "SELECT ST_AsMVT(q, 'violations', 4096, 'geom', 'id') FROM (SELECT t.id, "
            "t.status, t.category_code AS category, t.severity, "
            "ST_AsMVTGeom(t.geom_3857, b.env, 4096, 64, true) AS geom "
            f"FROM violation t, b WHERE {' AND '.join(where)} AND t.geom && b.box) q"
        )
        return bytes(conn.execute(text(sql), params).scalar() or b"")
    # below: one point per 2 × 2 bins of the zoom-12 lattice at zoom 12 (32 × 32 points in a
    # tile, 8 px apart: denser, the circles only cover each other), f × f bins further out
    f = 2 ** (BIN_ZOOM - z + 1)
    bx0, bx1, by0, by1 = _bins(z, x, y)
    params |= {"bx0": bx0, "bx1": bx1, "by0": by0, "by1": by1}
    if scope is None and not by_case:
        counts = (
            f"SELECT b.bx / {f} AS ox, b.by / {f} AS oy, sum(b.n) AS n, "
            "sum(b.n) FILTER (WHERE b.status = ANY(:open)) AS n_open FROM violation_bin b "
            "WHERE b.city_id = :c AND b.bx BETWEEN :bx0 AND :bx1 AND b.by BETWEEN :by0 AND :by1"
            + "".join(f" AND {w}" for w in wanted)
            + " GROUP BY 1, 2 HAVING sum(b.n) > 0"
        )
    else:  # a unit's own cases, or a choice the bins do not know: counted where they are
        counts = (
            f"SELECT m.bx / {f} AS ox, m.by / {f} AS oy, count(*) AS n, "
            "count(*) FILTER (WHERE t.status = ANY(:open)) AS n_open FROM violation t "
            "CROSS JOIN LATERAL violation_bin_of(t.geom_3857) m, b "
            f"WHERE {' AND '.join(where)} AND t.geom && b.box "
            "AND m.bx BETWEEN :bx0 AND :bx1 AND m.by BETWEEN :by0 AND :by1 GROUP BY 1, 2"
        )
    sql = (
        _ENV + "SELECT ST_AsMVT(q, 'violations', 4096, 'geom') FROM (SELECT k.n::int AS count, "
        "coalesce(k.n_open, 0)::int AS open, ST_AsMVTGeom(ST_SetSRID(ST_MakePoint("
        f"-{HALF} + (k.ox + 0.5) * {f * BIN_M}, {HALF} - (k.oy + 0.5) * {f * BIN_M}), 3857), "
        f"b.env, 4096, 0, false) AS geom FROM ({counts}) k, b) q"
    )
    return bytes(conn.execute(text(sql), params).scalar() or b"")


def _mixed(conn, z, x, y, wanted, params) -> bytes:
    """A zoom-13 tile of the bins' counts where cases crowd, the cases where they do not:
    a bin of the lattice (8 pixels at zoom 13) with more than ``CASES_A_BIN`` cases is
    one circle with its count, as below zoom 13; the others' cases are read bin by bin
    through the spatial index, so a tile over the densest part of a million cases reads a
    few hundred cases rather than fifty thousand (and weighs tens of kilobytes, not one
    megabyte). The cases of the bins round the tile are read too (one near the edge is
    drawn across it); the counts are the tile's own bins'."""
    bx0, bx1, by0, by1 = _bins(z, x, y, rim=1)
    tx0, tx1, ty0, ty1 = _bins(z, x, y)
    params |= {"bx0": bx0, "bx1": bx1, "by0": by0, "by1": by1, "most": CASES_A_BIN}
    params |= {"tx0": tx0, "tx1": tx1, "ty0": ty0, "ty1": ty1}
    box = (
        f"ST_Transform(ST_MakeEnvelope(-{HALF} + k.bx * {BIN_M}, {HALF} - (k.by + 1) * "
        f"{BIN_M}, -{HALF} + (k.bx + 1) * {BIN_M}, {HALF} - k.by * {BIN_M}, 3857), 4326)"
    )
    sql = (
        _ENV + ", k AS (SELECT t.bx, t.by, sum(t.n) AS n, "
        "sum(t.n) FILTER (WHERE t.status = ANY(:open)) AS n_open FROM violation_bin t "
        "WHERE t.city_id = :c AND t.bx BETWEEN :bx0 AND :bx1 AND t.by BETWEEN :by0 AND :by1"
        + "".join(f" AND {w}" for w in wanted)
        + " GROUP BY 1, 2 HAVING sum(t.n) > 0) "
        "SELECT ST_AsMVT(q, 'violations', 4096, 'geom', 'id') FROM ("
        # the cases of the bins with few
        "SELECT t.id, t.status, t.category_code AS category, t.severity, NULL::int AS count, "
        "NULL::int AS open, ST_AsMVTGeom(t.geom_3857, b.env, 4096, 64, true) AS geom "
        f"FROM k CROSS JOIN b CROSS JOIN LATERAL (SELECT {box} AS box) s "
        "JOIN violation t ON t.city_id = :c AND t.geom && s.box "
        "AND (violation_bin_of(t.geom_3857)).bx = k.bx "
        "AND (violation_bin_of(t.geom_3857)).by = k.by"
        + "".join(f" AND t.{w}" for w in wanted)
        + " WHERE k.n <= :most UNION ALL "
        # the counts of the others, at their bins' middles
        "SELECT NULL, NULL, NULL, NULL, k.n::int, coalesce(k.n_open, 0)::int, "
        f"ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(-{HALF} + (k.bx + 0.5) * {BIN_M}, "
        f"{HALF} - (k.by + 0.5) * {BIN_M}), 3857), b.env, 4096, 0, false) "
        "FROM k CROSS JOIN b WHERE k.n > :most AND k.bx BETWEEN :tx0 AND :tx1 "
        "AND k.by BETWEEN :ty0 AND :ty1) q"
    )
    return bytes(conn.execute(text(sql), params).scalar() or b"")
