"""An inspector reports from a phone; the case is on the planner's map and its problem point
is in the problem-points view."""

import io
import time
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import text

from tests.browser.conftest import watched_context
from tests.browser.test_editing import _api, _forget
from tests.browser.test_planner_map import _sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _png() -> bytes:
    """A real 2 × 2 PNG made by Pillow (the server decodes every photo it takes)."""
    buf = io.BytesIO()
    Image.new("RGB", (2, 2), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


def test_a_report_from_a_phone_appears_on_the_planner_map(browser, server, engine, demo, tmp_path):
    lon, lat = 117.2158, 28.2912
    photo = tmp_path / "photo.png"
    photo.write_bytes(_png())
    with watched_context(
        browser,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        geolocation={"longitude": lon, "latitude": lat, "accuracy": 12},
        permissions=["geolocation"],
    ) as (ctx, watch):
        phone = ctx.new_page()
        phone.goto(server + "/report")
        phone.fill("#username", "t_inspector")
        phone.fill("#password", "inspector-password")
        phone.click("button[type=submit]")
        phone.goto(server + "/report")
        # fits the screen: nothing wider than the phone
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        phone.select_option("#category", "blocked_tactile_paving")
        phone.click("#locate")
        phone.wait_for_function("document.querySelector('#lat').value !== ''", timeout=10000)
        assert abs(float(phone.input_value("#lon")) - lon) < 1e-6
        assert phone.input_value("#accuracy_m") == "12"
        phone.fill("#description", "手机上报：机动车占用盲道")
        phone.set_input_files("#photos", str(photo))
        phone.click("#submit")
        filed = phone.locator("#filed-case")
        filed.wait_for(timeout=15000)
        case_no = filed.inner_text().split("：")[-1].strip()
        shown = phone.locator("#result").inner_text()
        assert "责任单位" in shown and "整改期限" in shown
        assert watch.outside == [] and watch.errors == []
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT u.name, v.due_at, v.location_accuracy_m, jsonb_array_length(v.photos) "
                "FROM violation v JOIN unit u ON u.id = v.unit_id WHERE v.case_no = :n"
            ),
            {"n": case_no},
        ).one()
    assert row[0] in shown and row[1] is not None and row[2] == 12 and row[3] == 1
    # names, not codes; the deadline in the city's time whatever the phone's zone (UTC here)
    with engine.connect() as conn:
        department, category = conn.execute(
            text(
                "SELECT d.name, k.name_zh FROM violation v JOIN unit d ON d.city_id = v.city_id "
                "AND d.code = v.department_code JOIN violation_category k ON k.city_id = "
                "v.city_id AND k.code = v.category_code WHERE v.case_no = :n"
            ),
            {"n": case_no},
        ).one()
    local = row[1].astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    assert department in shown and category in shown and local in shown
    assert "dept_" not in shown and "blocked_tactile_paving" not in shown
    # the planner sees it on the map
    with watched_context(browser) as (ctx, watch):
        planner = ctx.new_page()
        _sign_in(planner, server)
        on_map = planner.evaluate(
            """(caseNo) => Object.values(window).filter(v => v instanceof L.GeoJSON)
            .some(g => g.getLayers().some(l => l.feature.properties.case_no === caseNo))""",
            case_no,
        )
        assert on_map
        assert watch.outside == [] and watch.errors == []
    _forget(engine, "violation", "case_no", case_no)


def test_the_problem_points_view_lists_the_point_by_a_new_case(page, server, engine, demo, tokens):
    # a point with no open case near it yet
    with engine.connect() as conn:
        point = conn.execute(
            text(
                "SELECT p.id, p.code, ST_X(ST_PointOnSurface(p.geom)) x, "
                "ST_Y(ST_PointOnSurface(p.geom)) y FROM assessment_point p "
                "WHERE p.city_id = :c AND p.active AND NOT EXISTS (SELECT 1 FROM violation v, "
                "jsonb_array_elements(v.near_points) n WHERE (n->>'id')::bigint = p.id "
                "AND v.status IN ('open', 'dispatched', 'rectifying')) ORDER BY p.id LIMIT 1"
            ),
            {"c": demo[0]},
        ).one()
    _sign_in(page, server)
    page.click("[data-tab=problems]")
    page.locator("#cw-problem-points li").first.wait_for(timeout=15000)
    assert page.locator(f"#cw-problem-points li[data-code='{point.code}']").count() == 0
    status, _, body = _api(
        server,
        tokens["inspector"][1],
        "POST",
        "/collections/violations/items",
        {
            "type": "Feature",
            "properties": {"category": "garbage_corner", "description": f"t{time.time_ns()}"},
            "geometry": {"type": "Point", "coordinates": [point.x + 0.00003, point.y]},
        },
    )
    assert status == 201 and point.id in [n["id"] for n in body["properties"]["near_points"]]
    page.click("[data-tab=find]")
    page.click("[data-tab=problems]")  # opening the view again reads the ranking again
    item = page.locator(f"#cw-problem-points li[data-code='{point.code}']")
    item.wait_for(timeout=15000)
    item.locator("a").click()
    cases = item.locator(".cw-cases li")
    cases.first.wait_for(timeout=10000)
    assert body["properties"]["case_no"] in item.inner_text()
    assert page.watch.outside == [] and page.watch.errors == []
    _forget(engine, "violation", "case_no", body["properties"]["case_no"])
