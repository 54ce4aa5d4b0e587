"""Stored script injection: names, codes, addresses and descriptions that are HTML, a script,
a template-literal breakout and a Jinja expression are shown as text on every page that
shows them, and every page carries its Content-Security-Policy."""

import re
import time

import pytest
from sqlalchemy import text

from service.store.db import Actor, set_actor
from tests.browser.conftest import sign_in_as, watched_context
from tests.browser.test_editing import MAP, _api, _go, _pixel, _start_editing
from tests.browser.test_planner_map import _sign_in
from tests.conftest import EVIL_TEXT

pytestmark = pytest.mark.browser

# every kind of breakout in one text: markup, the end of a <script>, the end of a JS template
# literal (folium writes popups between backticks) and a Jinja expression (branca compiles
# what it renders)
NAME = (
    EVIL_TEXT
    + "</script><script>window.__xss=2</script>"
    + "`;window.__xss=3;`${window.__xss=3}"
    + "{{ 6*7 }}"
)
M = 1 / 111_320  # a metre of latitude, in degrees


def _codes(n: int) -> dict[str, str]:
    """Codes are at most 32 characters."""
    return {
        "zone": f"{n}<img src=x onerror=__xss=4>",
        "a": f"{n}<img src=x onerror=__xss=5>",
        "b": f"{n}`${{window.__xss=6}}`{{{{6*7}}}}",
    }


def _square(lon, lat, half_m):
    dx, dy = half_m * M / 0.88, half_m * M  # cos(28°) ≈ 0.88
    ring = [[lon - dx, lat - dy], [lon + dx, lat - dy], [lon + dx, lat + dy], [lon - dx, lat + dy]]
    return [[*ring, ring[0]]]


@pytest.fixture(scope="module")
def evil(server, tokens, engine, demo):
    """A unit, its person, an area, a small zone (a sliver: the zone check lists it), two
    assessment points beside it and an open case near them, all named with ``NAME``, in a
    quiet corner of the demo city; removed afterwards."""
    city = demo[0]
    n = time.monotonic_ns() % 10**4
    codes = _codes(n)
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "test-xss"))
        lon, lat = conn.execute(
            text(
                "SELECT ST_X(c), ST_Y(c) FROM (SELECT code, ST_Centroid(geom) c FROM grid_cell "
                "WHERE city_id = :c) g WHERE NOT EXISTS (SELECT 1 FROM assessment_point p "
                "WHERE p.city_id = :c AND ST_DWithin(p.geom::geography, g.c::geography, 250)) "
                "AND NOT EXISTS (SELECT 1 FROM violation v WHERE v.city_id = :c "
                "AND ST_DWithin(v.geom::geography, g.c::geography, 80)) "
                "AND NOT EXISTS (SELECT 1 FROM stall_area s WHERE s.city_id = :c "
                "AND ST_DWithin(s.geom::geography, g.c::geography, 100)) ORDER BY g.code LIMIT 1"
            ),
            {"c": city},
        ).one()
        unit_id = conn.execute(
            text(
                "INSERT INTO unit (city_id, code, name, kind, provenance) "
                "VALUES (:c, :code, :name, 'company', 'user') RETURNING id"
            ),
            {"c": city, "code": f"XSSU{n}", "name": NAME},
        ).scalar()
        person_id = conn.execute(
            text(
                "INSERT INTO person (city_id, name, title, unit_id, provenance) "
                "VALUES (:c, :name, :name, :u, 'user') RETURNING id"
            ),
            {"c": city, "name": NAME, "u": unit_id},
        ).scalar()
        area_code = f"3606819{n:05d}"
        conn.execute(
            text(
                "INSERT INTO admin_area (city_id, code, level, name, provenance, geom) VALUES "
                "(:c, :code, 'community', :name, 'user', ST_Multi(ST_Envelope(ST_Buffer("
                "ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography, 120)::geometry)))"
            ),
            {"c": city, "code": area_code, "name": NAME, "x": lon, "y": lat},
        )
    planner = tokens["planner"][1]
    status, _, zone = _api(
        server,
        planner,
        "POST",
        "/collections/zones/items",
        {
            "type": "Feature",
            "properties": {
                "code": codes["zone"],
                "name": NAME,
                "kind": "area",
                "unit": f"XSSU{n}",
                "first_person_id": person_id,
                "direct_person_id": person_id,
            },
            "geometry": {"type": "Polygon", "coordinates": _square(lon, lat, 3)},
        },
    )
    assert status == 201
    with engine.connect() as conn:
        category = conn.execute(
            text("SELECT code FROM assessment_point_category WHERE city_id = :c ORDER BY code"),
            {"c": city},
        ).scalar()
    points = {}
    for key, dx in (("a", 40), ("b", -40)):
        status, _, point = _api(
            server,
            planner,
            "POST",
            "/collections/assessment_points/items",
            {
                "type": "Feature",
                "properties": {
                    "code": codes[key],
                    "name": NAME,
                    "category": category,
                    "address": NAME,
                    "weight": 100,
                    "radius_m": 100,
                },
                "geometry": {"type": "Point", "coordinates": [lon + dx * M / 0.88, lat]},
            },
        )
        assert status == 201
        points[key] = {"id": int(point["id"]), "lon": lon + dx * M / 0.88, "lat": lat}
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "test-xss"))
        conn.execute(
            text(
                "INSERT INTO violation (city_id, case_no, category_code, description, observed_at,"
                " source, provenance, geom) VALUES (:c, :n, 'graffiti', :d, now(), 'citizen', "
                "'user', ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
            ),
            {"c": city, "n": f"XSSV{n}", "d": NAME, "x": lon, "y": lat + 25 * M},
        )
    yield {
        "lon": lon,
        "lat": lat,
        "codes": codes,
        "area": area_code,
        "zone_id": int(zone["id"]),
        "points": points,
    }
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "test-xss"))
        params = {"c": city, "d": NAME, "u": unit_id, "a": area_code}
        for sql in (
            "DELETE FROM violation WHERE city_id = :c AND (description = :d OR unit_id = :u)",
            "DELETE FROM inspection_plan WHERE city_id = :c AND area_id = "
            "(SELECT id FROM admin_area WHERE city_id = :c AND code = :a)",
            "DELETE FROM inspection_stop WHERE city_id = :c AND point_id IN "
            "(SELECT id FROM assessment_point WHERE city_id = :c AND name = :d)",
            "DELETE FROM zone WHERE city_id = :c AND unit_id = :u",
            "DELETE FROM assessment_point WHERE city_id = :c AND name = :d",
            "DELETE FROM person WHERE city_id = :c AND unit_id = :u",
            "DELETE FROM unit WHERE city_id = :c AND id = :u",
            "DELETE FROM admin_area WHERE city_id = :c AND code = :a",
        ):
            conn.execute(text(sql), params)


def _secured(resp) -> str:
    """The response's security headers; its CSP nonce."""
    h = resp.headers
    csp = h.get("content-security-policy", "")
    for part in (
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "connect-src 'self'",
        "img-src 'self' data: blob:",
    ):
        assert part in csp, (part, csp)
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";")[0]
    assert h.get("x-content-type-options") == "nosniff"
    assert h.get("x-frame-options") == "DENY"
    assert h.get("referrer-policy") == "same-origin"
    return re.search(r"script-src 'self' 'nonce-([^']+)'", csp).group(1)


def _only_our_scripts(html: str, nonce: str) -> None:
    """Every script tag of the page is one the page's code wrote: it carries the nonce (or is
    a JSON data block); user text produced none."""
    assert "<script>window.__xss" not in html and "{{ 6*7 }}" not in html
    for tag in re.findall(r"<script\b[^>]*>", html, re.IGNORECASE):
        assert f'nonce="{nonce}"' in tag or 'type="application/json"' in tag, tag


def _open(page, url: str) -> None:
    resp = page.goto(url)
    _only_our_scripts(resp.text(), _secured(resp))


def _clean(page, watch) -> None:
    """Nothing ran, no element has an inline handler, nothing was refused or failed."""
    assert page.evaluate("window.__xss") is None
    handlers = page.evaluate(
        "[...document.querySelectorAll('*')].filter(e => [...e.attributes]"
        ".some(a => a.name.startsWith('on'))).map(e => e.outerHTML.slice(0, 80))"
    )
    assert handlers == []
    assert watch.outside == [] and watch.errors == []


def _literal(shown: str) -> None:
    """Text that shows user text shows it as typed: escaped once, not twice."""
    assert not re.search(r"&(lt|gt|quot|amp|#\d+);", shown), shown


# open the tooltip and popup of every feature of the map's GeoJSON layers whose values hold
# ``needle``; their text and how many <img> they hold
OPEN_ALL = """(needle) => {
    const shown = [];
    const read = (o) => {
        const el = o && o.getElement && o.getElement();
        return el ? {text: el.innerText, imgs: el.querySelectorAll('img').length} : null;
    };
    for (const g of Object.values(window).filter(v => v instanceof L.GeoJSON)) {
        for (const l of g.getLayers()) {
            const p = (l.feature && l.feature.properties) || {};
            if (!Object.values(p).some(v => typeof v === 'string' && v.includes(needle))) {
                continue;
            }
            const at = l.getLatLng ? l.getLatLng() : l.getBounds().getCenter();
            for (const [open, get, close] of [['mouseover', 'getTooltip', 'closeTooltip'],
                                              ['click', 'getPopup', 'closePopup']]) {
                const owner = l[get]() ? l : g;
                if (!owner[get]()) { continue; }
                if (owner === l) {
                    l[open === 'click' ? 'openPopup' : 'openTooltip'](at);
                } else {
                    l.fire(open, {latlng: at}, true);
                }
                shown.push(read(owner[get]()));
                owner[close]();
            }
        }
    }
    return shown;
}"""


def _opened(page) -> list[dict]:
    shown = page.evaluate(OPEN_ALL, "onerror")
    assert shown and all(s is not None for s in shown), shown
    assert all(s["imgs"] == 0 for s in shown), shown
    for s in shown:
        _literal(s["text"])
    return shown


def test_planner_map_popups_tooltips_and_panel_show_text(page, server, evil):
    _sign_in(page, server)
    _open(page, server + "/")
    page.wait_for_selector(".leaflet-overlay-pane canvas", timeout=30000)
    shown = " ".join(s["text"] for s in _opened(page))
    codes = evil["codes"]
    for literal in (NAME, codes["zone"], codes["a"], codes["b"]):
        assert literal in shown
    # the panel's pick lists: the unit and the person by name
    units = page.locator("#cw-filter-unit option").all_inner_texts()
    assert any(NAME in u for u in units)
    _clean(page, page.watch)


def test_edit_mode_tooltips_show_text(page, server, evil):
    _sign_in(page, server)
    _go(page, evil["lon"], evil["lat"], 18)
    _start_editing(page, "zones")
    tip = page.locator(".leaflet-tooltip-pane .leaflet-tooltip")
    page.mouse.move(*_pixel(page, evil["lon"], evil["lat"]))
    tip.first.wait_for(timeout=10000)
    assert tip.first.inner_text() == NAME and tip.first.locator("img").count() == 0
    page.mouse.move(5, 300)
    _start_editing(page, "assessment_points")
    a = evil["points"]["a"]
    page.mouse.move(*_pixel(page, a["lon"], a["lat"]))
    page.wait_for_function(
        "(name) => [...document.querySelectorAll('.leaflet-tooltip')]"
        ".some(t => t.innerText === name)",
        arg=NAME,
        timeout=10000,
    )
    page.mouse.click(*_pixel(page, a["lon"], a["lat"]))
    page.wait_for_selector("#cw-edit-form:not([hidden])", timeout=10000)
    assert page.input_value("#cw-f-name") == NAME and page.input_value("#cw-f-address") == NAME
    assert NAME in page.inner_text("#cw-edit-status")
    assert page.locator("#cw-panel img").count() == 0
    _clean(page, page.watch)


def test_zone_check_search_and_problem_points_show_text(page, server, evil):
    _sign_in(page, server)
    code = evil["codes"]["zone"]
    page.click("[data-tab=check]")
    page.click("#cw-check-run")
    page.locator("#cw-check-list li a").first.wait_for(timeout=30000)
    mine = page.locator("#cw-check-list li a", has_text=code)
    assert mine.count() >= 1
    mine.first.click()
    tip = page.locator(".leaflet-tooltip", has_text=code)
    tip.first.wait_for(timeout=10000)
    assert tip.first.locator("img").count() == 0
    _literal(tip.first.inner_text())
    # search: names anywhere
    page.click("[data-tab=find]")
    page.fill("#cw-search", "onerror")
    page.press("#cw-search", "Enter")
    hits = page.locator("#cw-search-results li a")
    hits.first.wait_for(timeout=10000)
    assert any(NAME in h for h in hits.all_inner_texts())
    # problem points: the two points, ranked high by their weight and the case near them
    page.click("[data-tab=problems]")
    item = page.locator("#cw-problem-points li", has_text=evil["codes"]["a"])
    item.first.wait_for(timeout=15000)
    assert NAME in item.first.inner_text()
    item.first.locator("a").click()
    item.first.locator(".cw-cases li").first.wait_for(timeout=10000)
    assert page.locator("#cw-panel img").count() == 0
    for shown in page.locator("#cw-panel").all_inner_texts():
        _literal(shown)
    _clean(page, page.watch)


def test_per_view_layers_of_a_big_city_show_text(page, big_city_server, evil):
    _sign_in(page, big_city_server)
    _open(page, big_city_server + "/")
    page.wait_for_selector(".leaflet-overlay-pane canvas", timeout=30000)
    a = evil["points"]["a"]
    _go(page, a["lon"], a["lat"], 17)
    # the zone and the points arrive from the features API, not embedded
    page.wait_for_function(
        f"""(code) => Object.values(window).filter(v => v instanceof L.GeoJSON).some(g =>
            g.getLayers().some(l => l.feature && l.feature.properties.code === code))
            && {MAP}.getZoom() >= 15""",
        arg=evil["codes"]["zone"],
        timeout=15000,
    )
    page.wait_for_function(
        """(code) => Object.values(window).filter(v => v instanceof L.GeoJSON).some(g =>
            g.getLayers().some(l => l.feature && l.feature.properties.code === code))""",
        arg=evil["codes"]["a"],
        timeout=15000,
    )
    shown = " ".join(s["text"] for s in _opened(page))
    assert NAME in shown and evil["codes"]["zone"] in shown and evil["codes"]["a"] in shown
    # and as a user finds it: the mouse on the point
    page.mouse.move(*_pixel(page, a["lon"], a["lat"]))
    page.wait_for_function(
        "(name) => [...document.querySelectorAll('.leaflet-tooltip')]"
        ".some(t => t.innerText === name)",
        arg=NAME,
        timeout=10000,
    )
    _clean(page, page.watch)


def test_the_round_page_shows_text(browser, server, tokens, evil):
    status, _, plan = _api(
        server,
        tokens["leader"][1],
        "POST",
        "/api/inspection-plans",
        {
            "date": "2026-11-29",
            "window_start": "20:00",
            "window_end": "23:00",
            "depot": [evil["lon"], evil["lat"]],
            "mode": "walk",
            "team": [tokens["inspector"][0].id],
            "area": evil["area"],
        },
    )
    assert status == 201
    ours = [s for s in plan["stops"] if s["name"] == NAME]
    assert ours, plan["stops"]
    with watched_context(browser) as (ctx, watch):
        page = ctx.new_page()
        sign_in_as(page, server, "t_leader", "leader-password")
        _open(page, f"{server}/inspection-plans/{plan['id']}")
        page.wait_for_selector(".cw-stop", timeout=30000)
        sheet = page.inner_text("#cw-sheet")
        assert NAME in sheet and any(c in sheet for c in evil["codes"].values())
        _literal(sheet)
        assert page.locator("#cw-sheet img").count() == 0
        # the stop's marker in the middle of the map, clear of the sheet
        stop = ours[0]
        _go(page, stop["lon"], stop["lat"], 18)
        page.mouse.move(*_pixel(page, stop["lon"], stop["lat"]))
        tip = page.locator(".leaflet-tooltip")
        tip.first.wait_for(timeout=10000)
        assert f"{stop['seq']}. {NAME}" in tip.first.inner_text()
        page.mouse.click(*_pixel(page, stop["lon"], stop["lat"]))
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for(timeout=10000)
        shown = popup.inner_text()
        assert NAME in shown and stop["code"] in shown and popup.locator("img").count() == 0
        _literal(shown)
        _clean(page, watch)


def test_the_report_receipt_shows_text(browser, server, evil):
    with watched_context(browser, viewport={"width": 390, "height": 844}) as (ctx, watch):
        page = ctx.new_page()
        sign_in_as(page, server, "t_inspector", "inspector-password")
        _open(page, server + "/report")
        page.select_option("#category", "graffiti")
        page.fill("#lon", f"{evil['lon']:.7f}")
        page.fill("#lat", f"{evil['lat']:.7f}")
        page.fill("#description", NAME)
        page.click("#submit")
        result = page.locator("#result")
        page.locator("#filed-case").wait_for(timeout=15000)
        shown = result.inner_text()
        # the owner (the unit of the zone around the place), the zone, the points near: by name
        assert shown.count(NAME) >= 3, shown
        assert result.locator("img").count() == 0
        _literal(shown)
        _clean(page, watch)
