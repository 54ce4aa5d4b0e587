"""A city too big to embed: cells and cases from tiles, zones and points read for the view,
and the tools still work on them."""

import pytest
from sqlalchemy import text

from tests.browser.test_editing import MAP, _go, _pixel, _start_editing
from tests.browser.test_planner_map import _sign_in

pytestmark = pytest.mark.browser


def test_big_layers_are_read_for_the_view_not_embedded(page, big_city_server, engine, demo):
    _sign_in(page, big_city_server)
    # nothing big in the page itself: at first only the areas and stall areas are drawn
    embedded = page.evaluate(
        "Object.values(window).filter(v => v instanceof L.GeoJSON && v.getLayers().length)"
        ".map(g => g.getLayers().length)"
    )
    with engine.connect() as conn:
        small = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM admin_area WHERE city_id = :c) "
                "+ (SELECT count(*) FROM stall_area WHERE city_id = :c)"
            ),
            {"c": demo[0]},
        ).scalar()
        point = conn.execute(
            text(
                "SELECT code, name, ST_X(ST_PointOnSurface(geom)) x, "
                "ST_Y(ST_PointOnSurface(geom)) y FROM assessment_point "
                "WHERE city_id = :c AND active ORDER BY id LIMIT 1"
            ),
            {"c": demo[0]},
        ).one()
    assert sum(embedded) <= small
    size = page.evaluate("performance.getEntriesByType('navigation')[0].decodedBodySize")
    assert size < 300_000
    # close in, the points around the view arrive from the features API
    _go(page, point.x, point.y, 17)
    page.wait_for_function(
        """(code) => Object.values(window).filter(v => v instanceof L.GeoJSON).some(g =>
            g.getLayers().some(l => l.feature && l.feature.properties.code === code))""",
        arg=point.code,
        timeout=15000,
    )
    # grid cells come as tiles
    page.wait_for_function(
        f"""(() => {{ const m = {MAP}; let n = 0; m.eachLayer(l => {{
            if (l instanceof L.VectorGrid && l._url.includes('grid_cells'))
                {{ n += Object.keys(l._tiles).length; }} }}); return n > 0; }})()""",
        timeout=15000,
    )
    # a click on the point shows its popup, its name as text
    page.mouse.click(*_pixel(page, point.x, point.y))
    popup = page.locator(".cw-popup:not(.cw-case)", has_text=point.code)
    popup.wait_for(timeout=10000)
    assert point.name in popup.inner_text()
    # editing loads the zones in view and hides the layer it replaces
    _start_editing(page)
    assert "责任区" in page.inner_text("#cw-edit-status")
    assert page.watch.outside == [] and page.watch.errors == []
