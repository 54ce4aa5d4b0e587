"""The loop's phone pages as HTML: who may open them, where a unit's user lands, what a case's
card carries (names, the locator's tiles, the buttons and why one is disabled), both
languages, and the rounds page's link to /verify."""

from __future__ import annotations

import re

from sqlalchemy import text

from service.cases.worklist import locator
from tests.conftest import bearer


def _own_case(engine, demo, tokens, status: str):
    unit_id = tokens["unit"][0].unit_id
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT v.id, v.case_no FROM violation v JOIN unit u ON u.id = v.unit_id "
                "WHERE v.city_id = :c AND v.status = :s AND (u.id = :u OR u.parent_id = :u) "
                "ORDER BY v.id LIMIT 1"
            ),
            {"c": demo[0], "s": status, "u": unit_id},
        ).one()


def _card(body: str, cid: int) -> str:
    m = re.search(rf'<article [^>]*id="case-{cid}".*?</article>', body, re.S)
    assert m, f"case {cid} not on the page"
    return m.group(0)


def test_who_may_open_the_pages(client, tokens):
    assert client.get("/tasks", headers=bearer(tokens["unit"][1])).status_code == 200
    assert client.get("/verify", headers=bearer(tokens["unit"][1])).status_code == 403
    for role in ("inspector", "planner", "leader", "admin"):
        assert client.get("/verify", headers=bearer(tokens[role][1])).status_code == 200
        assert client.get("/tasks", headers=bearer(tokens[role][1])).status_code == 403


def test_a_unit_user_lands_on_its_tasks(app, tokens):
    client = app.test_client()
    login = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login).group(1)
    resp = client.post(
        "/login", data={"username": "t_unit", "password": "unit-password", "csrf_token": csrf}
    )
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/tasks")


def test_a_card_names_the_case_and_says_why_a_step_is_not_open(client, engine, demo, tokens):
    rectifying = _own_case(engine, demo, tokens, "rectifying")
    body = client.get("/tasks", headers=bearer(tokens["unit"][1])).get_data(as_text=True)
    card = _card(body, rectifying.id)
    assert rectifying.case_no in card and 'data-etag="&#34;' in card
    assert "/tiles/basemap/17/" in card
    accept = re.search(r"<button[^>]*data-action=\"accept\"[^>]*>", card).group(0)
    assert "disabled" in accept and "整改中" in accept and "已派遣" in accept
    fix = re.search(r"<button[^>]*data-action=\"fix\"[^>]*>", card).group(0)
    assert "disabled" not in fix
    assert 'data-action="verify_pass"' not in body
    english = client.get("/tasks?lang=en", headers=bearer(tokens["unit"][1]))
    assert "Cases to fix" in english.get_data(as_text=True)
    assert "Ask for more time" in english.get_data(as_text=True)


def test_verify_lists_resolved_cases_with_pass_and_fail(client, engine, demo, tokens):
    with engine.connect() as conn:
        resolved = conn.execute(
            text("SELECT count(*) FROM violation WHERE city_id = :c AND status = 'resolved'"),
            {"c": demo[0]},
        ).scalar()
    body = client.get("/verify", headers=bearer(tokens["inspector"][1])).get_data(as_text=True)
    assert body.count('<article class="cw-case') == min(resolved, 500)
    if resolved:
        assert 'data-action="verify_pass"' in body and 'data-action="verify_fail"' in body


def test_the_rounds_page_links_to_verify_for_verifiers_only(client, tokens):
    page = client.get("/rounds", headers=bearer(tokens["inspector"][1])).get_data(as_text=True)
    assert 'id="verify-link"' in page
    page = client.get("/rounds", headers=bearer(tokens["unit"][1])).get_data(as_text=True)
    assert 'id="verify-link"' not in page


def test_the_locator_centres_the_case():
    # one tile at zoom 1 holds the point (0°, 0°) in its corner: four tiles around it
    tiles = locator(0.0, 0.0, 1, 120)
    assert [(x, y) for _, x, y, _, _ in tiles] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    for *_, left, top in locator(117.2, 28.29):
        assert -256 < left < 120 and -256 < top < 120
