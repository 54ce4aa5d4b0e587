import pytest

pytestmark = pytest.mark.browser

GEOJSON_COUNTS = (
    "Object.values(window).filter(v => v instanceof L.GeoJSON).map(l => l.getLayers().length)"
)


def _sign_in(page, server, name="t_planner", password="planner-password"):
    page.goto(server + "/")
    assert "/login" in page.url
    page.fill("#username", name)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_selector(".leaflet-overlay-pane canvas", timeout=30000)


def test_sign_in_and_see_every_layer_drawn_offline(page, server, demo):
    _sign_in(page, server)
    counts = page.evaluate(GEOJSON_COUNTS)
    city = demo[1]
    # district, streets, communities, grid cells, zones, surroundings, stalls, points, violations
    assert len(counts) == 9
    assert len(city.cells) in counts and len(city.points) in counts
    assert max(counts) >= len(city.violations)
    labels = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    assert any("测评点位" in s for s in labels) and any("责任区" in s for s in labels)
    assert page.locator("#legend").is_visible()
    assert page.watch.outside == []
    assert page.watch.errors == []


def test_popup_shows_user_text_as_text(page, server, evil_violation):
    _sign_in(page, server)
    shown = page.evaluate(
        """(caseNo) => {
        for (const g of Object.values(window).filter(v => v instanceof L.GeoJSON)) {
            for (const l of g.getLayers()) {
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
    assert tabs == ["Edit", "Find", "Problem points", "Zone check"]
    page.click("[data-tab=find]")
    assert page.get_attribute("#cw-search", "placeholder") == "Name or code"
    assert page.watch.outside == [] and page.watch.errors == []


def test_api_documentation_works_offline(page, server):
    _sign_in(page, server)
    page.goto(server + "/api.html")
    page.wait_for_selector(".opblock", timeout=30000)
    assert page.locator(".opblock").count() > 20
    assert page.watch.outside == [] and page.watch.errors == []
