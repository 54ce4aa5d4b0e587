"""Metric operations on lon/lat layers, done in the city's projected CRS."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from gis.crs import STORAGE_EPSG


def buffer_m(geoms: gpd.GeoSeries, radius_m, epsg: int) -> gpd.GeoSeries:
    """Buffer each geometry by ``radius_m`` metres (a scalar or one per geometry).

    The buffer is computed in ``epsg`` (metres) and returned in EPSG:4326, so a
    100 m radius is 100 m on the ground, not a circle in degrees.

    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> pts = gpd.GeoSeries([Point(117.2, 28.3)], crs=4326)
    >>> ring = buffer_m(pts, [100], 4548)
    >>> round(float(ring.to_crs(4548).area.iloc[0]) / 31415.9, 2)
    1.0
    """
    if not isinstance(geoms, gpd.GeoSeries):
        raise TypeError(f"'geoms' should be a GeoSeries, got {type(geoms)}")
    if geoms.crs is None:
        raise ValueError("'geoms' should have a CRS (lon/lat is EPSG:4326)")
    radius = np.broadcast_to(np.asarray(radius_m, dtype=float), (len(geoms),))
    if (radius <= 0).any():
        raise ValueError("'radius_m' should be positive metres")
    projected = geoms.to_crs(epsg)
    return projected.buffer(radius, quad_segs=16).to_crs(STORAGE_EPSG)
