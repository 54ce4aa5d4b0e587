"""The own base map's water, waterways, buildings and green areas, read from the same
OpenStreetMap file as the streets (``chuangwen import-basemap``, ``import-roads``, the demo)
and kept in ``basemap_feature`` (migration 0012), clipped to the city.

The file is read by pyosmium (libosmium), never by GDAL, and only by the command line and the
demo: the server process reads no files for the base map. Polygons come from closed ways and
multipolygon relations (osmium assembles them; a relation whose members are not all in the
extract is left out), waterways are the lines of rivers and canals. A city's features are
replaced wholesale in the caller's transaction.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from sqlalchemy import Connection, text

from service.errors import Problem, field_error
from service.layers.cities import within_city

# as the streets (service/rounds/roads.py): an extract is cut as a rectangle around the city
MARGIN_M = 2000
KINDS = ("water", "waterway", "building", "green")
BATCH = 20_000  # features an INSERT statement
WATERWAYS = ("river", "canal")  # wide enough to draw; streams and ditches are left out
_WATER = {
    "natural": {"water"},
    "waterway": {"riverbank", "dock"},
    "landuse": {"reservoir", "basin"},
}
_GREEN = {
    "leisure": {"park", "garden", "nature_reserve", "recreation_ground", "golf_course"},
    "landuse": {
        "grass", "forest", "meadow", "village_green", "recreation_ground", "park", "orchard",
        "cemetery",
    },
    "natural": {"wood", "scrub", "grassland", "heath"},
}  # fmt: skip
_KEYS = ("natural", "water", "waterway", "landuse", "leisure", "building")


def area_kind(tags) -> tuple[str, str] | None:
    """What an OSM area is on the base map, and the tag that says so; None when nothing.

    >>> area_kind({"natural": "water", "water": "river"}), area_kind({"water": "pond"})
    (('water', 'natural=water'), ('water', 'water=pond'))
    >>> area_kind({"building": "yes", "amenity": "school"}), area_kind({"leisure": "park"})
    (('building', 'building=yes'), ('green', 'leisure=park'))
    >>> area_kind({"building": "no", "landuse": "residential"}) is None
    True
    """
    for key, values in _WATER.items():
        if tags.get(key) in values:
            return "water", f"{key}={tags.get(key)}"
    if tags.get("water"):
        return "water", f"water={tags.get('water')}"
    building = tags.get("building")
    if building and building != "no":
        return "building", f"building={building}"[:64]
    for key, values in _GREEN.items():
        if tags.get(key) in values:
            return "green", f"{key}={tags.get(key)}"
    return None


def read_osm(path: Path) -> gpd.GeoDataFrame:
    """The base map's features of an OpenStreetMap file (.osm, .osm.pbf): ``kind``, ``tag``,
    ``name``, ``osm_id`` (of the way or relation) and the geometry in lon/lat. A file that
    is not OpenStreetMap is a 422 naming it."""
    import osmium
    from osmium.geom import WKBFactory

    from service.layers import uploads

    wkb = WKBFactory()
    rows: list[tuple] = []
    processor = (
        osmium.FileProcessor(str(path))
        .with_locations()
        .with_areas(osmium.filter.KeyFilter(*_KEYS))
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY | osmium.osm.AREA))
        .with_filter(osmium.filter.KeyFilter(*_KEYS))
    )
    try:
        for obj in processor:
            tags = obj.tags
            if obj.is_area():
                kind = area_kind(tags)
                if kind is None:
                    continue
                try:
                    geom = wkb.create_multipolygon(obj)
                except (RuntimeError, osmium.InvalidLocationError):  # a node not in the file
                    continue
                rows.append((*kind, tags.get("name"), obj.orig_id(), geom))
            elif tags.get("waterway") in WATERWAYS:
                try:
                    geom = wkb.create_linestring(obj)
                except (RuntimeError, osmium.InvalidLocationError):  # under two nodes in it
                    continue
                rows.append(("waterway", f"waterway={tags.get('waterway')}", tags.get("name"),
                             obj.id, geom))  # fmt: skip
    except RuntimeError as exc:  # pyosmium's words for a file it cannot parse
        raise Problem(
            f"The file {path.name!r} is not an OpenStreetMap file.",
            status=422,
            errors=[field_error("file", uploads.without_paths(str(exc), path))],
        ) from None
    kinds, tag_values, names, ids, hexes = zip(*rows, strict=True) if rows else ((),) * 5
    return gpd.GeoDataFrame(
        {"kind": kinds, "tag": tag_values, "name": names, "osm_id": ids},
        geometry=shapely.from_wkb(np.array(hexes, dtype=object)) if rows else [],
        crs=4326,
    )


def is_osm(path: Path) -> bool:
    """Whether a file's name says OpenStreetMap (what pyosmium reads)."""
    return path.name.lower().endswith((".osm", ".osm.pbf", ".pbf", ".osm.bz2"))


# clipped to the city's box (whole when inside it, as most are); a named water area keeps
# the centre of the largest circle inside it and that circle's radius, where its name goes
# (the circle, strict, is not sought for the rest: NULL in, nothing out)
_INSERT = text(
    "INSERT INTO basemap_feature (city_id, kind, tag, name, osm_id, provenance, geom, "
    "label_at, label_radius_mercator_m) "
    "SELECT :c, s.kind, s.tag, s.name, s.osm_id, :p, g.geom, "
    "ST_Transform(l.center, 4326), l.radius "
    "FROM unnest(CAST(:kind AS text[]), CAST(:tag AS text[]), CAST(:name AS text[]), "
    "CAST(:osm AS bigint[]), CAST(:wkb AS text[])) AS s(kind, tag, name, osm_id, wkb) "
    "CROSS JOIN LATERAL (SELECT ST_MakeValid(ST_SetSRID(CAST(s.wkb AS geometry), 4326)) AS v, "
    "ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326) AS box) v "
    "CROSS JOIN LATERAL (SELECT ST_CollectionExtract(CASE WHEN ST_CoveredBy(v.v, v.box) "
    "THEN v.v ELSE ST_Intersection(v.v, v.box) END, "
    "CASE s.kind WHEN 'waterway' THEN 2 ELSE 3 END) AS geom) g "
    "LEFT JOIN LATERAL ST_MaximumInscribedCircle(CASE WHEN s.kind = 'water' AND s.name IS NOT "
    "NULL THEN ST_Transform(g.geom, 3857) END) l ON true "
    "WHERE NOT ST_IsEmpty(g.geom)"
)


def store(
    conn: Connection, city_id: int, frame: gpd.GeoDataFrame, provenance: str, name: str = ""
) -> dict[str, int]:
    """Replace the city's base-map features with ``frame`` (from ``read_osm``) in the
    caller's transaction; how many of each kind were kept. Features wholly outside the
    city's extent (plus ``MARGIN_M``) are left out and the rest clipped to it; a file of
    which most lies outside is refused, naming the file and the extent."""
    if not len(frame):
        raise Problem(
            f"{name or 'The file'} holds no water, waterways, buildings or green areas.",
            status=422,
            errors=[field_error("file", "no base map features")],
        )

    def outside(kept: int, total: int, fb: str, cb: str) -> Problem:
        return Problem(
            f"The base map's features of {name or 'the file'} lie outside the city: "
            f"{kept} of {total} are within its extent.",
            status=422,
            errors=[
                field_error(
                    "file", f"they span lon/lat {fb}; the city (with {MARGIN_M} m) spans {cb}"
                )
            ],
        )

    frame, box = within_city(conn, city_id, frame, MARGIN_M, outside)
    conn.execute(text("DELETE FROM basemap_feature WHERE city_id = :c"), {"c": city_id})
    for at in range(0, len(frame), BATCH):  # a whole province's buildings in bounded pieces
        part = frame.iloc[at : at + BATCH]
        conn.execute(
            _INSERT,
            {
                "c": city_id,
                "p": provenance,
                "kind": list(part["kind"]),
                "tag": list(part["tag"]),
                "name": [n if isinstance(n, str) and n else None for n in part["name"]],
                "osm": [None if o is None or o != o else int(o) for o in part["osm_id"]],
                "wkb": list(shapely.to_wkb(part.geometry.values, hex=True)),
                "x0": box[0],
                "y0": box[1],
                "x1": box[2],
                "y1": box[3],
            },
        )
    counts = dict.fromkeys(KINDS, 0)
    counts.update(
        conn.execute(
            text("SELECT kind, count(*) FROM basemap_feature WHERE city_id = :c GROUP BY kind"),
            {"c": city_id},
        ).all()
    )
    return counts


def summary(counts: dict[str, int]) -> str:
    """A line saying what an import kept.

    >>> summary({"water": 9, "waterway": 5, "building": 165, "green": 1})
    'water areas 9, waterways 5, buildings 165, green areas 1'
    """
    return ", ".join(
        f"{label} {counts[kind]}"
        for kind, label in zip(
            KINDS, ("water areas", "waterways", "buildings", "green areas"), strict=True
        )
    )
