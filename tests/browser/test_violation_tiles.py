"""The planner map with the cases drawn from vector tiles, as for a city of a million."""

import pytest
from sqlalchemy import text

from tests.browser.test_editing import _go, _pixel
from tests.browser.test_planner_map import _sign_in

pytestmark = pytest.mark.browser

# painted pixels of the violations tiles (canvas)
DRAWN = """(() => { let n = 0;
    for (const c of document.querySelectorAll('.leaflet-violationTiles-pane canvas')) {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) { n++; } }
    } return n; })()"""


def test_cases_come_from_tiles_and_a_click_shows_one(page, server, engine, demo):
    _sign_in(page, server)
    page.goto(server + "/?violations=tiles")
    page.locator(".leaflet-violationTiles-pane canvas").first.wait_for(timeout=30000)
    # the page embeds no case: every one drawn came in a tile
    assert page.evaluate(
        "Object.values(window).filter(v => v instanceof L.GeoJSON)"
        ".every(g => g.getLayers().every(l => !('case_no' in l.feature.properties)))"
    )
    page.wait_for_function(f"{DRAWN} > 500", timeout=30000)
    # close enough for the cases themselves (zoom 13 and up), then click one, away from the
    # panel and legend
    with engine.connect() as conn:
        case_no, lon, lat = conn.execute(
            text(
                "SELECT case_no, ST_X(geom), ST_Y(geom) FROM violation WHERE city_id = :c "
                "ORDER BY ST_Distance(geom, ST_SetSRID(ST_MakePoint(117.215, 28.29), 4326)) "
                "LIMIT 1"
            ),
            {"c": demo[0]},
        ).one()
    _go(page, lon + 0.002, lat, 17)  # the case left of centre
    page.wait_for_function(f"{DRAWN} > 0", timeout=30000)
    page.mouse.click(*_pixel(page, lon, lat))
    popup = page.locator(".cw-case")
    popup.wait_for(timeout=10000)
    shown = popup.inner_text()
    # the case as everywhere on the map: number, its owner and department by name
    assert "案卷号" in shown and case_no in shown
    assert "责任单位" in shown and "职能部门" in shown
    assert page.watch.outside == []
    assert page.watch.errors == []
