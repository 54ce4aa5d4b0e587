import pytest
from sqlalchemy import text

pytestmark = pytest.mark.browser

READY = "performance.getEntriesByName('cw:layers-drawn').length > 0"
# every layer the page asked for: its source, kind, features drawn now and features it has
LAYERS = """() => Object.values(window)
    .filter(v => v instanceof L.GeoJSON && v.cwOptions)
    .map(l => ({url: l.cwOptions.url.split('/').pop(), kind: l.cwOptions.kind,
                level: (l.cwOptions.where || {}).level || null,
                shown: l.getLayers().length, all: l.cwAll.length}))"""


def _sign_in(page, server, name="t_planner", password="planner-password"):
    page.goto(server + "/")
    assert "/login" in page.url
    page.fill("#username", name)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_selector(".leaflet-overlay-pane canvas", timeout=30000)
    page.wait_for_function(READY, timeout=30000)


def _by(layers, url, kind=None, level=None):
    found = [
        x for x in layers if x["url"] == url and kind in (None, x["kind"]) and x["level"] == level
    ]
    assert len(found) == 1, (url, kind, level, layers)
    return found[0]


def test_the_map_is_a_light_shell_whose_layers_come_from_the_api(page, server, engine, demo):
    _sign_in(page, server)
    city = demo[1]
    # the page itself carries no feature
    size = page.evaluate(
        "fetch('/', {headers: {Accept: 'text/html'}}).then(r => r.text()).then(t => t.length)"
    )
    assert size < 300_000
    layers = page.evaluate(LAYERS)
    assert {x["level"] for x in layers if x["url"] == "areas"} == {
        "district",
        "street",
        "community",
    }
    points = _by(layers, "assessment_points", "point")
    assert points["shown"] == points["all"] == len(city.points)
    # at the city's zoom: open cases on the map, settled ones not yet
    cases = _by(layers, "violations", "case")
    # every case of the city now (other tests of the session may have filed some)
    with engine.connect() as conn:
        total, settled = conn.execute(
            text(
                "SELECT count(*), count(*) FILTER (WHERE status IN ('resolved', 'closed', "
                "'invalid')) FROM violation WHERE city_id = :c"
            ),
            {"c": demo[0]},
        ).one()
    assert settled > 0 and cases["all"] == total >= len(city.violations)
    assert cases["shown"] == total - settled
    # the points' surroundings and the grid only from zoom 15, where they can be read;
    # settled cases from zoom 17
    for zoom, cases_shown in ((15, total - settled), (17, total)):
        page.evaluate(
            "(z) => { Object.values(window).find(v => v instanceof L.Map)"
            ".setView([28.29, 117.215], z, {animate: false}); }",
            zoom,
        )
        page.wait_for_timeout(500)
        layers = page.evaluate(LAYERS)
        assert _by(layers, "violations", "case")["shown"] == cases_shown
        assert _by(layers, "assessment_points", "around")["shown"] > 0
    assert page.watch.outside == []
    assert page.watch.errors == []


def test_points_in_their_category_colours_and_one_sidebar(page, server, demo):
    _sign_in(page, server)
    fills = page.evaluate(
        """() => {
        const l = Object.values(window).find(v => v instanceof L.GeoJSON && v.cwOptions
                                              && v.cwOptions.kind === 'point');
        return l.getLayers().map(m => [m.feature.properties.category, m.options.fillColor,
                                        m.options.fill !== false]);
    }"""
    )
    colours = page.evaluate(
        "JSON.parse(document.getElementById('cw-config').textContent).pointColors"
    )
    assert fills and all(filled and colour == colours[c] for c, colour, filled in fills)
    assert len({colour for _, colour, _ in fills}) >= 3
    # each with its category's icon, the same as in the legend
    icons = page.evaluate(
        "[...document.querySelectorAll('.cw-point-icon')].map(e => e.textContent)"
    )
    assert len(icons) == len(fills) and all(len(i) == 1 for i in icons)
    assert "学" in icons or "市" in icons
    # the layer switches and the legend are tabs of the one sidebar, not boxes over the map
    assert page.locator("#cw-panel .leaflet-control-layers").count() == 1
    assert page.locator(".leaflet-control-container .leaflet-control-layers").count() == 0
    labels = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    assert any("测评点位" in s for s in labels) and any("责任区" in s for s in labels)
    assert page.locator("#cw-panel .leaflet-control-layers").is_visible()
    page.click("[data-tab=legend]")
    legend = page.locator("#cw-panel #legend")
    assert legend.is_visible()
    text = legend.inner_text()
    for words in ("单元网格", "点位周边范围", "便民摊点", "责任区", "已逾期"):
        assert words in text
    # the legend's swatches number one per status, category and layer
    assert legend.locator("svg.cw-swatch").count() >= len(colours) + 6 + 7
    # a metric scale only
    scale = page.locator(".leaflet-control-scale").inner_text()
    assert ("m" in scale or "km" in scale) and "ft" not in scale and "mi" not in scale
    # nothing beside the map overlaps another control
    boxes = page.evaluate(
        """() => [...document.querySelectorAll('#cw-panel, .leaflet-control-scale, '
                   + '.leaflet-control-zoom, .leaflet-control-attribution')]
              .map(e => { const r = e.getBoundingClientRect();
                          return [r.left, r.top, r.right, r.bottom]; })"""
    )
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    assert page.watch.outside == [] and page.watch.errors == []


def test_popup_shows_user_text_as_text(page, server, evil_violation):
    _sign_in(page, server)
    shown = page.evaluate(
        """(caseNo) => {
        for (const g of Object.values(window).filter(v => v instanceof L.GeoJSON)) {
            for (const l of (g.cwAll || g.getLayers())) {
                if (l.feature.properties.case_no === caseNo) {
                    // the popup is bound on the layer group: click the feature as a user would
                    l.fire('click', {latlng: l.getLatLng()}, true);
                    const el = document.querySelector('.leaflet-popup-content');
                    return {text: el.innerText, imgs: el.querySelectorAll('img').length};
                }
            }
        }
        return null;
    }""",
        evil_violation,
    )
    page.wait_for_timeout(300)
    assert shown is not None
    assert "<img src=x" in shown["text"] and shown["imgs"] == 0
    assert page.evaluate("window.__xss") is None
    assert page.watch.outside == [] and page.watch.errors == []


def test_switch_to_english(page, server):
    _sign_in(page, server)
    page.click("text=English")
    page.wait_for_selector(".leaflet-overlay-pane canvas", timeout=30000)
    labels = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    assert any("Assessment points" in s for s in labels)
    # the tools beside the map speak English too
    tabs = page.locator("#cw-panel [role=tab]").all_inner_texts()
    assert tabs == ["Layers", "Legend", "Edit", "Find", "Problem points", "Zone check"]
    page.click("[data-tab=find]")
    assert page.get_attribute("#cw-search", "placeholder") == "Name or code"
    assert page.watch.outside == [] and page.watch.errors == []


def test_api_documentation_works_offline(page, server):
    _sign_in(page, server)
    page.goto(server + "/api.html")
    page.wait_for_selector(".opblock", timeout=30000)
    assert page.locator(".opblock").count() > 20
    assert page.watch.outside == [] and page.watch.errors == []


def test_a_map_view_prints_without_the_tools(page, server):
    _sign_in(page, server)
    assert page.locator("#cw-print").is_visible()
    page.emulate_media(media="print")
    assert not page.locator("#cw-panel").is_visible()
    assert not page.locator(".cw-bar").is_visible()
    assert page.locator(".leaflet-control-scale").is_visible()
    pdf = page.pdf(format="A4", landscape=True)
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    page.emulate_media(media="screen")
    assert page.watch.outside == [] and page.watch.errors == []


def test_points_without_an_ad_in_sight_are_drawn_on_demand(page, server, engine, demo):
    """The ads and the points without one in sight are layers to switch on: each drawn
    once, the rings as the coverage lists them, the popup in the page's words."""
    from service.ads import coverage

    with engine.connect() as conn:
        found = coverage.coverage(conn, demo[0])
        n_sites = conn.execute(
            text("SELECT count(*) FROM ad_site WHERE city_id = :c"), {"c": demo[0]}
        ).scalar()
    gaps = {p["code"]: p for p in found["points"] if p["status"] != "covered"}
    assert gaps and n_sites
    _sign_in(page, server)
    layers = page.evaluate(LAYERS)
    assert _by(layers, "ad_gaps")["all"] == 0  # not asked for until switched on
    for label in ("无公益广告可见的点位", "公益广告"):
        page.locator(".leaflet-control-layers-overlays label", has_text=label).first.locator(
            "input"
        ).check()
    page.wait_for_function(
        "() => Object.values(window).filter(v => v instanceof L.GeoJSON && v.cwOptions && "
        "['ad_gaps', 'ad_sites'].includes(v.cwOptions.url.split('/').pop()) && "
        "v.cwAll.length > 0).length === 2",
        timeout=30000,
    )
    layers = page.evaluate(LAYERS)
    assert _by(layers, "ad_gaps")["all"] == len(gaps)
    assert _by(layers, "ad_sites")["all"] == n_sites
    drawn = page.evaluate(
        """() => Object.values(window).find(v => v instanceof L.GeoJSON && v.cwOptions
                && v.cwOptions.url.endsWith('/ad_gaps')).cwAll
                .map(m => [m.feature.properties.code, m.options.color, m.options.fill])"""
    )
    colours = {"uncovered": "#d62728", "stale": "#f781bf"}
    assert {code: colour for code, colour, _ in drawn} == {
        code: colours[p["status"]] for code, p in gaps.items()
    }
    assert all(fill is False for *_, fill in drawn)  # a ring: the point stays visible
    # a ring's popup says why in Chinese
    code, gap = next((c, p) for c, p in gaps.items() if p["status"] == "uncovered")
    page.evaluate(
        """(code) => { Object.values(window).find(v => v instanceof L.GeoJSON && v.cwOptions
                && v.cwOptions.url.endsWith('/ad_gaps')).cwAll
                .find(m => m.feature.properties.code === code).openPopup(); }""",
        code,
    )
    popup = page.locator(".leaflet-popup-content").inner_text()
    words = {
        "none_within": "可视距离内无广告",
        "facing_away": "广告背向点位",
        "behind_building": "被建筑遮挡",
    }
    assert "未覆盖" in popup and words[gap["reason"]] in popup and code in popup
    page.click("[data-tab=legend]")
    assert "无公益广告可见的点位" in page.locator("#cw-panel #legend").inner_text()
    assert page.watch.outside == [] and page.watch.errors == []
