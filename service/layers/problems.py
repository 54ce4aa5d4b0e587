"""Problem points: each assessment point's open violations within its surroundings, scored.

score = point weight × Σ (violation severity × 2 if overdue else 1), over the open cases
(open, dispatched, rectifying; permitted vending excluded) whose near_points name the point.
Each function takes the reader's ``scope`` (service/accounts/scope.py): a unit's users count and see
only their own cases.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from service.accounts.scope import CaseScope, and_where, scope_params

OPEN_STATUSES = ("open", "dispatched", "rectifying", "disputed", "hung")

_OPEN_NEAR = """
SELECT (n ->> 'id')::bigint AS point_id, (n ->> 'distance_m')::float AS distance_m, v.id,
       v.case_no, v.category_code, v.status, v.severity, v.observed_at, v.due_at,
       (v.due_at < now()) AS overdue
  FROM violation v CROSS JOIN LATERAL jsonb_array_elements(v.near_points) n
 WHERE v.city_id = :c AND v.status IN ('open', 'dispatched', 'rectifying', 'disputed', 'hung')
   AND NOT v.permitted
"""


def ranked(
    conn: Connection,
    city_id: int,
    limit: int = 50,
    category: str | None = None,
    scope: CaseScope | None = None,
) -> list:
    sql = f"""
    WITH near AS ({_OPEN_NEAR}{and_where(scope, "v.unit_id")})
    SELECT p.id, p.code, p.name, p.category_code AS category, p.weight::float AS weight,
           count(near.id) AS open_violations,
           count(near.id) FILTER (WHERE near.overdue) AS overdue,
           round((p.weight * sum(near.severity * CASE WHEN near.overdue THEN 2 ELSE 1 END))
                 ::numeric, 1)::float AS score,
           round(ST_X(ST_PointOnSurface(p.geom))::numeric, 7)::float AS lon,
           round(ST_Y(ST_PointOnSurface(p.geom))::numeric, 7)::float AS lat
      FROM assessment_point p JOIN near ON near.point_id = p.id
     WHERE p.city_id = :c AND p.active AND (CAST(:k AS text) IS NULL OR p.category_code = :k)
     GROUP BY p.city_id, p.id
     ORDER BY score DESC, open_violations DESC, p.code
     LIMIT :limit"""
    params = {"c": city_id, "k": category, "limit": limit, **scope_params(scope)}
    rows = conn.execute(text(sql), params)
    return [dict(r._mapping) for r in rows]


def nearby(
    conn: Connection, city_id: int, point_id: int, scope: CaseScope | None = None
) -> dict | None:
    point = conn.execute(
        text(
            "SELECT id, code, name, category_code AS category, weight::float AS weight, radius_m "
            "FROM assessment_point WHERE city_id = :c AND id = :p"
        ),
        {"c": city_id, "p": point_id},
    ).first()
    if point is None:
        return None
    cases = open_near(conn, city_id, [point_id], scope)[point_id]
    score = point.weight * sum(c["severity"] * (2 if c["overdue"] else 1) for c in cases)
    return {"point": dict(point._mapping), "score": round(score, 1), "violations": cases}


def open_near(
    conn: Connection, city_id: int, point_ids: list[int], scope: CaseScope | None = None
) -> dict[int, list[dict]]:
    """The open cases near each of some points (one pass over the cases), most urgent first."""
    near = _OPEN_NEAR + and_where(scope, "v.unit_id")
    rows = conn.execute(
        text(
            f"WITH near AS ({near}) SELECT point_id, id, case_no, category_code AS category, "
            "status, severity, distance_m, observed_at, due_at, overdue FROM near "
            "WHERE point_id = ANY(:p) ORDER BY overdue DESC, severity DESC, distance_m"
        ),
        {"c": city_id, "p": list(point_ids), **scope_params(scope)},
    )
    out: dict[int, list[dict]] = {p: [] for p in point_ids}
    for r in rows:
        case = dict(r._mapping)
        out[case.pop("point_id")].append(case)
    return out
