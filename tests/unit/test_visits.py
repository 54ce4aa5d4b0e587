"""The hazard's figures (gis/visits.py) are what a population of points drawn by it shows:
the mean gap, the gaps' spread and how well an observer who knows every point's days since
its last visit guesses a night's stops; and the floor kept follows the capacity."""

import numpy as np
import pytest

from gis import visits
from gis.visits import FORESIGHT_MAX, Hazard, floor_plan, hazard, judge


def _simulate(h: Hazard, points=4000, nights=300, seed=0):
    rng = np.random.default_rng(seed)
    since = rng.integers(1, h.floor_days, points)
    gaps, ratio = [], []
    for night in range(nights):
        odds = h.at(since)
        hit = rng.random(points) < odds
        if night > 100:  # settled
            k = int(hit.sum())
            best = np.argsort(-(odds + rng.random(points) * 1e-9))[:k]  # the best guess
            ratio.append(hit[best].mean() / (k / points))
            gaps += list(since[hit])
        since = np.where(hit, 1, since + 1)
    hist = np.bincount(gaps, minlength=h.floor_days + 1)[1:]
    p = hist / hist.sum()
    nz = p[p > 0]
    return {
        "mean_gap": float(np.mean(gaps)),
        "entropy": float(-(nz * np.log(nz)).sum() / np.log(h.floor_days)),
        "top_gap_share": float(p.max()),
        "foresight": float(np.mean(ratio)),
        "longest": int(max(gaps)),
    }


@pytest.mark.parametrize(
    "h",
    [
        Hazard(0.05, 0.05, 1, 28),  # memoryless but for the floor
        Hazard(0.02, 0.2, 10, 28),  # a step
        Hazard(0.004, 0.06, 8, 71),
    ],
)
def test_the_figures_are_what_a_population_shows(h):
    want, got = judge(h), _simulate(h)
    assert got["longest"] <= h.floor_days - 1  # nobody past the floor
    assert got["mean_gap"] == pytest.approx(want["mean_gap"], rel=0.03)
    assert got["entropy"] == pytest.approx(want["entropy"], abs=0.02)
    assert got["top_gap_share"] == pytest.approx(want["top_gap_share"], abs=0.02)
    assert got["foresight"] == pytest.approx(want["foresight"], rel=0.06)


def test_the_hazard_found_meets_its_limits_and_its_mean():
    found = hazard(12.5, 40)
    assert found is not None
    h, j = found
    got = _simulate(h)
    assert got["foresight"] <= FORESIGHT_MAX * 1.06 and got["top_gap_share"] <= 0.1 + 0.02
    assert got["mean_gap"] == pytest.approx(12.5, rel=0.06)
    assert hazard(40, 28) is None  # 40 days on average cannot fit in 28


def test_more_capacity_never_lengthens_the_floor_kept():
    kept = [floor_plan(146, c, 28).keep_days for c in (3, 5, 7, 9, 12, 16)]
    assert all(k is not None for k in kept)
    assert kept == sorted(kept, reverse=True) and kept[-1] == 28 and kept[0] > 28
    strict = floor_plan(146, 7, 28, strict=True)
    assert strict.keep_days == 28 and strict.judged["foresight"] > FORESIGHT_MAX


def test_fillers_prizes_follow_how_far_behind_their_share_each_point_is():
    """A point that is not wanted tonight fills a route for a prize that grows with how far
    its visits are behind its share, and stays below every wanted point's; wanted points and
    points at the floor get what they would without it."""
    n = 3000
    wanted = np.zeros(n, bool)
    wanted[::3] = True
    must = np.zeros(n, bool)
    must[::7] = True
    behind = np.tile([0.5, 1.0, 2.0], n // 3)[np.random.default_rng(2).permutation(n)]
    plain = visits.prizes(wanted, must, np.random.default_rng(5), 100)
    steered = visits.prizes(wanted, must, np.random.default_rng(5), 100, behind)
    assert np.array_equal(steered[wanted | must], plain[wanted | must])
    fill = ~wanted & ~must
    means = [steered[fill & (behind == b)].mean() for b in (0.5, 1.0, 2.0)]
    assert means[0] < means[1] < means[2]
    assert abs(means[1] - plain[fill & (behind == 1.0)].mean()) < 1e-9
    assert steered[fill].min() >= 1 and steered[fill].max() <= 39 < steered[wanted & ~must].min()


def test_prizes_tracking_the_shares_follow_how_many_visits_each_point_is_behind():
    """Tracking (``track`` 1): every point's prize, wanted or not, grows with how many visits
    it is behind its share, its median 1 + 49 × 0.3 × ln(1 + e^((that + 0.4) / 0.3)), within
    1..99: a point ahead keeps a small prize, none is left out; points at the floor stay
    mandatory. Half tracking leaves about half of those 0.4 or more ahead out (fewer from 0.6,
    none at 1), its prizes between the two ways; no tracking is as before."""
    n = 14000
    rng = np.random.default_rng(3)
    wanted, must = rng.random(n) < 0.2, rng.random(n) < 0.05
    levels = (-2.0, -0.9, -0.4, -0.3, 0.0, 0.5, 1.0, 3.0)
    short = rng.choice(levels, n)
    plain = visits.prizes(wanted, must, np.random.default_rng(5), 100)
    tracked = visits.prizes(wanted, must, np.random.default_rng(5), 100, short=short, track=1.0)
    assert (tracked[must] == 100).all()
    free = ~must
    assert tracked[free].min() >= 1 and tracked[free].max() <= 99
    medians = [np.median(tracked[free & (short == s)]) for s in levels[:-1]]
    expected = [1 + 49 * 0.3 * np.logaddexp(0, (s + 0.4) / 0.3) for s in levels[:-1]]
    assert np.allclose(medians, expected, rtol=0.12, atol=0.5)
    assert np.median(tracked[free & (short == -2.0)]) == 1  # well ahead: the least prize
    assert 2 <= np.median(tracked[free & (short == -0.9)]) <= 5  # just visited: a few
    for w in (True, False):  # the night's draw sets no prize
        assert abs(np.median(tracked[free & (wanted == w) & (short == 0.5)]) - 45.8) < 7
    half = visits.prizes(wanted, must, np.random.default_rng(5), 100, short=short, track=0.5)
    ahead = free & (short <= -0.4)
    assert 0.45 < (half[ahead] == 0).mean() < 0.55
    # left out at track's odds up to 0.6, falling to none at full tracking: no jump at 1
    for track, odds in ((0.6, 0.6), (0.8, 0.3), (0.99, 0.015)):
        part = visits.prizes(wanted, must, np.random.default_rng(5), 100, short=short, track=track)
        assert abs((part[ahead] == 0).mean() - odds) < 0.04
    fill = free & ~wanted & (short == 1.0)
    assert plain[fill].mean() < half[fill].mean() < tracked[fill].mean()
    assert np.array_equal(visits.prizes(wanted, must, np.random.default_rng(5), 100, short=short),
                          plain)  # fmt: skip


def test_shortfall_is_the_visits_behind_each_share_once_tonights_stops_are_made():
    share = np.array([1.0, 1.0, 2.0, 0.0])
    short = visits.shortfall(share, np.array([4.0, 0.0, 2.0, 9.0]), 2)
    # 8 visits: 6 made on points with a share, 2 tonight; shares ¼, ¼, ½
    assert short.tolist() == [-2.0, 2.0, 2.0, 0.0]
    assert visits.shortfall(share, np.zeros(4), 4).sum() == pytest.approx(4)


@pytest.mark.parametrize("distance", [0.02, 0.07, 0.15])
def test_shares_lean_toward_quick_points_by_the_distance_asked(distance):
    """The leaned shares are ``distance`` (total variation) from the asked ones, every point
    quicker than another gains against it, unreachable points stay at 0, the sum is kept,
    and no lean leaves the shares as they were."""
    rng = np.random.default_rng(11)
    share = rng.uniform(0.5, 1.5, 300)
    share[::17] = 0
    cost = rng.choice([240.0, 480, 600, 720, 900, 1200], 300)
    leaned = visits.lean(share, cost, distance)
    assert abs(visits.tv(leaned, share) - distance) < 1e-6
    assert np.isclose(leaned.sum(), share.sum()) and (leaned[share == 0] == 0).all()
    on = share > 0
    gain = leaned[on] / share[on]
    order = np.argsort(cost[on], kind="stable")
    assert (np.diff(gain[order]) <= 1e-12).all() and gain[order][0] > 1 > gain[order][-1]
    # the mean cost of a visit falls
    assert (leaned * cost).sum() / leaned.sum() < (share * cost).sum() / share.sum()
    assert np.array_equal(visits.lean(share, cost, 0.0), share)
    assert np.array_equal(visits.lean(share, np.full(300, 600.0), distance), share)
    assert np.array_equal(visits.lean(share, np.where(cost > 900, np.nan, cost), distance), share)
    # further than the costs allow: nearly all on the quickest points, no error
    most = visits.lean(share, cost, 0.99)
    assert most[cost == cost.min()].sum() > 0.99 * most.sum()


def test_tonights_heading_pulls_one_side_and_keeps_each_points_odds_over_nights():
    """One night the points on the heading's side are pulled up and those behind down; over
    many nights each point's mean pull is 1 (its odds as they were); κ 0 pulls nothing."""
    rng = np.random.default_rng(4)
    depot = np.array([117.0, 36.6])
    points = depot + rng.uniform(-0.03, 0.03, (200, 2))
    d = points - depot
    bearing = np.arctan2(d[:, 1], d[:, 0] * np.cos(np.radians(36.6)))
    nights = [visits.heading(depot, points, 2.0, rng) for _ in range(4000)]
    mean = np.mean([pull for _, pull in nights], axis=0)
    assert np.abs(mean - 1).max() < 0.08
    deg, pull = nights[0]
    facing = np.cos(bearing - np.radians(deg))
    assert pull[facing > 0.5].min() > 1 > pull[facing < -0.5].max()
    assert np.array_equal(visits.heading(depot, points, 0.0, rng)[1], np.ones(200))
