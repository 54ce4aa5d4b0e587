"""The planner map with the cases drawn from vector tiles, as for a city of a million."""

import pytest
from sqlalchemy import text

from tests.browser.test_planner_map import _sign_in

pytestmark = pytest.mark.browser


def test_cases_come_from_tiles_and_a_click_shows_one(page, server, engine, demo):
    _sign_in(page, server)
    page.goto(server + "/?violations=tiles")
    tiles = page.locator(".leaflet-violationTiles-pane path")
    tiles.first.wait_for(timeout=30000)
    # the page embeds no case: every one drawn came in a tile
    assert page.evaluate(
        "Object.values(window).filter(v => v instanceof L.GeoJSON)"
        ".every(g => g.getLayers().every(l => !('case_no' in l.feature.properties)))"
    )
    assert tiles.count() > 50
    # close enough for the cases themselves (zoom 13 and up), then click one
    page.evaluate("Object.values(window).find(v => v instanceof L.Map).setZoom(16) && null")
    page.wait_for_timeout(500)
    tiles.first.wait_for(timeout=30000)
    # a case on the map, not under its controls or legend
    x, y = page.evaluate(
        """(() => {
        for (const p of document.querySelectorAll('.leaflet-violationTiles-pane path')) {
            const r = p.getBoundingClientRect(), x = r.x + r.width / 2, y = r.y + r.height / 2;
            const at = document.elementFromPoint(x, y);
            if (x > 0 && y > 0 && x < innerWidth && y < innerHeight && at
                && at.closest(".leaflet-container") && !at.closest(".leaflet-control")
                && !at.closest("#legend")) {
                return [x, y];
            }
        }
        return null;
    })()"""
    )
    page.mouse.click(x, y)
    popup = page.locator(".violation-popup")
    popup.wait_for(timeout=10000)
    shown = popup.inner_text()
    with engine.connect() as conn:
        cases = set(
            conn.execute(
                text("SELECT case_no FROM violation WHERE city_id = :c"), {"c": demo[0]}
            ).scalars()
        )
    assert "案卷号" in shown and any(c in shown for c in cases)
    assert page.watch.outside == []
    assert page.watch.errors == []
