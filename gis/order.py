"""A round's way through its stops: the shortest order found in a fraction of a second.

VROOM (gis/tours.py) chooses a night's stops for their prize; the order it gives them is
searched again here for the shortest way round: 2-opt and Or-opt moves on numpy arrays,
fast-tsp's Lin-Kernighan round as a second start above ``LK_FROM`` places, and
double-bridge kicks where the two ways of a street differ. A search cut short by its time
keeps what it found.
"""

from __future__ import annotations

import time

import fast_tsp
import numpy as np

# each round's order made shorter (iterated local search), for at most this long, or until
# so many kicks in a row find nothing shorter
POLISH_S = 0.1
POLISH_IDLE = 60
# above so many places a round's order starts from fast-tsp's too (at or below, fast-tsp
# solves exactly, which takes 70 ms at 20; our search finds the shortest of those as it is),
# given this much of the polish's time, at most half of it
LK_FROM = 20
LK_S = 0.02


def shortest_order(sub: np.ndarray, seconds: float | None = None) -> list[int]:
    """Places 1..m-1 of a closed round from place 0 over the matrix ``sub`` (any, not
    necessarily symmetric), in an order that no 2-opt move (a stretch reversed) and no Or-opt
    move (one to three stops moved elsewhere) makes shorter, starting from 1, 2, ... m-1.
    Above ``LK_FROM`` places, fast-tsp's Lin-Kernighan search over the matrix made symmetric
    (each leg the mean of its two ways) gives a second start, either way round, and the
    shorter of the two is kept: on a network whose two ways are the same that is the order,
    for Or-opt and 2-opt stop at a local optimum that it passes (1.5 % longer on a dense
    drive of 60 stops). Where the ways differ, or the round has no more than ``LK_FROM``
    places, until ``POLISH_IDLE`` tries in a row find nothing shorter, the round is cut in
    four and put together the other way (a double bridge) and searched again, the shorter
    kept (iterated local search). All of it within ``seconds`` (``POLISH_S``): a search cut
    short keeps what it found."""
    seconds = POLISH_S if seconds is None else seconds
    deadline = time.monotonic() + seconds
    t = _local(sub, list(range(len(sub))), deadline)
    kicks = len(sub) <= LK_FROM or np.abs(sub - sub.T).max() >= 1.0
    if len(sub) > LK_FROM:
        lk = _lin_kernighan(sub, min(LK_S, seconds / 2, deadline - time.monotonic()))
        for start in (lk, [0, *lk[:0:-1]]):
            found = _local(sub, start, deadline)
            if _length(sub, found) < _length(sub, t) - 1e-6:
                t = found
    if len(t) < 8 or not kicks:
        return t[1:]
    rng = np.random.default_rng(len(t))
    best, idle = _length(sub, t), 0
    while time.monotonic() < deadline and idle < POLISH_IDLE:
        a, b, c = np.sort(rng.choice(np.arange(1, len(t)), 3, replace=False))
        kicked = _local(sub, t[:a] + t[c:] + t[b:c] + t[a:b], deadline)
        idle += 1
        if _length(sub, kicked) < best - 1e-6:
            t, best, idle = kicked, _length(sub, kicked), 0
    return t[1:]


def _lin_kernighan(sub: np.ndarray, seconds: float) -> list[int]:
    """fast-tsp's round over ``sub`` (seconds) made symmetric and whole (its matrix holds
    0..65535: a longer leg counts as 65535 here, the true one after), from place 0."""
    even = np.rint((sub + sub.T) / 2).clip(0, 65535).astype(np.int64)
    np.fill_diagonal(even, 0)
    tour = [int(p) for p in fast_tsp.find_tour(even, duration_seconds=max(seconds, 0.001))]
    at = tour.index(0)
    return tour[at:] + tour[:at]


def _length(sub: np.ndarray, t: list[int]) -> float:
    cyc = np.array([*t, 0])
    return float(sub[cyc[:-1], cyc[1:]].sum())


def _local(sub: np.ndarray, t: list[int], deadline: float) -> list[int]:
    """``t`` made shorter move by move until no move shortens it, or the deadline."""
    for _ in range(20 * len(t)):  # each move shortens the round: a bound, never reached
        if time.monotonic() > deadline or not (_two_opt(sub, t) or _or_opt(sub, t)):
            break
    return t


def _two_opt(sub: np.ndarray, t: list[int]) -> bool:
    """The best reversal of a stretch of ``t`` (in place); whether one shortens it."""
    m = len(t)
    if m < 4:
        return False
    cyc = np.array([*t, 0])
    fwd = np.r_[0, np.cumsum(sub[cyc[:-1], cyc[1:]])]  # the legs before each place, as is
    bwd = np.r_[0, np.cumsum(sub[cyc[1:], cyc[:-1]])]  # and each leg the other way
    i, j = np.arange(1, m)[:, None], np.arange(1, m)[None, :]  # t[i..j] reversed, i < j
    a, b, c, d = cyc[i - 1], cyc[i], cyc[j], cyc[j + 1]
    delta = (sub[a, c] + sub[b, d] + bwd[j] - bwd[i]) - (sub[a, b] + sub[c, d] + fwd[j] - fwd[i])
    delta = np.where(j > i, delta, 0.0)
    lo, hi = np.unravel_index(np.argmin(delta), delta.shape)
    if delta[lo, hi] >= -1e-6:
        return False
    t[lo + 1 : hi + 2] = t[lo + 1 : hi + 2][::-1]
    return True


def _or_opt(sub: np.ndarray, t: list[int]) -> bool:
    """The first move of one to three stops of ``t`` elsewhere, in their order, that shortens
    it (in place)."""
    m = len(t)
    cyc = np.array([*t, 0])
    for n in (1, 2, 3):
        for i in range(1, m - n + 1):
            first, last, before, after = cyc[i], cyc[i + n - 1], cyc[i - 1], cyc[i + n]
            saved = sub[before, first] + sub[last, after] - sub[before, after]
            rest = np.r_[cyc[:i], cyc[i + n :]]  # the round without them, back at 0
            x, y = rest[:-1], rest[1:]
            cost = sub[x, first] + sub[last, y] - sub[x, y]
            cost[i - 1] = np.inf  # where they were
            q = int(np.argmin(cost))
            if cost[q] < saved - 1e-6:
                moved = np.r_[rest[: q + 1], cyc[i : i + n], rest[q + 1 : -1]]
                t[:] = moved.tolist()
                return True
    return False
