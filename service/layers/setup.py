"""What a city has and lacks for its campaign: the checklist of the admin's city page.

Each item counts the rows of one layer or catalogue of the city; an item at 0 is missing.
``collection`` names the importable collection that fills it (areas, units, ...), where a
file import does; categories come with the city (catalogues), streets from
``chuangwen import-roads``, users from the accounts page.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

_CURRENT_ZONE = "valid_from <= now() AND (valid_to IS NULL OR valid_to > now())"


@dataclass(frozen=True)
class Item:
    key: str
    table: str
    where: str = "TRUE"  # an SQL condition on the table's own columns
    collection: str | None = None


CHECKLIST = (
    Item("boundary", "admin_area", "level = 'district'", "areas"),
    Item("areas_district", "admin_area", "level = 'district'", "areas"),
    Item("areas_street", "admin_area", "level = 'street'", "areas"),
    Item("areas_community", "admin_area", "level = 'community'", "areas"),
    Item("units", "unit", collection="units"),
    Item("persons", "person", collection="persons"),
    Item("violation_categories", "violation_category"),
    Item("assessment_point_categories", "assessment_point_category"),
    Item("assessment_points", "assessment_point", collection="assessment_points"),
    Item("stall_areas", "stall_area", collection="stall_areas"),
    Item("ad_sites", "ad_site", collection="ad_sites"),
    Item("roads", "road"),
    Item("grid_cells", "grid_cell", collection="grid_cells"),
    Item("zones", "zone", _CURRENT_ZONE, "zones"),
    Item("users", "app_user"),
)


def checklist(conn: Connection, city_id: int) -> list[dict]:
    """Every item of :data:`CHECKLIST` with its count in the city (zones: those valid now),
    in one query: ``[{key, count, missing, collection}]``."""
    counts = ", ".join(
        f"(SELECT count(*) FROM {i.table} WHERE city_id = :c AND {i.where}) AS {i.key}"
        for i in CHECKLIST
    )
    row = conn.execute(text(f"SELECT {counts}"), {"c": city_id}).one()._mapping
    return [
        {"key": i.key, "count": row[i.key], "missing": row[i.key] == 0, "collection": i.collection}
        for i in CHECKLIST
    ]


def units(conn: Connection, city_id: int) -> list[dict]:
    """The city's units to choose from: ``[{code, name, kind}]`` by code."""
    rows = conn.execute(
        text("SELECT code, name, kind FROM unit WHERE city_id = :c ORDER BY code"),
        {"c": city_id},
    )
    return [dict(r._mapping) for r in rows]
