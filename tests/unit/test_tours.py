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
