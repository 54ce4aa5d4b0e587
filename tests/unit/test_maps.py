import json
import re
from zoneinfo import ZoneInfo

import pytest
from branca.element import Element

from maps.assets import install_local_assets
from maps.escaping import html_text, literal_html, script_json
from maps.lazy import FetchedLayer
from maps.page import add_page_chrome
from maps.planner import PlannerLayers, build_planner_map
from maps.route import build_route_map
from maps.tools import PlannerTools
from service.web.i18n import translator

EVIL = '<img src=x onerror="window.__xss=1">'
# a script's end, a template literal's end and a Jinja expression (branca compiles what it
# renders: this would be evaluated on the server)
BREAKOUT = "</script><script>window.__xss=2</script>`;${window.__xss=3}{{ 6*7 }}{% if 1 %}"


def _layers(name: str = "农贸市场") -> PlannerLayers:
    """What the map page is told of a city: its extent and the catalogues (an admin edits
    their names, so they are user text too)."""
    return PlannerLayers(
        bounds=(117.20, 28.28, 117.21, 28.29),
        point_categories=[
            {
                "code": "farmers_market",
                "name_zh": name,
                "name_en": "Farmers' market",
                "color": "#d62728",
            }
        ],
        violation_categories={"garbage_corner": name},
        unit_colors={"U1": "#1f77b4"},
        zone_kinds=("grid", "road_segment"),
        sources=("hotline",),
    )


@pytest.fixture(autouse=True)
def _local_assets():
    install_local_assets("/static/vendor")


def test_user_text_is_escaped_in_the_page():
    m = build_planner_map(_layers(EVIL), translator("zh"), tiles="none")
    page = m.get_root().render()
    assert "<img src=x" not in page
    # the legend shows the name as text; the layers' options carry it as JSON
    assert "&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;" in page
    assert "\\u003cimg src=x onerror=" in page


def test_the_page_is_a_shell_whose_layers_are_asked_for():
    page = build_planner_map(_layers(), translator("zh"), tiles="none").get_root().render()
    asked = set(re.findall(r'"url": "/api/map/layers/(\w+)"', page))
    assert asked == {
        "areas",
        "zones",
        "stall_areas",
        "ad_sites",
        "ad_gaps",
        "assessment_points",
        "violations",
    }
    assert '"type": "Feature"' not in page and "FeatureCollection" not in page
    assert "L.control.scale({imperial: false" in page


def test_no_outside_host_with_tiles_none():
    m = build_planner_map(_layers(), translator("zh"), tiles="none")
    add_page_chrome(
        m,
        title="<b>贵溪</b>",
        user="admin",
        links=[("English", "?lang=en")],
        logout=("退出", "/logout"),
        stylesheet="/static/chuangwen.css",
        csrf_token="x",
    )
    page = m.get_root().render()
    urls = re.findall(r'(?:src|href)=["\']([^"\']+)', page)
    assert urls, "the page loads scripts and styles"
    assert all(u.startswith(("/", "?", "#")) for u in urls), urls
    assert not re.search(r"https?://(?!www\.openstreetmap\.org/copyright)", page.split("<body>")[0])
    assert "tile.openstreetmap.org" not in page
    assert "<b>贵溪</b>" not in page and "&lt;b&gt;贵溪&lt;/b&gt;" in page


def test_osm_tiles_when_asked_and_intranet_template_passed_through():
    page = build_planner_map(_layers(), translator("zh"), tiles="osm").get_root().render()
    assert "tile.openstreetmap.org/{z}/{x}/{y}.png" in page
    intranet = "http://10.1.2.3/tiles/{z}/{x}/{y}.png"
    page = build_planner_map(_layers(), translator("zh"), tiles=intranet).get_root().render()
    assert intranet in page


def test_layers_are_named_in_the_chosen_language():
    zh = build_planner_map(_layers(), translator("zh"), tiles="none").get_root().render()
    en = build_planner_map(_layers(), translator("en"), lang="en", tiles="none").get_root().render()
    assert "测评点位" in zh and "责任区" in zh
    assert "Assessment points" in en and "Responsibility zones" in en
    assert "Farmers&#39; market" in en or "Farmers&#x27; market" in en


def test_layers_type_is_checked():
    with pytest.raises(TypeError, match="PlannerLayers"):
        build_planner_map({}, translator("zh"))


def _chrome(m, text, nonce=None):
    return add_page_chrome(
        m,
        title=text,
        user=text,
        links=[(text, "?lang=en")],
        logout=("退出", "/logout"),
        stylesheet="/static/chuangwen.css",
        csrf_token="x",
        nonce=nonce,
    )


def test_no_user_text_can_end_a_script_or_reach_jinja():
    t = translator("zh")
    m = build_planner_map(_layers(EVIL + BREAKOUT), t, tiles="none")
    m.add_child(PlannerTools({"units": [["U1", BREAKOUT]]}))
    FetchedLayer("zones", {"url": "/z", "colors": {BREAKOUT: "#000"}}).add_to(m)
    page = _chrome(m, BREAKOUT).get_root().render()
    assert "window.__xss=2</script>" not in page and "<!--" not in page
    assert not re.search(r"\{[{%#]", page), re.findall(r".{60}\{[{%#].{20}", page)
    assert "&#123;&#123; 6*7 &#125;&#125;" in page  # the title bar, as text
    config = re.search(r'id="cw-config">(.*?)</script>', page).group(1)
    assert json.loads(config)["units"] == [["U1", BREAKOUT]]  # the same text for the script


def _plan(name: str) -> dict:
    return {
        "id": 7,
        "date": "2026-11-29",
        "window_start": "2026-11-29T20:00:00+08:00",
        "window_end": "2026-11-29T23:00:00+08:00",
        "released": True,
        "depot": [117.2, 28.28],
        "stops": [
            {
                "seq": 1,
                "point_id": 1,
                "code": name[:32],
                "name": name,
                "lon": 117.201,
                "lat": 28.281,
                "eta": "2026-11-29T20:10:00+08:00",
                "dwell_s": 600,
                "arrived_at": None,
            }
        ],
        "travel_s": 600,
        "dwell_s": 600,
        "distance_m": 800,
        "geometry": None,
        "notes": [name],
    }


def test_a_stop_name_stays_inside_its_popup_and_tooltip():
    m = build_route_map(
        _plan(EVIL + BREAKOUT),
        {1: {"checklist": [BREAKOUT], "cases": []}},
        translator("zh"),
        ZoneInfo("Asia/Shanghai"),
        arrive_url="/a/{seq}",
        report_url="/report",
        csrf_token="x",
        tiles=lambda mm: None,
    )
    page = _chrome(m, "round", nonce="N0nce").get_root().render()
    script = page.split("</body>")[1]
    # folium writes popups and tooltips between backticks: none of the user's may be there
    literals = re.findall(r"`(.*?)`", script, re.S)
    assert literals and all("onerror" not in x or "&lt;img" in x for x in literals)
    assert "window.__xss=3" in "".join(literals) and "${" not in "".join(literals)
    assert script.count("`") % 2 == 0
    assert "onclick" not in page  # the print button is wired by the page's script


def test_the_nonce_goes_to_the_builders_scripts_and_no_other():
    m = build_planner_map(_layers(), translator("zh"), tiles="none")
    m.add_child(PlannerTools({"units": []}))
    _chrome(m, "贵溪", nonce="N0nce")
    # a script in the body (there is none: but were a builder to write one from data)
    m.get_root().html.add_child(Element("<script>window.__xss=1</script>"))
    page = m.get_root().render()
    head, rest = page.split("</head>")
    body, after = rest.split("</body>")
    tags = re.findall(r"<script\b[^>]*>", head + after)
    assert tags and all('nonce="N0nce"' in x or "application/json" in x for x in tags), tags
    assert re.findall(r"<script\b[^>]*>", body) == ["<script>"]
    assert page.startswith("<!DOCTYPE html>") and after.count("<script") == 1


def test_escaping_helpers_round_trip():
    assert html_text(None) == "" and html_text(3) == "3"
    assert json.loads(script_json({"a": BREAKOUT, "b": [1, None]})) == {
        "a": BREAKOUT,
        "b": [1, None],
    }
    assert not re.search(r"[<>&]|\{[{%#]", script_json(BREAKOUT))
    with pytest.raises(ValueError, match="Jinja"):
        literal_html("<b>{{ x }}</b>")
    assert literal_html(f"<b>{html_text(BREAKOUT)}</b>").count("`") == 0
