"""Unannounced inspection plans (暗访): drawn, routed on the streets, and kept secret.

A plan's stops are drawn from the city's active assessment points that can be reached and
left within the window (service/rounds/coverage.py): each is *wanted* tonight at its own odds
(gis/visits.py) — its priority (config INSPECTION_WEIGHTS: open cases near it by severity,
overdue ones, its weight, past findings there) within a narrow spread, times a hazard of the
days since its last visit shaped so that those days tell an observer little — and a point
at the end of the floor kept must go. The floor kept is INSPECTION_FLOOR_DAYS when the
night's capacity (stops a night from past rounds or the travel times) keeps it
unforeseeably, else the shortest that can (INSPECTION_FLOOR_STRICT: the asked one whenever
it can be kept at all), and the plan says so. The solver (gis/tours.py) then takes the
wanted ones that fit and the others nearby. A visit counts when the team checks in
(``arrive``), never when the round is planned. Travel times come from the city's street
network (service/rounds/roads.py) for the plan's mode; without one, from straight lines times a
detour factor, and the plan says so. Every plan records the odds and draws behind it.

Secrecy: a plan exists only for its team, leaders and admins; anyone else gets 404 for it
and every export of it. Team members see its stops from ``release_at``. Every read of a plan
is written to the audit log (action ``view``) with who and when.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import Annotated
from zoneinfo import ZoneInfo

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Connection, text

from gis import tours, visits
from gis.crs import metric_epsg, to_metric_xy
from gis.roads import speed_kmh
from service.accounts.scope import and_where, case_scope, scope_params
from service.errors import NotFound, Problem, field_error, validated
from service.rounds import coverage, roads
from service.store.models import TRAVEL_MODES

PLANNERS = ("leader", "admin")
# days_since: 0 — the days since a visit act through the hazard (gis/visits.py) alone; a
# weight here would make them name tonight's stops. verify: against wanted points' 40..80
WEIGHTS = {"severity": 1.0, "overdue": 2.0, "days_since": 0.0, "findings": 0.5, "verify": 40.0}
FLOOR_DAYS = 28
VERIFY_DWELL_S = 300  # a verification visit (INSPECTION_DWELL_S["verify"] overrides)
VERIFY_MAX = 200  # the cases awaiting verification a plan draws from: those waiting longest
VERIFY_PER_ROUND = 4  # verification targets offered to one round (INSPECTION_VERIFY_PER_ROUND)
STRAIGHT_DETOUR = 1.4  # used when a city has no street network at all
DEFICIT_DAYS = 120  # a point's visits against its share over these days (gis/visits.deficit;
# on foot a point is visited about every 26 days: 56 held two visits, too few to tell a point
# behind from chance, and the visits over 90 nights strayed from their shares, bench/README)
MAX_TEAMS = 10  # teams planned in one night's request


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: dt.date = Field(ge=dt.date(2000, 1, 1), le=dt.date(2999, 12, 31))  # no overflow
    window_start: str = Field(description="HH:MM city time, or an ISO time with its zone")
    window_end: str
    depot: list[Annotated[list[float], Field(min_length=2, max_length=2)]] = Field(
        min_length=1,
        max_length=MAX_TEAMS,
        description="[lon, lat] for every team, or one [lon, lat] for each team",
    )
    mode: str = "walk"
    team: list[Annotated[list[int], Field(min_length=1, max_length=20)]] = Field(
        min_length=1,
        max_length=MAX_TEAMS,
        description="the user ids of one team, or several teams (a list of such lists): "
        "each its own route from its own depot, no point on two of them",
    )
    area: str | None = None
    release_at: dt.datetime | None = None

    @field_validator("depot", "team", mode="before")
    @classmethod
    def _one_or_several(cls, v):
        """One team's user ids or one [lon, lat] stand for a list of one."""
        if isinstance(v, list) and v and not _nested(v):
            return [v]
        return v

    @property
    def members(self) -> list[int]:
        """The night's users, team by team (a name twice in one team: once)."""
        return [u for t in self.team for u in dict.fromkeys(t)]

    @property
    def depots(self) -> list[list[float]]:
        """Each team's depot."""
        return self.depot * len(self.team) if len(self.depot) == 1 else self.depot

    @field_validator("mode")
    @classmethod
    def _mode(cls, v: str) -> str:
        if v not in TRAVEL_MODES:
            raise ValueError(f"one of {', '.join(TRAVEL_MODES)}")
        return v

    @field_validator("release_at")
    @classmethod
    def _aware(cls, v):
        if v is not None and v.tzinfo is None:
            raise ValueError("should carry a time zone, e.g. 2026-11-28T19:00:00+08:00")
        if v is not None and not 2000 <= v.year <= 2999:  # the database's range, and then some
            raise ValueError("should lie in the years 2000 to 2999")
        return v


def _nested(value: object) -> bool:
    return isinstance(value, list) and any(isinstance(x, list) for x in value)


def _when(day: dt.date, value: str, tz: ZoneInfo, field: str) -> dt.datetime:
    try:
        if len(value) == 5 and value[2] == ":":
            return dt.datetime.combine(day, dt.time.fromisoformat(value), tz)
        when = dt.datetime.fromisoformat(value)
        if when.tzinfo is None or not 2000 <= when.year <= 2999:  # a year 9999 ETA overflows
            raise ValueError
        return when
    except ValueError:
        raise Problem(
            "The time window is not understood.",
            status=422,
            errors=[field_error(field, "HH:MM (city time) or an ISO date-time with its zone")],
        ) from None


def parse(conn: Connection, city_id: int, body: object) -> tuple[PlanIn, dt.datetime, dt.datetime]:
    if not isinstance(body, dict):
        raise Problem(
            "Send a JSON object.", status=400, errors=[field_error("body", "not an object")]
        )
    try:
        plan = validated(PlanIn, body, "The plan request is not valid.")
    except Problem as exc:  # one team or one depot sent flat is named as it was sent
        for e in exc.errors:
            head, _, rest = e.get("field", "").partition(".0")
            if head in ("team", "depot") and not _nested(body.get(head)):
                e["field"] = head + rest
        raise
    tz = ZoneInfo(
        conn.execute(text("SELECT timezone FROM city WHERE id = :c"), {"c": city_id}).scalar()
    )
    start = _when(plan.date, plan.window_start, tz, "window_start")
    end = _when(plan.date, plan.window_end, tz, "window_end")
    if end <= start:  # an evening round past midnight
        end += dt.timedelta(days=1)
    errors = []
    if len(plan.depot) not in (1, len(plan.team)):
        errors.append(field_error("depot", "one [lon, lat] for all teams, or one for each team"))
    members = plan.members
    if len(set(members)) < len(members):
        errors.append(field_error("team", "a user is in one team of a night"))
    if end - start > dt.timedelta(hours=16):
        errors.append(field_error("window_end", "a window is at most 16 hours"))
    inside = conn.execute(
        text(
            "SELECT bool_and(ST_Intersects(ST_Buffer(c.extent::geography, 2000)::geometry, "
            "ST_SetSRID(ST_MakePoint(d.x, d.y), 4326))) FROM city c, "
            "unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[])) AS d(x, y) WHERE c.id = :c"
        ),
        {"xs": [x for x, _ in plan.depot], "ys": [y for _, y in plan.depot], "c": city_id},
    ).scalar()
    if not inside:  # every team's depot in one look-up
        errors.append(field_error("depot", "should be [lon, lat] in the city"))
    known = set(
        conn.execute(
            text("SELECT id FROM app_user WHERE city_id = :c AND id = ANY(:ids)"),
            {"c": city_id, "ids": members},
        ).scalars()
    )
    errors += [field_error("team", f"no user {u} in this city") for u in members if u not in known]
    if (
        plan.area
        and conn.execute(
            text("SELECT 1 FROM admin_area WHERE city_id = :c AND code = :a"),
            {"c": city_id, "a": plan.area},
        ).first()
        is None
    ):
        errors.append(field_error("area", f"no area {plan.area!r} in this city"))
    if errors:
        raise Problem("The plan request is not valid.", status=422, errors=errors)
    return plan, start, end


_CANDIDATES = """
WITH near AS (
    SELECT (n ->> 'id')::bigint AS point_id, v.severity, (v.due_at < now()) AS overdue,
           v.status IN ('open', 'dispatched', 'rectifying', 'disputed', 'hung')
           AND NOT v.permitted AS open,
           v.source = 'inspection' AS found
      FROM violation v CROSS JOIN LATERAL jsonb_array_elements(v.near_points) n
     WHERE v.city_id = :c),
open_by AS (
    SELECT point_id, sum(severity) FILTER (WHERE open) AS sev,
           count(*) FILTER (WHERE open AND overdue) AS overdue,
           count(*) FILTER (WHERE found) AS findings
      FROM near GROUP BY point_id)
SELECT p.id, p.code, p.name, p.category_code AS category, p.weight::float AS weight,
       ST_X(ST_PointOnSurface(p.geom)) AS lon, ST_Y(ST_PointOnSurface(p.geom)) AS lat,
       coalesce(o.sev, 0)::float AS sev, coalesce(o.overdue, 0)::float AS overdue,
       coalesce(o.findings, 0)::float AS findings, d.last_visit_on, k.dwell_s
  FROM assessment_point p
  JOIN assessment_point_category k ON k.city_id = p.city_id AND k.code = p.category_code
  LEFT JOIN open_by o ON o.point_id = p.id
  LEFT JOIN inspection_due d ON d.city_id = p.city_id AND d.point_id = p.id
 WHERE p.city_id = :c AND p.active
   AND (CAST(:area AS text) IS NULL OR ST_Intersects(p.geom,
        (SELECT geom FROM admin_area WHERE city_id = :c AND code = :area)))
 ORDER BY p.id
"""


# The cases awaiting verification (fixed, 已整改待核查) in the plan's area, longest waiting first.
# A round is offered a few of them as candidates beside the points (drawn at random, the longer
# a case has waited the likelier), each with a noisy prize of its own, and the solver takes
# those that fit: the unit that fixed a case cannot tell which night an inspector comes.
_VERIFY_CANDIDATES = """
SELECT v.id, v.case_no, ST_X(ST_PointOnSurface(v.geom)) AS lon,
       ST_Y(ST_PointOnSurface(v.geom)) AS lat,
       EXTRACT(EPOCH FROM now() - coalesce(v.resolved_at, v.observed_at)) / 86400.0 AS waiting_days
  FROM violation v
 WHERE v.city_id = :c AND v.status = 'resolved' AND NOT v.permitted
   AND (CAST(:area AS text) IS NULL OR ST_Intersects(v.geom,
        (SELECT geom FROM admin_area WHERE city_id = :c AND code = :area)))
 ORDER BY v.resolved_at NULLS FIRST, v.id
 LIMIT :n
"""


def candidates(
    conn: Connection, city_id: int, area: str | None, dwell_by: dict
) -> tuple[list, np.ndarray]:
    """The active points of the area (the city's, without one) a round may visit, and each
    one's dwell in seconds (``dwell_by``, INSPECTION_DWELL_S, over its category's); 422
    naming ``area`` when there is none."""
    rows = conn.execute(text(_CANDIDATES), {"c": city_id, "area": area}).all()
    if not rows:
        raise Problem(
            "No active assessment point in the area.",
            status=422,
            errors=[field_error("area", "no active points")],
        )
    return rows, np.array([dwell_by.get(r.category, r.dwell_s) for r in rows], float)


def area_id(conn: Connection, city_id: int, code: str | None) -> int | None:
    return conn.execute(
        text("SELECT id FROM admin_area WHERE city_id = :c AND code = :a"),
        {"c": city_id, "a": code},
    ).scalar()


def _offered_cases(conn, city_id: int, plan: PlanIn, weights: dict, config: dict, rng) -> list:
    """The cases awaiting verification offered to this night's rounds: none at a weight of 0,
    and none when a unit's user is on a team — a unit never verifies (loop.VERIFIERS), and a round
    that goes to a case would tell that user where and when another unit's fix is looked at,
    its own unit's included."""
    if weights["verify"] <= 0 or conn.execute(
        text("SELECT EXISTS (SELECT 1 FROM app_user WHERE city_id = :c AND id = ANY(:team) "
             "AND role = 'unit')"),
        {"c": city_id, "team": plan.members},
    ).scalar():  # fmt: skip
        return []
    cases = conn.execute(
        text(_VERIFY_CANDIDATES), {"c": city_id, "area": plan.area, "n": VERIFY_MAX}
    ).all()
    offered = verify_targets(
        np.array([float(c.waiting_days) for c in cases]),
        int(config.get("INSPECTION_VERIFY_PER_ROUND", VERIFY_PER_ROUND)),
        rng,
    )
    return [cases[i] for i in offered]


def verify_targets(waiting_days: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Which ``k`` of the waiting cases a round is offered: drawn without replacement with
    odds 1 + days waiting (up to a week)."""
    k = min(k, len(waiting_days))
    if k <= 0:
        return np.zeros(0, int)
    odds = 1 + np.minimum(np.maximum(waiting_days, 0), 7)
    return np.sort(rng.choice(len(odds), size=k, replace=False, p=odds / odds.sum()))


def verify_prizes(waiting_days: np.ndarray, weight: float, rng: np.random.Generator):
    """The VROOM priorities of verification targets: ``weight`` × (1 + days waiting, up to a
    week, over a week) with the points' log-normal noise, within 1..90 (never mandatory; a
    point far behind its share on a night of few stops may be offered more, up to 99,
    gis/visits.prizes). A weight of 0 leaves them out."""
    if weight <= 0:
        return np.zeros(len(waiting_days), int)
    base = weight * (1 + np.minimum(np.maximum(waiting_days, 0), 7) / 7)
    noisy = base * rng.lognormal(0.0, 0.5, len(base))
    return np.clip(np.round(noisy), 1, tours.MANDATORY - 10).astype(int)


def priorities(rows: list, day: dt.date, weights: dict, floor_days: int) -> np.ndarray:
    """weight × (1 + severity of open cases near + overdue ones + past findings) ×
    (1 + days since the last visit over the floor period), each term weighted."""
    w = weights
    since = np.array(
        [(day - r.last_visit_on).days if r.last_visit_on else floor_days for r in rows], float
    )
    return (
        np.array([r.weight for r in rows])
        * (
            1
            + w["severity"] * np.array([r.sev for r in rows])
            + w["overdue"] * np.array([r.overdue for r in rows])
            + w["findings"] * np.array([r.findings for r in rows])
        )
        * (1 + w["days_since"] * np.minimum(since, floor_days) / floor_days)
    )


def travel_matrix(conn, city_id: int, mode: str, lonlat: np.ndarray, steady=None):
    """Seconds between all places (row 0 the depot), the metres of a leg (a function: only
    the tour's legs are ever measured), what to draw the path with, and notes. ``steady``
    marks the places that rarely move (assessment points): the times among them are kept
    with the street network and found again by the next plan over the same points."""
    net = roads.network(conn, city_id, mode)
    if net is None:
        epsg = metric_epsg(float(lonlat[0, 0]), float(lonlat[0, 1]))
        xy = np.column_stack(to_metric_xy(lonlat[:, 0], lonlat[:, 1], epsg))
        metres = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) * STRAIGHT_DETOUR
        speed = speed_kmh("residential", mode) / 3.6
        return (
            metres / speed,
            lambda a, b: metres[a, b],
            None,
            [
                "No street network for this city: travel times are straight lines × "
                f"{STRAIGHT_DETOUR} at {speed * 3.6:g} km/h "
                "(import one with chuangwen import-roads)."
            ],
        )
    epsg = metric_epsg(*(float(v) for v in np.median(net.lonlat, axis=0)))
    nodes, off = net.snap(lonlat, epsg)
    street = net.matrix(nodes, steady)
    walk = off / (speed_kmh("residential", "walk") / 3.6)  # to and from the street on foot
    times = street + walk[:, None] + walk[None, :]
    np.fill_diagonal(times, 0)
    legs = _Legs(net, nodes, street)

    def leg_metres(a: int, b: int) -> float:
        path = legs[a, b]
        on_street = sum(net.metres[u, v] for u, v in zip(path[:-1], path[1:], strict=True))
        return float(on_street + off[a] + off[b]) if a != b else 0.0

    return times, leg_metres, (net, legs), []


class _Legs(dict):
    """The street nodes of the way between two places, found when first asked (only the
    tour's legs ever are)."""

    def __init__(self, net, nodes: np.ndarray, street: np.ndarray):
        super().__init__()
        self.net, self.nodes, self.street = net, nodes, street

    def __missing__(self, ab: tuple[int, int]) -> list[int]:
        a, b = ab
        way = self.net.leg(int(self.nodes[a]), int(self.nodes[b]), float(self.street[a, b]))
        self[ab] = way
        return way


def create(
    conn: Connection,
    city_id: int,
    user_id: int,
    body: object,
    config: dict,
    rng: np.random.Generator | None = None,
) -> list[int]:
    """The night's rounds, one for each team of the request (ids in the teams' order)."""
    plan, start, end = parse(conn, city_id, body)
    seeded = rng is not None
    rng = rng or np.random.default_rng(secrets.randbits(128))
    weights = {**WEIGHTS, **config.get("INSPECTION_WEIGHTS", {})}
    floor_days = int(config.get("INSPECTION_FLOOR_DAYS", FLOOR_DAYS))
    dwell_by = config.get("INSPECTION_DWELL_S", {})  # overrides of the categories' dwell
    rows, point_dwell = candidates(conn, city_id, plan.area, dwell_by)
    day = plan.date
    pri = priorities(rows, day, weights, floor_days)
    budget = int((end - start).total_seconds())
    late = coverage.late_start(budget, config)
    cases = _offered_cases(conn, city_id, plan, weights, config, rng)
    n = len(rows)  # candidates 0..n-1 are points, n.. cases awaiting verification
    k = len(plan.team)  # places 0..k-1 are the teams' depots, the candidates after them
    depots = plan.depots
    dwell = np.r_[point_dwell, [dwell_by.get("verify", VERIFY_DWELL_S)] * len(cases)]
    lonlat = np.array([*depots, *[(r.lon, r.lat) for r in [*rows, *cases]]], float)
    steady = np.r_[np.zeros(k, bool), np.ones(n, bool), np.zeros(len(cases), bool)]
    times, leg_metres, paths, notes = travel_matrix(conn, city_id, plan.mode, lonlat, steady)
    # first day with a plan: a point never visited counts its days from it
    first = (
        conn.execute(
            text(
                "SELECT min(plan_date) FROM inspection_plan WHERE city_id = :c "
                "AND cancelled_at IS NULL"
            ),
            {"c": city_id},
        ).scalar()
        or day
    )
    since = np.array([max((day - (r.last_visit_on or min(first, day))).days, 0) for r in rows])
    # what the city can do tonight: the points within reach of a team, the stops a night of
    # all the teams, the floor
    ok = np.zeros(n + len(cases), bool)
    stops, source, likes = 0.0, [], []
    area = area_id(conn, city_id, plan.area)
    for t in range(k):
        seen = (
            times if k == 1 else times[np.ix_(np.r_[t, k : len(times)], np.r_[t, k : len(times)])]
        )
        ok_t = coverage.reachable(seen, dwell, budget - late)
        ok |= ok_t
        likes.append(coverage.Alike(city_id, plan.mode, area, tuple(depots[t]), budget, day))
        past = coverage.past_rounds(conn, likes[t])
        got, src = coverage.capacity(past, seen[: n + 1, : n + 1], dwell[:n], budget, ok_t[:n])
        stops += got
        source.append(src)
    strict = bool(config.get("INSPECTION_FLOOR_STRICT", False))
    fp = coverage.plan_of(int(ok[:n].sum()), stops, floor_days, strict)
    kept, due = coverage.floor_tonight(
        fp.keep_days, coverage.last_kept(conn, likes), since[ok[:n]], stops
    )
    hz = coverage.hazard_for(int(ok[:n].sum()), stops, kept)
    # tonight's draw: each reachable point wanted at its odds (a fresh coin: nothing seen
    # of past visits but the floor moves them), those at the floor kept must go
    share = visits.weights(pri, ok[:n])
    # a city short of stops may let the shares lean toward the points quick to inspect
    # (INSPECTION_QUICK_LEAN: how far, as a total variation distance; 0 keeps them)
    leaned = visits.lean(share, point_dwell, coverage.quick_lean(config))
    lean_tv, share = visits.tv(leaned, share), leaned
    visited = _visited(conn, city_id, [r.id for r in rows], day)
    behind = visits.deficit(share, visited)
    # tonight's heading: the wanted points and the fillers lean to one side of each point's
    # nearest depot, so that a round of many stops travels less between them (odds held at 1
    # keep less of the pull)
    kappa = coverage.heading_kappa(stops / k, config)
    nearest = times[:k, k : k + n].argmin(axis=0)
    toward, pull = visits.heading(lonlat[nearest], lonlat[k : k + n], kappa, rng)
    odds = np.minimum(share * behind * pull * hz.at(since), 1.0)
    wanted, must = visits.tonight(odds, since, due, rng)
    # and those so near the floor that the nights left cannot take them all (earliest
    # deadline first against 60 % of a night's stops, or, over the last nights before its
    # margin night, for a point that takes more of a round alone — its way there and back
    # from the depot nearest both ways and its dwell, over the time a round has — that much:
    # two far points that cannot share a round take a round each; in a settled city only the
    # points at the floor, a crowd that shares its days — a city's first rounds — a few
    # nights ahead; the points out of reach wait for none)
    alone = coverage.round_trip(times, dwell, k)[:n] / max(budget - late, 1)
    reach = np.flatnonzero(ok[:n])
    tight = tours.must_go(since[reach], due, stops, nights=alone[reach], teams=k)
    must[reach[tight]] = True
    # the prizes: where a team's night is of few stops, they track how many visits each point
    # is behind its share (noisy; those ahead for a prize of a few, or, tracking in part, some
    # left out); of many, the wanted points 40-80 and the fillers a noisy prize a little above
    # or below by their deficit
    short = visits.shortfall(share, visited, stops)
    track = coverage.tracking(stops / k)
    prize = visits.prizes(wanted, must, rng, tours.MANDATORY, behind * pull, short, track)
    prize[~ok[:n]] = 0  # out of reach: never asked for
    waiting = np.array([float(c.waiting_days) for c in cases])
    vprize = verify_prizes(waiting, weights["verify"], rng)
    night = tours.night(
        times,
        dwell,
        np.concatenate([prize, vprize]),
        budget,
        rng,
        teams=k,
        start_jitter_s=late,
        urgency=np.concatenate([since, np.zeros(len(cases), int)]),
    )
    far = [rows[i].code for i in np.flatnonzero(~ok[:n])]
    if far:
        notes.append(
            f"{len(far)} points cannot be reached, inspected and left within this window by "
            f"{plan.mode} from the depot: " + ", ".join(far[:20])
        )
    if not fp.unforeseeable:
        notes.append(
            f"The {floor_days}-day floor cannot be kept unforeseeably with about {stops:.1f} "
            f"stops a night over {int(ok[:n].sum())} points"
            + (f": kept at {kept} days" if fp.keep_days else "")
            + (
                f"; it needs about {fp.needed_capacity:g} stops a night"
                if fp.needed_capacity
                else ""
            )
            + " (GET /api/inspection-coverage says what would keep it)."
        )
    missed = night[0].missed_mandatory
    if missed:
        notes.append(
            f"{len(missed)} points at the end of their {kept}-day floor do "
            "not fit in this window: " + ", ".join(rows[i].code for i in missed[:20])
        )
    draws = {
        "seeded_from": "given" if seeded else "secrets",
        "floor_days": floor_days,
        "weights": weights,
        "stops_per_night": round(float(stops), 2),
        "stops_from": source[0] if len(set(source)) == 1 else "mixed",
        "floor_kept_days": kept,
        "quick_lean": round(lean_tv, 4),  # the distance the shares were leaned by
        "heading": {"deg": round(toward), "kappa": round(kappa, 3)},  # from east, anticlockwise
        "track": round(track, 3),  # 1: the prizes track the points' shortfall (visits.prizes)
        "floor": coverage.describe(fp),
        "hazard": {"low": hz.low, "high": hz.high, "step": hz.step},
        "notes": notes,
        "candidates": [
            {
                "point_id": r.id,
                "priority": round(float(p), 3),
                "since_days": int(d),
                "odds": round(float(o), 4),
                "behind": round(float(b), 3),
                "pull": round(float(u), 3),
                "short": round(float(h), 2),
                "wanted": bool(w),
                "at_floor": bool(f),
                "reachable": bool(y),
                "prize": int(z),
            }
            for r, p, d, o, b, u, h, w, f, y, z in zip(
                rows,
                pri,
                since,
                odds,
                behind,
                pull,
                short,
                wanted,
                must,
                ok[:n],
                prize,
                strict=True,
            )
        ],
        "verify_candidates": [
            {"case_id": c.id, "waiting_days": round(float(w), 2), "prize": int(z)}
            for c, w, z in zip(cases, waiting, vprize, strict=True)
        ],
    }
    pids = []
    for t, tour in enumerate(night):
        # the tour's places in the night's matrix: its depot, then candidate i at k + i
        places = [t, *[k + i for i in tour.order], t]
        stops = [
            {
                "seq": j + 1,
                "pt": rows[i].id if i < n else None,
                "v": cases[i - n].id if i >= n else None,
                "eta": start + dt.timedelta(seconds=int(a)),
                "dw": int(dwell[i]),
            }
            for j, (i, a) in enumerate(zip(tour.order, tour.arrive_s, strict=True))
        ]
        pids.append(
            _write_round(
                conn,
                city_id,
                user_id,
                plan,
                (start, end, depots[t]),
                {
                    **draws,
                    "start_offset_s": tour.start_s,
                    "reversed": tour.reversed,
                    **({"night": {"team": t + 1, "teams": k}} if k > 1 else {}),
                },
                tour,
                _route(lonlat, places, paths),
                float(sum(leg_metres(a, b) for a, b in zip(places[:-1], places[1:], strict=True))),
                dict.fromkeys(plan.team[t]),
                stops,
            )
        )
    if k > 1:  # the night's rounds, for leaders (a team's members are shown none of this)
        conn.execute(
            text(
                "UPDATE inspection_plan SET draws = jsonb_set(draws, '{night,plans}', "
                "CAST(:ids AS jsonb)) WHERE city_id = :c AND id = ANY(:p)"
            ),
            {"c": city_id, "p": pids, "ids": json.dumps(pids)},
        )
    return pids


def _write_round(
    conn, city_id, user_id, plan, when, draws, tour, route, distance, team, stops
) -> int:
    """One team's round of the night: the plan row, its team and its stops; its id."""
    start, end, (x, y) = when
    pid = conn.execute(
        text(
            "INSERT INTO inspection_plan (city_id, plan_date, window_start, window_end, "
            "release_at, mode, area_id, created_by, travel_s, dwell_s, distance_m, draws, "
            "depot, route) "
            "VALUES (:c, :d, :s, :e, :r, :m, (SELECT id FROM admin_area WHERE city_id = :c AND "
            "code = :area), :u, :t, :w, :dist, CAST(:draws AS jsonb), "
            "ST_SetSRID(ST_MakePoint(:x, :y), 4326), ST_GeomFromText(:route, 4326)) RETURNING id"
        ),
        {
            "c": city_id,
            "d": plan.date,
            "s": start,
            "e": end,
            "r": plan.release_at or start,
            "m": plan.mode,
            "area": plan.area,
            "u": user_id,
            "t": tour.travel_s,
            "w": tour.dwell_s,
            "dist": int(round(distance)),
            "draws": json.dumps(draws),
            "x": x,
            "y": y,
            "route": route,
        },
    ).scalar_one()
    conn.execute(
        text("INSERT INTO inspection_team_member (city_id, plan_id, user_id) VALUES (:c, :p, :u)"),
        [{"c": city_id, "p": pid, "u": u} for u in team],
    )
    if stops:
        conn.execute(
            text(
                "INSERT INTO inspection_stop (city_id, plan_id, seq, point_id, violation_id, "
                "eta, dwell_s) VALUES (:c, :p, :seq, :pt, :v, :eta, :dw)"
            ),
            [{"c": city_id, "p": pid, **s} for s in stops],
        )
    return pid


def _visited(conn, city_id: int, point_ids: list[int], day: dt.date) -> np.ndarray:
    """Each point's visits checked in on the rounds of the ``DEFICIT_DAYS`` before ``day``."""
    counts = dict(
        conn.execute(
            text(
                "SELECT s.point_id, count(*) FROM inspection_stop s JOIN inspection_plan p "
                "ON p.city_id = s.city_id AND p.id = s.plan_id WHERE s.city_id = :c "
                "AND s.point_id IS NOT NULL AND s.arrived_at IS NOT NULL "
                "AND p.plan_date >= :since AND p.plan_date < :day GROUP BY s.point_id"
            ),
            {"c": city_id, "since": day - dt.timedelta(days=DEFICIT_DAYS), "day": day},
        ).all()
    )
    return np.array([counts.get(p, 0) for p in point_ids], float)


def _route(lonlat: np.ndarray, places: list[int], paths) -> str:
    """The way through ``places`` (indices into ``lonlat``) as WKT, on the streets."""
    coords: list[tuple[float, float]] = []
    for a, b in zip(places[:-1], places[1:], strict=True):
        if paths is None:
            leg = [tuple(lonlat[a]), tuple(lonlat[b])]
        else:
            net, legs = paths
            way = [tuple(net.lonlat[n]) for n in legs[a, b]]
            leg = [tuple(lonlat[a]), *way, tuple(lonlat[b])]
        coords += leg if not coords else leg[1:]
    if len(coords) < 2:
        coords = [tuple(lonlat[places[0]]), tuple(lonlat[places[0]])]
    return "LINESTRING(" + ",".join(f"{x:.7f} {y:.7f}" for x, y in coords) + ")"


def visible(conn: Connection, city_id: int, user, pid: int):
    """The plan row if ``user`` may know of it, else None (the caller says 404)."""
    row = (
        conn.execute(
            text(
                "SELECT p.*, ST_X(p.depot) AS depot_lon, ST_Y(p.depot) AS depot_lat, "
                "ST_AsGeoJSON(p.route, 7) AS route_json, a.code AS area_code, "
                "EXISTS (SELECT 1 FROM inspection_team_member m WHERE m.city_id = p.city_id "
                "AND m.plan_id = p.id AND m.user_id = :u) AS member "
                "FROM inspection_plan p LEFT JOIN admin_area a ON a.city_id = p.city_id "
                "AND a.id = p.area_id WHERE p.city_id = :c AND p.id = :p"
            ),
            {"c": city_id, "p": pid, "u": user.id},
        )
        .mappings()
        .first()
    )
    if row is None or not (row["member"] or user.role in PLANNERS):
        return None
    return row


def log_view(conn: Connection, city_id: int, user, pid: int, what: str, refused=False) -> None:
    """A read of a plan in the audit log (``refused``: one that was answered 404)."""
    conn.execute(
        text(
            "INSERT INTO audit_log (city_id, actor_id, actor_name, action, table_name, row_key, "
            "new) VALUES (:c, :u, :n, :a, 'inspection_plan', :p, CAST(:w AS jsonb))"
        ),
        {
            "c": city_id,
            "u": user.id,
            "n": user.name,
            "a": "refused" if refused else "view",
            "p": str(pid),
            "w": json.dumps({"as": what}),
        },
    )


def checked(conn: Connection, city_id: int, user, pid: int, what: str):
    """The plan row if ``user`` may know of it, else None; either way the read is logged.
    A missing plan and another team's plan take the same query and the same log write, so
    neither the answer nor its time tells them apart."""
    row = visible(conn, city_id, user, pid)
    log_view(conn, city_id, user, pid, what, refused=row is None)
    return row


def read(conn: Connection, city_id: int, user, pid: int, what: str = "json") -> dict | None:
    """The plan as the API returns it, or None (the caller says 404 after the refusal is
    committed to the log). Before release a team member learns the date, the window and the
    release time, nothing else: no stops, path, depot, totals or notes."""
    row = checked(conn, city_id, user, pid, what)
    if row is None:
        return None
    released = user.role in PLANNERS or row["release_at"] <= dt.datetime.now(dt.UTC)
    when = {
        "id": pid,
        "date": row["plan_date"].isoformat(),
        "window_start": row["window_start"].isoformat(),
        "window_end": row["window_end"].isoformat(),
        "release_at": row["release_at"].isoformat(),
        "cancelled_at": row["cancelled_at"].isoformat() if row["cancelled_at"] else None,
    }
    if not released:
        return {
            **when,
            "released": False,
            **dict.fromkeys(("mode", "area", "depot", "travel_s", "dwell_s", "distance_m")),
            "stops": [],
            "geometry": None,
            "notes": [],
        }
    # a verification stop names its case only to those who may read it (case_scope): to
    # anyone else it is a place to go
    scope = case_scope(user)
    seen = and_where(scope, "v.unit_id")
    stops = [
        {
            "seq": s.seq,
            "kind": "point" if s.point_id is not None else "verify",
            "point_id": s.point_id,
            "case_id": s.violation_id,
            "code": s.code,
            "name": s.name,
            "category": s.category,
            "lon": round(s.lon, 7),
            "lat": round(s.lat, 7),
            "eta": s.eta.isoformat(),
            "dwell_s": s.dwell_s,
            "arrived_at": s.arrived_at.isoformat() if s.arrived_at else None,
        }
        for s in conn.execute(
            text(
                "SELECT s.seq, s.point_id, s.eta, s.dwell_s, s.arrived_at, "
                f"CASE WHEN true{seen} THEN s.violation_id END AS violation_id, "
                f"coalesce(p.code, CASE WHEN true{seen} THEN v.case_no END, '') AS code, "
                f"coalesce(p.name, CASE WHEN true{seen} THEN k.name_zh END, '') AS name, "
                "CASE WHEN p.id IS NULL THEN 'verify' ELSE p.category_code END AS category, "
                "ST_X(ST_PointOnSurface(coalesce(p.geom, v.geom))) AS lon, "
                "ST_Y(ST_PointOnSurface(coalesce(p.geom, v.geom))) AS lat FROM inspection_stop s "
                "LEFT JOIN assessment_point p ON p.city_id = s.city_id AND p.id = s.point_id "
                "LEFT JOIN violation v ON v.city_id = s.city_id AND v.id = s.violation_id "
                "LEFT JOIN violation_category k ON k.city_id = v.city_id "
                "AND k.code = v.category_code "
                "WHERE s.city_id = :c AND s.plan_id = :p ORDER BY s.seq"
            ),
            {"c": city_id, "p": pid, **scope_params(scope)},
        )
    ]
    return {
        **when,
        "released": True,
        "mode": row["mode"],
        "area": row["area_code"],
        "depot": [round(row["depot_lon"], 7), round(row["depot_lat"], 7)],
        "stops": stops,
        "travel_s": row["travel_s"],
        "dwell_s": row["dwell_s"],
        "distance_m": row["distance_m"],
        "geometry": json.loads(row["route_json"]) if row["route_json"] else None,
        "notes": row["draws"].get("notes", []),
        # a night of several teams, to those who planned it: which team, which rounds
        **(
            {"night": row["draws"]["night"]}
            if "night" in row["draws"] and user.role in PLANNERS
            else {}
        ),
    }


def views(conn: Connection, city_id: int, pid: int) -> list[dict]:
    rows = conn.execute(
        text(
            "SELECT at, actor_id, actor_name, new ->> 'as' AS what, action = 'refused' "
            "AS refused FROM audit_log "
            "WHERE city_id = :c AND table_name = 'inspection_plan' "
            "AND action IN ('view', 'refused') "
            "AND row_key = :p ORDER BY at"
        ),
        {"c": city_id, "p": str(pid)},
    )
    return [
        {
            "at": r.at.isoformat(),
            "user_id": r.actor_id,
            "user": r.actor_name,
            "as": r.what,
            "refused": r.refused,
        }
        for r in rows
    ]


def gpx(plan: dict) -> str:
    from xml.sax.saxutils import escape, quoteattr

    pts = "".join(
        f"<wpt lat={quoteattr(str(s['lat']))} lon={quoteattr(str(s['lon']))}>"
        f"<name>{s['seq']}. {escape(s['name'])}</name><desc>{escape(s['code'])} ETA {s['eta']}"
        "</desc></wpt>"
        for s in plan["stops"]
    )
    track = ""
    if plan["geometry"]:
        track = (
            "<trk><name>route</name><trkseg>"
            + "".join(f'<trkpt lat="{y}" lon="{x}"/>' for x, y in plan["geometry"]["coordinates"])
            + "</trkseg></trk>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="chuangwen" '
        'xmlns="http://www.topografix.com/GPX/1/1">'
        f"<metadata><name>inspection plan {plan['id']} {plan['date']}</name></metadata>"
        f"{pts}{track}</gpx>"
    )


def geojson(plan: dict) -> dict:
    features = [
        {
            "type": "Feature",
            "properties": {k: v for k, v in s.items() if k not in ("lon", "lat")},
            "geometry": {"type": "Point", "coordinates": [s["lon"], s["lat"]]},
        }
        for s in plan["stops"]
    ]
    if plan["geometry"]:
        features.insert(
            0,
            {
                "type": "Feature",
                "properties": {
                    "route": True,
                    "travel_s": plan["travel_s"],
                    "distance_m": plan["distance_m"],
                },
                "geometry": plan["geometry"],
            },
        )
    return {"type": "FeatureCollection", "features": features}


def _at(row, at: object, now: dt.datetime) -> dt.datetime:
    """When a check-in happened: ``at`` (ISO with its zone, for a round recorded afterwards
    from paper) within the plan's window and not ahead of now, or now."""
    if at is None:
        return now
    when = None
    if isinstance(at, str):
        try:
            when = dt.datetime.fromisoformat(at)
        except ValueError:
            when = None
    if when is None or when.tzinfo is None:
        raise Problem(
            "The time of the visit is not understood.",
            status=422,
            errors=[field_error("at", "an ISO date-time with its zone")],
        )
    if not row["window_start"] <= when <= row["window_end"] or when > now + dt.timedelta(minutes=5):
        raise Problem(
            "The visit lies outside the round's window.",
            status=422,
            errors=[
                field_error(
                    "at",
                    f"within {row['window_start'].isoformat()} .. "
                    f"{row['window_end'].isoformat()}, and not ahead of now",
                )
            ],
        )
    return when


def arrive(
    conn: Connection,
    city_id: int,
    user,
    pid: int,
    seq: int,
    at: object = None,
    now: dt.datetime | None = None,
) -> dict | None:
    """Check in at a stop: the point's last visit is then (``at``, default ``now``), dated
    in the city's time; a second check-in keeps the first. None (logged as refused) when the
    plan is not the user's to see. ``now``: the clock (injected by tests and the bench)."""
    now = now or dt.datetime.now(dt.UTC)
    row = visible(conn, city_id, user, pid)
    if row is None or not (user.role in PLANNERS or row["release_at"] <= now):
        log_view(conn, city_id, user, pid, "arrive", refused=True)
        return None
    if row["cancelled_at"] is not None:
        raise Problem(
            "The round was cancelled: it takes no check-in.",
            status=409,
            errors=[field_error("plan", f"cancelled at {row['cancelled_at'].isoformat()}")],
        )
    when = _at(row, at, now)
    done = conn.execute(
        text(
            "UPDATE inspection_stop SET arrived_at = coalesce(arrived_at, :at) "
            "WHERE city_id = :c AND plan_id = :p AND seq = :s "
            "RETURNING point_id, violation_id, arrived_at"
        ),
        {"c": city_id, "p": pid, "s": seq, "at": when},
    ).first()
    if done is None:
        raise NotFound(f"No stop {seq} in plan {pid}.")
    if done.point_id is None:  # a verification visit: the verdict is the case's own step
        scope = case_scope(user)
        case_id = conn.execute(
            text(
                "SELECT v.id FROM violation v WHERE v.city_id = :c AND v.id = :v"
                + and_where(scope, "v.unit_id")
            ),
            {"c": city_id, "v": done.violation_id, **scope_params(scope)},
        ).scalar()  # named only to those who may read the case, as read() names it
        return {
            "seq": seq,
            "point_id": None,
            "case_id": case_id,
            "arrived_at": done.arrived_at.isoformat(),
        }
    conn.execute(
        text(
            "INSERT INTO inspection_due (city_id, point_id, last_visit_on, due_on) "
            "SELECT :c, :pt, d, d + :floor FROM (SELECT (CAST(:at AS timestamptz) "
            "AT TIME ZONE timezone)::date AS d FROM city WHERE id = :c) t "
            "ON CONFLICT (city_id, point_id) DO UPDATE SET "
            "last_visit_on = excluded.last_visit_on, due_on = excluded.due_on "
            "WHERE inspection_due.last_visit_on < excluded.last_visit_on"
        ),
        {"c": city_id, "pt": done.point_id, "at": done.arrived_at, "floor": FLOOR_DAYS},
    )
    return {"seq": seq, "point_id": done.point_id, "arrived_at": done.arrived_at.isoformat()}


def cancel(conn: Connection, city_id: int, user, pid: int) -> dict | None:
    """Cancel a round (leaders and admins): it takes no more check-ins; the visits it made
    stand, and nothing else of it counted. None when the plan is not the user's to see."""
    row = visible(conn, city_id, user, pid)
    if row is None or user.role not in PLANNERS:
        log_view(conn, city_id, user, pid, "cancel", refused=True)
        return None
    at = conn.execute(
        text(
            "UPDATE inspection_plan SET cancelled_at = coalesce(cancelled_at, now()), "
            "cancelled_by = coalesce(cancelled_by, :u) WHERE city_id = :c AND id = :p "
            "RETURNING cancelled_at"
        ),
        {"c": city_id, "p": pid, "u": user.id},
    ).scalar()
    return {"id": pid, "cancelled_at": at.isoformat()}
