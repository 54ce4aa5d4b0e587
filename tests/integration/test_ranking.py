"""The weekly ranking, the red and black lists and the yellow flag, over the API on the demo
city: weeks of 1998 (older than the demo's zones: the cases arrive without an owner and the
office gives them to units) are walked through the loop, published by a leader, and the
flag's path, the talk mark (约谈) and the dispute-gaming case are checked."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from service.store.db import Actor, set_actor
from tests.conftest import bearer
from tests.integration.test_kpis import Loop


@pytest.fixture(scope="module")
def two(request, engine, demo, tokens):
    """Community A (of the unit user's street office) and community B (of another street
    office) with a user of its own; the street office units they roll up to; a place."""
    from service.accounts.users import create_user, issue_token

    city = demo[0]
    mine = tokens["unit"][0].unit_id
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "test-ranking"))
        rows = conn.execute(
            text(
                "SELECT u.id, u.code, u.parent_id, a.level, p.code AS parent_code "
                "FROM unit u JOIN admin_area a ON a.city_id = u.city_id AND a.id = u.area_id "
                "LEFT JOIN unit p ON p.city_id = u.city_id AND p.id = u.parent_id "
                "WHERE u.city_id = :c AND u.kind = 'territorial' ORDER BY u.code"
            ),
            {"c": city},
        ).all()
        a = next(r for r in rows if r.parent_id == mine and r.level == "community")
        b = next(r for r in rows if r.level == "community" and r.parent_id not in (mine, None))
        name = "t_rank_b_" + request.module.__name__.rsplit(".", 1)[-1]  # one per module
        user_b = create_user(conn, city, name, "unit", password="unit-b-password", unit_code=b.code)
        token_b = issue_token(conn, user_b)
        lonlat = conn.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(u.geom) p FROM "
                "admin_area u JOIN unit n ON n.city_id = u.city_id AND n.area_id = u.id "
                "WHERE u.city_id = :c AND n.code = :a) s"
            ),
            {"c": city, "a": a.code},
        ).one()
    return {
        "A": a.code,
        "B": b.code,
        "office_A": a.parent_code,
        "office_B": b.parent_code,
        "token_B": token_b,
        "lonlat": tuple(lonlat),
    }


@pytest.fixture()
def loop(client, two, tokens):
    t = {
        "planner": tokens["planner"][1],
        "inspector": tokens["inspector"][1],
        "uA": tokens["unit"][1],
        "uB": two["token_B"],
    }
    return Loop(client, t, two["lonlat"])


def _week(loop, two, monday: str, worse: str):
    """A week with one case for A and one for B: the ``worse`` one disputes its case, the
    other fixes its own and has it verified."""
    better = "B" if worse == "A" else "A"
    for who in (worse, better):
        cid = loop.new(f"{monday}T10:00:00+08:00")
        loop.step("planner", cid, "reassign", unit=two[who])
        if who == worse:
            loop.step(f"u{who}", cid, "dispute", comment="不属于本单位")
        else:
            loop.step(f"u{who}", cid, "fix")
            loop.step("inspector", cid, "verify_pass")


def _rows(body) -> dict:
    return {r["code"]: r for r in body["rows"]}


def test_the_flag_goes_to_the_worst_and_three_weeks_call_for_a_talk(
    client, engine, tokens, two, loop
):
    leader = bearer(tokens["leader"][1])
    weeks = {"1998-W10": "A", "1998-W11": "A", "1998-W12": "A", "1998-W13": "B"}
    mondays = {"1998-W10": "1998-03-02", "1998-W11": "1998-03-09", "1998-W12": "1998-03-16",
               "1998-W13": "1998-03-23"}  # fmt: skip
    for week, worse in weeks.items():
        _week(loop, two, mondays[week], worse)
    office = {"A": two["office_A"], "B": two["office_B"]}
    # a draft until a leader publishes it; the draft already names the would-be holder
    draft = client.get("/api/ranking?week=1998-W10&group=street", headers=leader).get_json()
    assert draft["status"] == "draft" and draft["flag"]["code"] == office["A"]
    rows = _rows(draft)
    assert rows[office["A"]]["worst"] and rows[office["A"]]["list"] == "black"
    assert rows[office["B"]]["score"] > rows[office["A"]]["score"]
    # street offices with no case this week sit between: at their group's mean
    others = [r for c, r in rows.items() if c not in office.values()]
    assert others and all(
        rows[office["A"]]["score"] < r["score"] < rows[office["B"]]["score"] for r in others
    )
    assert [r["rank"] for r in draft["rows"]] == list(range(1, len(draft["rows"]) + 1))
    path, published = [], {}
    for week in weeks:
        resp = client.post(f"/api/ranking/{week}/publish", json={"group": "street"}, headers=leader)
        assert resp.status_code == 201, resp.get_json()
        body = resp.get_json()
        assert body["status"] == "published" and body["published_by"]
        published[week] = body["rows"]
        path.append((body["flag"]["code"], body["flag"]["weeks"], body["flag"]["talk"]))
    assert path == [
        (office["A"], 1, False),
        (office["A"], 2, False),
        (office["A"], 3, True),  # 约谈
        (office["B"], 1, False),  # A leaves the flag by not being the worst
    ]
    flags = client.get("/api/ranking/flags?group=street", headers=leader).get_json()["weeks"]
    mine = [f for f in flags if f["week"] in weeks]  # other tests publish other years
    assert [(f["week"], f["code"], f["weeks"], f["talk"]) for f in mine] == [
        (w, c, n, t) for w, (c, n, t) in zip(weeks, path, strict=True)
    ]
    # kept as published: once only, and the table refuses any change
    again = client.post("/api/ranking/1998-W10/publish", json={"group": "street"}, headers=leader)
    assert again.status_code == 409 and again.get_json()["errors"][0]["field"] == "week"
    # later cases of that week change nothing published
    _week(loop, two, mondays["1998-W10"], "B")
    kept = client.get("/api/ranking?week=1998-W10&group=street", headers=leader).get_json()
    assert kept["status"] == "published" and kept["rows"] == published["1998-W10"]
    with engine.begin() as conn, pytest.raises(Exception, match="kept as it was published"):
        set_actor(conn, Actor(None, "test-ranking"))
        conn.execute(text("UPDATE ranking_week SET rows = '[]' WHERE week = '1998-W10'"))


def test_disputing_every_case_does_not_improve_a_rank(client, tokens, two, loop):
    """Two units with the same two cases each; then one disputes both: its score falls and
    its rank does not rise."""
    leader = bearer(tokens["leader"][1])
    made = {"A": [], "B": []}
    for who in ("A", "B"):
        for day in ("1998-04-06", "1998-04-07"):
            cid = loop.new(f"{day}T09:00:00+08:00")
            loop.step("planner", cid, "reassign", unit=two[who])
            loop.step(f"u{who}", cid, "accept")
            made[who].append(cid)
    office = two["office_A"]
    before = _rows(client.get("/api/ranking?week=1998-W15&group=street", headers=leader).get_json())
    for cid in made["A"]:
        loop.step("planner", cid, "reassign", unit=two["A"])  # back to dispatched
        loop.step("uA", cid, "dispute", comment="不属于本单位")
    after = _rows(client.get("/api/ranking?week=1998-W15&group=street", headers=leader).get_json())
    assert after[office]["score"] < before[office]["score"]
    assert after[office]["rank"] >= before[office]["rank"]
    assert after[office]["penalties"]["disputes"] > before[office]["penalties"]["disputes"]


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/ranking?week=1998-10&group=street", "week"),
        ("/api/ranking?week=1998-W10&group=city", "group"),
        ("/api/ranking?week=1998-W10&x=1", "x"),
        ("/api/ranking/flags?group=nope", "group"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(client, tokens, url, field):
    resp = client.get(url, headers=bearer(tokens["planner"][1]))
    assert resp.status_code == 400 and field in {e["field"] for e in resp.get_json()["errors"]}


def test_who_may_read_and_publish(client, tokens):
    week = "/api/ranking?week=1998-W20&group=department"
    assert client.get(week, headers=bearer(tokens["planner"][1])).status_code == 200
    for role in ("unit", "inspector"):
        assert client.get(week, headers=bearer(tokens[role][1])).status_code == 403
    publish = "/api/ranking/1998-W20/publish"
    body = {"group": "department"}
    assert client.post(publish, json=body, headers=bearer(tokens["planner"][1])).status_code == 403
    future = client.post(
        "/api/ranking/2999-W01/publish", json=body, headers=bearer(tokens["leader"][1])
    )
    assert future.status_code == 409 and future.get_json()["errors"][0]["field"] == "week"
