"""Web-mercator (XYZ) tile addresses of places, as the map asks for them.

>>> tile_of(117.2, 28.3, 15)
(27051, 13696)
>>> tiles_over(117.19, 28.28, 117.26, 28.32, 12)
[(3381, 1711), (3381, 1712), (3382, 1711), (3382, 1712)]
"""

from __future__ import annotations

import math


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The (x, y) of the zoom-z tile holding a lon/lat point."""
    n = 2**z
    r = math.radians(lat)
    y = (1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)


def tiles_over(west: float, south: float, east: float, north: float, z: int):
    """Every zoom-z tile that a lon/lat box touches, west to east, north to south."""
    (x0, y1), (x1, y0) = tile_of(west, south, z), tile_of(east, north, z)
    return [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
