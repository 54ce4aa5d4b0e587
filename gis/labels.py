"""Where names go on a map tile: a street's or a river's along it, a lake's inside it, never
over each other.

Coordinates are the tile's pixels (x to the right, y down, the tile from 0 to ``size``).
A street's name goes on the longest straight piece of it inside the tile, centred there and
turned to its direction (upside-down text is turned half round), when the name fits on the
piece and its box lies wholly inside the tile (a label is never cut by the tile's edge, so
tiles side by side need not agree on it); a name whose box would touch one already placed,
or a box given as ``taken`` (the names of areas), is left out. Streets are taken in the
order given: most important first.

A lake's name (``inside_labels``) goes level at a point fixed inside it, where the largest
circle inside the lake is, and only when the name fits in that circle. Being fixed in the
world, it may cross the tile's edge: every tile whose margin holds the point draws it at the
same place, so the halves on neighbouring tiles join.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import shapely
from shapely.geometry import LineString, MultiLineString, Polygon
from shapely.geometry.base import BaseGeometry

PAD_PX = 3  # free space kept around a label's text


@dataclass(frozen=True)
class Label:
    """A placed name: centre (x, y), angle in degrees of the street in the tile's pixels
    (y down, so a street rising to the right has a negative angle; within (-90, 90]), and the
    box it covers with its padding."""

    text: str
    x: float
    y: float
    angle: float
    box: Polygon


def longest_piece(line: BaseGeometry, box: Polygon) -> tuple[float, float, float, float] | None:
    """The longest straight segment of ``line`` inside ``box``, as (x0, y0, x1, y1).

    >>> longest_piece(LineString([(-10, 5), (30, 5), (30, 60)]), shapely.box(0, 0, 50, 50))
    (30.0, 5.0, 30.0, 50.0)
    """
    inside = line.intersection(box)
    best, best_len = None, 0.0
    for part in _lines(inside):
        xy = shapely.get_coordinates(part)
        for (x0, y0), (x1, y1) in zip(xy[:-1], xy[1:], strict=True):
            n = math.hypot(x1 - x0, y1 - y0)
            if n > best_len:
                best, best_len = (float(x0), float(y0), float(x1), float(y1)), n
    return best


def upright_angle(x0: float, y0: float, x1: float, y1: float) -> float:
    """The direction of a segment in degrees (y down), turned so text along it reads
    left to right.

    >>> upright_angle(0, 0, 10, 0), upright_angle(10, 10, 0, 0), upright_angle(0, 10, 0, 0)
    (0.0, 45.0, 90.0)
    """
    a = math.degrees(math.atan2(y1 - y0, x1 - x0))
    if a <= -90:
        a += 180
    elif a > 90:
        a -= 180
    return float(a)


def label_box(x: float, y: float, width: float, height: float, angle: float) -> Polygon:
    """The rectangle ``width`` × ``height`` centred on (x, y) turned by ``angle`` degrees.

    >>> [round(v) for v in label_box(10, 10, 20, 4, 90).bounds]
    [8, 0, 12, 20]
    """
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    hw, hh = width / 2, height / 2
    return Polygon([(x + dx * c - dy * s, y + dx * s + dy * c) for dx, dy in _corners(hw, hh)])


def place_labels(
    streets: Iterable[tuple[str, BaseGeometry]],
    measure: Callable[[str], tuple[float, float]],
    size: float = 256,
    taken: Sequence[Polygon] = (),
) -> list[Label]:
    """Labels for ``streets`` ((name, line in tile pixels), most important first; one
    label a name) such that no two boxes overlap each other or ``taken``. ``measure``
    gives a text's (width, height) in pixels.

    >>> streets = [("Long Road", LineString([(0, 40), (256, 40)])),
    ...            ("Cross Road", LineString([(128, 0), (128, 256)])),
    ...            ("Short", LineString([(10, 200), (20, 200)]))]
    >>> [(l.text, l.angle) for l in place_labels(streets, lambda s: (6 * len(s), 10))]
    [('Long Road', 0.0), ('Cross Road', 90.0)]
    """
    tile = shapely.box(0, 0, size, size)
    placed: list[Label] = []
    boxes = list(taken)
    seen: set[str] = set()
    for name, line in streets:
        if not name or name in seen:
            continue
        piece = longest_piece(line, tile)
        if piece is None:
            continue
        x0, y0, x1, y1 = piece
        width, height = measure(name)
        if math.hypot(x1 - x0, y1 - y0) < width + 2 * PAD_PX:
            continue  # the name does not fit on the street's straightest piece here
        angle = upright_angle(*piece)
        box = label_box(
            (x0 + x1) / 2, (y0 + y1) / 2, width + 2 * PAD_PX, height + 2 * PAD_PX, angle
        )
        if not tile.contains(box) or any(box.intersects(b) for b in boxes):
            continue
        placed.append(Label(name, (x0 + x1) / 2, (y0 + y1) / 2, angle, box))
        boxes.append(box)
        seen.add(name)
    return placed


def inside_labels(
    areas: Iterable[tuple[str, float, float, float]],
    measure: Callable[[str], tuple[float, float]],
    taken: Sequence[Polygon] = (),
) -> list[Label]:
    """Level labels for names of areas given as (name, x, y, room): the point inside the
    area in tile pixels and the radius of the circle around it that lies inside the area.
    A name is placed when its box with its padding fits in that circle and touches no label
    placed before it or in ``taken``; one label a name.

    >>> lakes = [("Lake", 50, 50, 40), ("Pond", 200, 50, 5), ("Lake", 90, 90, 40)]
    >>> [(l.text, l.x, l.y, l.angle) for l in inside_labels(lakes, lambda s: (6 * len(s), 10))]
    [('Lake', 50, 50, 0.0)]
    """
    placed: list[Label] = []
    boxes = list(taken)
    seen: set[str] = set()
    for name, x, y, room in areas:
        if not name or name in seen:
            continue
        width, height = measure(name)
        width, height = width + 2 * PAD_PX, height + 2 * PAD_PX
        if math.hypot(width, height) / 2 > room:
            continue  # the area is too narrow here for the name at this zoom
        box = label_box(x, y, width, height, 0)
        if any(box.intersects(b) for b in boxes):
            continue
        placed.append(Label(name, x, y, 0.0, box))
        boxes.append(box)
        seen.add(name)
    return placed


def _corners(hw: float, hh: float):
    return ((-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh))


def _lines(geom: BaseGeometry):
    if isinstance(geom, LineString):
        return [geom] if not geom.is_empty else []
    if isinstance(geom, MultiLineString):
        return list(geom.geoms)
    if hasattr(geom, "geoms"):  # a collection: points where the line touches the box
        return [g for g in geom.geoms if isinstance(g, LineString)]
    return []
