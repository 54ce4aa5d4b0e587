"""Planners edit zones on the map: draw with the mouse, reshape, and never lose an edit."""

import json
import time
import urllib.request

import pytest
from sqlalchemy import text

from service.store.db import Actor, set_actor
from tests.browser.conftest import watched_context
from tests.browser.test_planner_map import _sign_in
from tests.conftest import bearer

pytestmark = pytest.mark.browser

MAP = "Object.values(window).find(v => v instanceof L.Map)"


def _api(server, token, method, path, body=None, headers=None):
    req = urllib.request.Request(
        server + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={
            **bearer(token),
            "Content-Type": "application/geo+json",
            "Accept": "application/json",
            **(headers or {}),
        },
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.status, resp.headers.get("ETag"), json.loads(resp.read() or b"null")


def _go(page, lon, lat, zoom=17):
    page.evaluate(f"{MAP}.setView([{lat}, {lon}], {zoom}, {{animate: false}}) && null")
    page.wait_for_timeout(300)


def _pixel(page, lon, lat):
    """Where a place is on the screen."""
    return page.evaluate(
        f"""(() => {{ const m = {MAP}; const p = m.latLngToContainerPoint([{lat}, {lon}]);
        const r = m.getContainer().getBoundingClientRect(); return [r.x + p.x, r.y + p.y]; }})()"""
    )


def _unexpected(errors: list[str], status: int) -> list[str]:
    """Console errors other than Chromium's own line for a response with ``status``."""
    return [e for e in errors if f"status of {status}" not in e]


def _start_editing(page, layer="zones"):
    page.click("[data-tab=edit]")
    page.select_option("#cw-edit-layer", layer)
    page.click("#cw-edit-start")
    page.wait_for_function(
        "document.querySelector('#cw-edit-status').textContent.match(/\\d/)", timeout=30000
    )


def _zone_row(engine, code):
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT id, name, kind, version, ST_AsText(geom) AS wkt, "
                "ST_NPoints(geom) AS n FROM zone WHERE code = :c"
            ),
            {"c": code},
        ).first()


@pytest.fixture()
def square_zone(server, tokens, engine):
    """An 'area' zone of about 100 m a side, away from the others of its kind."""
    code = f"E{time.monotonic_ns() % 10**8}"
    lon, lat, d = 117.2265, 28.2745, 0.0005
    ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d]]
    with engine.connect() as conn:
        unit = conn.execute(text("SELECT code FROM unit ORDER BY code LIMIT 1")).scalar()
    status, _, body = _api(
        server,
        tokens["planner"][1],
        "POST",
        "/collections/zones/items",
        {
            "type": "Feature",
            "properties": {"code": code, "name": "编辑测试片区", "kind": "area", "unit": unit},
            "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
        },
    )
    assert status == 201
    yield {"code": code, "id": body["id"], "lon": lon, "lat": lat, "d": d}
    _forget(engine, "zone", "code", code)


def test_draw_a_zone_with_the_mouse_fill_its_form_save_and_find_it_again(page, server, engine):
    _sign_in(page, server)
    lon, lat = 117.2300, 28.2790
    _go(page, lon, lat, 17)
    _start_editing(page)
    page.click("#cw-edit-new")
    d = 0.0004
    corners = [(lon - d, lat - d), (lon + d, lat - d), (lon + d, lat + d), (lon - d, lat + d)]
    for c in corners:
        x, y = _pixel(page, *c)
        page.mouse.click(x, y)
        page.wait_for_timeout(150)
    # the drawing tool's hint speaks the page's language
    hints = page.locator(".leaflet-tooltip").all_inner_texts()
    assert any("单击第一个标记以完成" in h for h in hints), hints
    assert not any("Click first marker" in h for h in hints)
    x, y = _pixel(page, *corners[0])
    page.mouse.click(x, y)  # back on the first corner: the shape is closed
    page.wait_for_selector("#cw-edit-form:not([hidden])", timeout=10000)
    code = f"D{time.monotonic_ns() % 10**8}"
    page.fill("#cw-f-code", code)
    page.fill("#cw-f-name", "鼠标绘制片区")
    page.select_option("#cw-f-kind", "area")
    page.select_option("#cw-f-unit", index=0)
    page.click("#cw-edit-save")
    keep = page.locator("#cw-keep")
    page.wait_for_function(
        "document.querySelector('#cw-edit-status').textContent.includes('已保存')"
        " || !document.querySelector('#cw-edit-choice').hidden",
        timeout=15000,
    )
    if keep.is_visible():  # it crossed a zone of the same kind: keep it as drawn
        keep.click()
        page.wait_for_function(
            "document.querySelector('#cw-edit-status').textContent.includes('已保存')",
            timeout=15000,
        )
    row = _zone_row(engine, code)
    assert row is not None and row.name == "鼠标绘制片区" and row.kind == "area"
    with engine.connect() as conn:
        inside = conn.execute(
            text(
                "SELECT ST_Contains(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326)), "
                "ST_Area(geom::geography) FROM zone WHERE code = :c"
            ),
            {"x": lon, "y": lat, "c": code},
        ).first()
    assert inside[0] and 4_000 < inside[1] < 9_000, (row.wkt, page.evaluate(f"{MAP}.getZoom()"))
    page.reload()
    page.wait_for_selector(".leaflet-overlay-pane canvas", timeout=30000)
    found = page.evaluate(
        """(code) => Object.values(window).filter(v => v instanceof L.GeoJSON)
        .some(g => g.getLayers().some(l => l.feature.properties.code === code))""",
        code,
    )
    assert found
    assert page.watch.outside == [] and page.watch.errors == []
    _forget(engine, "zone", "code", code)


def _forget(engine, table: str, column: str, value: str) -> None:
    """Remove what a test made, so later tests see the demo city as loaded."""
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "test"))
        conn.execute(text(f"DELETE FROM {table} WHERE {column} = :v"), {"v": value})


def test_drag_a_vertex_and_save(page, server, engine, square_zone):
    before = _zone_row(engine, square_zone["code"])
    _sign_in(page, server)
    z = square_zone
    _go(page, z["lon"], z["lat"], 18)
    _start_editing(page)
    page.mouse.click(*_pixel(page, z["lon"], z["lat"]))
    page.wait_for_selector("#cw-edit-form:not([hidden])", timeout=10000)
    assert page.input_value("#cw-f-code") == z["code"]
    # the north-east corner, dragged 30 m or so further north-east
    x, y = _pixel(page, z["lon"] + z["d"], z["lat"] + z["d"])
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 20, y - 20, steps=8)
    page.mouse.up()
    page.click("#cw-edit-save")
    page.wait_for_function(
        "document.querySelector('#cw-edit-status').textContent.includes('已保存')",
        timeout=15000,
    )
    after = _zone_row(engine, z["code"])
    assert after.version == before.version + 1
    assert after.wkt != before.wkt
    with engine.connect() as conn:
        grown = conn.execute(
            text("SELECT ST_XMax(geom) > :x AND ST_YMax(geom) > :y FROM zone WHERE code = :c"),
            {"x": z["lon"] + z["d"] + 1e-6, "y": z["lat"] + z["d"] + 1e-6, "c": z["code"]},
        ).scalar()
    assert grown
    assert page.watch.outside == [] and page.watch.errors == []


def test_a_second_editor_sees_the_conflict_and_the_first_edit_survives(
    browser, server, engine, square_zone
):
    z = square_zone
    pages = []
    with (
        watched_context(browser) as (ctx_a, watch_a),
        watched_context(browser) as (
            ctx_b,
            watch_b,
        ),
    ):
        for ctx in (ctx_a, ctx_b):
            p = ctx.new_page()
            _sign_in(p, server)
            _go(p, z["lon"], z["lat"], 18)
            _start_editing(p)
            p.mouse.click(*_pixel(p, z["lon"], z["lat"]))
            p.wait_for_selector("#cw-edit-form:not([hidden])", timeout=10000)
            pages.append(p)
        first, second = pages
        first.fill("#cw-f-name", "第一位的修改")
        first.click("#cw-edit-save")
        first.wait_for_function(
            "document.querySelector('#cw-edit-status').textContent.includes('已保存')",
            timeout=15000,
        )
        second.fill("#cw-f-name", "第二位的修改")
        second.click("#cw-edit-save")
        box = second.locator("#cw-conflict")
        box.wait_for(state="visible", timeout=15000)
        shown = box.inner_text()
        assert "其他人已修改" in shown and "第一位的修改" in shown and "第二位的修改" in shown
        assert _zone_row(engine, z["code"]).name == "第一位的修改"
        # taking theirs loads the current version into the form
        second.click("#cw-conflict-reload")
        second.wait_for_function(
            "document.querySelector('#cw-f-name').value === '第一位的修改'", timeout=10000
        )
        assert watch_a.outside == [] and watch_a.errors == []
        # the browser logs the refused save itself; nothing else may go wrong
        assert watch_b.outside == [] and _unexpected(watch_b.errors, 412) == []


def test_a_rejected_save_says_why_next_to_the_field(page, server, engine, square_zone):
    z = square_zone
    _sign_in(page, server)
    _go(page, z["lon"], z["lat"], 18)
    _start_editing(page)
    page.mouse.click(*_pixel(page, z["lon"], z["lat"]))
    page.wait_for_selector("#cw-edit-form:not([hidden])", timeout=10000)
    page.fill("#cw-f-code", "X" * 40)  # longer than a code may be
    page.click("#cw-edit-save")
    err = page.locator(".cw-field-error[data-field='code']")
    err.wait_for(state="visible", timeout=10000)
    assert "32" in err.inner_text()
    assert _zone_row(engine, z["code"]) is not None  # nothing written
    assert page.watch.outside == [] and _unexpected(page.watch.errors, 422) == []


def test_zone_check_overlay_lists_findings_and_zooms_to_one(page, server):
    _sign_in(page, server)
    page.click("[data-tab=check]")
    page.click("#cw-check-run")
    items = page.locator("#cw-check-list li a")
    items.first.wait_for(timeout=30000)
    assert items.count() > 0
    zoom_before = page.evaluate(f"{MAP}.getZoom()")
    items.first.click()
    page.wait_for_timeout(600)
    assert page.evaluate(f"{MAP}.getZoom()") > zoom_before
    assert page.watch.outside == [] and page.watch.errors == []


def test_search_finds_a_zone_by_code(page, server, square_zone):
    _sign_in(page, server)
    page.click("[data-tab=find]")
    page.fill("#cw-search", square_zone["code"])
    page.press("#cw-search", "Enter")
    hit = page.locator("#cw-search-results li a")
    hit.first.wait_for(timeout=10000)
    assert square_zone["code"] in hit.first.inner_text()
    hit.first.click()
    page.wait_for_timeout(500)
    centre = page.evaluate(f"(() => {{ const c = {MAP}.getCenter(); return [c.lng, c.lat]; }})()")
    assert abs(centre[0] - square_zone["lon"]) < 1e-3 and abs(centre[1] - square_zone["lat"]) < 1e-3
    assert page.watch.outside == [] and page.watch.errors == []


def test_a_two_part_zone_stays_two_parts_when_one_is_reshaped(page, server, tokens, engine):
    code = f"M{time.monotonic_ns() % 10**8}"
    lon, lat, d = 117.2330, 28.2700, 0.0003

    def square(cx):
        ring = [[cx - d, lat - d], [cx + d, lat - d], [cx + d, lat + d], [cx - d, lat + d]]
        return [[*ring, ring[0]]]

    with engine.connect() as conn:
        unit = conn.execute(text("SELECT code FROM unit ORDER BY code LIMIT 1")).scalar()
    status, _, _ = _api(
        server,
        tokens["planner"][1],
        "POST",
        "/collections/zones/items",
        {
            "type": "Feature",
            "properties": {"code": code, "name": "两块片区", "kind": "river", "unit": unit},
            "geometry": {"type": "MultiPolygon", "coordinates": [square(lon), square(lon + 0.002)]},
        },
    )
    assert status == 201
    try:
        _sign_in(page, server)
        _go(page, lon + 0.001, lat, 18)
        _start_editing(page)
        page.mouse.click(*_pixel(page, lon + 0.002, lat))  # inside the second part
        page.wait_for_selector("#cw-edit-form:not([hidden])", timeout=10000)
        assert page.input_value("#cw-f-code") == code
        x, y = _pixel(page, lon + 0.002 + d, lat + d)
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 25, y - 10, steps=8)
        page.mouse.up()
        page.click("#cw-edit-save")
        page.wait_for_function(
            "document.querySelector('#cw-edit-status').textContent.includes('已保存')",
            timeout=15000,
        )
        with engine.connect() as conn:
            parts, first_same, second_wider = conn.execute(
                text(
                    "SELECT ST_NumGeometries(geom), least(ST_HausdorffDistance(ST_GeometryN(geom, "
                    "1), ST_GeomFromText(:first, 4326)), ST_HausdorffDistance(ST_GeometryN(geom, "
                    "2), ST_GeomFromText(:first, 4326))) < 1e-7, ST_XMax(geom) > :x "
                    "FROM zone WHERE code = :c"
                ),
                {
                    "first": "POLYGON(({}))".format(
                        ",".join(f"{a} {b}" for a, b in square(lon)[0])
                    ),
                    "x": lon + 0.002 + d + 1e-6,
                    "c": code,
                },
            ).one()
        assert parts == 2 and first_same and second_wider
        assert page.watch.outside == [] and page.watch.errors == []
    finally:
        _forget(engine, "zone", "code", code)
