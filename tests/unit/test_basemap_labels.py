"""Street names on the base map's tiles (gis/labels.py) and the tile drawn from them."""

from __future__ import annotations

import io
import itertools
import math
import random

import numpy as np
import shapely
from PIL import Image
from shapely.geometry import LineString

from gis.labels import place_labels, upright_angle
from maps.basemap import LAND, Community, Road, render_tile, tile_bounds


def _measure(text: str) -> tuple[float, float]:
    return 11.0 * len(text), 13.0  # about a CJK character at 11 px


def _crowd(seed: int, n: int = 40) -> list[tuple[str, LineString]]:
    """``n`` straight streets at random places and angles, some running off the tile."""
    rnd = random.Random(seed)
    streets = []
    for i in range(n):
        x, y = rnd.uniform(-40, 296), rnd.uniform(-40, 296)
        a, length = rnd.uniform(0, 2 * math.pi), rnd.uniform(30, 300)
        end = (x + length * math.cos(a), y + length * math.sin(a))
        streets.append((f"街{i}路" + "长" * rnd.randint(0, 4), LineString([(x, y), end])))
    return streets


def test_no_two_labels_overlap_and_each_lies_in_the_tile():
    tile = shapely.box(0, 0, 256, 256)
    for seed in range(20):
        labels = place_labels(_crowd(seed), _measure)
        assert labels, f"seed {seed}: no label placed"
        for a, b in itertools.combinations(labels, 2):
            assert not a.box.intersects(b.box), f"seed {seed}: {a.text} overlaps {b.text}"
        assert all(tile.contains(lab.box) for lab in labels)


def test_labels_turn_with_their_street_and_read_left_to_right():
    streets = dict(_crowd(7))
    for lab in place_labels(streets.items(), _measure):
        (x0, y0), (x1, y1) = streets[lab.text].coords
        assert -90 < lab.angle <= 90
        assert math.isclose(lab.angle, upright_angle(x0, y0, x1, y1), abs_tol=1e-9)
        # the box's long side runs along the street
        c = shapely.get_coordinates(lab.box.exterior)
        side = math.degrees(math.atan2(c[1][1] - c[0][1], c[1][0] - c[0][0]))
        assert math.isclose(math.remainder(side - lab.angle, 180), 0, abs_tol=1e-6)
        # and its centre lies on the street
        assert streets[lab.text].distance(shapely.Point(lab.x, lab.y)) < 1e-6


def test_a_label_goes_on_the_longest_straight_piece_inside_the_tile():
    bend = LineString([(-200, 50), (60, 50), (60, 250)])  # 60 px of it inside, then 200 down
    (lab,) = place_labels([("长路", bend)], _measure)
    assert (lab.x, lab.y, lab.angle) == (60.0, 150.0, 90.0)


def test_names_that_do_not_fit_or_are_taken_are_left_out():
    short = LineString([(100, 100), (120, 100)])
    assert place_labels([("很长的名字路", short)], _measure) == []
    line = LineString([(0, 100), (256, 100)])
    taken = [shapely.box(100, 90, 160, 110)]
    assert place_labels([("路", line)], _measure, taken=taken) == []


def test_a_tile_draws_its_streets_with_their_names():
    xmin, ymin, xmax, ymax = tile_bounds(16, 53873, 27386)
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2

    def tile(named: bool) -> Image.Image:
        roads = [
            Road(
                "primary",
                "建设路" if named else None,
                LineString([(xmin - 99, cy), (xmax + 99, cy)]),
            ),
            Road(
                "residential",
                "站前路" if named else None,
                LineString([(cx + 200, ymin - 99), (cx + 200, ymax + 99)]),
            ),
        ]
        return Image.open(io.BytesIO(render_tile(16, 53873, 27386, roads, []).png)).convert("RGB")

    img, bare = tile(True), tile(False)
    assert img.size == (256, 256)
    assert img.getpixel((0, 0)) == LAND
    assert img.getpixel((5, 128)) != LAND and img.getpixel((210, 5)) != LAND  # to the edges
    text = sum(
        1
        for a, b in zip(img.get_flattened_data(), bare.get_flattened_data(), strict=True)
        if a != b
    )
    assert text > 200  # both names


def _ink(named: Image.Image, bare: Image.Image) -> tuple[int, int, int, int] | None:
    """The box of the pixels a tile's names changed: (left, top, right, bottom) inclusive."""
    a = np.asarray(named, dtype=np.int16)
    b = np.asarray(bare, dtype=np.int16)
    ys, xs = np.nonzero(np.abs(a - b).sum(axis=2) > 0)
    return (int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())) if len(xs) else None


def _png(tile) -> Image.Image:
    return Image.open(io.BytesIO(tile.png)).convert("RGB")


def test_a_long_street_s_name_is_never_cut_by_a_tile_s_edge():
    """Streets running on over 3 × 3 tiles at every angle: in each tile its names lie
    wholly inside (a pixel or more from every edge), and a street crossing a tile through
    and through is named in it, so the name runs on from tile to tile without a cut."""
    z, x0, y0 = 17, 107766, 54772
    left, _, _, top = tile_bounds(z, x0, y0)
    _, bottom, right, _ = tile_bounds(z, x0 + 2, y0 + 2)
    cx, cy = (left + right) / 2, (bottom + top) / 2
    rnd = random.Random(3)
    for angle in (0, 7, 30, 45, 63, 90, 118, 151, 172):
        a = math.radians(angle + rnd.uniform(-2, 2))
        reach = right - left
        off = rnd.uniform(-40, 40)
        line = LineString(
            [
                (cx - reach * math.cos(a) - off * math.sin(a), cy - reach * math.sin(a)),
                (cx + reach * math.cos(a), cy + reach * math.sin(a) + off * math.cos(a)),
            ]
        )
        named = [Road("primary", "建设路东段北延长线", line)]
        bare = [Road("primary", None, line)]
        for dx, dy in itertools.product(range(3), range(3)):
            tx, ty = x0 + dx, y0 + dy
            tile = render_tile(z, tx, ty, named, [])
            box = _ink(_png(tile), _png(render_tile(z, tx, ty, bare, [])))
            if box is not None:
                assert tile.drawn["labels"] == 1
                assert box[0] >= 1 and box[1] >= 1, (angle, tx, ty, box)
                assert box[2] <= 254 and box[3] <= 254, (angle, tx, ty, box)
            xmin, ymin, xmax, ymax = tile_bounds(z, tx, ty)
            inside = line.intersection(shapely.box(xmin, ymin, xmax, ymax))
            if inside.length > 0.9 * (xmax - xmin):  # runs through it: named here too
                assert box is not None and tile.drawn["labels"] == 1, (angle, tx, ty)


def test_lines_and_community_names_run_on_across_the_tile_s_edge():
    """The margin: a street crossing the edge between two tiles is drawn to the edge on
    both, and a community's name centred on that edge is drawn half on each, the halves
    meeting at the same height."""
    z, x, y = 16, 53873, 27386
    xmin, ymin, xmax, ymax = tile_bounds(z, x, y)
    cy = (ymin + ymax) / 2
    street = Road("primary", None, LineString([(xmin + 50, cy + 80), (xmax + 150, cy + 80)]))
    border = LineString([(xmax - 300, ymin + 20), (xmax + 300, ymin + 20)])
    place = Community("某某社区", border, (xmax, cy - 60))
    west = _png(render_tile(z, x, y, [street], [place]))
    east = _png(render_tile(z, x + 1, y, [street], [place]))
    west_bare = _png(render_tile(z, x, y, [street], []))
    east_bare = _png(render_tile(z, x + 1, y, [street], []))
    row = round((ymax - (cy + 80)) * 256 / (xmax - xmin))
    assert west.getpixel((255, row)) != LAND and east.getpixel((0, row)) != LAND
    w, e = _ink(west, west_bare), _ink(east, east_bare)
    assert w is not None and e is not None
    assert w[2] == 255 and e[0] == 0  # cut by the edge on both sides: one name in two halves
    assert abs(w[1] - e[1]) <= 1 and abs(w[3] - e[3]) <= 1
