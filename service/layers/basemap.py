"""The city's own base map (``CHUANGWEN_TILES=own``): a PNG tile drawn from its streets
(``road``), communities (``admin_area``) and water, buildings and green areas
(``basemap_feature``, service/layers/basemap_import.py), served at
``/tiles/basemap/{z}/{x}/{y}.png``.

What lies within a tile and its margin is clipped and put in web mercator by PostGIS (areas
smaller than a pixel and, below ``BUILDING_ZOOM``, buildings are not read);
``maps/basemap.py`` draws it. Tiles are kept in memory by (city, tile, street network
version, base-map features version, areas version), read in the same snapshot as the data,
so a new import or an edited community is drawn at once.
"""

from __future__ import annotations

import shapely
from sqlalchemy import Connection, text

from maps.basemap import (
    BUILDING_ZOOM,
    MARGIN_PX,
    TILE_PX,
    Community,
    Feature,
    Road,
    Tile,
    render_tile,
)
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
_FEATURES = text(
    _ENV + "SELECT f.kind, f.tag, f.name, ST_AsBinary(ST_ClipByBox2D(ST_Transform(f.geom, 3857), "
    "q.big)), ST_X(l), ST_Y(l), f.label_radius_mercator_m FROM q, basemap_feature f "
    "LEFT JOIN LATERAL ST_Transform(f.label_at, 3857) l ON true "
    "WHERE f.city_id = :c AND f.geom && q.box AND (f.kind <> 'building' OR :z >= :bz) "
    "AND greatest(ST_XMax(f.geom) - ST_XMin(f.geom), ST_YMax(f.geom) - ST_YMin(f.geom)) "
    ">= :pixel_deg"
)


def versions(conn: Connection, city: int) -> tuple:
    """What a cached tile depends on: the versions of the street network, of the base-map
    features and of the areas."""
    layers = dict(
        conn.execute(
            text(
                "SELECT layer, version FROM layer_version "
                "WHERE city_id = :c AND layer IN ('road', 'basemap_feature')"
            ),
            {"c": city},
        ).all()
    )
    # admin_area has no version counter of its own: every write raises a row's version, adds
    # a row or removes one, so these three move with any change
    areas = conn.execute(
        text(
            "SELECT count(*), coalesce(sum(version), 0), coalesce(max(id), 0) "
            "FROM admin_area WHERE city_id = :c"
        ),
        {"c": city},
    ).one()
    return (layers.get("road", 0), layers.get("basemap_feature", 0), *areas)


def serve(conn: Connection, city: int, z: int, x: int, y: int) -> tuple[Tile, tuple]:
    """Tile z/x/y of the city's base map (its PNG and what it shows), from the cache or
    drawn and kept; with the versions it was drawn from."""
    version = versions(conn, city)
    key = (city, z, x, y, version)
    tile = CACHE.get(key)
    if tile is None:
        tile = render_tile(z, x, y, *_features(conn, city, z, x, y))
        CACHE.put(key, tile)
    return tile, version


def streets_from_osm(conn: Connection, city: int) -> bool:
    """Whether any of the city's streets or base-map features came from OpenStreetMap (then
    the base map carries its attribution, as the ODbL asks)."""
    return bool(
        conn.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM road WHERE city_id = :c AND provenance = 'osm') "
                "OR EXISTS (SELECT 1 FROM basemap_feature WHERE city_id = :c "
                "AND provenance = 'osm')"
            ),
            {"c": city},
        ).scalar()
    )


def _features(conn: Connection, city: int, z: int, x: int, y: int):
    params = {
        "c": city,
        "z": z,
        "x": x,
        "y": y,
        "m": MARGIN_PX / TILE_PX,
        "bz": BUILDING_ZOOM,
        "pixel_deg": 360 / TILE_PX / 2**z,
    }
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
    features = [
        Feature(kind, tag, name, shapely.from_wkb(wkb), None if lx is None else (lx, ly), room or 0)
        for kind, tag, name, wkb, lx, ly, room in conn.execute(_FEATURES, params)
        if wkb is not None
    ]
    return (
        [r for r in roads if not r.geom.is_empty],
        communities,
        [f for f in features if not f.geom.is_empty],
    )
