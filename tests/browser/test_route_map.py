"""The inspection round's page: the streets, the numbered stops, the check-in; and nothing
for anyone outside the team."""

import pytest
from sqlalchemy import text

from tests.browser.conftest import sign_in_as, watched_context
from tests.browser.test_editing import _api

pytestmark = pytest.mark.browser


def test_a_leader_sees_the_round_and_checks_in_a_unit_gets_nothing(browser, server, tokens, engine):
    status, _, plan = _api(
        server,
        tokens["leader"][1],
        "POST",
        "/api/inspection-plans",
        {
            "date": "2026-11-29",
            "window_start": "20:00",
            "window_end": "23:00",
            "depot": [117.2150, 28.2900],
            "mode": "walk",
            "team": [tokens["inspector"][0].id],
        },
    )
    assert status == 201 and plan["stops"]
    with watched_context(browser, viewport={"width": 390, "height": 844}) as (ctx, watch):
        page = ctx.new_page()
        sign_in_as(page, server, "t_leader", "leader-password")
        page.goto(f"{server}/inspection-plans/{plan['id']}")
        page.wait_for_selector(".cw-stop", timeout=30000)
        assert page.locator(".cw-stop").count() == len(plan["stops"])
        assert page.locator(".leaflet-overlay-pane path").count() >= 1  # the street path
        rows = page.locator("#cw-sheet tr[data-seq]")
        assert rows.count() == len(plan["stops"])
        assert plan["stops"][0]["name"] in rows.first.inner_text()
        page.locator(".cw-arrive[data-seq='1']").click()
        page.wait_for_function(
            # "已到达" becomes "HH:MM 到达" once the check-in is kept
            "/\\d\\d:\\d\\d 到达/.test("
            "document.querySelector(\".cw-arrive[data-seq='1']\").textContent)",
            timeout=10000,
        )
        with engine.connect() as conn:
            arrived = conn.execute(
                text("SELECT arrived_at FROM inspection_stop WHERE plan_id = :p AND seq = 1"),
                {"p": plan["id"]},
            ).scalar()
        assert arrived is not None
        # the report link of a stop fills in its place
        page.locator(".cw-report-here").first.click()
        page.wait_for_selector("#report")
        assert abs(float(page.input_value("#lon")) - plan["stops"][0]["lon"]) < 1e-6
        assert watch.outside == [] and watch.errors == []
    with watched_context(browser) as (ctx, watch):
        page = ctx.new_page()
        sign_in_as(page, server, "t_unit", "unit-password")
        resp = page.goto(f"{server}/inspection-plans/{plan['id']}")
        assert resp.status == 404
        assert plan["stops"][0]["name"] not in page.content()
        assert watch.outside == []
