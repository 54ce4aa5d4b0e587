"""The leaders' dashboard: the same figures as the summaries, live — this week so far against
last week, twelve weeks of trend, last week's ranking of the street offices with its yellow
flag — a heat map of the open cases, and a drill-down from the district to its street
offices, their communities, their units and a unit's cases."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, text

from service.cases import kpis
from service.errors import NotFound
from service.ranking import weekly
from service.summaries import content, period

HEAT_CELL_M = 150  # open cases are counted per square of this side (web mercator)
HEAT_MAX = 5000  # squares sent, the fullest first
DRILL_DAYS = 28  # the drill-down's figures: the cases observed in the last four weeks
CASES_MAX = 200  # a unit's cases listed


def today(conn: Connection, city: int) -> dt.date:
    tz = conn.execute(text("SELECT timezone FROM city WHERE id = :c"), {"c": city}).scalar()
    return dt.datetime.now(ZoneInfo(tz)).date()


def overview(conn: Connection, city: int) -> dict:
    """This week so far and last week, the trend, last week's ranking and its flag."""
    day = today(conn, city)
    this = period.of("weekly", day)
    last = this.before()
    first = this.before(content.TREND - 1)
    trend = [
        {"week": period.of("weekly", w["monday"]).label, "received": w["received"],
         "on_time_rate": w["on_time_rate"]}
        for w in kpis.weekly(conn, city, first.start, content.TREND)
    ]  # fmt: skip
    ranking = weekly.read(conn, city, last.label, "street")
    return {
        "today": day.isoformat(),
        "this_week": {"week": this.label, **content.totals(conn, city, this)},
        "last_week": {"week": last.label, **content.totals(conn, city, last)},
        "trend": trend,
        "ranking": {k: ranking[k] for k in ("week", "status", "flag", "rows")},
    }


def heat(conn: Connection, city: int) -> list[list[float]]:
    """The open cases as [lat, lon, count] per square of HEAT_CELL_M."""
    rows = conn.execute(
        text(
            "SELECT ST_Y(c) AS lat, ST_X(c) AS lon, n FROM ("
            " SELECT ST_Transform(ST_Centroid(ST_Collect(geom_3857)), 4326) AS c, count(*) AS n"
            " FROM violation WHERE city_id = :c AND NOT permitted"
            " AND status IN ('open', 'dispatched', 'rectifying', 'disputed', 'hung', 'resolved')"
            " GROUP BY ST_SnapToGrid(geom_3857, :cell)) b ORDER BY n DESC LIMIT :max"
        ),
        {"c": city, "cell": HEAT_CELL_M, "max": HEAT_MAX},
    )
    return [[round(r.lat, 6), round(r.lon, 6), int(r.n)] for r in rows]


def drill(conn: Connection, city: int, area: str | None, unit: str | None) -> dict:
    """One level of the drill-down over the last DRILL_DAYS days: the street offices (no
    ``area``), a street office's communities, a community's units, or a unit's cases."""
    end = today(conn, city)
    start = end - dt.timedelta(days=DRILL_DAYS - 1)
    window = {"from": start.isoformat(), "to": end.isoformat()}
    if unit is not None:
        return {**window, "level": "case", "unit": unit, "rows": _cases(conn, city, unit)}
    if area is None:
        rows = kpis.figures(conn, city, start, end, "street", None)["rows"]
        return {**window, "level": "street", "area": None, "rows": [r for r in rows if r["code"]]}
    found = conn.execute(
        text("SELECT id, level FROM admin_area WHERE city_id = :c AND code = :a"),
        {"c": city, "a": area},
    ).first()
    if found is None or found.level not in ("street", "community"):
        raise NotFound(f"No street office or community {area!r}.")
    if found.level == "street":
        children = set(
            conn.execute(
                text("SELECT code FROM admin_area WHERE city_id = :c AND parent_id = :p"),
                {"c": city, "p": found.id},
            ).scalars()
        )
        rows = kpis.figures(conn, city, start, end, "community", None)["rows"]
        return {**window, "level": "community", "area": area,
                "rows": [r for r in rows if r["code"] in children]}  # fmt: skip
    rolled = conn.execute(text(kpis.ROLL_UP), {"c": city, "level": "community"}).all()
    mine = {r.unit_id for r in rolled if r.area_id == found.id}
    codes = set(
        conn.execute(
            text("SELECT code FROM unit WHERE city_id = :c AND id = ANY(:ids)"),
            {"c": city, "ids": list(mine)},
        ).scalars()
    )
    rows = kpis.figures(conn, city, start, end, "unit", None)["rows"]
    return {
        **window,
        "level": "unit",
        "area": area,
        "rows": [r for r in rows if r["code"] in codes],
    }


def _cases(conn: Connection, city: int, unit: str) -> list[dict]:
    rows = conn.execute(
        text(
            "SELECT v.id, v.case_no, v.status, coalesce(k.name_zh, v.category_code) AS category, "
            "to_char(v.due_at AT TIME ZONE c.timezone, 'YYYY-MM-DD HH24:MI') AS due, "
            "(v.status NOT IN ('closed', 'invalid') AND v.due_at < now()) AS overdue "
            "FROM violation v JOIN unit u ON u.city_id = v.city_id AND u.id = v.unit_id "
            "JOIN city c ON c.id = v.city_id LEFT JOIN violation_category k ON "
            "k.city_id = v.city_id AND k.code = v.category_code WHERE v.city_id = :c "
            "AND u.code = :u ORDER BY (v.status IN ('closed', 'invalid')), v.due_at, v.id "
            "LIMIT :n"
        ),
        {"c": city, "u": unit, "n": CASES_MAX},
    ).mappings()
    return [dict(r) for r in rows]
