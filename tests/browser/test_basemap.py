"""The planner's map on the city's own base map (CHUANGWEN_TILES unset: the default, own),
with nothing from outside the machine: the tiles the page loaded draw streets and name them."""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path

import pytest
from PIL import Image

from maps.basemap import DRAWN, LAND
from tests.browser.conftest import watched_context
from tests.conftest import _serving

pytestmark = pytest.mark.browser

# the README's picture, remade when asked: CHUANGWEN_SCREENSHOTS=1 ./dev test tests/browser
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "planner-map.png"
LOADED = "img.leaflet-tile-loaded[src*='/tiles/basemap/']"


@pytest.fixture(scope="module")
def own_server(pg_url, engine, demo, tokens, app_home):
    # as an operator starts it: no CHUANGWEN_TILES in its environment
    with _serving(pg_url, app_home, unset=("CHUANGWEN_TILES",)) as base:
        yield base


def refetched_tiles(page) -> list[tuple[int, str, dict[str, int], bytes]]:
    """The base-map tiles the page has loaded, fetched again by the page itself (its
    cookies, its origin): status, content type, ``X-Basemap-Drawn`` and the PNG."""
    srcs = page.evaluate(f'[...document.querySelectorAll("{LOADED}")].map(i => i.src)')
    got = page.evaluate(
        """async (srcs) => Promise.all(srcs.map(async (s) => {
            const r = await fetch(s);
            const b = new Uint8Array(await r.arrayBuffer());
            let t = ''; for (const c of b) t += String.fromCharCode(c);
            return [r.status, r.headers.get('content-type'), r.headers.get('x-basemap-drawn'),
                    btoa(t)];
        }))""",
        srcs,
    )
    out = []
    for status, kind, header, body in got:
        counts = dict(p.split("=") for p in (header or "").split("; ") if p)
        out.append((status, kind, {k: int(v) for k, v in counts.items()}, base64.b64decode(body)))
    return out


def drawn_in_all(tiles) -> dict[str, int]:
    """What the tiles show together."""
    assert all(list(counts) == list(DRAWN) for _, _, counts, _ in tiles), tiles
    return {k: sum(counts[k] for _, _, counts, _ in tiles) for k in DRAWN}


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
            ".setView([28.29, 117.215], 16, {animate: false}) && null"
        )
        page.wait_for_function(
            f'document.querySelectorAll("{LOADED}").length >= 6 && '
            "!document.querySelector('img.leaflet-tile:not(.leaflet-tile-loaded)')",
            timeout=30000,
        )
        srcs = page.evaluate(f'[...document.querySelectorAll("{LOADED}")].map(i => i.src)')
        assert len(srcs) >= 6 and all("/tiles/basemap/16/" in s for s in srcs)
        # the tiles as the page got them, read again with its cookies
        tiles = refetched_tiles(page)
        assert all(status == 200 and kind == "image/png" for status, kind, _, _ in tiles)
        drawn = [_street_pixels(body) for _, _, _, body in tiles]
        assert sum(n > 2000 for n in drawn) >= 2, drawn
        shown = drawn_in_all(tiles)
        assert shown["streets"] > 0 and shown["labels"] > 0, shown  # streets, and their names
        assert shown["buildings"] > 0, shown  # the town centre's, from the OSM extract
        page.wait_for_timeout(300)
        if os.environ.get("CHUANGWEN_SCREENSHOTS"):
            page.screenshot(path=str(SCREENSHOT))
        assert watch.outside == []
        assert watch.errors == []
