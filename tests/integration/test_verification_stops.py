"""Verification visits on unannounced rounds: the cases awaiting verification are candidates
beside the points, never the team's own unit's, and a visit to one draws no point's date."""

import datetime as dt
import re

import numpy as np
from sqlalchemy import text

from service.rounds import inspections
from service.store.db import Actor, set_actor
from tests.conftest import bearer


def _create(app, engine, city, leader_id, team, depot, config, day="2026-12-10", **more):
    with app.app_context(), engine.begin() as conn:
        set_actor(conn, Actor(leader_id, "test"))
        (pid,) = inspections.create(
            conn,
            city,
            leader_id,
            {
                "date": day,
                "window_start": "19:00" if day == "2026-12-10" else "06:00",
                "window_end": "23:00" if day == "2026-12-10" else "21:00",
                "depot": depot,
                "mode": "bike",
                "team": team,
                **more,
            },
            config,
            np.random.default_rng(11),
        )
        draws = conn.execute(
            text("SELECT draws FROM inspection_plan WHERE id = :p"), {"p": pid}
        ).scalar()
    return pid, draws


def _resolved(engine, city):
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT id, case_no, unit_id, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM violation "
                "WHERE city_id = :c AND status = 'resolved' AND NOT permitted ORDER BY id"
            ),
            {"c": city},
        ).all()


def test_a_round_takes_cases_awaiting_verification_as_stops(app, client, engine, demo, tokens):
    city = demo[0]
    leader = tokens["leader"][0]
    resolved = _resolved(engine, city)
    assert resolved, "fixture: the demo city has cases awaiting verification"
    depot = [resolved[0].lon, resolved[0].lat]
    # the default weight; a long floor, so that no point never visited is forced tonight
    config = {"INSPECTION_VERIFY_PER_ROUND": 6, "INSPECTION_FLOOR_DAYS": 120}
    with engine.connect() as conn:
        due_before = conn.execute(
            text("SELECT count(*) FROM inspection_due WHERE city_id = :c"), {"c": city}
        ).scalar()
    pid, draws = _create(app, engine, city, leader.id, [tokens["inspector"][0].id], depot, config)
    offered = {c["case_id"] for c in draws["verify_candidates"]}
    assert len(offered) == 6 and offered <= {r.id for r in resolved}
    plan = client.get(f"/api/inspection-plans/{pid}", headers=bearer(tokens["leader"][1]))
    stops = plan.get_json()["stops"]
    verify = [s for s in stops if s["kind"] == "verify"]
    points = [s for s in stops if s["kind"] == "point"]
    assert verify and points, stops
    by_id = {r.id: r for r in resolved}
    for s in verify:
        assert s["point_id"] is None and s["case_id"] in offered
        case = by_id[s["case_id"]]
        assert s["code"] == case.case_no and s["name"]
        assert (s["lon"], s["lat"]) == (round(case.lon, 7), round(case.lat, 7))
    with engine.connect() as conn:
        # planning dates nothing: a visit counts when it is checked in
        due_after = conn.execute(
            text("SELECT count(*) FROM inspection_due WHERE city_id = :c"), {"c": city}
        ).scalar()
        dated = conn.execute(
            text(
                "SELECT count(*) FROM inspection_due WHERE city_id = :c AND point_id = ANY(:p) "
                "AND last_visit_on = '2026-12-10'"
            ),
            {"c": city, "p": [s["point_id"] for s in points]},
        ).scalar()
    assert dated == 0 and due_after == due_before
    # the round's page names the visit and the case; checking in there dates no point
    page = client.get(f"/inspection-plans/{pid}", headers=bearer(tokens["leader"][1]))
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "核查整改" in body and verify[0]["code"] in body
    seq = verify[0]["seq"]
    arrived = client.post(
        f"/api/inspection-plans/{pid}/stops/{seq}/arrive", headers=bearer(tokens["leader"][1])
    )
    assert arrived.status_code == 200, arrived.get_data(as_text=True)
    assert arrived.get_json()["case_id"] == verify[0]["case_id"]
    assert arrived.get_json()["point_id"] is None
    with engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM inspection_due WHERE city_id = :c"), {"c": city}
            ).scalar()
            == due_after
        )


def test_a_round_with_a_units_user_on_its_team_verifies_nothing(app, client, engine, demo, tokens):
    """A unit never verifies, and a verification stop would tell its user where and when a
    fix is looked at: with a unit's user on the team no case is offered."""
    city = demo[0]
    unit_user = tokens["unit"][0]
    resolved = _resolved(engine, city)
    config = {"INSPECTION_WEIGHTS": {"verify": 80.0}, "INSPECTION_VERIFY_PER_ROUND": 200}
    depot = [resolved[0].lon, resolved[0].lat]
    leader = tokens["leader"][0]
    team = [tokens["inspector"][0].id, unit_user.id]
    pid, draws = _create(app, engine, city, leader.id, team, depot, config)
    assert draws["verify_candidates"] == []
    plan = client.get(f"/api/inspection-plans/{pid}", headers=bearer(tokens["leader"][1]))
    assert plan.get_json()["stops"] and all(s["kind"] == "point" for s in plan.get_json()["stops"])
    # the same round without the unit's user is offered cases
    _, alone = _create(app, engine, city, leader.id, team[:1], depot, config)
    assert alone["verify_candidates"]


def test_a_verification_weight_of_zero_offers_none(app, engine, demo, tokens):
    city = demo[0]
    leader = tokens["leader"][0]
    config = {"INSPECTION_WEIGHTS": {"verify": 0.0}}
    pid, draws = _create(
        app, engine, city, leader.id, [tokens["inspector"][0].id], [117.215, 28.29], config
    )
    assert draws["verify_candidates"] == []
    with engine.connect() as conn:
        assert not conn.execute(
            text("SELECT count(*) FROM inspection_stop WHERE plan_id = :p AND point_id IS NULL"),
            {"p": pid},
        ).scalar()


def test_the_verify_page_puts_todays_round_first_in_its_order(app, client, engine, demo, tokens):
    city = demo[0]
    inspector, leader = tokens["inspector"][0], tokens["leader"][0]
    resolved = _resolved(engine, city)
    with engine.connect() as conn:
        today = conn.execute(
            text("SELECT (now() AT TIME ZONE timezone)::date FROM city WHERE id = :c"),
            {"c": city},
        ).scalar()
    config = {"INSPECTION_VERIFY_PER_ROUND": 6}
    depot = [resolved[1].lon, resolved[1].lat]
    released = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    pid, _ = _create(
        app,
        engine,
        city,
        leader.id,
        [inspector.id],
        depot,
        config,
        day=today.isoformat(),
        release_at=released.isoformat(),
    )
    stops = client.get(f"/api/inspection-plans/{pid}", headers=bearer(tokens["leader"][1]))
    verify = [s for s in stops.get_json()["stops"] if s["kind"] == "verify"]
    assert verify, "fixture: today's round has verification stops"
    page = client.get("/verify", headers=bearer(tokens["inspector"][1]))
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    section = body.split('id="verify-round"')[1].split("</section>")[0]
    shown = re.findall(r'id="case-(\d+)"', section)
    want = [s["case_id"] for s in sorted(verify, key=lambda s: s["seq"])]
    assert [int(i) for i in shown] == list(dict.fromkeys(want))
    assert f"路线第 {verify[0]['seq']} 站" in section
    rest = body.split('id="verify-cases"')[1]
    assert not set(re.findall(r'id="case-(\d+)"', rest)) & set(shown)
    # a verifier not on the team sees no round of its own
    other = client.get("/verify", headers=bearer(tokens["leader"][1])).get_data(as_text=True)
    assert 'id="verify-round"' not in other
