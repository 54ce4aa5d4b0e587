"""An inspection round's page on the city's own base map (CHUANGWEN_TILES unset: the default,
own): the tiles it loaded draw the streets along the round and name them, and nothing is
asked of another server."""

from __future__ import annotations

import pytest

from tests.browser.conftest import sign_in_as, watched_context
from tests.browser.test_basemap import LOADED, drawn_in_all, refetched_tiles
from tests.browser.test_editing import _api
from tests.conftest import _serving

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def own_server(pg_url, engine, demo, tokens, app_home):
    with _serving(pg_url, app_home, unset=("CHUANGWEN_TILES",)) as base:
        yield base


def test_the_round_page_draws_and_names_the_streets_on_the_own_base_map(
    browser, own_server, tokens
):
    status, _, plan = _api(
        own_server,
        tokens["leader"][1],
        "POST",
        "/api/inspection-plans",
        {
            "date": "2026-12-01",
            "window_start": "09:00",
            "window_end": "11:00",
            "depot": [117.2150, 28.2900],
            "mode": "walk",
            "team": [tokens["inspector"][0].id],
        },
    )
    assert status == 201, plan
    with watched_context(browser) as (context, watch):
        page = context.new_page()
        sign_in_as(page, own_server, "t_leader", "leader-password")
        page.goto(f"{own_server}/inspection-plans/{plan['id']}")
        page.wait_for_function(
            f'document.querySelectorAll("{LOADED}").length >= 4 && '
            "!document.querySelector('img.leaflet-tile:not(.leaflet-tile-loaded)')",
            timeout=30000,
        )
        tiles = refetched_tiles(page)
        assert tiles and all(status == 200 and kind == "image/png" for status, kind, *_ in tiles)
        shown = drawn_in_all(tiles)
        assert shown["streets"] > 0 and shown["labels"] > 0, shown
        assert watch.outside == []
        assert watch.errors == []
