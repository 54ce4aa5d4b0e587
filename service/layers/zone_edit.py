"""Clean borders for a zone being drawn: snap its edges to its neighbours', and say where it
still overlaps them, with the shape trimmed against them ready to use.

Neighbours are the zones of the same kind valid now (a road zone inside a grid zone is the
design, not an overlap; see service/layers/zone_check.py). Snapping moves each vertex of the drawn
zone within ``snap_m`` metres onto the nearest neighbour vertex or edge (PostGIS
``ST_Snap``), in the city's projected CRS so that the tolerance is in metres; the planner's
hand then leaves no sliver or hairline gap along a shared border. Nothing is written here:
the editor shows the planner what was found and saves through the features API.
"""

from __future__ import annotations

import json

import shapely
from sqlalchemy import Connection, text

from gis.validate import GeometryProblem, check, parse
from service.errors import Problem, field_error
from service.layers.features.collections import ZONES
from service.layers.features.write import city_extent
from service.store.models import ZONE_KINDS

MAX_SNAP_M = 50.0
OVERLAP_M2 = 1.0  # shared area below this is rounding, not an overlap

_SQL = """
WITH g AS (SELECT ST_Transform(ST_SetSRID(CAST(:wkb AS geometry), 4326), :srid) AS geom),
nb AS (
    SELECT z.id, z.code, z.name, ST_Transform(z.geom, :srid) AS geom FROM zone z
     WHERE z.city_id = :c AND z.kind = :kind AND z.id IS DISTINCT FROM CAST(:id AS bigint)
       AND z.valid_from <= now() AND (z.valid_to IS NULL OR z.valid_to > now())
       AND z.geom && ST_Expand(ST_SetSRID(CAST(:wkb AS geometry), 4326), :deg)),
s AS (
    SELECT CASE WHEN EXISTS (SELECT 1 FROM nb)
                THEN ST_Multi(ST_CollectionExtract(ST_MakeValid(
                         ST_Snap(g.geom, (SELECT ST_Collect(geom) FROM nb), :snap)), 3))
                ELSE ST_Multi(g.geom) END AS geom,
           g.geom AS drawn FROM g),
o AS (
    SELECT nb.id, nb.code, nb.name, ST_Area(ST_Intersection(s.geom, nb.geom)) AS area_m2
      FROM nb, s WHERE ST_Intersects(s.geom, nb.geom))
SELECT ST_AsGeoJSON(ST_ForcePolygonCCW(ST_Transform(s.geom, 4326)), 7) AS snapped,
       NOT ST_Equals(s.geom, ST_Multi(s.drawn)) AS moved,
       (SELECT coalesce(json_agg(json_build_object(
                'id', o.id, 'code', o.code, 'name', o.name,
                'area_m2', round(o.area_m2::numeric, 1)) ORDER BY o.area_m2 DESC), '[]')
          FROM o WHERE o.area_m2 > :tol) AS overlaps,
       (SELECT ST_AsGeoJSON(ST_ForcePolygonCCW(ST_Transform(t.geom, 4326)), 7)
          FROM (SELECT ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Difference(s.geom,
                       ST_Union(nb.geom))), 3)) AS geom FROM nb
                 WHERE ST_Intersects(s.geom, nb.geom)) t
         WHERE NOT ST_IsEmpty(t.geom)) AS trimmed,
       ST_Area(s.geom) AS area_m2
  FROM s
"""


def clean(
    conn: Connection,
    city_id: int,
    body: object,
) -> dict:
    """``body``: ``{geometry, kind, id?, snap_m?}`` → ``{geometry, moved, overlaps, trimmed,
    area_m2}``; ``trimmed`` is the snapped shape less its neighbours (null when it does not
    overlap any, or lies wholly inside them)."""
    if not isinstance(body, dict):
        raise Problem(
            "The body should be a JSON object.",
            status=400,
            errors=[field_error("body", "not an object")],
        )
    errors = []
    kind = body.get("kind")
    if kind not in ZONE_KINDS:
        errors.append(field_error("kind", f"one of {', '.join(ZONE_KINDS)}"))
    zone_id = body.get("id")
    if zone_id is not None and (
        not isinstance(zone_id, int) or isinstance(zone_id, bool) or not 0 < zone_id < 2**63
    ):
        errors.append(field_error("id", "the zone's id (a whole number), or null for a new one"))
    snap_m = body.get("snap_m", 3)
    if (
        not isinstance(snap_m, int | float)
        or isinstance(snap_m, bool)
        or not 0 <= snap_m <= MAX_SNAP_M
    ):
        errors.append(field_error("snap_m", f"metres from 0 to {MAX_SNAP_M:g}"))
    geom = None
    try:
        geom = check(
            parse(body.get("geometry")), ZONES.geometry_types, city_extent(conn, city_id)
        ).geom
    except GeometryProblem as exc:
        errors.append(field_error("geometry", str(exc)))
    if errors:
        raise Problem("The zone cannot be checked.", status=422, errors=errors)
    srid = conn.execute(text("SELECT crs_epsg FROM city WHERE id = :c"), {"c": city_id}).scalar()
    row = (
        conn.execute(
            text(_SQL),
            {
                "wkb": shapely.to_wkb(geom, hex=True),
                "srid": srid,
                "c": city_id,
                "kind": kind,
                "id": zone_id,
                "snap": float(snap_m),
                # a box around the zone wide enough for the snap distance (1° ≥ 85 km here)
                "deg": float(snap_m) / 50_000 + 1e-6,
                "tol": OVERLAP_M2,
            },
        )
        .mappings()
        .one()
    )
    return {
        "geometry": json.loads(row["snapped"]),
        "moved": row["moved"],
        "overlaps": row["overlaps"],
        "trimmed": json.loads(row["trimmed"]) if row["trimmed"] and row["overlaps"] else None,
        "area_m2": round(row["area_m2"], 1),
    }
