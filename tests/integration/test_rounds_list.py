"""The list of rounds: a team member's own (sealed ones say only when), all for leaders; the
page inspectors and leaders land on after signing in."""

import datetime as dt
import re

from tests.conftest import bearer


def _plan(client, leader, team, release_in_h=24, day="2099-01-02"):
    body = {
        "date": day,
        "window_start": "20:00",
        "window_end": "21:00",
        "depot": [117.215, 28.29],
        "mode": "walk",
        "team": team,
        "release_at": (dt.datetime.now(dt.UTC) + dt.timedelta(hours=release_in_h)).isoformat(),
    }
    resp = client.post("/api/inspection-plans", json=body, headers=bearer(leader))
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return resp.get_json()["id"]


def test_team_members_list_their_rounds_and_leaders_all(client, tokens):
    leader, inspector = tokens["leader"][1], tokens["inspector"]
    sealed = _plan(client, leader, [inspector[0].id])
    others = _plan(client, leader, [tokens["planner"][0].id], release_in_h=-1)
    mine = client.get("/api/inspection-plans", headers=bearer(inspector[1])).get_json()["plans"]
    ids = [p["id"] for p in mine]
    assert sealed in ids and others not in ids
    item = next(p for p in mine if p["id"] == sealed)
    assert item["released"] is False and item["mode"] is None and item["stops"] is None
    assert item["date"] == "2099-01-02" and item["window_start"].startswith("2099-01-02T20:00")
    everything = client.get(
        "/api/inspection-plans?from=2099-01-01&to=2099-01-03", headers=bearer(leader)
    ).get_json()["plans"]
    assert {sealed, others} <= {p["id"] for p in everything}
    assert all(p["released"] and p["stops"] is not None for p in everything)
    # a unit's user on neither team sees neither (only rounds it is on, which other tests
    # may have made)
    none = client.get("/api/inspection-plans", headers=bearer(tokens["unit"][1])).get_json()
    assert not {sealed, others} & {p["id"] for p in none["plans"]}
    assert all(p["member"] for p in none["plans"])
    bad = client.get("/api/inspection-plans?from=tomorrow&x=1", headers=bearer(leader))
    assert bad.status_code == 400
    assert {e["field"] for e in bad.get_json()["errors"]} == {"from", "x"}


def test_an_inspector_lands_on_the_rounds_page(app, tokens):
    _plan(app.test_client(), tokens["leader"][1], [tokens["inspector"][0].id])
    browser = app.test_client()
    page = browser.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', page).group(1)
    resp = browser.post(
        "/login",
        data={"csrf_token": token, "username": "t_inspector", "password": "inspector-password"},
    )
    assert resp.headers["Location"] == "/rounds"
    html = browser.get("/rounds").get_data(as_text=True)
    assert "2099-01-02" in html and "保密中" in html and "/inspection-plans/" in html
