"""The points lost in mock assessments, per unit (块), department (条) or zone, over the
assessments made on days from ``from`` to ``to`` (the city's days): each deduction counts to
the owners it was attributed to when it was scored. Deductions with no unit are the gaps,
listed one by one. A unit's users see their unit's and its communities' (``case_scope``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, text

from service.accounts.scope import CaseScope, and_where, scope_params
from service.cases import kpis
from service.layers.sheets import table_xlsx

LEVELS = ("unit", "department", "zone")
_KEYS = {
    "unit": ("k.code", "k.name", "LEFT JOIN unit k ON k.city_id = d.city_id AND k.id = d.unit_id"),
    "department": (
        "d.department_code",
        "k.name",
        "LEFT JOIN unit k ON k.city_id = d.city_id AND k.code = d.department_code",
    ),
    "zone": ("k.code", "k.name", "LEFT JOIN zone k ON k.city_id = d.city_id AND k.id = d.zone_id"),
}
_FROM = """
  FROM assessment_deduction d
  JOIN assessment a ON a.city_id = d.city_id AND a.id = d.assessment_id
  JOIN assessment_point p ON p.city_id = a.city_id AND p.id = a.point_id
  {join}
 WHERE d.city_id = :c AND a.at >= :lo AND a.at < :hi{seen}"""


def lost_points(
    conn: Connection, city: int, start: dt.date, end: dt.date, level: str, scope: CaseScope | None
) -> dict:
    """``{from, to, level, rows, gaps}``: per key its code, name, points lost and deductions
    (code None: no owner); the gaps with their point, item, points and case."""
    lo, hi = kpis.window(conn, city, start, end)
    code, name, join = _KEYS[level]
    params = {"c": city, "lo": lo, "hi": hi, **scope_params(scope)}
    seen = and_where(scope, "d.unit_id")
    rows = (
        conn.execute(
            text(
                f"SELECT {code} AS code, {name} AS name, sum(d.points) AS points, "
                f"count(*) AS deductions {_FROM.format(join=join, seen=seen)} "
                "GROUP BY 1, 2 ORDER BY 3 DESC, 1 NULLS LAST"
            ),
            params,
        )
        .mappings()
        .all()
    )
    case = "LEFT JOIN violation v ON v.city_id = d.city_id AND v.id = d.violation_id"
    gaps = (
        conn.execute(
            text(
                "SELECT p.code AS point, p.name AS point_name, d.item_code AS item, d.points, "
                f"v.case_no {_FROM.format(join=case, seen=seen)} AND d.unit_id IS NULL "
                "ORDER BY a.at, d.id"
            ),
            params,
        )
        .mappings()
        .all()
    )
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "level": level,
        "rows": [{**r, "points": float(r["points"])} for r in rows],
        "gaps": [dict(g) for g in gaps],
    }


HEADERS_ZH = {"code": "编码", "name": "名称", "points": "失分", "deductions": "扣分项数"}
LEVEL_ZH = {"unit": "责任单位", "department": "职能部门", "zone": "责任区"}


def xlsx(result: dict) -> bytes:
    """The lost points as a sheet with Chinese headers."""
    return table_xlsx(
        LEVEL_ZH[result["level"]],
        HEADERS_ZH,
        result["rows"],
        f"{result['from']} 至 {result['to']}（测评日期）模拟测评失分",
    )
