"""Holding units to account in a browser: an assessor scores a point on the phone with a
deduction (a photo from the camera, the phone's position), a case appears with its owner and
the lost points land on the owner unit and the department; then a leader publishes two weeks'
rankings on /ranking and the yellow flag moves from one street office to the other. No request
leaves the server; no console error."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import text

from tests.browser.conftest import sign_in_as, watched_context
from tests.conftest import bearer
from tests.integration.test_assessments import _point
from tests.integration.test_ranking import _week, loop, two  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def test_an_assessor_loses_points_for_a_unit_and_a_leader_moves_the_flag(
    browser,
    server,
    client,
    engine,
    demo,
    tokens,
    tmp_path,
    loop,  # noqa: F811
    two,  # noqa: F811
):
    city = demo[0]
    point = _point(engine, city)
    photo = tmp_path / "deduction.png"
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (90, 20, 160)).save(buf, "PNG")
    photo.write_bytes(buf.getvalue())
    phone = {
        "viewport": PHONE,
        "is_mobile": True,
        "has_touch": True,
        "geolocation": {"longitude": point.lon, "latitude": point.lat, "accuracy": 6},
        "permissions": ["geolocation"],
    }
    with watched_context(browser, **phone) as (ctx, watch):
        page = ctx.new_page()
        sign_in_as(page, server, "t_inspector", "inspector-password")
        page.goto(f"{server}/assess/{point.code}")
        first = page.locator(".cw-item").first
        code = first.get_attribute("data-item")
        points = float(first.get_attribute("data-points"))
        assert first.locator(".cw-deduction").is_hidden()
        first.locator("input[name^='score.']").fill("1")
        assert first.locator(".cw-deduction").is_visible()  # a deduction opens its fields
        first.locator("input[type=file]").set_input_files(str(photo))
        page.wait_for_function(
            "(c) => document.querySelector(`input[name='lat.${c}']`).value !== ''", arg=code
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.click("#submit")
        page.locator(".cw-deducted").wait_for(timeout=15000)
        shown = page.locator("#assess-result").inner_text()
        case_no = page.locator(".cw-deducted").get_attribute("data-case")
        assert case_no and case_no in shown and f"扣 {points - 1:g} 分" in shown
        assert watch.outside == [] and watch.errors == []
    with engine.connect() as conn:
        case = conn.execute(
            text(
                "SELECT u.code AS unit, u.name AS unit_name, v.department_code FROM violation v "
                "JOIN unit u ON u.id = v.unit_id WHERE v.city_id = :c AND v.case_no = :n"
            ),
            {"c": city, "n": case_no},
        ).one()
    assert case.unit == point.unit and case.unit_name in shown
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    for level, key in (("unit", case.unit), ("department", case.department_code)):
        got = client.get(
            "/api/lost-points",
            query_string={"from": today, "to": today, "level": level},
            headers=bearer(tokens["leader"][1]),
        ).get_json()
        assert any(r["code"] == key and r["points"] >= points - 1 for r in got["rows"]), level

    # two weeks of 1997: street office A worst in the first, B in the second
    _week(loop, two, "1997-03-03", "A")  # 1997-W10
    _week(loop, two, "1997-03-10", "B")  # 1997-W11
    names = {}
    with engine.connect() as conn:
        for k in ("A", "B"):
            names[k] = conn.execute(
                text("SELECT name FROM unit WHERE city_id = :c AND code = :u"),
                {"c": city, "u": two[f"office_{k}"]},
            ).scalar()
    with watched_context(browser) as (ctx, watch):
        page = ctx.new_page()
        sign_in_as(page, server, "t_leader", "leader-password")
        holders = []
        for week in ("1997-W10", "1997-W11"):
            page.goto(f"{server}/ranking?week={week}&group=street")
            page.wait_for_function(
                "() => /草稿/.test(document.querySelector('#ranking-status').textContent)"
            )
            page.click("#ranking-publish")
            page.wait_for_function(
                "() => /已发布/.test(document.querySelector('#ranking-status').textContent)"
            )
            holders.append(page.inner_text("#ranking-flag"))
            worst = page.locator("#ranking-table tr.cw-flag")
            assert worst.count() == 1 and "黑榜" in worst.inner_text()
        assert names["A"] in holders[0] and names["B"] in holders[1]  # the flag moved
        page.wait_for_function("() => document.querySelectorAll('#ranking-flags li').length >= 2")
        path = page.locator("#ranking-flags li").all_inner_texts()
        assert any(names["A"] in p and "1997-W10" in p for p in path)
        assert any(names["B"] in p and "1997-W11" in p for p in path)
        assert watch.outside == [] and watch.errors == []
