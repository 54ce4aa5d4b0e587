"""A street network for travel times: nodes are the lines' vertices, edges their segments.

Why a graph here rather than pgRouting in the database: a plan needs a many-to-many travel
time matrix among a few hundred to a few thousand stops, each time with a different random
draw. scipy's compiled Dijkstra over a CSR matrix answers one source in a few milliseconds on
a whole city's network and needs no topology tables kept in step with edits; the graph is
built from the ``road`` table once per city and network version and kept in memory.

Speeds are per road class and travel mode (km/h); one-way streets bind driving only (people
walk and, in Chinese cities, ride both ways). Points snap to the nearest node of the
network's largest strongly connected part, so every snapped stop can reach every other.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from gis.crs import metric_epsg, to_metric_xy

# km/h by OSM highway class; walking is the same on every street people may walk
SPEEDS_KMH: dict[str, dict[str, float]] = {
    "drive": {
        "motorway": 60,
        "trunk": 45,
        "primary": 35,
        "secondary": 30,
        "tertiary": 25,
        "unclassified": 20,
        "residential": 15,
        "living_street": 8,
        "service": 10,
        "motorway_link": 40,
        "trunk_link": 30,
        "primary_link": 25,
        "secondary_link": 25,
        "tertiary_link": 20,
    },
    "bike": {"default": 13, "motorway": 0, "motorway_link": 0, "trunk": 10},
    "walk": {"default": 4.5, "motorway": 0, "motorway_link": 0, "trunk": 4.5},
}
# the bytes of travel times among sets of places a network keeps (2,000 places: 16 MB; a
# set above it, 5,800 places and more, is computed for every plan)
MATRIX_BYTES_KEPT = 128 * 1024 * 1024
NO_CARS = {"footway", "pedestrian", "path", "steps", "cycleway", "track", "bridleway"}


def speed_kmh(highway: str, mode: str) -> float:
    """Speed of a road class for a mode; 0 where the mode may not go.

    >>> speed_kmh("primary", "drive"), speed_kmh("footway", "drive"), speed_kmh("footway", "walk")
    (35, 0, 4.5)
    """
    table = SPEEDS_KMH[mode]
    if mode == "drive":
        return 0 if highway in NO_CARS else table.get(highway, 15)
    if highway == "steps" and mode == "bike":
        return 0
    return table.get(highway, table["default"])


@dataclass
class Network:
    """Nodes (lon/lat and metric x/y) and a CSR matrix of travel seconds between them."""

    lonlat: np.ndarray  # (n, 2)
    xy: np.ndarray  # (n, 2) metres
    seconds: csr_matrix
    metres: csr_matrix
    reachable: np.ndarray  # node indices of the largest strongly connected part
    _tree: cKDTree
    # the travel times among sets of steady places (``matrix``), the latest last
    _kept: OrderedDict = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def snap(self, lonlat: np.ndarray, epsg: int) -> tuple[np.ndarray, np.ndarray]:
        """The nearest reachable node of each point and its distance in metres."""
        xy = np.column_stack(to_metric_xy(lonlat[:, 0], lonlat[:, 1], epsg))
        dist, k = self._tree.query(xy)
        return self.reachable[k], dist

    def matrix(self, nodes: np.ndarray, steady: np.ndarray | None = None) -> np.ndarray:
        """Seconds among ``nodes`` (all pairs). The block among the ``steady`` ones (a mask:
        assessment points, which rarely move) is kept, under those nodes, for the next call
        with the same ones; the others' rows are found from them and their columns on the
        reversed graph, two runs each."""
        nodes = np.asarray(nodes)
        steady = np.zeros(len(nodes), bool) if steady is None else np.asarray(steady, bool)
        key = nodes[steady].astype(np.int64).tobytes()
        with self._lock:
            block = self._kept.get(key)
            if block is not None:
                self._kept.move_to_end(key)
        if block is None and steady.any():
            block = dijkstra(self.seconds, indices=nodes[steady])[:, nodes[steady]]
            block = block.astype(np.float32)
            if block.nbytes <= MATRIX_BYTES_KEPT:
                with self._lock:
                    self._kept[key] = block
                    while sum(b.nbytes for b in self._kept.values()) > MATRIX_BYTES_KEPT:
                        self._kept.popitem(last=False)
        times = np.empty((len(nodes), len(nodes)))
        if block is not None:
            times[np.ix_(steady, steady)] = block
        other = np.flatnonzero(~steady)
        if len(other):
            times[other, :] = dijkstra(self.seconds, indices=nodes[other])[:, nodes]
            times[:, other] = dijkstra(self.seconds.T.tocsr(), indices=nodes[other])[:, nodes].T
        return times

    def leg(self, source: int, target: int, seconds: float) -> list[int]:
        """The nodes of the quickest way from ``source`` to ``target``, ``seconds`` apart:
        the search stops there (a leg across town, not the whole city)."""
        if source == target:
            return [source]
        _, pred = dijkstra(
            self.seconds, indices=[source], return_predecessors=True, limit=seconds * 1.001 + 1
        )
        way = self.path(pred[0], source, target)
        if not way:  # (only if the seconds were not this network's)
            _, pred = dijkstra(self.seconds, indices=[source], return_predecessors=True)
            way = self.path(pred[0], source, target)
        return way

    def path(self, pred_row: np.ndarray, source: int, target: int) -> list[int]:
        """Node indices from ``source`` to ``target`` given that source's predecessors."""
        out = [target]
        while out[-1] != source:
            p = pred_row[out[-1]]
            if p < 0:
                return []
            out.append(p)
        return out[::-1]


def build(lines: list, highways: list[str], oneways: list[int], mode: str) -> Network:
    """A network for ``mode`` from LineStrings (lon/lat) with their highway class and one-way
    flag (1 along the line, -1 against it, 0 both ways)."""
    coords, index = shapely.get_coordinates(lines, return_index=True)
    if not len(coords):
        raise ValueError("the road layer has no lines")
    epsg = metric_epsg(*(float(v) for v in np.median(coords, axis=0)))
    key = np.round(coords, 7)
    uniq, node = np.unique(key, axis=0, return_inverse=True)
    node = node.ravel()
    same_line = index[1:] == index[:-1]
    a, b = node[:-1][same_line], node[1:][same_line]
    line = index[1:][same_line]
    xy = np.column_stack(to_metric_xy(uniq[:, 0], uniq[:, 1], epsg))
    length = np.hypot(*(xy[b] - xy[a]).T)
    speed = np.array([speed_kmh(h, mode) for h in highways], dtype=float)[line] / 3.6
    ok = (speed > 0) & (a != b)
    a, b, length, speed, line = a[ok], b[ok], length[ok], speed[ok], line[ok]
    seconds = length / speed
    one = np.asarray(oneways, dtype=int)[line] if mode == "drive" else np.zeros(len(a), int)
    fwd, back = one >= 0, one <= 0
    rows = np.concatenate([a[fwd], b[back]])
    cols = np.concatenate([b[fwd], a[back]])
    n = len(uniq)
    # the shortest of parallel edges: csr_matrix would add duplicates up, so reduce first
    order = np.lexsort((np.concatenate([seconds[fwd], seconds[back]]), cols, rows))
    rows, cols = rows[order], cols[order]
    secs = np.concatenate([seconds[fwd], seconds[back]])[order]
    metres = np.concatenate([length[fwd], length[back]])[order]
    first = np.ones(len(rows), bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    rows, cols, secs, metres = rows[first], cols[first], secs[first], metres[first]
    sec_m = csr_matrix((np.maximum(secs, 1e-3), (rows, cols)), shape=(n, n))
    len_m = csr_matrix((np.maximum(metres, 1e-3), (rows, cols)), shape=(n, n))
    _, labels = connected_components(sec_m, directed=True, connection="strong")
    biggest = np.bincount(labels).argmax()
    reachable = np.flatnonzero(labels == biggest)
    return Network(uniq, xy, sec_m, len_m, reachable, cKDTree(xy[reachable]))


def detour_factor(net: Network, sample: int = 200, seed: int = 0) -> float:
    """Median ratio of network to straight-line distance between random reachable nodes:
    what straight lines are multiplied by where there is no network."""
    rng = np.random.default_rng(seed)
    picks = rng.choice(net.reachable, size=min(sample, len(net.reachable)), replace=False)
    dist = dijkstra(net.metres, indices=picks[: len(picks) // 2])[:, picks[len(picks) // 2 :]]
    src, dst = picks[: len(picks) // 2], picks[len(picks) // 2 :]
    straight = np.hypot(*(net.xy[src][:, None, :] - net.xy[dst][None, :, :]).transpose(2, 0, 1))
    ok = (straight > 200) & np.isfinite(dist)
    return float(np.median(dist[ok] / straight[ok])) if ok.any() else 1.4
