"""The planner's map on the city's own base map (CHUANGWEN_TILES=own), with nothing from
outside the machine."""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path

import pytest
from PIL import Image

from maps.basemap import LAND
from tests.browser.conftest import watched_context
from tests.conftest import _serving

pytestmark = pytest.mark.browser

# the README's picture, remade when asked: CHUANGWEN_SCREENSHOTS=1 ./dev test tests/browser
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "planner-map.png"
LOADED = "img.leaflet-tile-loaded[src*='/tiles/basemap/']"


@pytest.fixture(scope="module")
def own_server(pg_url, engine, demo, tokens, app_home):
    with _serving(pg_url, app_home, CHUANGWEN_TILES="own") as base:
        yield base


def _street_pixels(png: bytes) -> int:
    img = Image.open(io.BytesIO(png)).convert("RGBA")
    return sum(
        1
        for r, g, b, a in img.get_flattened_data()
        if a and abs(r - LAND[0]) + abs(g - LAND[1]) + abs(b - LAND[2]) > 30
    )


def test_the_planner_map_draws_the_city_s_own_base_map(browser, own_server):
    with watched_context(browser) as (context, watch):
        page = context.new_page()
        page.goto(own_server + "/")
        page.fill("#username", "t_planner")
        page.fill("#password", "planner-password")
        page.click("button[type=submit]")
        page.wait_for_selector(".leaflet-overlay-pane canvas", timeout=30000)
        page.evaluate(
            "Object.values(window).find(v => v instanceof L.Map)"
            ".setView([28.29, 117.215], 16, {animate: false})"
        )
        page.wait_for_function(
            f'document.querySelectorAll("{LOADED}").length >= 6 && '
            "!document.querySelector('img.leaflet-tile:not(.leaflet-tile-loaded)')",
            timeout=30000,
        )
        srcs = page.evaluate(f'[...document.querySelectorAll("{LOADED}")].map(i => i.src)')
        assert len(srcs) >= 6 and all("/tiles/basemap/16/" in s for s in srcs)
        # the tiles as the page got them, read again with its cookies
        tiles = page.evaluate(
            """async (srcs) => Promise.all(srcs.map(async (s) => {
                const r = await fetch(s);
                const b = new Uint8Array(await r.arrayBuffer());
                let t = ''; for (const c of b) t += String.fromCharCode(c);
                return [r.status, r.headers.get('content-type'), btoa(t)];
            }))""",
            srcs,
        )
        assert all(status == 200 and kind == "image/png" for status, kind, _ in tiles)
        drawn = [_street_pixels(base64.b64decode(body)) for _, _, body in tiles]
        assert sum(n > 2000 for n in drawn) >= 2, drawn
        page.wait_for_timeout(300)
        if os.environ.get("CHUANGWEN_SCREENSHOTS"):
            page.screenshot(path=str(SCREENSHOT))
        assert watch.outside == []
        assert watch.errors == []
