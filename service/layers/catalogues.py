"""Category catalogues (data/catalogues/*.json) loaded into each city's tables.

Loading adds what is missing and leaves rows an admin has edited as they are.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Connection, text

CATALOGUES = Path(__file__).resolve().parents[2] / "data" / "catalogues"


def _read(name: str) -> dict:
    return json.loads((CATALOGUES / name).read_text(encoding="utf-8"))


def load_catalogues(conn: Connection, city_id: int) -> dict[str, int]:
    """Insert the departments and both category catalogues for a city; return counts added."""
    added = {}
    departments = _read("departments.json")["departments"]
    added["departments"] = conn.execute(
        text(
            "INSERT INTO unit (city_id, code, name, kind, provenance) "
            "VALUES (:city_id, :code, :name, 'functional', 'invented') "
            "ON CONFLICT (city_id, code) DO NOTHING"
        ),
        [{"city_id": city_id, **d} for d in departments],
    ).rowcount
    points = _read("assessment_point_categories.json")["categories"]
    added["assessment_point_categories"] = conn.execute(
        text(
            "INSERT INTO assessment_point_category (city_id, code, name_zh, name_en, "
            "default_radius_m, default_weight, dwell_s, checklist, color, ad_sight_m) "
            "VALUES (:city_id, :code, :name_zh, :name_en, :radius_m, :weight, :dwell_s, "
            "CAST(:checklist AS jsonb), :color, :ad_sight_m) ON CONFLICT DO NOTHING"
        ),
        [
            {"city_id": city_id, **c, "checklist": json.dumps(c["checklist"], ensure_ascii=False)}
            for c in points
        ],
    ).rowcount
    violations = _read("violation_categories.json")["categories"]
    added["violation_categories"] = conn.execute(
        text(
            "INSERT INTO violation_category (city_id, code, name_zh, name_en, group_code, "
            "department_code, severity, severity_near_point, deadline_h, vending) "
            "VALUES (:city_id, :code, :name_zh, :name_en, :group, :department, :severity, "
            ":severity_near_point, :deadline_h, :vending) "
            "ON CONFLICT DO NOTHING"
        ),
        [{"city_id": city_id, "severity_near_point": None, **c} for c in violations],
    ).rowcount
    sheets = _read("assessment_sheets.json")["sheets"]
    added["assessment_sheets"] = conn.execute(
        text(
            "INSERT INTO assessment_sheet (city_id, category_code, version, items) "
            "SELECT :city_id, CAST(:code AS varchar), 1, CAST(:items AS jsonb) WHERE EXISTS ("
            "SELECT 1 FROM assessment_point_category WHERE city_id = :city_id "
            "AND code = CAST(:code AS varchar)) "
            "ON CONFLICT DO NOTHING"
        ),
        [
            {"city_id": city_id, "code": k, "items": json.dumps(v, ensure_ascii=False)}
            for k, v in sheets.items()
        ],
    ).rowcount
    return added
