"""The round's page as HTML (maps/route.py, maps/round_sheet.py): every user text escaped in
the list, the head, the paper sheet and the map-app links; the paper sheet after the map;
times in the city's zone."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

from maps.page import add_page_chrome
from maps.route import build_route_map
from service.web.i18n import translator

EVIL = '<img src=x onerror="window.__xss=1">'
BREAKOUT = "</script><script>window.__xss=2</script>`;${window.__xss=3}{{ 6*7 }}{% if 1 %}"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _plan(name: str) -> dict:
    stop = {
        "seq": 1,
        "point_id": 7,
        "code": "AP0007",
        "name": name,
        "category": "school",
        "lon": 117.201,
        "lat": 28.281,
        "eta": "2026-11-29T12:10:00+00:00",  # 20:10 in the city
        "dwell_s": 600,
        "arrived_at": None,
    }
    return {
        "id": 9,
        "date": "2026-11-29",
        "window_start": "2026-11-29T20:00:00+08:00",
        "window_end": "2026-11-29T23:00:00+08:00",
        "release_at": "2026-11-29T19:00:00+08:00",
        "released": True,
        "mode": "walk",
        "depot": [117.2, 28.28],
        "stops": [stop, {**stop, "seq": 2, "point_id": 8, "name": "第二站"}],
        "travel_s": 600,
        "dwell_s": 1200,
        "distance_m": 800,
        "geometry": None,
        "notes": [BREAKOUT],
    }


def _page(plan: dict, details: dict) -> str:
    m = build_route_map(
        plan,
        details,
        translator("zh"),
        SHANGHAI,
        arrive_url="/a/{seq}",
        report_url="/report",
        csrf_token="x",
        tiles=lambda mm: None,
        point_categories={"school": "学校"},
        case_categories={"graffiti": "乱涂乱画"},
        stylesheet="/static/round.css",
        script="/static/round.js",
    )
    add_page_chrome(
        m,
        title="t",
        user="u",
        links=[],
        logout=("x", "/logout"),
        stylesheet="/static/chuangwen.css",
        csrf_token="x",
        nonce="N0nce",
    )
    return m.get_root().render()


def _details(text: str) -> dict:
    case = {
        "id": 1,
        "case_no": text,
        "category": "graffiti",
        "status": "open",
        "severity": 2,
        "distance_m": 12.0,
        "observed_at": dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC),
        "due_at": dt.datetime(2026, 11, 21, 1, 0, tzinfo=dt.UTC),  # 09:00 in the city
        "overdue": True,
        "unit": text,
        "department": "城市管理办公室",
    }
    info = {"checklist": [text], "street": text, "address": None, "cases": [case]}
    return {7: info, 8: {**info, "cases": []}}


def test_user_text_is_text_everywhere_on_the_round_page():
    page = _page(_plan(EVIL + BREAKOUT), _details(EVIL + BREAKOUT))
    body = page.split("<body>")[1].split("</body>")[0]
    assert "<img" not in body and "<script>window" not in body
    assert "&#123;&#123; 6*7 &#125;&#125;" in body  # no Jinja ran over a name
    assert body.count("&lt;img src=x") >= 6  # list, head, paper, ... all there, as text
    # the map-app links hold the name quoted: nothing of it can leave the attribute
    for href in re.findall(r'href="((?:amapuri|iosamap|baidumap|geo):[^"]*)"', page):
        assert not re.search(r"[<>\"'`{}$ ]", href), href


def test_the_paper_sheet_comes_after_the_map_with_each_stop_and_its_cases():
    page = _page(_plan("北门小学"), _details("DEMO000001"))
    body = page.split("<body>")[1]
    assert body.index('class="folium-map"') < body.index('id="cw-print-sheet"')
    sheet = body[body.index('id="cw-print-sheet"') :]
    stops = re.findall(r'<article class="cw-print-stop" data-seq="(\d)">', sheet)
    assert stops == ["1", "2"]
    first = sheet.split("<article")[1]
    assert "学校" in first and "20:10" in first and "school" not in first
    assert "乱涂乱画" in first and "新发现" in first and "2026-11-21 09:00" in first
    assert '<td class="cw-overdue">已逾期</td>' in first
    assert "城市管理办公室" in first
    # the stylesheet and the script of the round come after the page's own stylesheet
    head = page.split("</head>")[0]
    assert head.index("chuangwen.css") < head.index("round.css")
    assert '<script nonce="N0nce" src="/static/round.js"></script>' in head
