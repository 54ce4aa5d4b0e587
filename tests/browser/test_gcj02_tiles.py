"""A tile server in GCJ-02 (AMap, Tencent) under the WGS-84 layers: each tile is moved by the
offset where it lies (CHUANGWEN_TILES_GCJ02)."""

from __future__ import annotations

import math

import pytest

from gis.chinacrs import wgs84_to_gcj02
from tests.browser.conftest import sign_in_as, watched_context
from tests.browser.test_planner_map import READY
from tests.conftest import _serving

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def gcj_server(pg_url, engine, demo, tokens, app_home):
    # a "tile server" of the intranet: here this server's own tiles, as a URL template
    with _serving(
        pg_url,
        app_home,
        CHUANGWEN_TILES="/tiles/basemap/{z}/{x}/{y}.png",
        CHUANGWEN_TILES_GCJ02="true",
    ) as base:
        yield base


def _pixel(lon: float, lat: float, z: int) -> tuple[float, float]:
    scale = 256 * 2**z
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    return (lon + 180) / 360 * scale, (1 - y / math.pi) / 2 * scale


def test_gcj02_tiles_are_moved_onto_the_wgs84_layers(browser, gcj_server):
    with watched_context(browser) as (ctx, watch):
        page = ctx.new_page()
        sign_in_as(page, gcj_server, "t_planner", "planner-password")
        page.wait_for_function(READY, timeout=30000)
        page.evaluate(
            "() => { Object.values(window).find(v => v instanceof L.Map)"
            ".setView([28.29, 117.215], 16, {animate: false}); }"
        )
        page.wait_for_function(
            "document.querySelectorAll('img.leaflet-tile-loaded').length >= 4", timeout=30000
        )
        tiles = page.evaluate(
            """() => Object.values(window.cwBaseTiles._tiles).filter(t => t.current)
            .map(t => { const c = t.coords, base = L.TileLayer.prototype._getTilePos
                            .call(window.cwBaseTiles, c), at = L.DomUtil.getPosition(t.el);
                        return [c.x, c.y, c.z, at.x - base.x, at.y - base.y]; })"""
        )
        assert len(tiles) >= 4
        for x, y, z, dx, dy in tiles:
            # the tile's centre in WGS-84, and where GCJ-02 puts it
            n = 2**z
            lon = (x + 0.5) / n * 360 - 180
            lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + 0.5) / n))))
            glon, glat = (float(v) for v in wgs84_to_gcj02(lon, lat))
            px, py = _pixel(lon, lat, z)
            gx, gy = _pixel(glon, glat, z)
            # Guixi's offset is hundreds of metres: tens of pixels at zoom 16, each tile moved
            # by it to the pixel
            assert abs(px - gx) > 20
            assert abs(dx - (px - gx)) <= 1 and abs(dy - (py - gy)) <= 1, (dx, dy, px - gx)
        assert watch.outside == [] and watch.errors == []
