"""Choosing and ordering a round's stops."""

import numpy as np

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
