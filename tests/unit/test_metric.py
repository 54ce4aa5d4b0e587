import math

import geopandas as gpd
import pytest
from shapely.geometry import Point

from gis.metric import buffer_m


def test_buffer_is_in_metres_on_the_ground():
    pts = gpd.GeoSeries([Point(117.2, 28.3), Point(116.3, 39.99)], crs=4326)
    rings = buffer_m(pts, [150, 300], 4548)
    areas = rings.to_crs(4548).area
    assert math.isclose(areas.iloc[0], math.pi * 150**2, rel_tol=0.01)
    assert math.isclose(areas.iloc[1], math.pi * 300**2, rel_tol=0.01)
    assert rings.crs.to_epsg() == 4326


def test_buffer_inputs_are_checked():
    pts = gpd.GeoSeries([Point(117.2, 28.3)])
    with pytest.raises(ValueError, match="CRS"):
        buffer_m(pts, 10, 4548)
    with pytest.raises(ValueError, match="radius_m"):
        buffer_m(pts.set_crs(4326), -5, 4548)
    with pytest.raises(TypeError, match="GeoSeries"):
        buffer_m([Point(0, 0)], 10, 4548)
