import re

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import MultiPolygon, Point, box

from maps.assets import install_local_assets
from maps.page import add_page_chrome
from maps.planner import PlannerLayers, build_planner_map
from service.i18n import translator

EVIL = '<img src=x onerror="window.__xss=1">'


def _layers(description: str = "路边垃圾") -> PlannerLayers:
    square = MultiPolygon([box(117.20, 28.28, 117.21, 28.29)])
    areas = gpd.GeoDataFrame(
        {
            "id": [1],
            "code": ["360681"],
            "level": ["district"],
            "name": ["贵溪市"],
            "provenance": ["derived"],
        },
        geometry=[square],
        crs=4326,
    )
    cells = gpd.GeoDataFrame(
        {"id": [1], "code": ["360681001001001"], "size_m": [100], "community": ["江边社区"]},
        geometry=[square],
        crs=4326,
    )
    zones = gpd.GeoDataFrame(
        {
            "id": [1],
            "code": ["Z1"],
            "name": [EVIL],
            "kind": ["grid"],
            "unit_id": [3],
            "unit": ["江边社区居民委员会"],
            "first_person": ["张三"],
            "direct_person": ["李四"],
            "valid_from": pd.to_datetime(["2026-01-01"]),
            "version": [1],
            "provenance": ["user"],
        },
        geometry=[square],
        crs=4326,
    )
    points = gpd.GeoDataFrame(
        {
            "id": [1],
            "code": ["AP0001"],
            "name": ["江边农贸市场"],
            "category_code": ["farmers_market"],
            "category_zh": ["农贸市场"],
            "category_en": ["Farmers' market"],
            "color": ["#d62728"],
            "weight": [3.0],
            "radius_m": [200],
            "provenance": ["invented"],
        },
        geometry=[Point(117.205, 28.285)],
        crs=4326,
    )
    stalls = gpd.GeoDataFrame(
        {
            "id": [1],
            "code": ["ST1"],
            "name": ["夜市"],
            "opens_at": ["18:00"],
            "closes_at": ["02:00"],
            "allowed_categories": [["street_vending"]],
            "allowed_zh": ["占道经营"],
            "allowed_en": ["Street vending"],
            "provenance": ["invented"],
        },
        geometry=[MultiPolygon([box(117.204, 28.284, 117.205, 28.285)])],
        crs=4326,
    )
    violations = gpd.GeoDataFrame(
        {
            "id": [1],
            "case_no": ["C1"],
            "category_code": ["garbage_corner"],
            "category_zh": ["垃圾死角"],
            "category_en": ["Garbage dead corner"],
            "status": ["open"],
            "source": ["hotline"],
            "description": [description],
            "observed_at": ["2026-11-27 20:00"],
            "due_at": ["2026-11-28 20:00"],
            "provenance": ["user"],
        },
        geometry=[Point(117.2051, 28.2851)],
        crs=4326,
    )
    return PlannerLayers(
        areas,
        cells,
        zones,
        points,
        stalls,
        violations,
        [
            {
                "code": "farmers_market",
                "name_zh": "农贸市场",
                "name_en": "Farmers' market",
                "color": "#d62728",
            }
        ],
        (117.20, 28.28, 117.21, 28.29),
        4548,
    )


@pytest.fixture(autouse=True)
def _local_assets():
    install_local_assets("/static/vendor")


def test_user_text_is_escaped_in_the_page():
    m = build_planner_map(_layers(EVIL), translator("zh"), tiles="none")
    page = m.get_root().render()
    assert "<img src=x" not in page
    # the properties are embedded as JSON, where "&" itself is written \u0026
    assert "\\u0026lt;img src=x onerror=\\u0026quot;window.__xss=1" in page


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
