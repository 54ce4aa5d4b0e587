"""How often each assessment point is visited, so that no visit can be foretold.

Each night every point is *wanted* by a fresh draw (a coin per point and night) at odds of
three factors: its weight (its priority against the mean, within ``SPREAD``: no point so
favoured that its priority alone names it), how far its visits are behind its share
(:func:`deficit`), and a *hazard* of the days since its last visit (:class:`Hazard`: low for
some days after a visit, higher from then, 1 on the last night of the floor). Nothing else
the inspected side can see — a visit yesterday, the weekday — moves tonight's odds.

The floor (every point at least once in ``floor_days``) is what makes the days since a
visit telling: forced visits, and odds that rise with the days, are what an observer can
foretell. :func:`judge` says how well an observer who knows every point's days since its
last visit names a night's stops, against chance (the *foresight*); :func:`hazard` finds the
two-level hazard of least foresight for a mean gap (points ÷ stops a night) under a floor,
within :data:`FORESIGHT_MAX` and with no single gap more than :data:`TOP_GAP_MAX` of all;
:func:`floor_plan` says whether a night's capacity keeps a floor so, the shortest floor that
it can keep, and the capacity the asked floor needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SPREAD = (2 / 3, 1.5)  # a point's rate within these multiples of the mean rate
LONGEST_FLOOR = 366  # days: a floor beyond a year is no floor


def weights(priority: np.ndarray, reachable: np.ndarray) -> np.ndarray:
    """Each point's share of the visits against the mean point: its priority over the mean
    of the reachable points', held within :data:`SPREAD` and scaled back to a mean of 1; 0
    where unreachable.

    >>> weights(np.array([1.0, 1.0, 10.0, 5.0]), np.array([True, True, True, False])).round(3)
    array([0.706, 0.706, 1.588, 0.   ])
    """
    out = np.zeros(len(priority))
    if not reachable.any():
        return out
    p = np.maximum(priority[reachable].astype(float), 0)
    w = np.clip(p / p.mean(), *SPREAD) if p.mean() > 0 else np.ones(len(p))
    out[reachable] = w / w.mean()
    return out


def tv(a: np.ndarray, b: np.ndarray) -> float:
    """The total variation distance between two sets of shares (each made to sum to 1).

    >>> tv(np.array([1.0, 1.0]), np.array([3.0, 1.0]))
    0.25
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(0.5 * np.abs(a / max(a.sum(), 1e-300) - b / max(b.sum(), 1e-300)).sum())


def lean(share: np.ndarray, cost: np.ndarray, distance: float) -> np.ndarray:
    """The shares leaned toward the points of least ``cost`` (seconds a visit takes there) by
    a total variation ``distance`` from ``share`` (a fraction of all visits): each share ×
    exp(−λ × its cost's difference from the mean, over the mean), λ the one that moves
    the shares by ``distance`` (the exponential tilt: of all shares whose mean cost is that
    low, the ones of least relative entropy to the asked); scaled back to the same sum, 0
    where ``share`` is. A distance beyond what the costs allow (all on the quickest points)
    gives nearly all to them; costs not all finite, or all equal, lean nothing. A night holds
    more stops when more of them are quick to inspect. The shares leaned may leave
    :func:`weights`' :data:`SPREAD`.

    >>> s = lean(np.array([1.0, 1.0, 1.0, 0.0]), np.array([300.0, 600, 1200, 60]), 0.05)
    >>> s.round(3), round(tv(s, np.array([1.0, 1, 1, 0])), 3)
    (array([1.125, 1.025, 0.85 , 0.   ]), 0.05)
    """
    share = np.asarray(share, float)
    cost = np.asarray(cost, float)
    on = share > 0
    if not distance > 0 or on.sum() < 2 or not np.isfinite(cost[on]).all() or np.ptp(cost[on]) == 0:
        return share
    rel = np.where(on, (cost - cost[on].mean()) / cost[on].mean(), 0.0)

    def leaned(lam: float) -> np.ndarray:
        return np.where(on, share * np.exp(-lam * (rel - rel[on].min())), 0.0)

    # the distance grows with λ toward all on the quickest points: bisect for it
    lo, hi = 0.0, 1.0
    while tv(leaned(hi), share) < distance and hi < 1e3:
        lo, hi = hi, hi * 2
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if tv(leaned(mid), share) < distance else (lo, mid)
    out = leaned(lo)
    return out / out.sum() * share.sum()


def heading(depot: np.ndarray, points: np.ndarray, kappa: float, rng) -> tuple[float, np.ndarray]:
    """Tonight's heading, drawn at random, and each point's pull toward it:
    e^(κ × cos(the point's bearing from its depot − the heading)) ÷ I₀(κ), whose mean over a
    heading drawn evenly is 1 — a point's odds over many nights are as they were, while one
    night's wanted points lie more on one side, so that a round travels less between them.
    ``depot``: lon, lat, or one row for each point (its own team's depot); ``points``: rows
    of lon, lat; a point at its depot is not pulled. The heading in degrees from east,
    counter-clockwise; ``kappa`` 0: no pull and no draw.

    >>> deg, pull = heading(np.array([117.0, 28.0]), np.array([[117.01, 28.0], [116.99, 28.0]]),
    ...                     2.0, np.random.default_rng(0))
    >>> round(deg), pull.round(2)
    (229, array([0.12, 1.62]))
    """
    points = np.asarray(points, float)
    if not kappa > 0:
        return 0.0, np.ones(len(points))
    theta = float(rng.uniform(0, 2 * np.pi))
    d = points - np.asarray(depot, float)
    bearing = np.arctan2(d[:, 1], d[:, 0] * np.cos(np.radians(points[:, 1])))
    pull = np.exp(kappa * np.cos(bearing - theta)) / np.i0(kappa)
    return float(np.degrees(theta)), np.where((d == 0).all(axis=1), 1.0, pull)


def deficit(share: np.ndarray, visited: np.ndarray, most: float = 2.0) -> np.ndarray:
    """How far behind its share each point's visits are: (its share of the visits made + 1)
    ÷ (its visits + 1), within 1 ÷ ``most`` .. ``most``. A point the routes pass by (far from
    the depot, between streets) is wanted more often, so that it is not left to the floor.

    >>> deficit(np.array([1.0, 1.0, 0.0]), np.array([6.0, 0.0, 0.0])).round(2)
    array([0.57, 2.  , 1.  ])
    """
    expected = _expected(share, visited, 0.0)
    out = np.clip((expected + 1) / (visited + 1), 1 / most, most)
    return np.where(share > 0, out, 1.0)


@dataclass
class Hazard:
    """The chance that a point is wanted on a night, by the days since its last visit:
    ``low`` until ``step`` days, ``high`` from then, and 1 on the night before the floor
    ends (the margin night), where it must go."""

    low: float
    high: float
    step: int
    floor_days: int

    def at(self, since: np.ndarray) -> np.ndarray:
        h = np.where(since < self.step, self.low, self.high)
        return np.where(since >= self.floor_days - 1, 1.0, h)


def _judged(low: np.ndarray, high: np.ndarray, step: np.ndarray, floor_days: int) -> dict:
    """:func:`judge`'s figures for many two-level hazards at once (one a row): arrays."""
    s = np.arange(1, floor_days)
    odds = np.where(s[None, :] < step[:, None], low[:, None], high[:, None])
    odds[:, -1] = 1.0  # Hazard.at: the margin night
    # the distribution of the days between visits, 1 .. floor − 1
    survive = np.concatenate([np.ones((len(low), 1)), np.cumprod(1 - odds, 1)[:, :-1]], 1)
    p = survive * odds
    mean = (s * p).sum(1)
    # S(s − 1), s = 1 .. floor − 1, over the mean: the share of points with s days since their
    # last visit tonight
    mass = 1 - np.concatenate([np.zeros((len(low), 1)), np.cumsum(p, 1)[:, :-1]], 1)
    mass = mass / mean[:, None]
    order = np.argsort(-odds, axis=1, kind="stable")
    share = 1 / mean  # of points visited on a night: the observer names as many
    ordered = np.take_along_axis(mass, order, 1)
    before = np.concatenate([np.zeros((len(low), 1)), np.cumsum(ordered, 1)[:, :-1]], 1)
    taken = np.minimum(ordered, np.maximum(share[:, None] - before, 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(p), 0.0)
    return {
        "mean_gap": mean,
        "forced_share": np.where(high < 1, p[:, -1], 0.0),
        "entropy": -plogp.sum(1) / np.log(floor_days),
        "top_gap_share": p.max(1),
        "foresight": (taken * np.take_along_axis(odds, order, 1)).sum(1) / share / share,
    }


def judge(h: Hazard) -> dict:
    """What the hazard gives: mean days between visits, the forced share, the normalised
    entropy of the gaps (over 1 .. floor), the largest share of any one gap, and the
    *foresight*: how many times better than chance an observer guesses a night's stops who
    knows the hazard and every point's days since its last visit (the best any guess from
    those can do: the points whose days since carry the highest odds)."""
    one = _judged(np.array([h.low]), np.array([h.high]), np.array([h.step]), h.floor_days)
    return {k: float(v[0]) for k, v in one.items()}


_RATIOS = (1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 15.0)  # high ÷ low: the shapes tried
FORESIGHT_MAX = 1.5  # at most this many times better than chance (the target is 2)
TOP_GAP_MAX = 0.1  # no one gap more than this share of all (or 1 ÷ the mean gap, if more)


def _means(low: np.ndarray, ratio: np.ndarray, step: np.ndarray, floor: int) -> np.ndarray:
    """Mean gap of many two-level hazards at once: the sum over s = 1 .. floor − 1 of the
    chance of no visit in the s − 1 days before, two geometric series (the margin night's
    certainty counts for no day after it).

    >>> _means(np.array([0.1, 0.02]), np.array([3.0, 1.0]), np.array([5, 1]), 28).round(4)
    array([ 5.6254, 21.0216])
    """
    a, b = 1 - low, 1 - np.minimum(low * ratio, 1)
    first = np.minimum(step, floor - 1)  # days s ≤ step: a^(s−1)
    rest = np.maximum(floor - 1 - step, 0)  # days after: a^(step−1) b^(s−step)
    with np.errstate(divide="ignore", invalid="ignore"):
        low_days = np.where(a < 1, (1 - a**first) / (1 - a), first)
        high_days = np.where(b < 1, b * (1 - b**rest) / (1 - b), rest)
    return low_days + a ** (step - 1) * high_days


def hazard(mean_gap: float, floor_days: int, limits: bool = True) -> tuple[Hazard, dict] | None:
    """The least foreseeable two-level hazard with this mean gap (points ÷ stops a night)
    under the floor: foresight ≤ :data:`FORESIGHT_MAX`, no gap more than
    :data:`TOP_GAP_MAX` of all (``limits`` False: the least foreseeable, whatever it is);
    None when no shape tried meets them."""
    if mean_gap <= 1 and floor_days >= 2:  # a stop a night for every point: all, every night
        every = Hazard(1.0, 1.0, 1, floor_days)
        return every, judge(every)
    if mean_gap > floor_days - 1 or floor_days < 3:
        return None
    step, ratio = (a.ravel() for a in np.meshgrid(np.arange(1, floor_days - 1), np.array(_RATIOS)))
    lo, hi = np.full(len(step), 1e-6), 1.0 / ratio
    for _ in range(40):  # the mean gap falls as the rates rise
        mid = (lo + hi) / 2
        longer = _means(mid, ratio, step, floor_days) > mean_gap
        lo, hi = np.where(longer, mid, lo), np.where(longer, hi, mid)
    high = np.minimum(lo * ratio, 1.0)
    j = _judged(lo, high, step, floor_days)
    ok = np.abs(j["mean_gap"] - mean_gap) <= 0.05 * mean_gap
    if limits:
        ok &= (j["foresight"] <= FORESIGHT_MAX) & (
            j["top_gap_share"] <= max(TOP_GAP_MAX, 1 / mean_gap)
        )
    if not ok.any():
        return None
    k = int(np.argmin(np.where(ok, j["foresight"], np.inf)))  # the first of the least
    h = Hazard(float(lo[k]), float(high[k]), int(step[k]), floor_days)
    return h, {name: float(v[k]) for name, v in j.items()}


@dataclass
class FloorPlan:
    floor_days: int  # the floor asked for
    points: int  # reachable points
    capacity: float  # stops a night
    possible: bool  # the capacity visits every point within the floor at all
    unforeseeable: bool  # ... and unforeseeably (a hazard meets the limits)
    keep_days: int | None  # the floor kept (None: none within a year)
    needed_capacity: float | None  # stops a night that keep the asked floor unforeseeably
    hazard: Hazard | None  # the hazard of the floor kept
    judged: dict | None


def _least(mean: float, floor: int) -> tuple[Hazard, dict] | None:
    """The least foreseeable two-level hazard under ``floor``, whatever its foresight (the
    strict floor: kept whenever the capacity can visit every point in time at all)."""
    return hazard(mean, floor, limits=False)


def floor_plan(points: int, capacity: float, floor_days: int, strict: bool = False) -> FloorPlan:
    """Can ``capacity`` stops a night over ``points`` (reachable) points keep ``floor_days``
    unforeseeably? If not, the shortest floor that can (``strict``: the asked floor whenever
    the capacity can keep it at all, foreseeably or not) and the stops a night that would
    keep the asked one.

    >>> plan = floor_plan(300, capacity=40, floor_days=28)
    >>> plan.unforeseeable, plan.keep_days
    (True, 28)
    >>> plan = floor_plan(146, capacity=2.5, floor_days=28)
    >>> plan.possible, plan.unforeseeable, plan.keep_days > 28, plan.needed_capacity > 2.5
    (False, False, True, True)
    """
    mean = points / capacity if capacity > 0 else float("inf")
    found = hazard(mean, floor_days) if points else None
    keep, kept = (floor_days, found) if found else (None, None)
    if found is None and strict and points and mean <= floor_days - 1:
        keep, kept = floor_days, _least(mean, floor_days)
    if kept is None and points and capacity > 0:
        lo, hi = max(floor_days, int(np.ceil(mean)) + 1), LONGEST_FLOOR  # kept at hi?
        if hazard(mean, hi):
            while hi - lo > 1:  # a longer floor is easier to keep
                mid = (lo + hi) // 2
                lo, hi = (lo, mid) if hazard(mean, mid) else (mid, hi)
            keep, kept = hi, hazard(mean, hi)
    need = capacity if found else None
    if found is None and points:
        m = min(mean, floor_days - 1.0)
        while m >= 1 and need is None:
            if hazard(m, floor_days):
                need = points / m
            m *= 0.97
    return FloorPlan(
        floor_days=floor_days,
        points=points,
        capacity=round(float(capacity), 2),
        possible=mean <= floor_days - 1,
        unforeseeable=found is not None,
        keep_days=keep,
        needed_capacity=None if need is None else round(float(need), 1),
        hazard=kept[0] if kept else None,
        judged=kept[1] if kept else None,
    )


def tonight(
    rate: np.ndarray, since: np.ndarray, floor_days: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Which points are wanted tonight (a fresh coin each, at its rate) and which must go
    (at their floor: tonight or tomorrow is the last night within it)."""
    wanted = rng.random(len(rate)) < rate
    must = (since >= floor_days - 1) & (rate > 0)
    return wanted, must


def shortfall(share: np.ndarray, visited: np.ndarray, stops: float) -> np.ndarray:
    """How many visits each point is behind its share (negative: ahead) once tonight's
    ``stops`` are made: its share of the visits made and tonight's, less its visits. Points
    with no share: 0.

    >>> shortfall(np.array([1.0, 1.0, 2.0, 0.0]), np.array([3.0, 0.0, 1.0, 5.0]), 4).round(2)
    array([-1.,  2.,  3.,  0.])
    """
    return np.where(share > 0, _expected(share, visited, stops) - visited, 0.0)


def _expected(share: np.ndarray, visited: np.ndarray, stops: float) -> np.ndarray:
    """Each point's share of the visits made on points with a share and ``stops`` more."""
    total = visited[share > 0].sum() + stops
    return share / max(share.sum(), 1e-9) * total


# tracking the shares: a prize's bend, in visits ahead of a point's share (and, tracking in
# part, the points this far ahead or more are left out at the odds below)
TRACK_AHEAD = 0.4
TRACK_SOFT = 0.3  # ... how soft: well past it, a prize's part above 1 falls e-fold a 0.3 visit
TRACK_NOISE = 1.0  # ... and that part × e^(this × a standard normal draw)
TRACK_LEAVE = 1.5  # ... tracking in part, left out at the lesser of track and this × (1 - track)


def prizes(
    wanted: np.ndarray,
    must: np.ndarray,
    rng: np.random.Generator,
    mandatory: int,
    behind: np.ndarray | None = None,
    short: np.ndarray | None = None,
    track: float = 0.0,
):
    """The solver's priorities, ``mandatory`` at the floor, and for the others:

    - ``track`` 0 (the default): a wanted point 40..80 and any other (a filler, taken where a
      route passes by) 1..10 times how far its visits are behind its share (``behind``,
      :func:`deficit`: ½..2), below 40 whatever it is — noisy, so that the fillers are a
      draw too;
    - ``track`` 1, the prizes track the shares: every point, wanted or not, 1 + 49 × k × a
      log-normal noise (``TRACK_NOISE``), within 1..99, where k is how many visits it is
      behind (``short``, :func:`shortfall`) + ``TRACK_AHEAD``, softened below 0: ``TRACK_SOFT``
      × ln(1 + e^((short + ``TRACK_AHEAD``) / ``TRACK_SOFT``)). A point behind its share
      gains about 49 a visit; one just visited, about 0.9 ahead, keeps a prize of a few, so
      that a round passing by may take it again; one well ahead, 1. The prize keeps the
      visits near their shares; the noise and the few points visited again soon keep the
      gaps between visits spread.

    Between 0 and 1 a point's prize is the two in proportion, and one ``TRACK_AHEAD`` or more
    ahead is left out at the odds of ``track`` up to 0.6, falling to none at 1 (the lesser of
    ``track`` and ``TRACK_LEAVE`` × (1 − ``track``)): by bike in Guixi (0.6) the points ahead
    offered for a few let a far one wait past the floor. Where a round takes a few stops the
    second keeps both the shares and the gaps' spread: on foot in Guixi, the visits' distance
    to the shares fell from 0.24-0.25 to 0.13-0.15, the gaps' entropy at 0.88-0.93; where it
    takes many, the first leaves more stops to the night (bench/README).

    >>> out = prizes(np.array([True, False, False]), np.array([False, False, False]),
    ...              np.random.default_rng(0), 100, np.array([1.0, 0.5, 2.0]))
    >>> bool(40 <= out[0] <= 80 and 1 <= out[1] <= 5 and 2 <= out[2] <= 20)
    True
    >>> out = prizes(np.array([True, False, False]), np.array([False, False, True]),
    ...              np.random.default_rng(0), 100, short=np.array([-3.0, 0.5, -1.0]), track=1)
    >>> bool(out[0] == 1 and 10 <= out[1] <= 99 and out[2] == 100)
    True
    """
    n = len(wanted)
    high = 40 + 40 * rng.random(n)
    fill = 1 + 9 * rng.random(n)
    if behind is not None:
        fill = np.clip(fill * behind, 1, 39)
    out = np.where(wanted, high, fill)
    if short is not None and track > 0:
        noise = np.exp(TRACK_NOISE * rng.standard_normal(n))
        knee = TRACK_SOFT * np.logaddexp(0.0, (short + TRACK_AHEAD) / TRACK_SOFT)
        chase = np.clip(1 + 49 * knee * noise, 1, 99)
        out = (1 - track) * out + track * chase
        leave = min(track, TRACK_LEAVE * (1 - track))
        out[(short <= -TRACK_AHEAD) & (rng.random(n) < leave)] = 0
    out = np.rint(out).astype(int)
    out[must] = mandatory
    return out
