"""The coverage report a leader reads before planning (``GET /api/inspection-coverage``):
for a mode, a window and a depot, the points out of reach, the stops a night, whether the
floor can be kept unforeseeably, the floor that can, and what would keep the asked one —
another mode, more teams a night, a longer window."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Connection, text

from service.errors import Problem, field_error
from service.rounds import coverage, inspections
from service.store.models import TRAVEL_MODES

WINDOW_MORE_H = (1, 2)  # longer windows tried
TEAMS_MORE = (1, 2)  # more teams a night tried


def _window(value: str | None) -> tuple[str, str]:
    start, _, end = (value or "").partition("-")
    if len(start) != 5 or len(end) != 5:
        raise Problem(
            "The window is not understood.",
            status=400,
            errors=[field_error("window", "HH:MM-HH:MM in the city's time, e.g. 20:00-23:00")],
        )
    return start, end


def _depot(value: str | None) -> list[float]:
    try:
        lon, lat = (float(v) for v in (value or "").split(","))
        if not (np.isfinite(lon) and np.isfinite(lat)):
            raise ValueError
    except ValueError:
        raise Problem(
            "The depot is not understood.",
            status=400,
            errors=[field_error("depot", "lon,lat in degrees")],
        ) from None
    return [lon, lat]


def _teams(value: str | None) -> int:
    if value is None:
        return 1
    if not (value.isascii() and value.isdecimal()) or not 1 <= int(value) <= 20:
        raise Problem(
            "The number of teams is not understood.",
            status=400,
            errors=[field_error("teams", "a whole number from 1 to 20")],
        )
    return int(value)


def report(conn: Connection, city_id: int, user_id: int, args: dict, config: dict) -> dict:
    """The coverage report for ``args``: mode, window (HH:MM-HH:MM), depot (lon,lat), area,
    teams (a night, default 1)."""
    unknown = set(args) - {"mode", "window", "depot", "area", "teams"}
    if unknown:
        raise Problem(
            "Some query parameters are not understood.",
            status=400,
            errors=[
                field_error(k, "unknown parameter; takes mode, window, depot, area, teams")
                for k in sorted(unknown)
            ],
        )
    start_hhmm, end_hhmm = _window(args.get("window"))
    teams = _teams(args.get("teams"))
    tz = ZoneInfo(
        conn.execute(text("SELECT timezone FROM city WHERE id = :c"), {"c": city_id}).scalar()
    )
    body = {
        "date": dt.datetime.now(tz).date().isoformat(),
        "window_start": start_hhmm,
        "window_end": end_hhmm,
        "depot": _depot(args.get("depot")),
        "mode": args.get("mode", "walk"),
        "team": [user_id],
        "area": args.get("area"),
    }
    try:
        plan, start, end = inspections.parse(conn, city_id, body)
    except Problem as exc:  # the plan's fields by the names this report takes
        for e in exc.errors:
            if e.get("field") in ("window_start", "window_end"):
                e["field"] = "window"
        raise
    floor_days = int(config.get("INSPECTION_FLOOR_DAYS", inspections.FLOOR_DAYS))
    strict = bool(config.get("INSPECTION_FLOOR_STRICT", False))
    rows, dwell = inspections.candidates(
        conn, city_id, plan.area, config.get("INSPECTION_DWELL_S", {})
    )
    lonlat = np.array([plan.depots[0], *[(r.lon, r.lat) for r in rows]], float)
    steady = np.arange(len(lonlat)) > 0  # the points (row 0 the depot)
    budget = (end - start).total_seconds()
    past = coverage.past_rounds(
        conn,
        coverage.Alike(
            city_id,
            plan.mode,
            inspections.area_id(conn, city_id, plan.area),
            tuple(plan.depots[0]),
            budget,
            plan.date + dt.timedelta(1),
        ),
    )
    matrices = {}

    def setting(mode: str, hours_more: float, more_teams: int) -> dict:
        if mode not in matrices:
            matrices[mode] = inspections.travel_matrix(conn, city_id, mode, lonlat, steady)
        times, _, _, notes = matrices[mode]
        window = budget + 3600 * hours_more
        ok = coverage.reachable(times, dwell, window - coverage.late_start(window, config))
        estimated = coverage.estimate(times, dwell, window, ok)
        stops = estimated
        if mode == plan.mode and past:  # the rounds planned so correct the travel times
            base_ok = coverage.reachable(times, dwell, budget - coverage.late_start(budget, config))
            base = coverage.estimate(times, dwell, budget, base_ok)
            stops, _ = coverage.capacity(past, times, dwell, budget, base_ok)
            stops *= estimated / max(base, 1e-9)
        fp = coverage.plan_of(int(ok.sum()), stops * (teams + more_teams), floor_days, strict)
        return {
            "mode": mode,
            "window_hours": round(window / 3600, 2),
            "teams": teams + more_teams,
            "reachable": int(ok.sum()),
            **coverage.describe(fp),
            "unreachable": [
                {"code": rows[i].code, "name": rows[i].name} for i in np.flatnonzero(~ok)
            ],
            "notes": notes,
        }

    now = setting(plan.mode, 0, 0)
    options = [setting(m, 0, 0) for m in TRAVEL_MODES if m != plan.mode]
    options += [setting(plan.mode, h, 0) for h in WINDOW_MORE_H if budget + 3600 * h <= 16 * 3600]
    options += [setting(plan.mode, 0, t) for t in TEAMS_MORE]
    for o in options:
        o.pop("unreachable")
        o.pop("notes")
    return {
        "mode": plan.mode,
        "window": f"{start_hhmm}-{end_hhmm}",
        "depot": plan.depots[0],
        "area": plan.area,
        "points": len(rows),
        "stops_from": "past_rounds" if len(past) >= coverage.PAST_ROUNDS_MIN else "travel_times",
        **now,
        "options": options,
        "keeps_floor": [o for o in options if o["unforeseeable"]],
    }
