"""Links to the phone's map apps: the stop's WGS-84 position converted on the server to the
datum each app draws in, the name carried intact, the round's way of travel kept."""

from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from pyproj import Geod

from gis.chinacrs import wgs84_to_bd09, wgs84_to_gcj02
from maps.navigation import navigation_links

GUIXI = (117.2150, 28.2900)  # lon, lat in WGS-84


def _query(uri: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(uri).query, keep_blank_values=True).items()}


def test_amap_gets_gcj02_to_the_sixth_decimal():
    # the reference pair of gis/chinacrs.py: Shanghai, WGS-84 → GCJ-02
    q = _query(navigation_links(121.5272106, 31.1774276, "人民广场")["amap"])
    assert (q["dlat"], q["dlon"]) == ("31.175304", "121.531542")
    assert q["dev"] == "0" and q["t"] == "2" and q["dname"] == "人民广场"


def test_each_app_gets_its_own_datum():
    links = navigation_links(*GUIXI, "贵溪站")
    gx, gy = (float(v) for v in wgs84_to_gcj02(*GUIXI))
    bx, by = (float(v) for v in wgs84_to_bd09(*GUIXI))
    amap, ios = _query(links["amap"]), _query(links["amap_ios"])
    assert (amap["dlon"], amap["dlat"]) == (f"{gx:.6f}", f"{gy:.6f}")
    assert ios == amap and links["amap_ios"].startswith("iosamap://path?")
    baidu = _query(links["baidu"])
    assert baidu["destination"] == f"latlng:{by:.6f},{bx:.6f}|name:贵溪站"
    assert baidu["coord_type"] == "bd09ll" and baidu["mode"] == "walking"
    assert (
        links["geo"]
        == "geo:28.290000,117.215000?q=28.290000,117.215000(%E8%B4%B5%E6%BA%AA%E7%AB%99)"
    )
    # the shift the conversion makes up for: some hundreds of metres in Guixi
    shift_m = Geod(ellps="WGS84").inv(*GUIXI, gx, gy)[2]
    assert 300 < shift_m < 900, shift_m


@pytest.mark.parametrize(
    ("mode", "t", "baidu"),
    [("walk", "2", "walking"), ("bike", "3", "riding"), ("drive", "0", "driving")],
)
def test_the_round_s_way_of_travel(mode, t, baidu):
    links = navigation_links(*GUIXI, "x", mode)
    assert _query(links["amap"])["t"] == t and _query(links["baidu"])["mode"] == baidu


def test_a_name_with_the_uris_own_signs_stays_one_name():
    name = "东门(北)&广场|1号 #2 ?q=3 100%"
    links = navigation_links(*GUIXI, name)
    assert _query(links["amap"])["dname"] == name
    destination = _query(links["baidu"])["destination"]
    assert destination.endswith(f"|name:{name}") and destination.count("|") == name.count("|") + 1
    label = links["geo"].split("(", 1)[1]
    assert label.endswith(")") and unquote(label[:-1]) == name
    assert all(c not in links["geo"].split("?", 1)[1][:-1].split("(", 1)[1] for c in "()&?# |")
