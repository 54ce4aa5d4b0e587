"""Choosing and ordering a round's stops."""

import itertools
import time

import numpy as np

from gis import order as search
from gis import tours


def test_a_window_too_short_for_any_point_gives_an_empty_round():
    times = np.array([[0.0, 5000.0, 5200.0], [5000.0, 0.0, 300.0], [5200.0, 300.0, 0.0]])
    tour = tours.solve(
        times, np.array([60.0, 60.0]), np.array([10, 20]), 3600, np.random.default_rng(0)
    )
    assert tour.order == [] and tour.back_s == 0
    # a window that takes one: the better prize, there and back
    tour = tours.solve(
        times, np.array([60.0, 60.0]), np.array([10, 20]), 10_500, np.random.default_rng(0)
    )
    assert tour.order == [1] and tour.back_s == 5200 + 60 + 5200


def test_a_night_of_two_teams_splits_the_points_and_puts_in_the_one_at_its_floor():
    """Two depots 10 km apart, three points near each: each team takes the points near its
    own depot, none is in both tours, and a point at its floor that no tour holds is put in
    by the team that can fit it."""
    xy = np.array(
        [[0, 0], [10_000, 0], [100, 0], [0, 100], [100, 100], [10_100, 0], [10_000, 100]]
        + [[10_100, 100]],
        float,
    )
    times = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) / 5  # 5 m/s
    dwell = np.full(6, 600.0)
    prize = np.array([10, 10, 10, 10, 10, tours.MANDATORY])
    night = tours.night(times, dwell, prize, 2 * 3600, np.random.default_rng(1), teams=2)
    assert sorted(night[0].order) == [0, 1, 2] and sorted(night[1].order) == [3, 4, 5]
    for tour, depot in zip(night, (0, 1), strict=True):
        # timed from its own depot (place 0 of the tour is row ``depot`` of the night)
        legs = [depot, *[2 + i for i in tour.order], depot]
        way = sum(times[a, b] for a, b in zip(legs[:-1], legs[1:], strict=True))
        assert tour.travel_s == round(way) and tour.back_s <= 2 * 3600
        assert tour.missed_mandatory == []
    # 25 minutes: two stops a team, and the point at its floor is one of them
    short = tours.night(times, dwell, prize, 1500, np.random.default_rng(2), teams=2)
    assert [len(t.order) for t in short] == [2, 2] and 5 in short[1].order


def test_a_point_at_prize_0_is_not_offered_however_near():
    """Prize 0 is "not offered": a point beside the depot stays out of a round that has time
    for every point; the others go; with none offered, the round is empty."""
    xy = np.array([[0, 0], [10, 0], [300, 0], [0, 300], [300, 300]], float)
    times = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) / 1.2
    dwell = np.full(4, 300.0)
    (tour,) = tours.night(times, dwell, np.array([0, 5, 5, 5]), 3 * 3600, np.random.default_rng(0))
    assert sorted(tour.order) == [1, 2, 3]
    (tour,) = tours.night(times, dwell, np.array([1, 5, 5, 5]), 3 * 3600, np.random.default_rng(0))
    assert sorted(tour.order) == [0, 1, 2, 3]
    # nothing offered: empty rounds, not VROOM's "No task defined"
    night = tours.night(times, dwell, np.zeros(4, int), 3 * 3600, np.random.default_rng(0))
    assert [t.order for t in night] == [[]] and night[0].back_s == 0


def _round(sub, order):
    places = [0, *order, 0]
    return sum(sub[a, b] for a, b in zip(places, places[1:], strict=False))


def test_stops_on_a_circle_given_in_a_jumble_are_put_back_round_it():
    """Twelve stops round a circle (the depot one of them), given shuffled: the shortest way
    round is the circle, either way; no stop is lost or added."""
    angle = 2 * np.pi * np.arange(13) / 13
    xy = np.c_[np.cos(angle), np.sin(angle)] * 1000
    sub = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    jumble = np.random.default_rng(1).permutation(np.arange(1, 13))
    sub = sub[np.ix_(np.r_[0, jumble], np.r_[0, jumble])]  # place k is circle stop jumble[k-1]
    order = search.shortest_order(sub)
    assert sorted(order) == list(range(1, 13))
    assert [int(jumble[k - 1]) for k in order] in (list(range(1, 13)), list(range(12, 0, -1)))


def _moves(order):
    """Every order one 2-opt move (a stretch reversed) or one Or-opt move (one to three
    stops moved elsewhere) away from ``order``, built as lists."""
    m = len(order)
    for i in range(m):
        for j in range(i + 1, m):
            yield order[:i] + order[i : j + 1][::-1] + order[j + 1 :]
    for n in (1, 2, 3):
        for i in range(m - n + 1):
            rest = order[:i] + order[i + n :]
            for q in range(len(rest) + 1):
                yield rest[:q] + order[i : i + n] + rest[q:]


def test_a_shorter_order_is_one_no_single_move_shortens_on_one_way_streets_too():
    """On matrices whose two ways differ, the order found holds the same stops, no single
    2-opt or Or-opt move (each built here as a list and measured) shortens it, and rounds of
    up to six stops are the shortest of all orders."""
    rng = np.random.default_rng(7)
    for _ in range(30):
        m = int(rng.integers(4, 16))
        xy = rng.uniform(0, 3000, (m, 2))
        sub = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
        sub = sub * rng.uniform(1.0, 1.3, sub.shape)  # the two ways differ
        order = search.shortest_order(sub, seconds=0.05)
        assert sorted(order) == list(range(1, m))
        assert min(_round(sub, o) for o in _moves(order)) >= _round(sub, order) - 1e-6
        if m <= 7:
            best = min(_round(sub, list(p)) for p in itertools.permutations(range(1, m)))
            assert _round(sub, order) <= best + 1e-6


def test_a_long_round_on_two_way_streets_is_as_short_as_fast_tsp_finds():
    """Sixty stops given in an order that no 2-opt or Or-opt move shortens (their search
    stops there, a few per cent above the shortest): the order comes back as short as
    fast-tsp's own given half a second, within 0.5 %, with the same stops."""
    import fast_tsp

    for seed in (3, 4):
        rng = np.random.default_rng(seed)
        xy = rng.uniform(0, 6000, (60, 2))
        sub = np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))
        stuck = search._local(sub, [0, *rng.permutation(np.arange(1, 60)).tolist()], 1e18)
        sub = sub[np.ix_(stuck, stuck)]  # places numbered in that order: 1, 2, ... is stuck
        theirs = fast_tsp.find_tour(sub.astype(np.int64), duration_seconds=0.5)
        best = _round(sub, theirs[theirs.index(0) + 1 :] + theirs[: theirs.index(0)])
        assert _round(sub, list(range(1, 60))) > 1.01 * best  # the search alone stops here
        order = search.shortest_order(sub, seconds=0.1)
        assert sorted(order) == list(range(1, 60))
        assert _round(sub, order) <= 1.005 * best


def test_a_long_round_on_one_way_streets_is_no_longer_than_either_start(monkeypatch):
    """Thirty stops whose two ways differ: the order holds the same stops, no single 2-opt or
    Or-opt move shortens it, and it is no longer than the round fast-tsp gave the search
    (over the matrix made symmetric, from the depot), driven either way, nor than the
    order given."""
    given = []
    lin_kernighan = search._lin_kernighan

    def kept(sub, seconds):
        given.append(list(lin_kernighan(sub, seconds)))
        return list(given[-1])

    monkeypatch.setattr(search, "_lin_kernighan", kept)
    rng = np.random.default_rng(11)
    for _ in range(3):
        xy = rng.uniform(0, 3000, (30, 2))
        sub = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
        sub = sub * rng.uniform(1.0, 1.4, sub.shape)
        order = search.shortest_order(sub, seconds=0.1)
        assert sorted(order) == list(range(1, 30))
        assert min(_round(sub, o) for o in _moves(order)) >= _round(sub, order) - 1e-6
        lk = given[-1]
        assert lk[0] == 0 and sorted(lk) == list(range(30))
        starts = (lk[1:], lk[:0:-1], list(range(1, 30)))
        assert _round(sub, order) <= min(_round(sub, s) for s in starts) + 1e-6


def test_a_round_made_shorter_keeps_its_stops_and_its_window():
    """A round given in a random order comes back with the same stops, shorter (for most of
    them) and never longer, within a window it filled exactly."""
    rng = np.random.default_rng(8)
    gained = 0
    for _ in range(20):
        m = int(rng.integers(5, 25))
        xy = rng.uniform(0, 3000, (m, 2))
        sub = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
        sub = sub * rng.uniform(1.0, 1.3, sub.shape)
        dwell = rng.uniform(60, 600, m - 1)
        given = [int(i) for i in rng.permutation(m - 1)]
        tour = tours.verify(sub, dwell, given, 10**9)
        tight = tours.shorter(sub, dwell, tour, tour.back_s)
        assert sorted(tight.order) == sorted(given) and tight.back_s <= tour.back_s
        gained += tight.travel_s < tour.travel_s
    assert gained >= 15


def _scattered(seed: int, n: int = 60):
    """``n`` points scattered on a grid of streets round a depot (whole seconds, so the true
    matrix times VROOM's tours exactly), their dwell and prizes."""
    rng = np.random.default_rng(seed)
    xy = np.r_[[[0.0, 0.0]], rng.uniform(-4000, 4000, (n, 2))]
    times = np.rint(np.abs(xy[:, None, :] - xy[None, :, :]).sum(2) / 4)  # 4 m/s, Manhattan
    return times, rng.choice([300.0, 600.0, 900.0], n), rng.integers(1, 80, n)


def test_a_round_is_solved_fastest_level_first_and_collects_at_least_what_it_does(monkeypatch):
    """VROOM's fastest level is solved first, then the deeper ones while the budget lasts,
    and the most collected kept: a round collects no less than exploration 0 alone on the
    same problem; with no budget left only the fastest level runs."""
    import vroom

    times, dwell, prize = _scattered(4)
    problem = vroom.Input()
    problem.set_durations_matrix(profile="car", matrix_input=times.astype(np.uint32))
    problem.add_vehicle(
        [vroom.Vehicle(1, start=0, end=0, time_window=vroom.TimeWindow(0, 3 * 3600))]
    )
    problem.add_job(
        [
            vroom.Job(i + 1, location=i + 1, default_service=int(dwell[i]), priority=int(prize[i]))
            for i in range(len(dwell))
        ]
    )
    fastest = problem.solve(exploration_level=0, nb_threads=2).summary.priority
    calls = []
    solve = vroom.Input.solve

    def spied(self, *args, **kwargs):
        calls.append((kwargs["exploration_level"], kwargs["timeout"].total_seconds()))
        return solve(self, *args, **kwargs)

    monkeypatch.setattr(vroom.Input, "solve", spied)
    monkeypatch.setattr(tours, "SOLVE_BUDGET_S", (30.0, 30.0))  # every level in time
    tour = tours.solve(times, dwell, prize, 3 * 3600, np.random.default_rng(0))
    assert [level for level, _ in calls] == [0, 3, 5]
    assert all(0.25 < t <= 30 for _, t in calls)
    assert [t for _, t in calls] == sorted((t for _, t in calls), reverse=True)
    assert tour.back_s <= 3 * 3600 and len(set(tour.order)) == len(tour.order)
    assert int(prize[tour.order].sum()) >= fastest > 0
    # too little left for a deeper level to search longer than the fastest: the fastest alone
    calls.clear()
    monkeypatch.setattr(tours, "DEEPER", 1e6)
    tour = tours.solve(times, dwell, prize, 3 * 3600, np.random.default_rng(0))
    assert [level for level, _ in calls] == [0] and int(prize[tour.order].sum()) >= fastest
    # the budget spent before VROOM starts: the fastest level alone, stopped at once
    calls.clear()
    monkeypatch.setattr(tours, "SOLVE_BUDGET_S", (0.0, 0.0))
    tour = tours.solve(times, dwell, prize, 3 * 3600, np.random.default_rng(0))
    assert calls == [(0, 0.1)] and tour.order and tour.back_s <= 3 * 3600


def test_a_stop_gives_way_to_more_prize_and_a_point_at_its_floor_stays():
    """On a street east of the depot: a stop of prize 5 at 600 m and one at its floor at
    1,200 m fill the window; a candidate of prize 40 at 700 m takes the first one's place
    (one more does not fit), the one at its floor stays, and a candidate of prize 90 that is
    not among those offered is left alone."""
    x = np.array([0.0, 600.0, 1200.0, 700.0, 650.0])
    times = np.abs(x[:, None] - x[None, :])  # 1 m/s
    dwell = np.full(4, 300.0)
    prize = np.array([5, tours.MANDATORY, 40, 90])
    given = tours.verify(times, dwell, [0, 1], 2 * 1200 + 700)
    assert given.order == [0, 1]
    tour = tours.richer(
        times, dwell, prize, given, 2 * 1200 + 700, time.monotonic() + 5, np.array([0, 1, 2])
    )
    assert sorted(tour.order) == [1, 2] and tour.back_s <= 2 * 1200 + 700
    # a window with room for all three offered: nothing given way
    roomy = tours.verify(times, dwell, [0, 1], 10_000)
    tour = tours.richer(times, dwell, prize, roomy, 10_000, time.monotonic() + 5, np.arange(3))
    assert sorted(tour.order) == [0, 1, 2]


def test_trades_never_collect_less_nor_leave_the_window_or_the_offered_points():
    """Rounds cut short on purpose (VROOM's stops, the last third dropped) over scattered
    points: the trades collect more than was given in most, never less, within the window,
    from the candidates offered only, and keep every point at its floor."""
    gained = 0
    for seed in range(10):
        times, dwell, prize = _scattered(seed)
        # seconds in fractions, as the service's matrix has them: a round's time rounded
        # down leaves no room that is not there
        times = times * 1.0137
        prize[:3] = tours.MANDATORY
        horizon = 3 * 3600
        full = tours.solve(times, dwell, prize, horizon, np.random.default_rng(seed))
        cut = tours.verify(times, dwell, full.order[: 2 * len(full.order) // 3], horizon)
        among = np.r_[np.arange(40), cut.order]
        began = time.monotonic()
        tour = tours.richer(times, dwell, prize, cut, horizon, began + 30, among)
        assert time.monotonic() - began < 10  # done when nothing more pays, not at the deadline
        assert tour.back_s <= horizon and len(set(tour.order)) == len(tour.order)
        assert set(tour.order) <= set(among.tolist())
        assert {i for i in cut.order if prize[i] == tours.MANDATORY} <= set(tour.order)
        assert prize[tour.order].sum() >= prize[cut.order].sum()
        gained += prize[tour.order].sum() > prize[cut.order].sum()
    assert gained >= 8


def test_a_round_is_timed_leg_by_leg_and_cut_from_its_end_to_fit():
    """Rounds timed against the legs added up one by one: arrivals, travel, dwell and return
    as the sums say, and a round too long for its window cut from its end to the longest
    start that fits."""
    rng = np.random.default_rng(3)
    for _ in range(50):
        m = int(rng.integers(0, 12))
        times = rng.uniform(30, 900, (m + 1, m + 1))
        np.fill_diagonal(times, 0.0)
        dwell = rng.choice([120.0, 300.0, 600.0], m)
        order = [int(i) for i in rng.permutation(m)]
        horizon = int(rng.uniform(0, 2 * (m + 1) * 900))
        tour = tours.verify(times, dwell, order, horizon)
        k = len(tour.order)
        assert tour.order == order[:k]
        places = [0, *(i + 1 for i in order[:k]), 0]
        legs = [times[a, b] for a, b in zip(places[:-1], places[1:], strict=True)]
        assert tour.travel_s == round(sum(legs))
        assert tour.dwell_s == sum(dwell[order[:k]])
        assert tour.back_s == round(sum(legs) + sum(dwell[order[:k]])) <= max(horizon, 0)
        assert tour.arrive_s == [
            round(sum(legs[: j + 1]) + sum(dwell[order[:j]])) for j in range(k)
        ]
        for j in range(k + 1, m + 1):  # no longer start of it would have fitted
            more = [0, *(i + 1 for i in order[:j]), 0]
            way = sum(times[a, b] for a, b in zip(more[:-1], more[1:], strict=True))
            assert way + sum(dwell[order[:j]]) > horizon


def test_a_candidate_that_fits_only_the_rounded_time_is_not_put_in():
    """A round back at 2,999.4 s of a 3,100 s window (2,999 s rounded) and a candidate that
    needs 100.8 s more: it does not fit, the point at its floor stays, and the trades end at
    once rather than trying it again until their deadline."""
    x = np.array([0.0, 1000.0, 1000.4])
    times = np.abs(x[:, None] - x[None, :])  # 1 m/s
    dwell = np.array([999.4, 100.0])
    prize = np.array([tours.MANDATORY, 50])
    given = tours.verify(times, dwell, [0], 3100)
    assert given.back_s == 2999
    began = time.monotonic()
    tour = tours.richer(times, dwell, prize, given, 3100, began + 5, np.array([0, 1]))
    assert tour.order == [0] and time.monotonic() - began < 1


def test_a_round_is_filled_as_the_cheapest_places_worked_out_afresh_at_each_step_say():
    """``fill`` keeps each leg's costs and changes only the two new legs' after a stop goes
    in: on scattered points, in fractions of seconds, it puts in the same candidates at the
    same places as the plain greedy that works every place out again at each step."""
    for seed in range(6):
        times, dwell, prize = _scattered(seed, 40)
        times = times * 1.0137
        horizon = 2 * 3600
        order = [int(i) for i in np.random.default_rng(seed).permutation(40)[:5]]
        start = tours.verify(times, dwell, order, horizon)
        among = np.arange(0, 40, 2)
        ins = tours._Insertions(times, dwell, among)
        got = tours.fill(prize, start, horizon, ins, time.monotonic() + 30)
        want = list(start.order)
        while True:
            places = [0, *(i + 1 for i in want), 0]
            spent = sum(times[a, b] for a, b in zip(places[:-1], places[1:], strict=True))
            spent += sum(dwell[want])
            best = None
            for i in among:
                if i in want:
                    continue
                need, p = min(
                    (times[places[p], i + 1] + times[i + 1, places[p + 1]]
                     - times[places[p], places[p + 1]] + dwell[i], p)
                    for p in range(len(places) - 1)
                )  # fmt: skip
                if need <= horizon - spent - 1e-6:
                    key = (prize[i] / max(need, 1.0), -i)
                    if best is None or key > best[0]:
                        best = (key, i, p)
            if best is None:
                break
            want.insert(best[2], int(best[1]))
        assert got.order == want and got.back_s <= horizon and len(want) > len(start.order)


def test_points_that_take_much_of_a_round_alone_go_at_their_floor_earlier():
    """Points two nights from their margin night (three nights in all): three that each take
    0.6 of a round alone cannot share one, so one of them goes tonight, though their shares
    add up to less than three rounds; as a stop's share of 60 % of ten stops a night none
    would. With near points of the same days left in line, the far one goes, wherever it
    stands among them; two teams a night hold two such points a night. Further from their
    margin night than ``ALONE_AHEAD`` nights, points count a stop's share whatever they
    take (a city's first rounds)."""
    three = np.full(3, 25)  # floor 28: the margin night (27) is two nights after tonight
    assert not tours.must_go(three, 28, 10).any()
    assert tours.must_go(three, 28, 10, nights=np.full(3, 0.6)).sum() == 1
    assert not tours.must_go(three, 28, 10, nights=np.full(3, 0.6), teams=2).any()
    # twenty such points ALONE_AHEAD + 2 nights from their margin night: as twenty stops,
    # 3.3 nights
    crowd = np.full(20, 27 - tours.ALONE_AHEAD - 2)
    assert not tours.must_go(crowd, 28, 10, nights=np.full(20, 0.6)).any()
    # two nights from it, a round each: all but the two the nights after tonight hold
    assert tours.must_go(np.full(20, 25), 28, 10, nights=np.full(20, 0.6)).sum() == 18
    # twelve points of 0.45 of a round five nights from their margin night: 5.4 rounds, so
    # one goes tonight (looking three nights ahead, they would count as stops and wait)
    twelve, far = np.full(12, 22), np.full(12, 0.45)
    assert tours.must_go(twelve, 28, 10, nights=far).sum() == 1
    assert not tours.must_go(twelve, 28, 10, nights=far, ahead=3).any()
    mixed = np.array([0.6, 0.1, 0.6, 0.1, 0.6, 0.1])
    got = tours.must_go(np.full(6, 25), 28, 10, nights=mixed)
    assert got.sum() == 1 and mixed[got][0] == 0.6
    turned = tours.must_go(np.full(6, 25), 28, 10, nights=mixed[::-1])
    assert turned.sum() == 1 and mixed[::-1][turned][0] == 0.6


def test_a_crowd_of_near_points_counts_a_stops_share_each():
    """Twelve points a night from their margin night, each a hundredth of a round alone:
    each counts as a stop's share of 60 % of ten stops a night (a sixth of a night), so the
    last six in line go tonight."""
    got = tours.must_go(np.full(12, 26), 28, 10, nights=np.full(12, 0.01))
    assert got.sum() == 6 and np.array_equal(got, tours.must_go(np.full(12, 26), 28, 10))
