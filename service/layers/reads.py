"""Read the campaign layers of one city as GeoDataFrames (EPSG:4326) for maps and exports."""

from __future__ import annotations

import geopandas as gpd
from sqlalchemy import Connection, text

from service.accounts.scope import CaseScope, and_where, scope_params


def _frame(conn: Connection, sql: str, **params) -> gpd.GeoDataFrame:
    frame = gpd.read_postgis(text(sql), conn, geom_col="geom", params=params)
    return frame.rename_geometry("geometry")


def city(conn: Connection, city_id: int) -> dict:
    row = conn.execute(
        text(
            "SELECT id, code, name, name_en, crs_epsg, timezone, ST_XMin(extent) AS minx, "
            "ST_YMin(extent) AS miny, ST_XMax(extent) AS maxx, ST_YMax(extent) AS maxy "
            "FROM city WHERE id = :c"
        ),
        {"c": city_id},
    ).one()
    return dict(row._mapping)


def admin_areas(conn: Connection, city_id: int) -> gpd.GeoDataFrame:
    return _frame(
        conn,
        "SELECT id, code, level, name, provenance, geom FROM admin_area "
        "WHERE city_id = :c ORDER BY code",
        c=city_id,
    )


def grid_cells(conn: Connection, city_id: int) -> gpd.GeoDataFrame:
    return _frame(
        conn,
        "SELECT g.id, g.code, g.size_m, a.name AS community, g.geom FROM grid_cell g "
        "JOIN admin_area a ON a.city_id = g.city_id AND a.id = g.community_id "
        "WHERE g.city_id = :c ORDER BY g.code",
        c=city_id,
    )


def zones(conn: Connection, city_id: int) -> gpd.GeoDataFrame:
    """Zones valid now, with their unit and persons."""
    return _frame(
        conn,
        "SELECT z.id, z.code, z.name, z.kind, z.unit_id, u.name AS unit, "
        "fp.name AS first_person, dp.name AS direct_person, z.valid_from, z.version, "
        "z.provenance, z.geom FROM zone z "
        "JOIN unit u ON u.city_id = z.city_id AND u.id = z.unit_id "
        "LEFT JOIN person fp ON fp.city_id = z.city_id AND fp.id = z.first_person_id "
        "LEFT JOIN person dp ON dp.city_id = z.city_id AND dp.id = z.direct_person_id "
        "WHERE z.city_id = :c AND z.valid_from <= now() "
        "AND (z.valid_to IS NULL OR z.valid_to > now()) ORDER BY z.kind, z.code",
        c=city_id,
    )


def assessment_points(conn: Connection, city_id: int) -> gpd.GeoDataFrame:
    """Active points with their category labels, colour and surrounding radius."""
    return _frame(
        conn,
        "SELECT p.id, p.code, p.name, p.category_code, k.name_zh AS category_zh, "
        "k.name_en AS category_en, k.color, p.weight::float AS weight, p.radius_m, "
        "p.provenance, p.geom FROM assessment_point p "
        "JOIN assessment_point_category k ON k.city_id = p.city_id AND k.code = p.category_code "
        "WHERE p.city_id = :c AND p.active ORDER BY p.code",
        c=city_id,
    )


def stall_areas(conn: Connection, city_id: int) -> gpd.GeoDataFrame:
    return _frame(
        conn,
        "SELECT s.id, s.code, s.name, to_char(s.opens_at, 'HH24:MI') AS opens_at, "
        "to_char(s.closes_at, 'HH24:MI') AS closes_at, s.allowed_categories, "
        "(SELECT string_agg(k.name_zh, '、' ORDER BY k.code) FROM violation_category k "
        " WHERE k.city_id = s.city_id AND k.code = ANY(s.allowed_categories)) AS allowed_zh, "
        "(SELECT string_agg(k.name_en, ', ' ORDER BY k.code) FROM violation_category k "
        " WHERE k.city_id = s.city_id AND k.code = ANY(s.allowed_categories)) AS allowed_en, "
        "s.provenance, s.geom FROM stall_area s WHERE s.city_id = :c ORDER BY s.code",
        c=city_id,
    )


def violations(conn: Connection, city_id: int, scope: CaseScope | None = None) -> gpd.GeoDataFrame:
    """Violations with category labels; times as ISO strings in the city's local time; only
    those in the reader's ``scope`` (service/accounts/scope.py)."""
    return _frame(
        conn,
        "SELECT v.id, v.case_no, v.category_code, k.name_zh AS category_zh, "
        "k.name_en AS category_en, v.status, v.source, v.description, "
        "to_char(v.observed_at AT TIME ZONE c.timezone, 'YYYY-MM-DD HH24:MI') AS observed_at, "
        "to_char(v.due_at AT TIME ZONE c.timezone, 'YYYY-MM-DD HH24:MI') AS due_at, "
        "v.provenance, u.code AS unit_code, v.geom FROM violation v "
        "JOIN city c ON c.id = v.city_id "
        "LEFT JOIN unit u ON u.city_id = v.city_id AND u.id = v.unit_id "
        "JOIN violation_category k ON k.city_id = v.city_id AND k.code = v.category_code "
        f"WHERE v.city_id = :c{and_where(scope, 'v.unit_id')} ORDER BY v.observed_at",
        c=city_id,
        **scope_params(scope),
    )


def assessment_point_categories(conn: Connection, city_id: int) -> list[dict]:
    rows = conn.execute(
        text(
            "SELECT code, name_zh, name_en, color FROM assessment_point_category "
            "WHERE city_id = :c ORDER BY code"
        ),
        {"c": city_id},
    )
    return [dict(r._mapping) for r in rows]


def _rows(conn: Connection, sql: str, city_id: int, **params) -> list[dict]:
    return [dict(r._mapping) for r in conn.execute(text(sql), {"c": city_id, **params})]


def violation_categories(conn: Connection, city_id: int) -> list[dict]:
    return _rows(
        conn,
        "SELECT code, name_zh, name_en FROM violation_category WHERE city_id = :c ORDER BY code",
        city_id,
    )


def pick_lists(
    conn: Connection, city_id: int, scope: CaseScope | None = None
) -> dict[str, list[dict]]:
    """What the editor's forms and the map's filters offer to choose from: units, persons,
    areas, categories. The units are those whose cases are in the reader's ``scope``."""
    return {
        "units": _rows(
            conn,
            f"SELECT code, name FROM unit WHERE city_id = :c{and_where(scope, 'id')} ORDER BY code",
            city_id,
            **scope_params(scope),
        ),
        "persons": _rows(
            conn,
            "SELECT p.id, p.name, p.title, u.code AS unit FROM person p "
            "JOIN unit u ON u.city_id = p.city_id AND u.id = p.unit_id "
            "WHERE p.city_id = :c ORDER BY u.code, p.name",
            city_id,
        ),
        "areas": _rows(
            conn,
            "SELECT code, name, level FROM admin_area WHERE city_id = :c ORDER BY code",
            city_id,
        ),
        "point_categories": assessment_point_categories(conn, city_id),
        "violation_categories": violation_categories(conn, city_id),
    }
