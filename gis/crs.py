"""Coordinate reference systems: storage is lon/lat, metric work is projected.

Every layer is stored in EPSG:4326 (WGS-84; CGCS2000 differs by centimetres).
Lengths and areas are computed in the CGCS2000 3-degree Gauss-Krüger zone whose
central meridian is nearest the city (EPSG:4534 for 75°E ... EPSG:4554 for 135°E).
"""

from __future__ import annotations

from functools import lru_cache

import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

STORAGE_EPSG = 4326
_GK3_FIRST_EPSG = 4534  # CGCS2000 / 3-degree Gauss-Kruger CM 75E
_GK3_FIRST_CM = 75
_GK3_LAST_CM = 135


def gk3_epsg(lon: float) -> int:
    """EPSG code of the CGCS2000 3-degree Gauss-Krüger zone (CM variant) nearest ``lon``.

    >>> gk3_epsg(117.21)   # Guixi, Jiangxi: central meridian 117°E
    4548
    >>> gk3_epsg(114.3)    # Xian'an, Hubei: central meridian 114°E
    4547
    """
    if not -180.0 <= lon <= 180.0:
        raise ValueError(f"'lon' should be a longitude in degrees, got {lon!r}")
    cm = round(lon / 3.0) * 3
    if not _GK3_FIRST_CM <= cm <= _GK3_LAST_CM:
        raise ValueError(f"'lon' {lon} is outside China's Gauss-Krüger zones (73.5°E to 136.5°E)")
    return _GK3_FIRST_EPSG + (cm - _GK3_FIRST_CM) // 3


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS 84 / UTM zone of a place (326xx north, 327xx south).

    >>> utm_epsg(13.4, 52.5)     # Berlin: zone 33N
    32633
    >>> utm_epsg(-58.4, -34.6)   # Buenos Aires: zone 21S
    32721
    """
    if not (-180.0 <= lon <= 180.0 and -80.0 <= lat <= 84.0):
        raise ValueError(f"({lon!r}, {lat!r}) is not a place UTM covers (lon/lat in degrees)")
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return (32600 if lat >= 0 else 32700) + zone


# China's Gauss-Krüger zones span 73.5°E to 136.5°E; the latitudes of its territory
_CHINA_LAT = (3.0, 54.0)


def metric_epsg(lon: float, lat: float) -> int:
    """The CRS a city's lengths and areas are measured in: the CGCS2000 3-degree Gauss-Krüger
    zone in China (by its longitude and latitude span), the UTM zone anywhere else.

    >>> metric_epsg(117.21, 28.29)   # Guixi
    4548
    >>> metric_epsg(116.35, 39.99)   # Haidian, Beijing
    4548
    >>> metric_epsg(2.35, 48.86)     # Paris
    32631
    """
    if _GK3_FIRST_CM - 1.5 <= lon <= _GK3_LAST_CM + 1.5 and _CHINA_LAT[0] <= lat <= _CHINA_LAT[1]:
        return gk3_epsg(lon)
    return utm_epsg(lon, lat)


@lru_cache(maxsize=32)
def transformer(src_epsg: int, dst_epsg: int) -> Transformer:
    """A cached, axis-order-safe (x=lon, y=lat) transformer between two EPSG codes.

    >>> x, y = transformer(4326, 4548).transform(117.0, 28.0)
    >>> round(x), round(y) > 3_000_000
    (500000, True)
    """
    return Transformer.from_crs(CRS.from_epsg(src_epsg), CRS.from_epsg(dst_epsg), always_xy=True)


def project(geom: BaseGeometry, dst_epsg: int, src_epsg: int = STORAGE_EPSG) -> BaseGeometry:
    """Reproject a shapely geometry; lon/lat in, metres out by default.

    >>> from shapely.geometry import Point
    >>> p = project(Point(117.0, 28.0), 4548)
    >>> round(p.x)
    500000
    """
    return shapely.transform(geom, transformer(src_epsg, dst_epsg).transform, interleaved=False)


def unproject(geom: BaseGeometry, src_epsg: int) -> BaseGeometry:
    """Back from a projected CRS to storage lon/lat.

    >>> from shapely.geometry import Point
    >>> q = unproject(project(Point(117.2, 28.3), 4548), 4548)
    >>> round(q.x, 7), round(q.y, 7)
    (117.2, 28.3)
    """
    return project(geom, STORAGE_EPSG, src_epsg)


def to_metric_xy(lon, lat, epsg: int):
    """Arrays of lon/lat to x/y metres in ``epsg``.

    >>> x, y = to_metric_xy([117.0], [28.0], 4548)
    >>> round(float(x[0])), round(float(y[0]))
    (500000, 3098442)
    """
    return transformer(STORAGE_EPSG, epsg).transform(lon, lat)
