"""Travel times on a street network: the times among steady places kept between plans."""

from unittest.mock import patch

import numpy as np
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString

from gis import roads


def _grid_city(k: int = 12) -> roads.Network:
    """Streets on a k × k lattice about 100 m apart, one-way eastward on every other row."""
    lines, oneways = [], []
    for i in range(k):
        for j in range(k - 1):
            lon, lat = 117.0 + j * 0.001, 36.6 + i * 0.0009
            lines.append(LineString([(lon, lat), (lon + 0.001, lat)]))
            oneways.append(1 if i % 2 else 0)
            lon, lat = 117.0 + i * 0.001, 36.6 + j * 0.0009
            lines.append(LineString([(lon, lat), (lon, lat + 0.0009)]))
            oneways.append(0)
    highways = ["residential"] * len(lines)
    return roads.build(lines, highways, oneways, "drive")


def test_the_times_among_points_are_kept_and_a_new_depot_costs_two_runs():
    net = _grid_city()
    rng = np.random.default_rng(4)
    nodes = rng.choice(net.reachable, size=30, replace=False)
    steady = np.arange(30) > 2  # three places that change (a depot, two cases), the points
    full = dijkstra(net.seconds, indices=nodes)[:, nodes]
    assert np.allclose(net.matrix(nodes, steady), full, rtol=1e-6)
    assert not np.allclose(full, full.T)  # one-way streets: the columns are their own
    # the next plan from elsewhere: the points' block is found again, the rest computed
    nodes[:3] = rng.choice(np.setdiff1d(net.reachable, nodes), size=3, replace=False)
    runs = []

    def counted(graph, indices):
        runs.append(len(indices))
        return dijkstra(graph, indices=indices)

    with patch.object(roads, "dijkstra", counted):
        again = net.matrix(nodes, steady)
    assert runs == [3, 3]
    assert np.allclose(again, dijkstra(net.seconds, indices=nodes)[:, nodes], rtol=1e-6)
    # other points: their own block (and the lattice's paths still found for a tour)
    other = nodes.copy()
    other[5] = np.setdiff1d(net.reachable, nodes)[0]
    assert np.allclose(
        net.matrix(other, steady), dijkstra(net.seconds, indices=other)[:, other], rtol=1e-6
    )
    assert len(net._kept) == 2
    # a leg's way, its search stopped at the leg's time: the quickest, end to end
    quickest = dijkstra(net.seconds, indices=[other[0]])[0, other[1]]
    way = net.leg(int(other[0]), int(other[1]), float(quickest))
    legs = sum(net.seconds[u, v] for u, v in zip(way[:-1], way[1:], strict=True))
    assert way[0] == other[0] and way[-1] == other[1] and np.isclose(legs, quickest)
    assert net.leg(int(other[0]), int(other[1]), float(quickest) / 2) == way  # searched again
