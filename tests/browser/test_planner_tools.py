"""The planner map for the people who work with it: a case's popup with its photos, owner and
countdown; a round planned from the map by a leader; search hits marked; disabled buttons
that say why."""

import io

import pytest
from PIL import Image
from sqlalchemy import text

from tests.browser.conftest import sign_in_as, watched_context
from tests.browser.test_editing import _forget
from tests.browser.test_planner_map import READY

pytestmark = pytest.mark.browser

MAP = "Object.values(window).find(v => v instanceof L.Map)"
CASES = (
    "Object.values(window).find(v => v instanceof L.GeoJSON && v.cwOptions"
    " && v.cwOptions.kind === 'case')"
)


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


def _open_case_as_planner(page, server, case_no: str) -> None:
    """Sign in as the planner and click the case on the map, as a user would."""
    sign_in_as(page, server, "t_planner", "planner-password")
    page.wait_for_function(READY, timeout=30000)
    page.evaluate(
        f"""(no) => {{ const g = {CASES};
        const l = g.cwAll.find(l => l.feature.properties.case_no === no);
        l.fire('click', {{latlng: l.getLatLng()}}, true); }}""",
        case_no,
    )


def test_a_case_popup_shows_its_photo_owner_department_and_countdown(
    browser, server, engine, tokens
):
    with watched_context(browser) as (ctx, watch):
        page = ctx.new_page()
        answer = page.request.post(
            server + "/api/reports",
            headers={"Authorization": f"Bearer {tokens['inspector'][1]}"},
            multipart={
                "category": "blocked_tactile_paving",
                "lon": "117.2158",
                "lat": "28.2912",
                "description": "盲道被占",
                "photos": {"name": "p.png", "mimeType": "image/png", "buffer": _png()},
            },
        )
        assert answer.status == 201, answer.text()
        case = answer.json()
        case_no = case["properties"]["case_no"] if "properties" in case else case["case_no"]
        try:
            _open_case_as_planner(page, server, case_no)
            popup = page.locator(".cw-case", has_text=case_no)
            popup.wait_for(timeout=10000)
            shown = popup.inner_text()
            with engine.connect() as conn:
                unit, department = conn.execute(
                    text(
                        "SELECT u.name, d.name FROM violation v JOIN unit u ON u.id = v.unit_id "
                        "JOIN unit d ON d.city_id = v.city_id AND d.code = v.department_code "
                        "WHERE v.case_no = :n"
                    ),
                    {"n": case_no},
                ).one()
            assert unit in shown and department in shown
            assert "距整改期限还有" in shown  # a new case: its countdown
            thumb = popup.locator(":scope > .cw-photos img")
            thumb.wait_for(timeout=10000)
            page.wait_for_function(
                "document.querySelector('.cw-photos img').naturalWidth === 40", timeout=10000
            )
            thumb.click()
            full = page.locator(".cw-photo-full img")
            full.wait_for(timeout=5000)
            assert full.get_attribute("src") == thumb.get_attribute("src")
            page.locator(".cw-photo-full").click()
            assert page.locator(".cw-photo-full").count() == 0
            assert watch.outside == [] and watch.errors == []
        finally:
            _forget(engine, "violation", "case_no", case_no)


def _plan_tab(ctx, server):
    """A leader's map with the plan tab open over the demo city's centre: the page, the
    form's plan button and the map's box on the screen."""
    page = ctx.new_page()
    sign_in_as(page, server, "t_leader", "leader-password")
    page.goto(server + "/")
    page.wait_for_function(READY, timeout=30000)
    page.click("[data-tab=plan]")
    page.evaluate(f"() => {{ {MAP}.setView([28.29, 117.215], 15, {{animate: false}}); }}")
    return page, page.locator("#cw-plan-submit"), page.locator(".folium-map").bounding_box()


def test_a_leader_plans_a_round_from_the_map(browser, server, engine, tokens):
    with watched_context(browser) as (ctx, watch):
        page, submit, box = _plan_tab(ctx, server)
        # it cannot be sent yet, and says why
        assert submit.is_disabled() and "出发点" in submit.get_attribute("title")
        page.click("#cw-plan-pick")
        page.mouse.click(box["x"] + box["width"] / 3, box["y"] + box["height"] / 2)
        assert "出发点：117." in page.inner_text("#cw-plan-depot")
        assert submit.is_disabled() and "队员" in submit.get_attribute("title")
        page.select_option("#cw-plan-team", label="t_inspector")
        page.select_option("#cw-plan-mode", "walk")
        assert submit.is_enabled() and submit.get_attribute("title") is None
        # before planning: what rounds on foot from here can promise, in words
        page.click("#cw-plan-check")
        page.wait_for_function(
            "document.getElementById('cw-plan-coverage').textContent.includes('可到达')",
            timeout=60000,
        )
        said = page.inner_text("#cw-plan-coverage")
        assert "每晚约" in said and "28 天" in said and "{" not in said, said
        submit.click()
        link = page.locator("#cw-plan-open")
        link.wait_for(timeout=60000)
        assert "个点位" in page.inner_text("#cw-plan-status")
        href = link.get_attribute("href")
        pid = int(href.rstrip("/").split("/")[-1])
        with engine.connect() as conn:
            team = (
                conn.execute(
                    text(
                        "SELECT u.name FROM inspection_team_member m JOIN app_user u "
                        "ON u.id = m.user_id WHERE m.plan_id = :p"
                    ),
                    {"p": pid},
                )
                .scalars()
                .all()
            )
        assert team == ["t_inspector"]
        link.click()
        page.wait_for_load_state()
        assert f"/inspection-plans/{pid}" in page.url
        assert watch.outside == [] and watch.errors == []


def test_a_leader_plans_two_teams_for_one_night_from_the_map(browser, server, engine, tokens):
    """Two teams from the form: each its members and its own start; the same person in both
    is refused under the teams; a third team added and taken off again; the night's two
    rounds are linked, each with its own team and start, and no point is on both."""
    inspector = tokens["inspector"][0]
    with engine.connect() as conn:
        other = conn.execute(
            text(
                "SELECT id FROM app_user WHERE city_id = :c AND role = 'inspector' AND active "
                "AND id <> :i ORDER BY id LIMIT 1"
            ),
            {"c": inspector.city_id, "i": inspector.id},
        ).scalar_one()
    with watched_context(browser) as (ctx, watch):
        page, submit, box = _plan_tab(ctx, server)
        page.click("#cw-plan-pick")
        page.mouse.click(box["x"] + box["width"] / 3, box["y"] + box["height"] / 2)
        page.select_option("#cw-plan-team", label="t_inspector")
        page.select_option("#cw-plan-mode", "walk")
        assert submit.is_enabled()
        page.click("#cw-plan-add-team")
        # the second team has no one yet: the button says so
        assert submit.is_disabled() and "队员" in submit.get_attribute("title")
        assert "第 1 组" in page.inner_text("#cw-plan-teams")
        assert "与第 1 组同一出发点" in page.inner_text("#cw-plan-depot-2")
        # a third team, its start being picked, taken off again: only the last team can be
        # taken off, and the map no longer waits for its start
        page.click("#cw-plan-add-team")
        assert page.locator("#cw-plan-drop-2").is_hidden()
        page.click("#cw-plan-pick-3")
        page.click("#cw-plan-drop-3")
        assert page.locator("#cw-plan-team-3").count() == 0
        assert page.locator("#cw-plan-drop-2").is_visible()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] * 2 / 3)
        assert (
            page.evaluate(
                f"() => {{ let n = 0; {MAP}.eachLayer(l => {{ if (l instanceof L.Marker && "
                "l.options.title && l.options.title.includes('出发点')) n++; }); return n; }"
            )
            == 1
        )
        # the same person in both teams: refused, said under the teams
        page.select_option("#cw-plan-team-2", label="t_inspector")
        submit.click()
        error = page.locator(".cw-field-error[data-field=team]")
        error.wait_for(state="visible", timeout=30000)
        assert error.inner_text().strip()
        page.select_option("#cw-plan-team-2", str(other))
        page.click("#cw-plan-pick-2")
        page.mouse.click(box["x"] + box["width"] * 2 / 3, box["y"] + box["height"] / 3)
        assert "出发点：117." in page.inner_text("#cw-plan-depot-2")
        submit.click()
        page.locator("#cw-plan-open-2").wait_for(timeout=90000)
        assert "2 条路线" in page.inner_text("#cw-plan-status")
        pids = [
            int(page.get_attribute(f"#cw-plan-open-{k}", "href").rstrip("/").split("/")[-1])
            for k in (1, 2)
        ]
        with engine.connect() as conn:
            rounds = conn.execute(
                text(
                    "SELECT p.id, ST_AsText(p.depot) AS depot, array_agg(DISTINCT m.user_id) "
                    "AS team, array_remove(array_agg(DISTINCT s.point_id), NULL) AS points "
                    "FROM inspection_plan p JOIN inspection_team_member m ON m.plan_id = p.id "
                    "LEFT JOIN inspection_stop s ON s.plan_id = p.id WHERE p.id = ANY(:p) "
                    "GROUP BY p.id, p.depot ORDER BY p.id"
                ),
                {"p": pids},
            ).all()
        assert [r.team for r in rounds] == [[inspector.id], [other]]
        assert rounds[0].depot != rounds[1].depot
        assert rounds[0].points + rounds[1].points
        assert not set(rounds[0].points) & set(rounds[1].points)
        page.click("#cw-plan-open-2")
        page.wait_for_load_state()
        assert f"/inspection-plans/{pids[1]}" in page.url
        # the refusal above is the one error the console saw
        assert watch.outside == [] and len(watch.errors) == 1 and "422" in watch.errors[0]


def test_search_marks_its_hit_and_disabled_buttons_say_why(page, server, engine, demo):
    sign_in_as(page, server, "t_planner", "planner-password")
    page.wait_for_function(READY, timeout=30000)
    with engine.connect() as conn:
        code = conn.execute(
            text("SELECT code FROM assessment_point WHERE city_id = :c ORDER BY id LIMIT 1"),
            {"c": demo[0]},
        ).scalar()
    page.click("[data-tab=find]")
    page.fill("#cw-search", code)
    page.press("#cw-search", "Enter")
    hit = page.locator(f"#cw-search-results a[data-code='{code}']")
    hit.wait_for(timeout=10000)
    hit.click()
    page.wait_for_selector("path.cw-hit", state="attached", timeout=5000)
    assert page.locator("path.cw-hit").count() == 1
    assert "cw-active" in hit.get_attribute("class")
    # a new search clears the mark
    page.fill("#cw-search", "没有这样的名称")
    page.press("#cw-search", "Enter")
    page.wait_for_timeout(500)
    assert page.locator("path.cw-hit").count() == 0
    # every disabled button of the tools says why it cannot be used
    page.click("[data-tab=edit]")
    disabled = page.evaluate(
        "[...document.querySelectorAll('#cw-panel button[disabled]')].map(b => [b.id, b.title])"
    )
    assert disabled and all(title for _, title in disabled), disabled
    assert page.watch.outside == [] and page.watch.errors == []


def test_a_case_popup_shows_its_history_and_the_office_acts_on_it(browser, server, engine, tokens):
    with watched_context(browser) as (ctx, watch):
        page = ctx.new_page()
        answer = page.request.post(
            server + "/api/reports",
            headers={"Authorization": f"Bearer {tokens['inspector'][1]}"},
            multipart={"category": "graffiti", "lon": "117.2161", "lat": "28.2915"},
        )
        assert answer.status == 201, answer.text()
        case = answer.json()
        cid, case_no = case["id"], case["properties"]["case_no"]
        try:
            _open_case_as_planner(page, server, case_no)
            popup = page.locator(".cw-case", has_text=case_no)
            popup.locator(".cw-event").nth(1).wait_for(timeout=10000)
            events = popup.locator(".cw-event").all_inner_texts()
            assert "上报" in events[0] and "立案派遣" in events[1]
            # the office's steps from this state; a fix (photos at the place) is not among them
            offered = popup.locator(".cw-act-action option").evaluate_all(
                "os => os.map(o => o.value)"
            )
            assert "invalidate" in offered and "reassign" in offered and "fix" not in offered
            popup.locator(".cw-act-action").select_option("invalidate")
            popup.locator(".cw-act-go").click()
            refused = page.locator(".cw-note.cw-bad")
            refused.wait_for(timeout=10000)
            assert "理由" in refused.inner_text()  # a reason is required, said in Chinese
            popup.locator(".cw-act-comment").fill("重复上报")
            popup.locator(".cw-act-go").click()
            page.locator(".cw-note.cw-good").wait_for(timeout=10000)
            with engine.connect() as conn:
                status = conn.execute(
                    text("SELECT status FROM violation WHERE id = :i"), {"i": cid}
                ).scalar()
            assert status == "invalid"
            assert watch.outside == []
            assert [e for e in watch.errors if "422" not in e] == []
        finally:
            _forget(engine, "violation", "case_no", case_no)


def test_the_overdue_filter_shows_the_overdue_cases(page, server, engine, demo):
    sign_in_as(page, server, "t_planner", "planner-password")
    page.wait_for_function(READY, timeout=30000)
    with engine.connect() as conn:
        overdue = conn.execute(
            text(
                "SELECT count(*) FROM violation WHERE city_id = :c AND due_at < now() "
                "AND status NOT IN ('resolved', 'closed', 'invalid')"
            ),
            {"c": demo[0]},
        ).scalar()
    assert overdue > 0
    page.click("[data-tab=find]")
    page.check("#cw-filter-overdue")
    page.click("#cw-filter button[type=submit]")
    shown = page.evaluate(f"{CASES}.cwShown")
    assert shown == overdue
    assert page.watch.outside == [] and page.watch.errors == []
