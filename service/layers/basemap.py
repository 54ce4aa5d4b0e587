"""The city's own base map (``CHUANGWEN_TILES=own``): a PNG tile drawn from its streets
(``road``) and communities (``admin_area``), served at ``/tiles/basemap/{z}/{x}/{y}.png``.

The streets and community borders within a tile and its margin are clipped and put in web
mercator by PostGIS; ``maps/basemap.py`` draws them. Tiles are kept in memory by (city, tile,
street network version, areas version), read in the same snapshot as the data, so a new
network or an edited community is drawn at once.
"""

from __future__ import annotations

import shapely
from sqlalchemy import Connection, text

from maps.basemap import MARGIN_PX, TILE_PX, Community, Road, render_tile
from service.layers.tiles import _Cache

MAX_ZOOM = 20
PNG = "image/png"
CACHE = _Cache(64 * 1024 * 1024)  # a drawn tile is 5–40 kB

# the tile's envelope in web mercator with the margin, and the same box in lon/lat for the
# indexes (a web-mercator box is a lon/lat box)
_ENV = (
    "WITH e AS (SELECT ST_TileEnvelope(:z, :x, :y) AS env), "
    "b AS (SELECT ST_Expand(env, (ST_XMax(env) - ST_XMin(env)) * :m) AS big FROM e), "
    "q AS (SELECT big, ST_Transform(big, 4326) AS box FROM b) "
)
_ROADS = text(
    _ENV + "SELECT r.highway, r.name, ST_AsBinary(ST_ClipByBox2D(ST_Transform(r.geom, 3857), "
    "q.big)) FROM road r, q WHERE r.city_id = :c AND r.geom && q.box"
)
_COMMUNITIES = text(
    _ENV + "SELECT a.name, ST_AsBinary(ST_ClipByBox2D(ST_Boundary(ST_Transform(a.geom, 3857)), "
    "q.big)), ST_X(p), ST_Y(p) FROM admin_area a, q, "
    "LATERAL ST_Transform(ST_PointOnSurface(a.geom), 3857) p "
    "WHERE a.city_id = :c AND a.level = 'community' AND a.geom && q.box"
)


def versions(conn: Connection, city: int) -> tuple:
    """What a cached tile depends on: the street network's version and the areas'."""
    road = conn.execute(
        text("SELECT version FROM layer_version WHERE city_id = :c AND layer = 'road'"),
        {"c": city},
    ).scalar()
    # admin_area has no version counter of its own: every write raises a row's version, adds
    # a row or removes one, so these three move with any change
    areas = conn.execute(
        text(
            "SELECT count(*), coalesce(sum(version), 0), coalesce(max(id), 0) "
            "FROM admin_area WHERE city_id = :c"
        ),
        {"c": city},
    ).one()
    return (road or 0, *areas)


def serve(conn: Connection, city: int, z: int, x: int, y: int) -> tuple[bytes, tuple]:
    """The PNG of tile z/x/y of the city's base map, from the cache or drawn and kept; with
    the versions it was drawn from."""
    version = versions(conn, city)
    key = (city, z, x, y, version)
    body = CACHE.get(key)
    if body is None:
        body = render_tile(z, x, y, *_features(conn, city, z, x, y))
        CACHE.put(key, body)
    return body, version


def streets_from_osm(conn: Connection, city: int) -> bool:
    """Whether any of the city's streets came from OpenStreetMap (then the base map carries
    its attribution, as the ODbL asks)."""
    return bool(
        conn.execute(
            text("SELECT EXISTS (SELECT 1 FROM road WHERE city_id = :c AND provenance = 'osm')"),
            {"c": city},
        ).scalar()
    )


def _features(conn: Connection, city: int, z: int, x: int, y: int):
    params = {"c": city, "z": z, "x": x, "y": y, "m": MARGIN_PX / TILE_PX}
    roads = [
        Road(highway, name, shapely.from_wkb(wkb))
        for highway, name, wkb in conn.execute(_ROADS, params)
        if wkb is not None
    ]
    communities = [
        Community(name, shapely.from_wkb(wkb), (px, py))
        for name, wkb, px, py in conn.execute(_COMMUNITIES, params)
        if wkb is not None
    ]
    return [r for r in roads if not r.geom.is_empty], communities
