"""Links that hand a stop to the phone's map app, for the way there: AMap (高德, GCJ-02),
Baidu (百度, BD-09) and ``geo:`` (RFC 5870, WGS-84) for any other app.

Only URIs: the page asks no server for anything, and a tap opens an app already on the phone,
so a round works on an intranet without the internet. The stored WGS-84 position is
converted here, on the server, with ``gis.chinacrs``: Chinese map apps draw GCJ-02 (AMap,
Tencent) or BD-09 (Baidu), and an unconverted position lands up to several hundred metres off
(in Guixi some 600 m). Tencent Maps has no link of its own (its URI wants a developer key);
on Android it answers ``geo:`` like other apps.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from gis.chinacrs import wgs84_to_bd09, wgs84_to_gcj02

APPS = ("amap", "baidu", "geo")  # in the order the page offers them; AMap has most users
SOURCE = "chuangwen"  # how the apps' statistics name the page that called them
_AMAP_MODE = {"drive": 0, "walk": 2, "bike": 3}  # AMap's t: 0 car, 1 bus, 2 foot, 3 bike
_BAIDU_MODE = {"drive": "driving", "walk": "walking", "bike": "riding"}


def _deg(value: float) -> str:
    return f"{float(value):.6f}"  # 6 decimals: a tenth of a metre, as the apps take them


def _query(params: dict[str, str]) -> str:
    return urlencode(params, quote_via=quote, safe="")


def navigation_links(lon: float, lat: float, name: str, mode: str = "walk") -> dict[str, str]:
    """The URIs that open a map app with the way to (``lon``, ``lat``) in WGS-84, named:
    ``amap`` (Android), ``amap_ios``, ``baidu`` (both systems), ``geo`` (Android's standard);
    ``mode`` is the round's: walk, bike or drive.

    >>> links = navigation_links(121.5272106, 31.1774276, "人民广场")
    >>> links["geo"]
    'geo:31.177428,121.527211?q=31.177428,121.527211(%E4%BA%BA%E6%B0%91%E5%B9%BF%E5%9C%BA)'
    >>> links["amap"].split("&dname")[0]  # GCJ-02: some 500 m from the WGS-84 position
    'amapuri://route/plan/?sourceApplication=chuangwen&dlat=31.175304&dlon=121.531542'
    >>> links["baidu"].split("&")[0]  # BD-09, a further shift
    'baidumap://map/direction?destination=latlng:31.181329,121.538016|name:%E4%BA%BA%E6%B0%91%E5%B9%BF%E5%9C%BA'
    """
    gx, gy = (_deg(v) for v in wgs84_to_gcj02(lon, lat))
    bx, by = (_deg(v) for v in wgs84_to_bd09(lon, lat))
    x, y = _deg(lon), _deg(lat)
    label = quote(str(name), safe="")
    amap = _query(
        {
            "sourceApplication": SOURCE,
            "dlat": gy,
            "dlon": gx,
            "dname": str(name),
            "dev": "0",  # the position is GCJ-02 already: AMap is not to shift it again
            "t": str(_AMAP_MODE.get(mode, 2)),
        }
    )
    return {
        "amap": f"amapuri://route/plan/?{amap}",
        "amap_ios": f"iosamap://path?{amap}",
        "baidu": f"baidumap://map/direction?destination=latlng:{by},{bx}|name:{label}&"
        + _query(
            {
                "coord_type": "bd09ll",
                "mode": _BAIDU_MODE.get(mode, "walking"),
                "src": f"webapp.{SOURCE}.round",
            }
        ),
        "geo": f"geo:{y},{x}?q={y},{x}({label})",
    }
