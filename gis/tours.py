"""Unannounced inspection tours: which points, in what order.

Which points are wanted on a night, and with what prize, is gis/visits.py's; here the tour
that collects most within the time window is found by VROOM (pyvroom) on the true
travel-time matrix, then checked against that matrix, made shorter (``shorter``, its order
from gis/order.py), given
more while the budget lasts by trading stops for candidates (``richer``), started at a
random minute and, when both ways fit, driven in a random direction; points at their floor
that VROOM left out are put in at their cheapest place (``insist``), and ``must_go`` says
which points must go tonight so that none passes its floor. Randomness comes from the
``numpy.random.Generator`` given (the service seeds it from ``secrets``; tests seed it);
the polish's kicks and the trades' draws are seeded from the round itself.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

import numpy as np

from gis.order import POLISH_S, shortest_order

MANDATORY = 100  # VROOM priority of a point at its floor; others get 1..99


# the share of a night's stops counted on for the points at their floor
MUST_SHARE = 0.6
# nights before its margin night from which a point counts its round share: 3 left a crowd of
# far points not yet visited (a city's first rounds) on a 3.5-hour walk past its floor
ALONE_AHEAD = 6


def must_go(
    since: np.ndarray,
    floor_days: int,
    stops_per_day: float,
    share: float = MUST_SHARE,
    nights: np.ndarray | None = None,
    teams: int = 1,
    ahead: int = ALONE_AHEAD,
):
    """Which points are mandatory today so that none passes its floor: earliest deadline
    first with a day's capacity. The i-th most urgent point (by days left to its floor) must
    go today when it has no more days left than the days the i points before it need at
    ``share`` of a day's stops — or, for a point that takes more of a round alone (``nights``:
    its way there and back and its dwell over the time a round has), that much of one of
    ``teams`` rounds; and points that take over half a round alone cannot share one: a round
    each — over the last ``ahead`` nights before a point's margin night, where its round must
    be found; further off, a stop's share (a city's first rounds, every point counting its
    days from the same night, would otherwise put the far third of it at its floor on the
    first night, beyond what any round holds). Among points with the same days left, the
    smaller go later in line, so that those the nights left cannot hold (the far ones) are
    the ones that go today.

    >>> must_go(np.array([27, 27, 27, 10]), 28, stops_per_day=2 / 0.6).tolist()
    [True, True, True, False]
    >>> must_go(np.array([20, 5]), 28, stops_per_day=10).tolist()
    [False, False]
    >>> must_go(np.array([26, 26, 26]), 28, 10, nights=np.array([0.7, 0.7, 0.1])).tolist()
    [False, True, False]
    """
    left = floor_days - 1 - since
    cap = max(share * stops_per_day, 1.0)
    if nights is None:
        size, alone = np.full(len(since), 1 / cap), np.zeros(len(since))
    else:
        soon = left < ahead
        size = np.where(soon, np.maximum(1 / cap, nights / teams), 1 / cap)
        alone = soon & (nights > 0.5)
    order = np.lexsort((size, left))
    # days the first i+1 urgent points take
    need = np.maximum(np.cumsum(size[order]), np.cumsum(alone[order]) / teams)
    out = np.zeros(len(since), bool)
    out[order] = left[order] < need
    return out


@dataclass
class Tour:
    order: list[int]  # indices into the candidates, in visiting order
    start_s: int  # seconds after the window opens that the team leaves the depot
    arrive_s: list[int]  # arrival at each stop, seconds after the window opens
    travel_s: int
    dwell_s: int
    back_s: int  # when the team is back at the depot
    missed_mandatory: list[int] = field(default_factory=list)
    reversed: bool = False


def prizes(
    priority: np.ndarray,
    due: np.ndarray,
    at_floor: np.ndarray,
    rng: np.random.Generator,
    noise_sigma: float = 0.5,
) -> np.ndarray:
    """VROOM priorities (integers): noisy priority scaled into 1..80, +10 when due, and
    MANDATORY at the floor."""
    noisy = np.maximum(priority, 1e-6) * rng.lognormal(0.0, noise_sigma, len(priority))
    scaled = 1 + 79 * (noisy / noisy.max()) if len(noisy) else noisy
    out = np.round(scaled).astype(int) + 10 * due.astype(int)
    out[at_floor] = MANDATORY
    return out


def solve(
    durations: np.ndarray,
    dwell: np.ndarray,
    prize: np.ndarray,
    budget_s: int,
    rng: np.random.Generator,
    start_jitter_s: int = 0,
    exploration: int = 3,
    urgency: np.ndarray | None = None,
) -> Tour:
    """Choose and order stops. ``durations``: seconds, row/column 0 the depot, 1.. the
    candidates; ``dwell``: seconds at each candidate; ``budget_s``: the window's length;
    ``urgency``: which mandatory points go in first (days past their floor)."""
    return night(durations, dwell, prize, budget_s, rng, 1, start_jitter_s, exploration, urgency)[0]


def night(
    durations: np.ndarray,
    dwell: np.ndarray,
    prize: np.ndarray,
    budget_s: int,
    rng: np.random.Generator,
    teams: int = 1,
    start_jitter_s: int = 0,
    exploration: int = 3,
    urgency: np.ndarray | None = None,
) -> list[Tour]:
    """The tours of ``teams`` teams in one night, one vehicle each in one VROOM problem, so
    that no candidate is in two of them. ``durations``: rows/columns 0..teams-1 the teams'
    depots, the candidates after them. Each team starts at its own random minute; each
    tour's places are numbered as in ``solve`` (0 its depot, i + 1 candidate i)."""
    began = time.monotonic()
    k = teams
    starts = [int(rng.integers(0, start_jitter_s + 1)) if start_jitter_s else 0 for _ in range(k)]
    horizons = [budget_s - s for s in starts]
    pick = shortlist(durations[k:, k:], dwell, prize, max(horizons), k)
    pick = pick[prize[pick] > 0]  # 0: not offered (VROOM would take one that fits)
    budget = SOLVE_BUDGET_S[len(dwell) > 500] + TEAM_BUDGET_S * (k - 1)
    given = _vroom(durations, dwell, prize, pick, horizons, exploration, began, budget)
    out = []
    for v in range(k):
        seen = team_view(durations, v, k)
        # what the budget leaves, shared among the teams still to go: at least the polish's
        share = max(budget - (time.monotonic() - began), POLISH_S * (k - v)) / (k - v)
        # the shortlist's candidates that no other team has
        taken = [i for w in range(k) if w != v for i in (out[w].order if w < v else given[w])]
        among = np.setdiff1d(pick, taken)
        tour = _improved(seen, dwell, prize, given[v], horizons[v], among, share)
        # a random direction, when the way back round fits too
        if len(tour.order) > 1 and rng.random() < 0.5:
            back = verify(seen, dwell, tour.order[::-1], horizons[v])
            if len(back.order) == len(tour.order):
                tour = back
                tour.reversed = True
        tour.start_s = starts[v]
        out.append(tour)
    must = [int(i) for i in np.flatnonzero(prize >= MANDATORY)]
    if urgency is not None:
        must.sort(key=lambda i: -urgency[i])
    # the must points no team has: each team in turn puts in those it can; with several, a
    # second round offers the earlier teams what a later one had to drop (insist times a tour
    # afresh from its order and start, so it may take one again)
    for v in [*range(k), *(range(k) if k > 1 else [])]:
        taken = {i for w, t in enumerate(out) if w != v for i in t.order}
        out[v] = insist(
            team_view(durations, v, k),
            dwell,
            prize,
            out[v],
            [m for m in must if m not in taken],
            horizons[v],
        )
    missed = [m for m in must if not any(m in t.order for t in out)]
    for t in out:
        t.missed_mandatory = missed
    return out


def _vroom(durations, dwell, prize, pick, horizons, exploration: int, began: float, budget):
    """Each team's stops as VROOM gives them (indices into the candidates) for the shortlist
    ``pick``, one vehicle a team; none when nothing is offered (VROOM wants a task)."""
    import vroom

    k = len(horizons)
    if not len(pick):
        return [[] for _ in range(k)]
    places = np.r_[np.arange(k), pick + k]
    sub = durations[np.ix_(places, places)]
    problem = vroom.Input()
    problem.set_durations_matrix(profile="car", matrix_input=np.rint(sub).astype(np.uint32))
    problem.add_vehicle(
        [
            vroom.Vehicle(v + 1, start=v, end=v, time_window=vroom.TimeWindow(0, horizons[v]))
            for v in range(k)
        ]
    )
    problem.add_job(
        [
            vroom.Job(j + 1, location=k + j, default_service=int(dwell[i]), priority=int(prize[i]))
            for j, i in enumerate(pick)
        ]
    )
    # VROOM's fastest level first; then ``exploration`` and the deepest, each stopped at the
    # budget's end less each round's polish, and started only when what is left is more than
    # DEEPER times what the fastest took (a deeper level stopped by the clock keeps whatever it had
    # reached, no more than the fastest: over 500 candidates of an 8-hour drive the fastest
    # takes half the budget, and what is left goes to the trades after, ``richer``); the most
    # collected kept, the shorter of two that collect as much
    solution, fastest = None, 0.0
    for level in dict.fromkeys((0, exploration, 5)):
        left = budget - (time.monotonic() - began) - POLISH_S * k
        if solution is not None and left <= max(0.25, DEEPER * fastest):
            break
        t0 = time.monotonic()
        found = problem.solve(
            exploration_level=level,
            nb_threads=2,
            timeout=dt.timedelta(seconds=max(left, 0.1)),
        )
        fastest = fastest or time.monotonic() - t0
        if solution is None or (found.summary.priority, -found.summary.cost) > (
            solution.summary.priority,
            -solution.summary.cost,
        ):
            solution = found
    routes = solution.routes
    given = [
        [
            int(pick[int(j) - 1])
            for j in (
                routes[(routes["vehicle_id"] == v + 1) & (routes["type"] == "job")]["id"]
                if len(routes)
                else []  # none may fit
            )
        ]
        for v in range(k)
    ]
    return given


def _improved(seen, dwell, prize, given: list[int], horizon: int, among, share: float) -> Tour:
    """One team's round from VROOM's stops ``given``, timed, made shorter and given more by
    trades (``richer``) within ``share`` seconds; ``seen`` the team's view of the matrix."""
    end = time.monotonic() + share
    # trades only with time for them and a polish after; else all of it to the polish
    trade = share >= TRADES_FROM_S
    tour = verify(seen, dwell, given, horizon)
    tour = shorter(seen, dwell, tour, horizon, POLISH_S if trade else share)
    # trades, and the way round made shorter again after each that were made (the time it
    # frees takes more), until neither changes the round or the time is up; the trades end
    # a polish before the end, so that the last is polished as the first
    while trade and time.monotonic() < end - POLISH_S:
        traded = richer(seen, dwell, prize, tour, horizon, end - POLISH_S, among)
        if traded.order == tour.order:
            break
        tour = shorter(seen, dwell, traded, horizon, max(POLISH_S, end - time.monotonic()))
    return tour


def team_view(durations: np.ndarray, team: int, teams: int):
    """One team's view of a night's matrix: place 0 its depot, place i + 1 candidate i (the
    matrix itself when there is one team)."""
    return durations if teams == 1 else _TeamView(durations, team, teams)


class _TeamView:
    def __init__(self, durations: np.ndarray, team: int, teams: int):
        self.durations, self.team, self.teams = durations, team, teams

    def __getitem__(self, ab):
        a, b = ab
        return self.durations[self._row(a), self._row(b)]

    def _row(self, place):
        if np.ndim(place) == 0:
            return self.team if place == 0 else place + self.teams - 1
        place = np.asarray(place)
        return np.where(place == 0, self.team, place + self.teams - 1)


def insist(
    durations: np.ndarray,
    dwell: np.ndarray,
    prize: np.ndarray,
    tour: Tour,
    must: list[int],
    horizon: int,
) -> Tour:
    """Put the ``must`` points (most urgent first) into the tour: each at its cheapest place,
    dropping the stops of lowest prize that are not themselves a must until it fits.
    (VROOM sums priorities, so a far point at its floor loses to two near ones every day.)"""
    order = list(tour.order)
    kept = set()
    for m in must:
        if m in order:
            kept.add(m)
            continue
        trial = list(order)
        best = min(
            range(len(trial) + 1),
            key=lambda k: (
                durations[0 if k == 0 else trial[k - 1] + 1, m + 1]
                + durations[m + 1, 0 if k == len(trial) else trial[k] + 1]
            ),
        )
        trial.insert(best, m)
        droppable = sorted((i for i in trial if i != m and i not in kept), key=lambda i: prize[i])
        while verify(durations, dwell, trial, horizon).order != trial and droppable:
            trial.remove(droppable.pop(0))
        if verify(durations, dwell, trial, horizon).order == trial:
            order = trial
            kept.add(m)
    out = verify(durations, dwell, order, horizon)
    out.start_s, out.reversed = tour.start_s, tour.reversed
    out.arrive_s = [a + tour.start_s for a in out.arrive_s]
    out.back_s += tour.start_s
    out.missed_mandatory = [m for m in must if m not in out.order]
    return out


# candidates given to VROOM, as many times as can fit: 2 × solves an 8-hour drive over 2,000
# candidates in about 0.8 s where 5 × took 3.5 s, collecting more in the time (bench/routes.py);
# up to SHORTLIST_FROM candidates VROOM is given all of them when a night holds many stops
# (ALL_FROM_FITS): given all 500, it comes within 0.4 % of its deepest search for an 8-hour
# drive in 0.7 s, where a 2.5 × shortlist missed 1.9 %. A round of a few stops keeps the
# shortlist by prize a second: given every point, VROOM's choice leans on where the points
# lie more than on the night's draw, and an observer of the days since the last visit named
# the stops of a 3-hour bike round at 2.1 × chance (1.6 × with the shortlist; bench/visits.py)
SHORTLIST_TIMES = 2.0
SHORTLIST_FROM = 500
ALL_FROM_FITS = 30
# the seconds a solve may take (a leader waits for the plan), from its start, over 500
# candidates or fewer and over more: what exploration 0 leaves of them goes to exploration
# 3, then 5, each stopped at the end and kept when it collects more, then to ``richer``
SOLVE_BUDGET_S = (0.9, 1.3)
# a deeper level is started only with this many times the fastest's seconds left: over 500
# candidates of an 8-hour drive, exploration 3 given what exploration 0 leaves (0.33 s after
# 0.47 s) returned no more, and the trades given that time came within 1 % of the deepest
DEEPER = 2.0
# and for each team of a night beyond the first (their shortlists add up)
TEAM_BUDGET_S = 1.0
# the trades are made only when a team's share of what VROOM leaves is this long: time for
# a set of trades and a polish after them; less goes to the polish alone
TRADES_FROM_S = 0.3
# ``richer`` stops taking stops out at random after so many tries in a row that collect no
# more (30 solves over 500-2,000 candidates collected as much as after 300)
RUIN_IDLE = 100


def shortlist(among: np.ndarray, dwell: np.ndarray, prize: np.ndarray, horizon: int, teams=1):
    """The candidates worth giving the solver (``among``: the seconds among them): every
    mandatory one, and the best by prize per second (dwell plus the way to their nearest
    neighbours), several times as many as ``teams`` tours can hold. A tour holds a few dozen
    stops; giving VROOM thousands costs seconds for nothing."""
    n = len(dwell)
    if n <= 60 * teams:
        return np.arange(n)
    cand = among + np.diag(np.full(n, np.inf))
    near = np.sort(cand, axis=1)[:, : min(5, n - 1)].mean(axis=1)
    fits = teams * horizon / max(float(np.median(dwell + near)), 1.0)
    if n <= SHORTLIST_FROM and fits >= ALL_FROM_FITS:
        return np.arange(n)
    keep = int(min(n, max(60 * teams, SHORTLIST_TIMES * fits)))
    value = prize / (dwell + near)
    best = np.argsort(-value, kind="stable")[:keep]
    return np.union1d(best, np.flatnonzero(prize >= MANDATORY))


def shorter(
    durations, dwell: np.ndarray, tour: Tour, horizon: int, seconds: float | None = None
) -> Tour:
    """The same stops in the shortest order :func:`shortest_order` finds from VROOM's (whose
    search is for priority, not for the shortest way round: 2.4 % longer than fast-tsp's on
    the same stops in a dense drive), within ``seconds`` (``POLISH_S``); ``durations`` as for
    :func:`verify`."""
    order = tour.order
    if len(order) < 3:
        return tour
    places = np.array([0, *(i + 1 for i in order)])
    sub = np.asarray(durations[places[:, None], places[None, :]], float)
    better = verify(durations, dwell, [order[p - 1] for p in shortest_order(sub, seconds)], horizon)
    ok = len(better.order) == len(order) and better.travel_s < tour.travel_s
    return better if ok else tour


def richer(
    durations,
    dwell: np.ndarray,
    prize: np.ndarray,
    tour: Tour,
    horizon: int,
    deadline: float,
    among: np.ndarray,
) -> Tour:
    """The tour collecting more while the time lasts (``deadline``, a ``time.monotonic()``):
    the candidates of ``among`` that fit put in (:func:`fill`); then a stretch of one to three
    stops taken out, the stretches that collect least for the time they take first, and the
    round filled again, kept when it collects more or as much in less time; until no
    stretch's leaving pays; then a stop and a few of those nearest it taken out together
    (stops far apart in the order may lie side by side) until ``RUIN_IDLE`` tries in a row
    gain nothing. A point at its floor (``MANDATORY``) is never taken out. ``durations`` as
    for :func:`verify`.

    VROOM's fastest level, all that a leader's wait leaves it over 500 candidates, collects
    1-2 % less than its deepest search on an 8-hour drive; after these trades a round
    collects as much or more (bench/routes.py)."""
    ins = _Insertions(durations, dwell, np.unique(among).astype(int))
    tour = fill(prize, tour, horizon, ins, deadline)
    better = True
    while better and time.monotonic() < deadline:
        better = False
        o = np.array(tour.order, int)
        cyc = np.r_[0, o + 1, 0]
        legs = np.asarray(durations[cyc[:-1], cyc[1:]], float)
        gone = np.r_[0, np.cumsum(legs + np.r_[dwell[o], 0])]  # the leaving of each place
        must = np.r_[0, np.cumsum(prize[o] >= MANDATORY)]
        cuts = np.array(
            [(a, a + n) for n in (1, 2, 3) for a in range(len(o) - n + 1) if must[a + n] == must[a]]
        ).reshape(-1, 2)
        a, b = cuts.T.astype(int)
        # the time a stretch (stops a..b-1, places a+1..b) takes: from the leaving of the
        # place before it to the coming to the one after, less the way between those two
        frees = gone[b] + legs[b] - gone[a] - np.asarray(durations[cyc[a], cyc[b + 1]], float)
        paid = np.r_[0, np.cumsum(prize[o])]
        for c in np.argsort((paid[b] - paid[a]) / np.maximum(frees, 1.0), kind="stable"):
            if time.monotonic() >= deadline:
                break
            out = set(tour.order[a[c] : b[c]])
            found = _refilled(prize, tour, out, horizon, ins, deadline)
            if found is not None:
                tour, better = found, True
                break
    rng = np.random.default_rng(len(tour.order))
    idle = 0
    while time.monotonic() < deadline and len(tour.order) > 1 and idle < RUIN_IDLE:
        idle += 1
        o = np.array(tour.order, int)
        near = o[np.argsort(np.asarray(durations[np.full(len(o), rng.choice(o) + 1), o + 1]))]
        out = {int(i) for i in near[: rng.integers(2, 6)] if prize[i] < MANDATORY}
        found = _refilled(prize, tour, out, horizon, ins, deadline)
        if found is not None:
            tour, idle = found, 0
    return tour


def _refilled(prize, tour, out, horizon, ins: _Insertions, deadline) -> Tour | None:
    """The tour without the stops ``out``, filled again (:func:`fill`, by prize for the time
    and else by prize), when it collects more than ``tour`` or as much in less time."""
    rest = verify(ins.durations, ins.dwell, [i for i in tour.order if i not in out], horizon)
    if len(rest.order) + len(out) != len(tour.order):  # a matrix where a shortcut is longer
        return None
    for by_ratio in (True, False):
        trial = fill(prize, rest, horizon, ins, deadline, by_ratio)
        if (prize[trial.order].sum(), -trial.back_s) > (prize[tour.order].sum(), -tour.back_s):
            return trial
    return None


class _Insertions:
    """What each candidate of ``among`` adds to a round put in on a leg (from place a to
    place b of the matrix): the way there and on less the leg, and its dwell; each leg's
    row gathered from the matrix once and kept for the rounds that have that leg again."""

    KEPT = 2_000_000  # numbers kept at most (16 MB): rows of len(among)

    def __init__(self, durations, dwell: np.ndarray, among: np.ndarray):
        self.durations, self.dwell, self.among = durations, dwell, among
        self.at = np.full(len(dwell), -1)
        self.at[among] = np.arange(len(among))  # each candidate's column
        self._rows: dict[tuple[int, int], np.ndarray] = {}

    def row(self, a: int, b: int) -> np.ndarray:
        got = self._rows.get((a, b))
        if got is None:
            if (len(self._rows) + 1) * len(self.among) > self.KEPT:
                self._rows.clear()
            c = self.among + 1
            got = (
                np.asarray(self.durations[np.full(len(c), a), c], float)
                + np.asarray(self.durations[c, np.full(len(c), b)], float)
                - float(self.durations[a, b])
                + self.dwell[self.among]
            )
            self._rows[(a, b)] = got
        return got

    def table(self, order: list[int]) -> np.ndarray:
        """A row for each leg of the round ``order`` (place 0 the depot, i + 1 candidate i)."""
        places = [0, *(int(i) + 1 for i in order), 0]
        return np.stack([self.row(a, b) for a, b in zip(places[:-1], places[1:], strict=True)])


def fill(prize, tour: Tour, horizon: int, ins: _Insertions, deadline, by_ratio=True) -> Tour:
    """The tour with candidates (``ins.among``) put in while one fits the window's time left,
    each at its cheapest place and timed on the true matrix (:func:`verify`): the one of most
    prize for the time it adds first, or (``by_ratio`` false) of most prize, the one that adds
    least of equal ones. The time left is the window less the round's unrounded time; one
    that the timing finds does not fit after all (the sums' last digit) is passed over."""
    order = list(tour.order)
    o = np.array(order, int)
    table = ins.table(order)
    legs = np.asarray(ins.durations[np.r_[0, o + 1], np.r_[o + 1, 0]], float)
    spent = float(legs.sum() + ins.dwell[o].sum())
    closed = np.zeros(len(ins.among), bool)  # in the round, or found not to fit
    closed[ins.at[o][ins.at[o] >= 0]] = True
    worth = prize[ins.among]
    while time.monotonic() < deadline:
        leg = np.argmin(table, axis=0)
        need = table[leg, np.arange(len(ins.among))]
        need[closed] = np.inf
        fits = np.flatnonzero(need <= horizon - spent)
        if not len(fits):
            break
        if by_ratio:
            c = fits[np.argmax(worth[fits] / np.maximum(need[fits], 1.0))]
        else:
            c = fits[np.lexsort((need[fits], -worth[fits]))[0]]
        p, new = int(leg[c]), int(ins.among[c])
        trial = [*order[:p], new, *order[p:]]
        timed = verify(ins.durations, ins.dwell, trial, horizon)
        closed[c] = True
        if len(timed.order) == len(trial):
            before = 0 if p == 0 else order[p - 1] + 1
            after = 0 if p == len(order) else order[p] + 1
            table = np.vstack(
                (table[:p], ins.row(before, new + 1), ins.row(new + 1, after), table[p + 1 :])
            )
            spent += float(need[c])
            order, tour = trial, timed
    return tour


def verify(durations: np.ndarray, dwell: np.ndarray, order: list[int], horizon: int) -> Tour:
    """The tour timed on the true matrix; stops that would end it after ``horizon`` are
    dropped from the end."""
    o = np.asarray(order, int).reshape(-1)
    m = len(o)
    cyc = np.r_[0, o + 1]
    steps = np.empty(2 * m)
    steps[0::2] = np.asarray(durations[cyc[:-1], cyc[1:]], float)  # the way to each stop
    steps[1::2] = dwell[o]
    at = np.r_[0.0, np.cumsum(steps)]  # at[2i + 1]: coming to stop i; at[2i + 2]: leaving it
    home = np.asarray(durations[cyc, np.zeros(m + 1, int)], float)
    back = at[0::2] + home  # back at the depot after the first k stops, k = 0..m
    fits = np.flatnonzero(back <= horizon)
    k = int(fits[-1]) if len(fits) else 0
    travel = np.r_[0.0, np.cumsum(steps[0::2])][k] + home[k]
    return Tour(
        order=list(order)[:k],
        start_s=0,
        arrive_s=np.rint(at[1 : 2 * k : 2]).astype(int).tolist(),
        travel_s=int(np.rint(travel)),
        dwell_s=int(sum(dwell[o[:k]].tolist())),
        back_s=int(np.rint(back[k])),
    )
