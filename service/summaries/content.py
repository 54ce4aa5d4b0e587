"""What a summary says, gathered once for its PDF and its XLSX: the city, the period's
figures against the period before, the rankings of the street offices and the departments
(a week's as published, or its draft; a day's or a month's computed the same way), the
yellow flag, twelve periods of trend, the cases of the period and the top problem points for
the maps, and each unit's overdue cases."""

from __future__ import annotations

from sqlalchemy import Connection, text

from service.cases import kpis
from service.layers import problems
from service.ranking import weekly
from service.summaries.period import Period

TREND = 12  # periods in the trend charts
OVERDUE_PER_UNIT = 20  # cases listed per unit (the count is whole)
MAP_CASES_MAX = 50_000  # cases drawn on the period's map
TOTALS = ("received", "closed", "closed_on_time", "overdue_now", "reworks", "disputes")


def totals(conn: Connection, city: int, p: Period) -> dict:
    """The city's figures over the cases observed in ``p``: the rows added up — of the
    departments, which hold every case once as the units' rows do, and are few (the medians,
    read per key, are not needed here)."""
    rows = kpis.figures(conn, city, p.start, p.end, "department", None)["rows"]
    out = {k: sum(r[k] for r in rows) for k in TOTALS}
    out["on_time_rate"] = (
        round(out["closed_on_time"] / out["received"], 4) if out["received"] else None
    )
    return out


def ranking(conn: Connection, city: int, p: Period, group: str) -> dict:
    """A group's ranking for the period: a week's as ``/api/ranking`` gives it."""
    if p.kind == "weekly":
        return weekly.read(conn, city, p.label, group)
    rows = weekly.compute_days(conn, city, p.start, p.end, group)
    worst = next((r for r in rows if r["worst"]), None)
    return {
        "status": "computed",
        "group": group,
        "rows": rows,
        "flag": None
        if worst is None
        else {"code": worst["code"], "name": worst["name"], "weeks": None, "talk": False},
    }


def gather(conn: Connection, city: int, p: Period) -> dict:
    place = conn.execute(
        text(
            "SELECT code, name, timezone, ST_XMin(extent) AS x0, ST_YMin(extent) AS y0, "
            "ST_XMax(extent) AS x1, ST_YMax(extent) AS y1 FROM city WHERE id = :c"
        ),
        {"c": city},
    ).one()
    trend = []
    for n in range(TREND - 1, -1, -1):
        q = p.before(n)
        t = totals(conn, city, q)
        trend.append(
            {"period": q.label, "received": t["received"], "on_time_rate": t["on_time_rate"]}
        )
    lo, hi = kpis.window(conn, city, p.start, p.end)
    cases = conn.execute(
        text(
            "SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat, "
            "(status NOT IN ('closed', 'invalid') AND due_at < now()) AS overdue "
            "FROM violation WHERE city_id = :c AND observed_at >= :lo AND observed_at < :hi "
            "AND status <> 'invalid' AND NOT permitted LIMIT :n"
        ),
        {"c": city, "lo": lo, "hi": hi, "n": MAP_CASES_MAX},
    ).all()
    return {
        "city": {"code": place.code, "name": place.name, "timezone": place.timezone},
        "extent": (place.x0, place.y0, place.x1, place.y1),
        "period": p,
        "figures": totals(conn, city, p),
        "before": totals(conn, city, p.before()),
        "units": kpis.figures(conn, city, p.start, p.end, "unit", None),
        "rankings": {g: ranking(conn, city, p, g) for g in ("street", "department")},
        "trend": trend,
        "cases": [(r.lon, r.lat, r.overdue) for r in cases],
        "problem_points": problems.ranked(conn, city, limit=10),
        "overdue": overdue(conn, city, place.timezone),
    }


def overdue(conn: Connection, city: int, tz: str) -> list[dict]:
    """Per unit with overdue cases now: how many, and the longest overdue of them."""
    rows = conn.execute(
        text(
            "SELECT code, name, n, case_no, category, due_local, days FROM ("
            " SELECT u.code, u.name, count(*) OVER (PARTITION BY u.id) AS n, v.case_no, "
            " coalesce(k.name_zh, v.category_code) AS category, "
            " to_char(v.due_at AT TIME ZONE :tz, 'YYYY-MM-DD HH24:MI') AS due_local, "
            " floor(EXTRACT(EPOCH FROM now() - v.due_at) / 86400)::int AS days, "
            " row_number() OVER (PARTITION BY u.id ORDER BY v.due_at, v.id) AS k "
            " FROM violation v JOIN unit u ON u.city_id = v.city_id AND u.id = v.unit_id "
            " LEFT JOIN violation_category k ON k.city_id = v.city_id "
            "  AND k.code = v.category_code "
            " WHERE v.city_id = :c AND v.status NOT IN ('closed', 'invalid') "
            "  AND NOT v.permitted AND v.due_at < now()) o "
            "WHERE k <= :per ORDER BY n DESC, code, k"
        ),
        {"c": city, "tz": tz, "per": OVERDUE_PER_UNIT},
    ).mappings()
    units: dict[str, dict] = {}
    for r in rows:
        u = units.setdefault(r["code"], {"code": r["code"], "name": r["name"], "count": r["n"],
                                         "cases": []})  # fmt: skip
        u["cases"].append({k: r[k] for k in ("case_no", "category", "due_local", "days")})
    return list(units.values())
