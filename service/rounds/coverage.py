"""What a city's rounds can promise: stops a night from the real travel times (and from the
rounds it has planned), the points that cannot be reached and returned from within a window,
and whether the floor (every point at least once in ``INSPECTION_FLOOR_DAYS``) can be kept
without the visits being foretold (gis/visits.py) — and if not, the floor that can and what
would keep the asked one: another mode, more teams, a longer window.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from sqlalchemy import Connection, text

from gis import tours, visits

PAST_ROUNDS = 28  # a night's capacity: the median stops of the last rounds planned like it
PAST_ROUNDS_MIN = 3  # ... when there are this many; before, from the travel times
SAME_DEPOT_M = 1000
SAME_WINDOW = 0.2  # a window within 20 % of the length
LATE_START_S = 900  # a round leaves the depot up to this late (INSPECTION_LATE_START_S)
LATE_START_KEY = "INSPECTION_LATE_START_S"
HEADING_PULL = 2.0  # κ of tonight's heading (INSPECTION_HEADING_PULL) ...
HEADING_FROM, HEADING_FULL_FROM = 10, 20  # ... none up to 10 stops a team, in full from 20
TRACK_FULL_TO, TRACK_NONE_FROM = 6, 15  # the prizes track the shares up to 6 stops a team ...
FLOOR_SLACK_DAYS = 3  # the floor kept shortens only when it is longer than needed by more


def late_start(budget_s: float, config: dict) -> int:
    """The most seconds a round may leave the depot after its window opens: a random minute
    (``INSPECTION_LATE_START_S``, 900), no more than a tenth of the window. It is time the
    round does not inspect: 500 s of a 6-hour bike round in Jinan on average, about half a
    stop of 23 (bench/README, "Where Jinan's stops go").

    >>> late_start(3 * 3600, {}), late_start(3600, {}), late_start(3600, {LATE_START_KEY: 0})
    (900, 360, 0)
    """
    most = max(setting(config, LATE_START_KEY, LATE_START_S), 0)
    return int(min(most, budget_s // 10))


def setting(config: dict, key: str, default: float) -> float:
    """A number the city's configuration sets: ``default`` when it is missing or not a
    finite number (a mistyped setting plans as before, rather than failing every plan).

    >>> setting({"K": "12"}, "K", 1), setting({"K": "twelve"}, "K", 1), setting({}, "K", 1)
    (12.0, 1.0, 1.0)
    """
    try:
        value = float(config.get(key, default))
    except (TypeError, ValueError):
        return float(default)
    return value if math.isfinite(value) else float(default)


def quick_lean(config: dict) -> float:
    """INSPECTION_QUICK_LEAN: how far the shares of the visits may lean toward the points
    quick to inspect (gis/visits.lean), 0 .. ½ of all visits; 0 when not set or not a
    number.

    >>> key = "INSPECTION_QUICK_LEAN"
    >>> quick_lean({}), quick_lean({key: 0.05}), quick_lean({key: 2}), quick_lean({key: "x"})
    (0.0, 0.05, 0.5, 0.0)
    """
    return float(np.clip(setting(config, "INSPECTION_QUICK_LEAN", 0.0), 0.0, 0.5))


def heading_kappa(stops_per_team: float, config: dict) -> float:
    """κ of tonight's heading (gis/visits.heading): INSPECTION_HEADING_PULL (``HEADING_PULL``
    when not set, within 0 .. 8) for a team's night of ``HEADING_FULL_FROM`` stops or more,
    none up to ``HEADING_FROM``, in proportion between. In Jinan's 23 stops a night it gave
    2.5 more; with Guixi's 9 by bike it gave one more but the visits' distance to their
    shares rose from 0.130 to 0.162 (bench/README).

    >>> heading_kappa(25, {}), heading_kappa(15, {}), heading_kappa(9, {})
    (2.0, 1.0, 0.0)
    >>> heading_kappa(25, {"INSPECTION_HEADING_PULL": 20}), heading_kappa(float("nan"), {})
    (8.0, 0.0)
    """
    pull = float(np.clip(setting(config, "INSPECTION_HEADING_PULL", HEADING_PULL), 0, 8))
    return pull * _ramp(stops_per_team, HEADING_FROM, HEADING_FULL_FROM)


def _ramp(value: float, none_at: float, full_at: float) -> float:
    """0 at ``none_at`` and beyond it, 1 at ``full_at`` and beyond, in proportion between;
    0 when ``value`` is unknown (not finite)."""
    ramp = (value - none_at) / (full_at - none_at)
    return float(np.clip(ramp, 0.0, 1.0)) if np.isfinite(ramp) else 0.0


def tracking(stops_per_team: float) -> float:
    """How far tonight's prizes track the points' shares (gis/visits.prizes ``track``): in
    full for a team's night of ``TRACK_FULL_TO`` stops or fewer, none from
    ``TRACK_NONE_FROM``, in proportion between (none when unknown). On foot in Guixi (5-6
    stops) tracking in full brought the visits' distance to the shares to 0.13-0.15 with the
    gaps' entropy at 0.88-0.93; by bike (9-10) in full it let two visits past the floor, and
    0.6 kept it; on Jinan's network (25) the wanted draws' prizes give more stops
    (bench/README).

    >>> tracking(5.4), round(tracking(9.6), 3), tracking(25), tracking(float("nan"))
    (1.0, 0.6, 0.0, 0.0)
    """
    return _ramp(stops_per_team, TRACK_NONE_FROM, TRACK_FULL_TO)


# the settings of the rounds that are numbers: checked when the service starts
NUMBER_SETTINGS = (
    "INSPECTION_FLOOR_DAYS",
    LATE_START_KEY,
    "INSPECTION_QUICK_LEAN",
    "INSPECTION_HEADING_PULL",
    "INSPECTION_VERIFY_PER_ROUND",
)


def check_settings(config: dict) -> None:
    """A number setting of the rounds that is set to no finite number stops the service at
    its start, named (a plan would otherwise go on with the default).

    >>> check_settings({"INSPECTION_QUICK_LEAN": 0.05, "INSPECTION_FLOOR_DAYS": "28"})
    >>> check_settings({"INSPECTION_QUICK_LEAN": "lots"})
    Traceback (most recent call last):
    ...
    ValueError: INSPECTION_QUICK_LEAN: a number is needed, not 'lots'
    """
    for key in NUMBER_SETTINGS:
        if key in config and setting(config, key, math.nan) != setting(config, key, 0.0):
            raise ValueError(f"{key}: a number is needed, not {config[key]!r}")


def round_trip(times: np.ndarray, dwell: np.ndarray, teams: int = 1) -> np.ndarray:
    """Each candidate's round alone: the way there from the depot nearest both ways (rows
    and columns 0 .. ``teams`` − 1 the depots, the candidates after them), its dwell, and the
    way back."""
    k = teams
    return (times[:k, k:] + times[k:, :k].T).min(axis=0) + dwell


def reachable(times: np.ndarray, dwell: np.ndarray, budget_s: float) -> np.ndarray:
    """Which candidates can be reached from the depot (row 0), inspected and left for the
    depot again within the window."""
    return round_trip(times, dwell) <= budget_s


def estimate(times: np.ndarray, dwell: np.ndarray, budget_s: float, ok: np.ndarray) -> float:
    """Stops a night from the travel times: the window less the typical way out and back,
    over the typical stop (its dwell and the way to one of its three nearest neighbours)."""
    idx = np.flatnonzero(ok)
    if len(idx) == 0:
        return 0.0
    sub = times[np.ix_(idx + 1, idx + 1)]
    near = np.sort(sub, axis=1)[:, 1:4]
    hop = near.mean(axis=1) if near.shape[1] else np.zeros(len(idx))
    out_and_back = float(np.median(times[0, idx + 1] + times[idx + 1, 0]))
    per_stop = float(np.median(dwell[idx] + hop))
    return max((budget_s - out_and_back) / max(per_stop, 1.0), 1.0)


# the rounds planned like this one: the city's, not cancelled, before the day, of the mode and
# area, from a depot within SAME_DEPOT_M, with a window within SAME_WINDOW of the length
_ALIKE = (
    "p.city_id = :c AND p.mode = :m AND p.area_id IS NOT DISTINCT FROM :a "
    "AND p.cancelled_at IS NULL AND p.plan_date < :d "
    "AND abs(EXTRACT(EPOCH FROM p.window_end - p.window_start) - :b) <= :tol * :b "
    "AND ST_DWithin(p.depot::geography, ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography, "
    ":near)"
)


@dataclass(frozen=True)
class Alike:
    """A round as others are matched against it (:data:`_ALIKE`)."""

    city_id: int
    mode: str
    area_id: int | None
    depot: tuple[float, float]
    budget_s: float
    before: dt.date  # rounds of the days before this one

    def params(self) -> dict:
        return {
            "c": self.city_id,
            "m": self.mode,
            "a": self.area_id,
            "d": self.before,
            "b": self.budget_s,
            "tol": SAME_WINDOW,
            "x": self.depot[0],
            "y": self.depot[1],
            "near": SAME_DEPOT_M,
        }


def past_rounds(conn: Connection, like: Alike) -> list[int]:
    """Point stops of the last rounds planned like this one; newest first."""
    return list(
        conn.execute(
            text(
                "SELECT (SELECT count(*) FROM inspection_stop s WHERE s.city_id = p.city_id "
                f"AND s.plan_id = p.id AND s.point_id IS NOT NULL) FROM inspection_plan p "
                f"WHERE {_ALIKE} ORDER BY p.plan_date DESC, p.id DESC LIMIT :n"
            ),
            {**like.params(), "n": PAST_ROUNDS},
        ).scalars()
    )


def capacity(past: list[int], times, dwell, budget_s: float, ok) -> tuple[float, str]:
    """Stops a night and where the figure comes from: the past rounds' median when there
    are enough of them, else the travel times."""
    if len(past) >= PAST_ROUNDS_MIN:
        return float(np.median(past)), "past_rounds"
    return estimate(times, dwell, budget_s, ok), "travel_times"


@lru_cache(maxsize=256)
def floor_plan(points: int, capacity: float, floor_days: int, strict: bool) -> visits.FloorPlan:
    """gis/visits.floor_plan for the figures as planned (a tenth of a stop apart)."""
    return visits.floor_plan(points, capacity, floor_days, strict)


def plan_of(points: int, stops: float, floor_days: int, strict: bool) -> visits.FloorPlan:
    return floor_plan(points, round(stops, 1), floor_days, strict)


@lru_cache(maxsize=1024)
def _hazard(points: int, stops: float, floor_days: int) -> visits.Hazard:
    mean = points / stops if stops > 0 else float(visits.LONGEST_FLOOR)
    found = visits.hazard(mean, floor_days) or visits.hazard(mean, floor_days, limits=False)
    if found:
        return found[0]
    odds = min(1 / max(mean, 1.0), 1.0)  # the capacity cannot keep this floor at all
    return visits.Hazard(odds, odds, 1, floor_days)


def hazard_for(points: int, stops: float, floor_days: int) -> visits.Hazard:
    """The hazard that keeps ``floor_days`` at this capacity (the least foreseeable one
    within the limits, else the least foreseeable one at all)."""
    return _hazard(points, round(stops, 1), floor_days)


def last_kept(conn: Connection, likes: Sequence[Alike]) -> int | None:
    """The floor the last round planned like one of ``likes`` (a night's teams) kept; None
    when there is none, or it kept none within a year."""
    last = max(
        (
            row
            for like in likes
            for row in conn.execute(
                text(
                    "SELECT p.plan_date, p.id, p.draws ->> 'floor_kept_days' AS kept "
                    f"FROM inspection_plan p WHERE {_ALIKE} "
                    "ORDER BY p.plan_date DESC, p.id DESC LIMIT 1"
                ),
                like.params(),
            )
        ),
        key=lambda r: (r.plan_date, r.id),
        default=None,
    )
    kept = int(last.kept) if last is not None and last.kept else None
    return kept if kept and kept < visits.LONGEST_FLOOR else None


def floor_tonight(
    planned: int | None, before: int | None, since: np.ndarray, stops: float
) -> tuple[int, int]:
    """The floor kept tonight and the floor the points due tonight are counted against, from
    the floor the capacity keeps (``planned``), the one the last round like tonight's kept
    (``before``), the reachable points' days since their last visit and the stops a night.

    The floor kept shortens by a day a night at most (a floor that jumps shorter forces at
    once every point between the two, and so names them), and lengthens only when the
    capacity clearly needs it (no wavering up and down with the stops a night). While it
    shortens, it may shorten again tomorrow: a point's days left then close by two a night,
    and a point three days short of it tonight has one night within it; such a point is due
    from tonight, so that it has two, as one a day short of a floor that holds has. And it
    does not shorten while the points that would make due (four days short of it or nearer)
    are more than a night takes of such points: a floor that shortens under a crowd (the
    points no round has visited since the city's first) leaves it fewer nights than it needs.

    >>> floor_tonight(40, 50, np.array([10, 20]), 8.0)
    (49, 47)
    >>> floor_tonight(40, 50, np.array([46] * 5 + [10]), 8.0)
    (50, 50)
    >>> floor_tonight(52, 50, np.array([10]), 8.0), floor_tonight(60, None, np.array([10]), 8.0)
    ((50, 50), (60, 60))
    """
    kept = planned or visits.LONGEST_FLOOR
    if not before:
        return kept, kept
    if kept < before:
        crowd = int((since >= before - 4).sum())
        if crowd > tours.MUST_SHARE * stops:
            return before, before
        return before - 1, before - 3
    if kept <= before + FLOOR_SLACK_DAYS:
        kept = before
    return kept, kept


def describe(plan: visits.FloorPlan) -> dict:
    """A floor plan as the API says it."""
    return {
        "stops_per_night": plan.capacity,
        "floor_days": plan.floor_days,
        "possible": plan.possible,
        "unforeseeable": plan.unforeseeable,
        "kept_floor_days": plan.keep_days,
        "needed_stops_per_night": plan.needed_capacity,
        "foresight": None if plan.judged is None else round(plan.judged["foresight"], 2),
    }
