"""Unannounced inspection plans: drawn, routed on Guixi's real streets, kept secret."""

import datetime as dt
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from sqlalchemy import text

from service.rounds import inspections
from service.store.db import Actor, set_actor
from tests.conftest import bearer

DEPOT = [117.2150, 28.2900]


def _plan(client, token, **over):
    body = {
        "date": "2026-11-29",
        "window_start": "20:00",
        "window_end": "23:00",
        "depot": DEPOT,
        "mode": "walk",
        "team": [over.pop("member")],
        **over,
    }
    return client.post("/api/inspection-plans", json=body, headers=bearer(token))


@pytest.fixture()
def night_plan(client, tokens):
    resp = _plan(client, tokens["leader"][1], member=tokens["inspector"][0].id)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return resp.get_json()


def test_a_night_plan_fits_its_window_on_real_streets(night_plan, engine, demo):
    plan = night_plan
    stops = plan["stops"]
    assert len(stops) >= 3 and plan["notes"] == []
    start = dt.datetime.fromisoformat(plan["window_start"])
    end = dt.datetime.fromisoformat(plan["window_end"])
    assert end - start == dt.timedelta(hours=3)
    etas = [dt.datetime.fromisoformat(s["eta"]) for s in stops]
    assert etas == sorted(etas) and start < etas[0] and etas[-1] < end
    with engine.connect() as conn:
        offset = conn.execute(
            text("SELECT draws ->> 'start_offset_s' FROM inspection_plan WHERE id = :p"),
            {"p": plan["id"]},
        ).scalar()
        active = set(
            conn.execute(
                text("SELECT id FROM assessment_point WHERE city_id = :c AND active"),
                {"c": demo[0]},
            ).scalars()
        )
    # travel, dwell and the random start all inside the window
    assert int(offset) + plan["travel_s"] + plan["dwell_s"] <= 3 * 3600
    ids = [s["point_id"] for s in stops if s["kind"] == "point"]
    assert len(set(ids)) == len(ids) and set(ids) <= active
    # the path follows the streets: far more vertices than stops, and it starts at the depot
    coords = plan["geometry"]["coordinates"]
    assert len(coords) > 3 * len(stops) and coords[0] == DEPOT and coords[-1] == DEPOT
    assert plan["distance_m"] > 500


def test_gpx_and_geojson_carry_the_stops(client, tokens, night_plan):
    token = tokens["leader"][1]
    gpx = client.get(f"/api/inspection-plans/{night_plan['id']}.gpx", headers=bearer(token))
    assert gpx.status_code == 200 and gpx.mimetype == "application/gpx+xml"
    ns = {"g": "http://www.topografix.com/GPX/1/1"}
    root = ET.fromstring(gpx.data)
    assert len(root.findall("g:wpt", ns)) == len(night_plan["stops"])
    assert len(root.findall("g:trk/g:trkseg/g:trkpt", ns)) == len(
        night_plan["geometry"]["coordinates"]
    )
    fc = client.get(f"/api/inspection-plans/{night_plan['id']}.geojson", headers=bearer(token))
    kinds = [f["geometry"]["type"] for f in fc.get_json()["features"]]
    assert kinds == ["LineString"] + ["Point"] * len(night_plan["stops"])


def test_a_unit_user_cannot_find_the_plan_by_any_path(client, tokens, night_plan):
    token = tokens["unit"][1]
    pid = night_plan["id"]
    for path in (
        f"/api/inspection-plans/{pid}",
        f"/api/inspection-plans/{pid}.gpx",
        f"/api/inspection-plans/{pid}.geojson",
        f"/api/inspection-plans/{pid}/views",
    ):
        resp = client.get(path, headers=bearer(token))
        assert resp.status_code == 404, path
        assert resp.mimetype == "application/problem+json"
    resp = client.post(f"/api/inspection-plans/{pid}/stops/1/arrive", headers=bearer(token))
    assert resp.status_code == 404
    # nor can it plan one
    assert _plan(client, token, member=tokens["unit"][0].id).status_code == 403


def test_team_members_see_stops_only_from_release_and_views_are_logged(client, tokens):
    member = tokens["inspector"]
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    resp = _plan(client, tokens["leader"][1], member=member[0].id, release_at=later)
    assert resp.status_code == 201
    pid = resp.get_json()["id"]
    seen = client.get(f"/api/inspection-plans/{pid}", headers=bearer(member[1])).get_json()
    assert seen["released"] is False and seen["stops"] == [] and seen["geometry"] is None
    gpx = client.get(f"/api/inspection-plans/{pid}.gpx", headers=bearer(member[1]))
    assert b"<wpt" not in gpx.data
    # a member is no leader: who looked is not theirs to see
    assert (
        client.get(f"/api/inspection-plans/{pid}/views", headers=bearer(member[1])).status_code
        == 403
    )
    views = client.get(
        f"/api/inspection-plans/{pid}/views", headers=bearer(tokens["leader"][1])
    ).get_json()["views"]
    who = [(v["user"], v["as"]) for v in views]
    assert ("t_leader", "created") in who
    assert ("t_inspector", "json") in who and ("t_inspector", "gpx") in who


def test_bad_requests_name_the_field(client, tokens):
    resp = client.post(
        "/api/inspection-plans",
        json={
            "date": "2026-11-29",
            "window_start": "25:00",
            "window_end": "23:00",
            "depot": [0, 0],
            "mode": "fly",
            "team": [1],
        },
        headers=bearer(tokens["leader"][1]),
    )
    assert resp.status_code == 422
    assert {e["field"] for e in resp.get_json()["errors"]} == {"mode"}
    resp = _plan(client, tokens["leader"][1], member=999999, depot=[0.0, 0.0], window_start="25:61")
    assert resp.status_code == 422
    assert {e["field"] for e in resp.get_json()["errors"]} >= {"window_start"}
    resp = _plan(client, tokens["leader"][1], member=999999, depot=[0.0, 0.0])
    assert {e["field"] for e in resp.get_json()["errors"]} == {"depot", "team"}


def test_every_point_is_visited_within_the_floor_in_a_simulated_month(app, engine, demo, tokens):
    """35 daily rounds with a seeded generator: no active point waits past the floor."""
    city = demo[0]
    floor = 28
    rng = np.random.default_rng(7)
    leader = tokens["leader"][0]
    visits: dict[int, list[int]] = {}
    start = dt.date(2027, 1, 1)
    with app.app_context(), engine.begin() as conn:
        set_actor(conn, Actor(leader.id, "test"))
        conn.execute(text("DELETE FROM inspection_due WHERE city_id = :c"), {"c": city})
        active = set(
            conn.execute(
                text("SELECT id FROM assessment_point WHERE city_id = :c AND active"),
                {"c": city},
            ).scalars()
        )
        for d in range(35):
            day = start + dt.timedelta(days=d)
            pid = inspections.create(
                conn,
                city,
                leader.id,
                {
                    "date": day.isoformat(),
                    "window_start": "19:00",
                    "window_end": "23:00",
                    "depot": DEPOT,
                    "mode": "bike",
                    "team": [leader.id],
                },
                {"INSPECTION_FLOOR_DAYS": floor},
                rng,
            )
            for (pt,) in conn.execute(
                text(
                    "SELECT point_id FROM inspection_stop WHERE plan_id = :p "
                    "AND point_id IS NOT NULL"
                ),
                {"p": pid},
            ):
                visits.setdefault(pt, []).append(d)
        conn.rollback()
    assert set(visits) == active
    for days in visits.values():
        gaps = np.diff([-1, *days, 35])  # from before day 0 to after the last day
        assert gaps[0] <= floor and gaps[1:-1].max(initial=0) <= floor
