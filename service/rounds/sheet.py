"""What the round's page shows beside the plan itself: the city's clock, and for each stop
its checklist, address and street (the nearest named road), and the open cases near it with
their category, territorial unit (块) and department (条) by name."""

from __future__ import annotations

from sqlalchemy import Connection, text

from service.accounts.scope import CaseScope, and_where, scope_params
from service.layers import problems
from service.layers.reads import assessment_point_categories, violation_categories

STREET_RADIUS_M = 60  # a stop is "on" the nearest named road no farther than this


def nearest_street(alias: str, radius: str) -> str:
    """SQL: ``LEFT JOIN LATERAL (...) street ON true`` giving ``street.name``, the nearest
    named road of the row ``alias`` (a table with city_id and geom) within the metres bound
    to the parameter ``radius``."""
    at = f"ST_PointOnSurface({alias}.geom)::geography"
    return f"""
  LEFT JOIN LATERAL (
        SELECT r.name FROM road r
         WHERE r.city_id = {alias}.city_id AND nullif(btrim(r.name), '') IS NOT NULL
           AND r.geom && ST_Buffer({at}, :{radius})::geometry
           AND ST_DWithin(r.geom::geography, {at}, :{radius})
         ORDER BY ST_Distance(r.geom::geography, {at}), r.id
         LIMIT 1) street ON true"""


_STOPS = f"""
SELECT p.id, p.address, k.checklist, street.name AS street
  FROM assessment_point p
  JOIN assessment_point_category k ON k.city_id = p.city_id AND k.code = p.category_code
  {nearest_street("p", "radius_m")}
 WHERE p.city_id = :c AND p.id = ANY(:ids)
"""

_OWNERS = """
SELECT v.id, u.name AS unit, d.name AS department
  FROM violation v
  LEFT JOIN unit u ON u.city_id = v.city_id AND u.id = v.unit_id
  LEFT JOIN unit d ON d.city_id = v.city_id AND d.code = v.department_code
 WHERE v.city_id = :c AND v.id = ANY(:ids)
"""


def city_clock(conn: Connection, city_id: int) -> tuple[str, list[float]]:
    """The city's time zone (an IANA name) and the centre of its extent, [lon, lat]."""
    row = conn.execute(
        text(
            "SELECT timezone, ST_X(ST_Centroid(extent)) AS lon, ST_Y(ST_Centroid(extent)) AS lat "
            "FROM city WHERE id = :c"
        ),
        {"c": city_id},
    ).one()
    return row.timezone, [row.lon, row.lat]


def category_names(conn: Connection, city_id: int, lang: str) -> tuple[dict, dict]:
    """Catalogue code → name in ``lang`` (Chinese where no English name is given), for the
    assessment points' categories and the violations'."""
    key = "name_en" if lang == "en" else "name_zh"
    return tuple(
        {k["code"]: k[key] or k["name_zh"] for k in catalogue(conn, city_id)}
        for catalogue in (assessment_point_categories, violation_categories)
    )


def stop_details(
    conn: Connection, city_id: int, point_ids: list[int], scope: CaseScope | None = None
) -> dict[int, dict]:
    """Per point id: ``checklist`` (texts), ``address``, ``street`` (the nearest named road
    within STREET_RADIUS_M, or None) and ``cases``: the open cases near it that ``scope``
    may read, most urgent first, each with ``unit`` and ``department`` names."""
    ids = list(point_ids)
    places = {
        r.id: r
        for r in conn.execute(text(_STOPS), {"c": city_id, "ids": ids, "radius_m": STREET_RADIUS_M})
    }
    cases = problems.open_near(conn, city_id, ids, scope)
    case_ids = [c["id"] for near in cases.values() for c in near]
    owners = {r.id: r for r in conn.execute(text(_OWNERS), {"c": city_id, "ids": case_ids})}
    out = {}
    for i in ids:
        place = places.get(i)
        out[i] = {
            "checklist": (place.checklist if place else None) or [],
            "address": place.address if place else None,
            "street": place.street if place else None,
            "cases": [
                {
                    **c,
                    "unit": owners[c["id"]].unit if c["id"] in owners else None,
                    "department": owners[c["id"]].department if c["id"] in owners else None,
                }
                for c in cases[i]
            ],
        }
    return out


_VERIFYING = f"""
SELECT v.id, v.case_no, v.category_code AS category, v.status, v.severity,
       0.0::float AS distance_m, v.observed_at, v.due_at, v.due_at < now() AS overdue,
       v.address, street.name AS street
  FROM violation v
  {nearest_street("v", "radius_m")}
 WHERE v.city_id = :c AND v.id = ANY(:ids)"""


def verify_details(
    conn: Connection, city_id: int, case_ids: list[int], scope: CaseScope | None = None
) -> dict[int, dict]:
    """Per case id of a verification stop, what ``stop_details`` gives for a point: no
    checklist, the case's address and street, and the case itself as the one case to look at
    (with its unit and department), when ``scope`` may read it."""
    ids = list(case_ids)
    rows = conn.execute(
        text(_VERIFYING + and_where(scope, "v.unit_id")),
        {"c": city_id, "ids": ids, "radius_m": STREET_RADIUS_M, **scope_params(scope)},
    ).mappings()
    owners = {r.id: r for r in conn.execute(text(_OWNERS), {"c": city_id, "ids": ids})}
    out = {}
    for r in rows:
        case = {k: r[k] for k in r.keys() if k not in ("address", "street")}
        case.update(unit=owners[r["id"]].unit, department=owners[r["id"]].department)
        out[r["id"]] = {
            "checklist": [],
            "address": r["address"],
            "street": r["street"],
            "cases": [case],
        }
    return out
