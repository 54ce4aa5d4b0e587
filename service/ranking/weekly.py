"""The week's ranking of a group of units, published by a leader and kept forever, and the
yellow flag that goes with it (流动黄旗).

Groups: ``street`` (the street offices: territorial units of a street office's area),
``community`` (those of a community's area) and ``department`` (the functional departments,
by the categories they answer for). A unit's figures are the loop's for the cases observed
in the week (Monday to Sunday in the city's time), rolled up to its area or department as
``/api/kpis`` rolls them; a unit with no case that week is ranked at its group's mean.

Until a leader publishes it, a week's ranking is a draft computed when asked. Publishing
stores it as it stands (figures, penalties, scores, the rules used) in ``ranking_week``, and
it is never changed again. In each published week the last of a group holds the yellow flag;
it keeps it while it stays the last in consecutive published weeks, and after
``talk_after_weeks`` such weeks in a row it is marked for a talk with leaders (约谈). A week
not published breaks the run.
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, text

from service.cases import kpis
from service.errors import Problem, field_error
from service.ranking import score

GROUPS = ("street", "community", "department")
COUNTS = ("received", "closed", "closed_on_time", "overdue_now", "reworked_cases",
          "fixed_cases", "disputes")  # fmt: skip

_MEMBERS = {
    "department": (
        "SELECT u.code, u.name, u.code AS key FROM unit u "
        "WHERE u.city_id = :c AND u.kind = 'functional' ORDER BY u.code"
    ),
    "area": (
        "SELECT u.code, u.name, a.code AS key FROM unit u JOIN admin_area a "
        "ON a.city_id = u.city_id AND a.id = u.area_id WHERE u.city_id = :c "
        "AND u.kind = 'territorial' AND a.level = :level ORDER BY u.code"
    ),
}


def compute(conn: Connection, city: int, week: str, group: str) -> list[dict]:
    """The group's units for ``week``, each with its counts, scored and ranked."""
    return compute_days(conn, city, *score.week_days(week), group)


def compute_days(
    conn: Connection, city: int, start: dt.date, end: dt.date, group: str
) -> list[dict]:
    """The group's units over the cases observed from ``start`` to ``end``, scored and
    ranked as a week is (a day's or a month's summary ranks the same way)."""
    figures = kpis.figures(conn, city, start, end, group, None)
    by_key = {r["code"]: r for r in figures["rows"] if r["code"] is not None}
    members = conn.execute(
        text(_MEMBERS["department" if group == "department" else "area"]),
        {"c": city, "level": group},
    ).all()
    lost = lost_points(conn, city, start, end, group)
    rows = []
    for m in members:
        got = by_key.get(m.key, {})
        points = lost.get(m.key, (0.0, 0.0))
        rows.append(
            {
                "code": m.code,
                "name": m.name,
                **{n: int(got.get(n, 0)) for n in COUNTS},
                "lost": round(points[0], 2),
                "assessed": round(points[1], 2),
            }
        )
    return score.ranked(rows, score.rules())


# Per key of a group (an area's code, a department's code): the points lost in the mock
# assessments of the days (the deductions attributed to it: a territorial one by the unit of
# its place rolled up to the area as the figures roll cases up, a department by its category)
# and the points assessed that it could lose (the assessments at points inside the area; for
# a department, every assessment of the days).
_LOST = {
    "area": """
WITH d AS (
    SELECT a.code AS key, sum(x.points) AS lost
      FROM assessment_deduction x
      JOIN assessment s ON s.city_id = x.city_id AND s.id = x.assessment_id
      JOIN unnest(CAST(:ru AS bigint[]), CAST(:ra AS bigint[])) r(unit_id, area_id)
        ON r.unit_id = x.unit_id
      JOIN admin_area a ON a.city_id = x.city_id AND a.id = r.area_id
     WHERE x.city_id = :c AND s.at >= :lo AND s.at < :hi GROUP BY 1),
m AS (
    SELECT a.code AS key, sum(s.max_score) AS assessed
      FROM assessment s
      JOIN assessment_point p ON p.city_id = s.city_id AND p.id = s.point_id
      JOIN admin_area a ON a.city_id = s.city_id AND a.level = :level
       AND ST_Covers(a.geom, p.geom)
     WHERE s.city_id = :c AND s.at >= :lo AND s.at < :hi GROUP BY 1)
SELECT coalesce(d.key, m.key) AS key, coalesce(d.lost, 0) AS lost,
       coalesce(m.assessed, 0) AS assessed FROM d FULL JOIN m ON m.key = d.key""",
    "department": """
SELECT x.department_code AS key, sum(x.points) AS lost,
       (SELECT coalesce(sum(max_score), 0) FROM assessment
         WHERE city_id = :c AND at >= :lo AND at < :hi) AS assessed
  FROM assessment_deduction x
  JOIN assessment s ON s.city_id = x.city_id AND s.id = x.assessment_id
 WHERE x.city_id = :c AND s.at >= :lo AND s.at < :hi AND x.department_code IS NOT NULL
 GROUP BY 1""",
}


def lost_points(
    conn: Connection, city: int, start: dt.date, end: dt.date, group: str
) -> dict[str, tuple[float, float]]:
    """Key → (points lost, points assessed) over the mock assessments of the days."""
    lo, hi = kpis.window(conn, city, start, end)
    params = {"c": city, "lo": lo, "hi": hi, "level": group}
    if group == "department":
        sql = _LOST["department"]
    else:
        sql = _LOST["area"]
        rolled = conn.execute(text(kpis.ROLL_UP), {"c": city, "level": group}).all()
        params["ru"] = [r.unit_id for r in rolled]
        params["ra"] = [r.area_id for r in rolled]
    return {
        r.key: (float(r.lost), float(r.assessed))
        for r in conn.execute(text(sql), params)
        if r.key is not None
    }


def _stored(conn: Connection, city: int, week: str, group: str):
    return conn.execute(
        text(
            "SELECT r.rows, r.rules, r.published_at, "
            "coalesce(u.display_name, u.name) AS published_by FROM ranking_week r "
            "LEFT JOIN app_user u ON u.city_id = r.city_id "
            "AND u.id = r.published_by WHERE r.city_id = :c AND r.week = :w AND r.grp = :g"
        ),
        {"c": city, "w": week, "g": group},
    ).first()


def read(conn: Connection, city: int, week: str, group: str) -> dict:
    """The week's ranking: the published one, or a draft computed now; with the yellow flag's
    holder, how many weeks in a row it has held it, and whether that calls for a talk."""
    stored = _stored(conn, city, week, group)
    if stored is None:
        rows, status, rule = compute(conn, city, week, group), "draft", score.rules()
        published = {"published_at": None, "published_by": None}
    else:
        rows, status, rule = stored.rows, "published", stored.rules
        published = {
            "published_at": stored.published_at.isoformat(),
            "published_by": stored.published_by,
        }
    flag = next((r for r in rows if r["worst"]), None)
    held = flags(conn, city, group, until=week)
    streak = held[-1]["weeks"] if held and held[-1]["week"] == week else 0
    start, end = score.week_days(week)
    return {
        "week": week,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "group": group,
        "status": status,
        **published,
        "rules": rule,
        "rows": rows,
        "flag": None
        if flag is None
        else {
            "code": flag["code"],
            "name": flag["name"],
            "weeks": streak if status == "published" else None,
            "talk": status == "published" and streak >= int(rule["talk_after_weeks"]),
        },
    }


def publish(conn: Connection, city: int, week: str, group: str, user_id: int) -> dict:
    """Compute and keep the week's ranking; a 409 when it is published already or the week is
    not over in the city's time."""
    if _stored(conn, city, week, group) is not None:
        raise Problem(
            f"The ranking of {week} is published already.",
            status=409,
            errors=[field_error("week", "published rankings are kept as they are")],
        )
    tz = ZoneInfo(
        conn.execute(text("SELECT timezone FROM city WHERE id = :c"), {"c": city}).scalar()
    )
    _, sunday = score.week_days(week)
    if dt.datetime.now(tz).date() <= sunday:
        raise Problem(
            f"The week {week} is not over yet.",
            status=409,
            errors=[field_error("week", f"it ends on {sunday.isoformat()}")],
        )
    rows = compute(conn, city, week, group)
    done = conn.execute(
        text(
            "INSERT INTO ranking_week (city_id, week, grp, rows, rules, published_by) "
            "VALUES (:c, :w, :g, CAST(:rows AS jsonb), CAST(:rules AS jsonb), :u) "
            "ON CONFLICT DO NOTHING"  # published at the same moment by another: see below
        ),
        {
            "c": city,
            "w": week,
            "g": group,
            "rows": json.dumps(rows, ensure_ascii=False),
            "rules": json.dumps(score.rules(), ensure_ascii=False),
            "u": user_id,
        },
    )
    if done.rowcount == 0:
        raise Problem(
            f"The ranking of {week} is published already.",
            status=409,
            errors=[field_error("week", "published rankings are kept as they are")],
        )
    return read(conn, city, week, group)


def flags(conn: Connection, city: int, group: str, until: str | None = None) -> list[dict]:
    """The yellow flag's path through the published weeks (up to ``until``): per week its
    holder, how many consecutive published weeks it has held it, and the talk mark."""
    out: list[dict] = []
    for r in conn.execute(
        text(
            "SELECT week, rows, rules FROM ranking_week WHERE city_id = :c AND grp = :g "
            "AND (CAST(:until AS text) IS NULL OR week <= :until) ORDER BY week"
        ),
        {"c": city, "g": group, "until": until},
    ):
        holder = next((x for x in r.rows if x["worst"]), None)
        if holder is None:
            continue
        before = out[-1] if out else None
        follows = before is not None and before["week"] == _previous(r.week)
        weeks = before["weeks"] + 1 if follows and before["code"] == holder["code"] else 1
        out.append(
            {
                "week": r.week,
                "code": holder["code"],
                "name": holder["name"],
                "weeks": weeks,
                "talk": weeks >= int(r.rules["talk_after_weeks"]),
            }
        )
    return out


def _previous(week: str) -> str:
    monday, _ = score.week_days(week)
    return score.week_of(monday - dt.timedelta(days=7))
