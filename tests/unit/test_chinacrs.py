"""GCJ-02 / BD-09 conversions against published reference pairs."""

import numpy as np
import pytest
from pyproj import Geod

from gis.chinacrs import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

GEOD = Geod(ellps="WGS84")

# (wgs lon, wgs lat, gcj lon, gcj lat): the eviltransform project's test cases
WGS_GCJ = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),  # Shanghai
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),  # Shenzhen
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),  # Beijing
    (116.404, 39.915, 116.41024449916938, 39.91640428150164),  # wandergis/coordtransform
]
# (gcj lon, gcj lat, bd lon, bd lat) and the reverse, from wandergis/coordtransform
GCJ_BD = [(116.404, 39.915, 116.41036949371029, 39.92133699351021)]
BD_GCJ = [(116.404, 39.915, 116.39762729119315, 39.90865673957631)]


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), WGS_GCJ)
def test_wgs84_to_gcj02_matches_reference(wlon, wlat, glon, glat):
    lon, lat = wgs84_to_gcj02(wlon, wlat)
    assert abs(lon - glon) < 1e-9 and abs(lat - glat) < 1e-9


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), WGS_GCJ)
def test_gcj02_back_to_wgs84_within_a_centimetre(wlon, wlat, glon, glat):
    lon, lat = gcj02_to_wgs84(glon, glat)
    assert GEOD.inv(wlon, wlat, float(lon), float(lat))[2] < 0.01


def test_baidu_reference_pairs():
    for glon, glat, blon, blat in GCJ_BD:
        lon, lat = gcj02_to_bd09(glon, glat)
        assert abs(lon - blon) < 1e-9 and abs(lat - blat) < 1e-9
    for blon, blat, glon, glat in BD_GCJ:
        # the reference uses Baidu's closed form, which inverts to about 0.1 m; ours iterates
        lon, lat = bd09_to_gcj02(blon, blat)
        assert GEOD.inv(glon, glat, float(lon), float(lat))[2] < 0.5


def test_round_trips_over_a_city_are_exact_to_a_millimetre():
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(117.1, 117.3, 500), rng.uniform(28.2, 28.4, 500)
    for there, back in ((wgs84_to_gcj02, gcj02_to_wgs84), (wgs84_to_bd09, bd09_to_wgs84)):
        x, y = back(*there(lon, lat))
        assert GEOD.inv(lon, lat, x, y)[2].max() < 0.001


def test_the_shift_is_hundreds_of_metres_in_china_and_none_abroad():
    lon, lat = wgs84_to_gcj02(117.2, 28.3)
    assert 100 < GEOD.inv(117.2, 28.3, float(lon), float(lat))[2] < 1000
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)
