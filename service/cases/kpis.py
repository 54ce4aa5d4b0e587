"""The loop's figures (按期整改率, 返工率 …) per unit, department, street office or community,
over the cases observed in a window of days: one set-based statement per request (for areas,
after the roll-up of the units).

The definitions are the README's ("The loop's figures"); in short, over the *cases of the
window* — observed on a day from ``from`` to ``to`` (the city's time zone), not permitted
vending, not found invalid (不属实):

- ``received``: the cases of the window;
- ``closed``: those verified and closed (``status = 'closed'``);
- ``closed_on_time``: closed with ``closed_at <= due_at`` (the due date as it stands, an
  approved extension or a leader's long-term date included);
- ``on_time_rate`` (按期整改率) = ``closed_on_time / received``;
- ``overdue_now``: not settled (neither closed nor invalid) and ``due_at < now``;
- ``reworks``: the sum of ``rework_count`` (failed verifications);
- ``rework_rate`` (返工率) = ``reworked_cases / fixed_cases``: cases with at least one
  rework over cases fixed at least once (a ``fix`` event);
- ``median_fix_hours``: the median over fixed cases of the first ``fix`` event's time minus
  the time the case was observed, in hours;
- ``disputes``: ``dispute`` events on the window's cases;
- ``verify_pass_rate`` = ``verify_pass / (verify_pass + verify_fail)`` events.

A case's own figures go to its owner now (``violation.unit_id``); the figures counted from
events (disputes, verifications) go to the unit that owned the case when the event was
taken (``case_event.unit_id``), so a dispute stays with the unit that raised it after the
case is given to another. ``department`` groups by the category's functional department
(``violation.department_code``; events by their case's). ``street`` and ``community`` roll
the unit up (三级联防): the admin area of the unit, or of its nearest ancestor that has one,
then up the admin areas to the level asked for. Cases with no owner, or whose owner rolls up
to no such area, make one row with no code.

A unit's users see only the figures attributed to their unit and its communities
(``case_scope``), rolled up as anyone's.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, text

from service.accounts.scope import CaseScope, and_where, scope_params
from service.layers.sheets import table_xlsx

LEVELS = ("unit", "department", "street", "community")
SETTLED = ("closed", "invalid")

# the counts per row, in the order of the table
COUNTS = (
    "received",
    "closed",
    "closed_on_time",
    "overdue_now",
    "reworks",
    "reworked_cases",
    "fixed_cases",
    "disputes",
    "verify_pass",
    "verify_fail",
)
# the rates: (name, numerator, denominator)
RATES = (
    ("on_time_rate", "closed_on_time", "received"),
    ("rework_rate", "reworked_cases", "fixed_cases"),
    ("verify_pass_rate", "verify_pass", "verify_fail+verify_pass"),
)

# The facts, one row per case (its own figures, to its owner now, with its tally of counted
# events when they all went to that owner) and, for the few cases whose counted events went
# elsewhere, their tally or their events (to the owner at the time); each with the unit it
# is attributed to (``owner``) and the case's department; then grouped by the level's key.
# The tally is service/cases/tally.py's: no event is read for a case counted to its owner.
_FACTS = """
WITH
cases AS NOT MATERIALIZED (
    SELECT v.id, v.unit_id, v.department_code, v.status, v.due_at, v.closed_at,
           v.rework_count, v.first_fix_at, v.observed_at, v.disputes, v.verify_passes,
           v.tally_unit, v.tally_mixed, v.tally_apart
      FROM violation v
     WHERE v.city_id = :c AND v.observed_at >= :lo AND v.observed_at < :hi
       AND NOT v.permitted AND v.status <> 'invalid'
),
facts AS (
    SELECT k.unit_id AS owner, k.department_code AS dept,
           1 AS received,
           (k.status = 'closed')::int AS closed,
           (k.status = 'closed' AND k.closed_at <= k.due_at)::int AS closed_on_time,
           (k.status NOT IN ('closed', 'invalid') AND k.due_at < now())::int AS overdue_now,
           k.rework_count AS reworks,
           (k.rework_count > 0 AND k.first_fix_at IS NOT NULL)::int AS reworked_cases,
           (k.first_fix_at IS NOT NULL)::int AS fixed_cases,
           CASE WHEN k.tally_apart THEN 0 ELSE k.disputes END AS disputes,
           CASE WHEN k.tally_apart THEN 0 ELSE k.verify_passes END AS verify_pass,
           CASE WHEN k.tally_apart THEN 0 ELSE k.rework_count END AS verify_fail
      FROM cases k
    UNION ALL  -- all counted to one unit that no longer owns the case
    SELECT k.tally_unit, k.department_code, 0, 0, 0, 0, 0, 0, 0,
           k.disputes, k.verify_passes, k.rework_count
      FROM cases k
     WHERE k.tally_apart AND NOT k.tally_mixed
    UNION ALL  -- counted to more than one unit: each event to its own
    SELECT e.unit_id, k.department_code, 0, 0, 0, 0, 0, 0, 0,
           (e.action = 'dispute')::int, (e.action = 'verify_pass')::int,
           (e.action = 'verify_fail')::int
      FROM cases k JOIN case_event e ON e.city_id = :c AND e.violation_id = k.id
     WHERE k.tally_apart AND k.tally_mixed AND e.action IN ('dispute', 'verify_pass', 'verify_fail')
)
"""

# each unit and the area of ``:level`` it rolls up to: the area of itself or of its nearest
# ancestor that has one, then up the areas (asked apart, and handed to the figures as two
# arrays, so that the parallel workers can join with it)
ROLL_UP = """
WITH RECURSIVE
unit_area AS (
    SELECT u.id AS unit_id, u.parent_id AS next_id, u.area_id, 0 AS depth
      FROM unit u WHERE u.city_id = :c
    UNION ALL
    SELECT ua.unit_id, p.parent_id, p.area_id, ua.depth + 1
      FROM unit_area ua JOIN unit p ON p.city_id = :c AND p.id = ua.next_id
     WHERE ua.area_id IS NULL AND ua.depth < 32
),
area_up AS (
    SELECT ua.unit_id, a.id AS area_id, a.parent_id, a.level, 0 AS depth
      FROM unit_area ua JOIN admin_area a ON a.city_id = :c AND a.id = ua.area_id
    UNION ALL
    SELECT au.unit_id, a.id, a.parent_id, a.level, au.depth + 1
      FROM area_up au JOIN admin_area a ON a.city_id = :c AND a.id = au.parent_id
     WHERE au.depth < 32
)
SELECT DISTINCT ON (unit_id) unit_id, area_id FROM area_up
 WHERE level = :level ORDER BY unit_id, depth
"""
_ROLLED = """,
rolled AS NOT MATERIALIZED (
    SELECT * FROM unnest(CAST(:ru AS bigint[]), CAST(:ra AS bigint[])) r(unit_id, area_id)
)"""

# The fixed cases of the window with their hours to the first fix, for the medians: read per
# key through an index that holds what they need (migration 0014), one key after another,
# after the sums (medians cannot be gathered from parallel workers; sorting every case by
# its key on one core cost more than both).
_FIXED = """,
fixed AS NOT MATERIALIZED (
    SELECT v.unit_id, v.department_code,
           date_part('epoch', v.first_fix_at - v.observed_at) / 3600 AS h
      FROM violation v
     WHERE v.city_id = :c AND v.observed_at >= :lo AND v.observed_at < :hi
       AND NOT v.permitted AND v.status <> 'invalid' AND v.first_fix_at IS NOT NULL{scope}
)"""

# the fixed cases of a unit's key (none: no owner) and of a department's (none: none)
_OF_UNIT = (
    "SELECT h FROM fixed WHERE unit_id = g.key "
    "UNION ALL SELECT h FROM fixed WHERE g.key IS NULL AND unit_id IS NULL"
)
_OF_DEPARTMENT = _OF_UNIT.replace("unit_id", "department_code")
# of an area's units; none: no owner, or a unit that rolls up to no such area. (A join to
# the area's units, not "unit_id = ANY(ARRAY(… WHERE area_id = g.key))": over the cases'
# partitions PostgreSQL 15 computed that array once, for the first area, and gave every
# area the first one's median.)
_OF_AREA = (
    "SELECT f.h FROM fixed f JOIN rolled r ON r.unit_id = f.unit_id AND r.area_id = g.key "
    "UNION ALL SELECT h FROM fixed WHERE g.key IS NULL AND unit_id IS NULL "
    "UNION ALL SELECT h FROM fixed WHERE g.key IS NULL AND unit_id = ANY(ARRAY("
    "SELECT id FROM unit WHERE city_id = :c AND id NOT IN (SELECT unit_id FROM rolled)))"
)

# per level: (CTEs, the key of a fact and the joins that give it, the key's code and name
# and the join that gives them, the fixed cases of a key): grouped by the key, named after
_KEYS = {
    "unit": (
        "",
        "f.owner",
        "",
        "ku.code AS code, ku.name AS name",
        "LEFT JOIN unit ku ON ku.city_id = :c AND ku.id = g.key",
        _OF_UNIT,
    ),
    "department": (
        "",
        "f.dept",
        "",
        "g.key AS code, kd.name AS name",
        "LEFT JOIN unit kd ON kd.city_id = :c AND kd.code = g.key",
        _OF_DEPARTMENT,
    ),
    "street": (
        _ROLLED,
        "r.area_id",
        "LEFT JOIN rolled r ON r.unit_id = f.owner",
        "ka.code AS code, ka.name AS name",
        "LEFT JOIN admin_area ka ON ka.city_id = :c AND ka.id = g.key",
        _OF_AREA,
    ),
}
_KEYS["community"] = _KEYS["street"]


def statement(level: str, scope: CaseScope | None) -> str:
    """The SQL statement of ``level`` (parameters ``c``, ``lo``, ``hi``, the scope's and, for
    areas, ``ru`` and ``ra``: ``ROLL_UP``'s units and areas)."""
    ctes, key, joins, named, names, members = _KEYS[level]
    sums = ", ".join(f"sum(f.{n})::bigint AS {n}" for n in COUNTS)
    return (
        _FACTS
        + ctes
        + _FIXED.replace("{scope}", and_where(scope, "v.unit_id"))
        + f", g AS (SELECT {key} AS key, {sums} "
        f"FROM facts f {joins} WHERE true{and_where(scope, 'f.owner')} GROUP BY 1) "
        f"SELECT {named}, g.*, m.median_fix_hours FROM g {names} CROSS JOIN LATERAL ("
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x.h) AS median_fix_hours "
        f"FROM ({members}) x) m ORDER BY 1 NULLS LAST"
    )


def weekly(conn: Connection, city: int, start: dt.date, weeks: int) -> list[dict]:
    """``received``, ``closed_on_time`` and ``on_time_rate`` of each of ``weeks`` weeks from
    the Monday ``start`` (the city's days), by the definitions above, in one statement: the
    trend a dashboard draws."""
    lo, _ = window(conn, city, start, start)
    _, hi = window(conn, city, start, start + dt.timedelta(days=7 * weeks - 1))
    rows = conn.execute(
        text(
            "SELECT floor(EXTRACT(EPOCH FROM v.observed_at - :lo) / 604800)::int AS k, "
            "count(*) AS received, count(*) FILTER (WHERE v.status = 'closed' AND "
            "v.closed_at <= v.due_at) AS closed_on_time FROM violation v WHERE v.city_id = :c "
            "AND v.observed_at >= :lo AND v.observed_at < :hi AND NOT v.permitted "
            "AND v.status <> 'invalid' GROUP BY 1"
        ),
        {"c": city, "lo": lo, "hi": hi},
    ).all()
    got = {r.k: r for r in rows}
    out = []
    for k in range(weeks):
        r = got.get(k)
        received, on_time = (r.received, r.closed_on_time) if r else (0, 0)
        out.append(
            {
                "monday": start + dt.timedelta(days=7 * k),
                "received": received,
                "closed_on_time": on_time,
                "on_time_rate": round(on_time / received, 4) if received else None,
            }
        )
    return out


def window(conn: Connection, city: int, start: dt.date, end: dt.date) -> tuple:
    """The window's bounds: the start of ``start`` and of the day after ``end`` in the city's
    time zone (given to the statement as values, so that the planner knows how many cases
    they hold)."""
    tz = ZoneInfo(
        conn.execute(text("SELECT timezone FROM city WHERE id = :c"), {"c": city}).scalar()
    )
    lo = dt.datetime.combine(start, dt.time(0), tz)
    if end == dt.date.max:
        return lo, dt.datetime.max.replace(tzinfo=tz)
    return lo, dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tz)


def figures(
    conn: Connection,
    city: int,
    start: dt.date,
    end: dt.date,
    level: str,
    scope: CaseScope | None,
) -> dict:
    """The figures of ``level`` over the cases observed from ``start`` to ``end`` (days in
    the city's time zone, both included): ``{from, to, level, as_of, rows}``, a row per key
    with its ``code`` and ``name`` (None: no owner, or none at that level), the counts, the
    rates (None where the denominator is 0) and ``median_fix_hours``."""
    lo, hi = window(conn, city, start, end)
    params = {"c": city, "lo": lo, "hi": hi, **scope_params(scope)}
    if level in ("street", "community"):
        rolled = conn.execute(text(ROLL_UP), {"c": city, "level": level}).all()
        params["ru"] = [r.unit_id for r in rolled]
        params["ra"] = [r.area_id for r in rolled]
    rows = conn.execute(text(statement(level, scope)), params).all()
    as_of = conn.execute(text("SELECT now()")).scalar()
    out = []
    for r in rows:
        row = {"code": r.code, "name": r.name}
        row.update({n: int(getattr(r, n) or 0) for n in COUNTS})
        for name, num, den in RATES:
            d = sum(row[p] for p in den.split("+"))
            row[name] = round(row[num] / d, 4) if d else None
        m = r.median_fix_hours
        row["median_fix_hours"] = None if m is None else round(float(m), 2)
        out.append(row)
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "level": level,
        "as_of": as_of.isoformat(),
        "rows": out,
    }


# the spreadsheet's columns: field → Chinese header
HEADERS_ZH = {
    "code": "编码",
    "name": "名称",
    "received": "受理数",
    "closed": "结案数",
    "closed_on_time": "按期结案数",
    "on_time_rate": "按期整改率",
    "overdue_now": "当前超期数",
    "reworks": "返工次数",
    "reworked_cases": "返工案件数",
    "fixed_cases": "已整改案件数",
    "rework_rate": "返工率",
    "disputes": "争议数",
    "median_fix_hours": "整改用时中位数(小时)",
    "verify_pass": "核查通过数",
    "verify_fail": "核查不通过数",
    "verify_pass_rate": "核查通过率",
}
LEVEL_ZH = {"unit": "责任单位", "department": "职能部门", "street": "街道", "community": "社区"}


def xlsx(result: dict) -> bytes:
    """The figures as a sheet: Chinese headers, a row per key, rates as percentages."""
    return table_xlsx(
        LEVEL_ZH[result["level"]],
        HEADERS_ZH,
        result["rows"],
        f"{result['from']} 至 {result['to']}（观察日期），统计时间 {result['as_of']}",
        percent={f for f in HEADERS_ZH if f.endswith("_rate")},
    )
