"""The zone check (against 推诿扯皮): no place may have two owners, or none.

Within an area (an admin area's polygon; by default the union of the city's street offices,
the urban area the campaign covers) it finds, among zones valid now:

* gaps — places no grid zone covers (grid zones are the territorial blanket, 块);
* overlaps — pairs of zones of the same kind sharing more than ``tolerance_m2``; a road or
  frontage zone lying inside a grid zone is the design of 路长制/门前五包, not an overlap;
* assessment points in no grid zone, or in two zones of the same kind;
* sliver zones — under 50 m², or narrower than 5 m on average (2·area/perimeter);
* cases with no owner — not settled (neither closed nor invalid) and in no unit's zone: the
  campaign office's queue (it gives each to a unit with the ``reassign`` step); read within
  the reader's scope (``case_scope``), so a unit's users see none.
"""

from __future__ import annotations

import json

from sqlalchemy import Connection, text

from service.accounts.scope import CaseScope, and_where, scope_params
from service.errors import Problem, field_error

SLIVER_AREA_M2 = 50.0
SLIVER_WIDTH_M = 5.0

_CURRENT = "valid_from <= now() AND (valid_to IS NULL OR valid_to > now())"


def _area_sql(area_code: str | None) -> str:
    if area_code:
        return "SELECT geom FROM admin_area WHERE city_id = :c AND code = :area"
    return (
        "SELECT ST_Multi(ST_Union(geom)) AS geom FROM admin_area "
        "WHERE city_id = :c AND level = 'street'"
    )


def check(
    conn: Connection,
    city_id: int,
    area_code: str | None = None,
    tolerance_m2: float = 1.0,
    scope: CaseScope | None = None,
) -> dict:
    """The findings as a GeoJSON FeatureCollection; each feature's ``problem`` says which.
    Cases are read within ``scope`` (None: the whole city)."""
    params = {
        **scope_params(scope),
        "c": city_id,
        "area": area_code,
        "tol": tolerance_m2,
        "sliver_a": SLIVER_AREA_M2,
        "sliver_w": SLIVER_WIDTH_M,
    }
    if area_code and conn.execute(text(_area_sql(area_code)), params).first() is None:
        raise Problem(
            f"No area {area_code!r} in this city.",
            status=404,
            errors=[field_error("area", "no such area code")],
        )
    zones = (
        f"SELECT id, code, kind, name, geom FROM zone WHERE city_id = :c AND {_CURRENT} "
        "AND ST_Intersects(geom, (SELECT geom FROM area))"
    )
    sql = f"""
    WITH area AS ({_area_sql(area_code)}),
    z AS ({zones}),
    gaps AS (
        SELECT (ST_Dump(ST_Difference((SELECT geom FROM area),
                coalesce((SELECT ST_Union(geom) FROM z WHERE kind = 'grid'),
                         'GEOMETRYCOLLECTION EMPTY'::geometry)))).geom AS geom),
    shared AS (
        SELECT a.code AS a, b.code AS b, a.kind,
               ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3) AS geom
          FROM z a JOIN z b ON a.kind = b.kind AND a.id < b.id AND ST_Intersects(a.geom, b.geom)),
    pts AS (
        SELECT p.code, p.name, ST_PointOnSurface(p.geom) AS geom,
               (SELECT count(*) FROM z WHERE z.kind = 'grid' AND ST_Covers(z.geom, p.geom))
                   AS grid_owners,
               (SELECT max(n) FROM (SELECT count(*) AS n FROM z WHERE ST_Covers(z.geom, p.geom)
                                     GROUP BY z.kind) k) AS most_same_kind,
               (SELECT array_agg(z.code ORDER BY z.code) FROM z WHERE ST_Covers(z.geom, p.geom))
                   AS zones
          FROM assessment_point p
         WHERE p.city_id = :c AND p.active AND ST_Intersects(p.geom, (SELECT geom FROM area)))
    SELECT 'gap' AS problem, NULL::text[] AS zones, NULL::text AS point, NULL::text AS case_no,
           NULL::bigint AS case_id, ST_Area(geom::geography) AS area_m2,
           ST_AsGeoJSON(ST_ForcePolygonCCW(geom), 7) AS geometry
      FROM gaps WHERE ST_Area(geom::geography) > :tol
    UNION ALL
    SELECT 'overlap', ARRAY[a, b]::text[], NULL, NULL, NULL, ST_Area(geom::geography),
           ST_AsGeoJSON(ST_ForcePolygonCCW(geom), 7)
      FROM shared WHERE NOT ST_IsEmpty(geom) AND ST_Area(geom::geography) > :tol
    UNION ALL
    SELECT CASE WHEN grid_owners = 0 THEN 'point_without_zone' ELSE 'point_in_two_zones' END,
           zones::text[], code::text, NULL, NULL, NULL::float, ST_AsGeoJSON(geom, 7)
      FROM pts WHERE grid_owners = 0 OR most_same_kind > 1
    UNION ALL
    SELECT 'sliver_zone', ARRAY[code]::text[], NULL, NULL, NULL, ST_Area(geom::geography),
           ST_AsGeoJSON(ST_ForcePolygonCCW(geom), 7)
      FROM z WHERE ST_Area(geom::geography) < :sliver_a
         OR 2 * ST_Area(geom::geography) / nullif(ST_Perimeter(geom::geography), 0) < :sliver_w
    UNION ALL
    (SELECT 'case_without_owner', NULL, NULL, v.case_no::text, v.id, NULL, ST_AsGeoJSON(v.geom, 7)
      FROM violation v
     WHERE v.city_id = :c AND v.unit_id IS NULL AND v.status NOT IN ('closed', 'invalid')
       AND ST_Intersects(v.geom, (SELECT geom FROM area)){and_where(scope, "v.unit_id")}
     ORDER BY v.observed_at, v.id)
    """
    features = []
    summary: dict[str, int] = {}
    for i, r in enumerate(conn.execute(text(sql), params)):
        summary[r.problem] = summary.get(r.problem, 0) + 1
        props = {
            "problem": r.problem,
            "zones": r.zones,
            "point": r.point,
            "case": r.case_no,
            "case_id": r.case_id,
            "area_m2": None if r.area_m2 is None else round(r.area_m2, 1),
        }
        features.append(
            {
                "type": "Feature",
                "id": i + 1,
                "properties": props,
                "geometry": json.loads(r.geometry),
            }
        )
    return {
        "type": "FeatureCollection",
        "area": area_code,
        "tolerance_m2": tolerance_m2,
        "summary": summary,
        "features": features,
    }
