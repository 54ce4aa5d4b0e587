"""China's shifted web-map coordinates: GCJ-02 (AMap/Gaode, Tencent, WeChat) and BD-09
(Baidu), to and from WGS-84.

GCJ-02 is WGS-84 plus a published, deterministic offset of up to several hundred metres
inside China (none outside); BD-09 is a further rotation of GCJ-02. The inverse has no
closed form: it is solved by fixed-point iteration to below a millimetre.
Vectorised: every function takes scalars or numpy arrays of longitude and latitude.
"""

from __future__ import annotations

import numpy as np

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as the GCJ-02 algorithm uses it
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0


def in_china(lon, lat) -> np.ndarray:
    """The rough box inside which GCJ-02 applies an offset.

    >>> bool(in_china(117.2, 28.3)), bool(in_china(2.35, 48.85))
    (True, False)
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return (lon > 72.004) & (lon < 137.8347) & (lat > 0.8293) & (lat < 55.8271)


def _offset(lon, lat):
    x, y = lon - 105.0, lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon, lat):
    """WGS-84 → GCJ-02 (unchanged outside China).

    >>> x, y = wgs84_to_gcj02(121.5272106, 31.1774276)  # Shanghai
    >>> round(float(x), 9), round(float(y), 9)
    (121.531541859, 31.175303984)
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dlon, dlat = _offset(lon, lat)
    inside = in_china(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def gcj02_to_wgs84(lon, lat, tolerance_deg: float = 1e-9):
    """GCJ-02 → WGS-84, iterated until the forward transform reproduces the input.

    >>> x, y = gcj02_to_wgs84(121.531541859215, 31.17530398364597)
    >>> round(float(x), 7), round(float(y), 7)
    (121.5272106, 31.1774276)
    """
    glon, glat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return _invert(wgs84_to_gcj02, glon, glat, glon.copy(), glat.copy(), tolerance_deg)


def gcj02_to_bd09(lon, lat):
    """GCJ-02 → BD-09.

    >>> x, y = gcj02_to_bd09(116.404, 39.915)
    >>> round(float(x), 6), round(float(y), 6)
    (116.410369, 39.921337)
    """
    x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon, lat, tolerance_deg: float = 1e-9):
    """BD-09 → GCJ-02: Baidu's closed form, refined until it inverts ``gcj02_to_bd09``.

    >>> x, y = bd09_to_gcj02(116.404, 39.915)
    >>> round(float(x), 5), round(float(y), 5)
    (116.39763, 39.90866)
    """
    blon, blat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    x, y = blon - 0.0065, blat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return _invert(gcj02_to_bd09, blon, blat, z * np.cos(theta), z * np.sin(theta), tolerance_deg)


def bd09_to_wgs84(lon, lat):
    """BD-09 → WGS-84.

    >>> x, y = bd09_to_wgs84(120.019809, 29.199786)
    >>> round(float(x), 4), round(float(y), 4)
    (120.0087, 29.1962)
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def wgs84_to_bd09(lon, lat):
    """WGS-84 → BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def _invert(forward, lon, lat, guess_lon, guess_lat, tolerance_deg: float):
    """Solve forward(x, y) = (lon, lat) by fixed-point iteration from a first guess."""
    x, y = guess_lon, guess_lat
    for _ in range(30):
        flon, flat = forward(x, y)
        elon, elat = flon - lon, flat - lat
        x, y = x - elon, y - elat
        if np.all(np.abs(elon) < tolerance_deg) and np.all(np.abs(elat) < tolerance_deg):
            break
    return x, y


TO_WGS84 = {"wgs84": None, "gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}
FROM_WGS84 = {"wgs84": None, "gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}


def gcj02_offset_grid(bounds, n: int = 17) -> dict:
    """The GCJ-02 offset (GCJ-02 minus WGS-84, degrees) on an ``n`` × ``n`` grid over
    ``bounds`` (west, south, east, north): what a map needs to lay GCJ-02 base tiles (AMap,
    Tencent) under WGS-84 overlays, interpolated between the nodes (the offset varies by
    metres over kilometres, so a city's grid of 17 is exact to well below a metre).

    >>> g = gcj02_offset_grid((117.19, 28.28, 117.25, 28.32), n=3)
    >>> len(g["dlon"]), len(g["dlon"][0]), g["bounds"]
    (3, 3, [117.19, 28.28, 117.25, 28.32])
    >>> x, y = wgs84_to_gcj02(117.22, 28.30)
    >>> abs(g["dlon"][1][1] - (float(x) - 117.22)) < 1e-9
    True
    """
    w, s, e, n_ = (float(v) for v in bounds)
    lon, lat = np.meshgrid(np.linspace(w, e, n), np.linspace(s, n_, n))
    x, y = wgs84_to_gcj02(lon, lat)
    return {
        "bounds": [w, s, e, n_],
        "dlon": np.round(x - lon, 10).tolist(),  # rows from south to north
        "dlat": np.round(y - lat, 10).tolist(),
    }
