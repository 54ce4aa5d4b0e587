"""Unannounced inspection plans: drawn, routed on Guixi's real streets, kept secret."""

import datetime as dt
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from sqlalchemy import text

from gis.visits import LONGEST_FLOOR
from service.rounds import coverage, inspections
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
    # on foot for three hours some points are out of reach, and the floor cannot be kept
    # unforeseeably: the plan says both
    assert len(stops) >= 3
    assert any("cannot be reached" in n for n in plan["notes"])
    assert any("28-day floor cannot be kept unforeseeably" in n for n in plan["notes"])
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


def _month(conn, city, leader, days, config, rng, start=dt.date(2027, 1, 1), check_in=True):
    """Daily bike rounds, each stop checked in at its ETA with the clock set to it; the
    points visited each day."""
    visits: dict[int, list[int]] = {}
    for d in range(days):
        day = start + dt.timedelta(days=d)
        (pid,) = inspections.create(
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
            config,
            rng,
        )
        for seq, pt, eta in conn.execute(
            text("SELECT seq, point_id, eta FROM inspection_stop WHERE plan_id = :p ORDER BY seq"),
            {"p": pid},
        ).all():
            if check_in:
                inspections.arrive(conn, city, leader, pid, seq, eta.isoformat(), now=eta)
            if pt is not None:
                visits.setdefault(pt, []).append(d)
    return visits


def test_every_point_is_visited_within_a_strict_floor_in_a_simulated_month(
    app, engine, demo, tokens
):
    """35 daily rounds checked in (a seeded generator, the clock at each stop): with the
    strict floor no active point waits past it."""
    city = demo[0]
    floor = 28
    leader = tokens["leader"][0]
    with app.app_context(), engine.begin() as conn:
        set_actor(conn, Actor(leader.id, "test"))
        conn.execute(text("DELETE FROM inspection_due WHERE city_id = :c"), {"c": city})
        active = set(
            conn.execute(
                text("SELECT id FROM assessment_point WHERE city_id = :c AND active"),
                {"c": city},
            ).scalars()
        )
        config = {"INSPECTION_FLOOR_DAYS": floor, "INSPECTION_FLOOR_STRICT": True}
        visits = _month(conn, city, leader, 35, config, np.random.default_rng(7))
        conn.rollback()
    assert set(visits) == active
    for days in visits.values():
        gaps = np.diff([-1, *days, 35])  # from before day 0 to after the last day
        assert gaps[0] <= floor and gaps[1:-1].max(initial=0) <= floor


def test_a_visit_counts_when_checked_in_at_its_own_time(client, app, engine, demo, tokens):
    """Planning changes no last visit; a check-in sets it to the day it happened (the city's
    day); an earlier check-in does not move a later visit back; a time outside the window
    is refused by name; a cancelled round takes no check-in."""
    city = demo[0]
    leader = tokens["leader"][0]
    token = tokens["leader"][1]

    def dues():
        with engine.connect() as conn:
            return dict(
                conn.execute(
                    text("SELECT point_id, last_visit_on FROM inspection_due WHERE city_id = :c"),
                    {"c": city},
                ).all()
            )

    before = dues()
    member = tokens["inspector"][0].id
    plan = _plan(client, token, member=member, date="2026-11-20", mode="bike").get_json()
    again = _plan(client, token, member=member, date="2026-11-21", mode="bike").get_json()
    assert dues() == before  # two rounds planned, nobody went: nothing changed
    stop = next(s for s in plan["stops"] if s["kind"] == "point")
    with engine.begin() as conn:  # the point's visits by other tests' rounds are not this one's
        set_actor(conn, Actor(leader.id, "test"))
        conn.execute(
            text("DELETE FROM inspection_due WHERE city_id = :c AND point_id = :p"),
            {"c": city, "p": stop["point_id"]},
        )
    before = dues()
    url = f"/api/inspection-plans/{plan['id']}/stops/{stop['seq']}/arrive"
    late = client.post(url, json={"at": "2026-11-21T09:00:00+08:00"}, headers=bearer(token))
    assert late.status_code == 422 and late.get_json()["errors"][0]["field"] == "at"
    naive = client.post(url, json={"at": "2026-11-20T21:00:00"}, headers=bearer(token))
    assert naive.status_code == 422 and naive.get_json()["errors"][0]["field"] == "at"
    assert dues() == before
    # recorded afterwards from paper: 23:30 China time on the 20th is the 20th, not the UTC day
    ok = client.post(url, json={"at": "2026-11-20T22:59:00+08:00"}, headers=bearer(token))
    assert ok.status_code == 200, ok.get_json()
    assert dt.datetime.fromisoformat(ok.get_json()["arrived_at"]) == dt.datetime(
        2026, 11, 20, 14, 59, tzinfo=dt.UTC
    )
    assert dues()[stop["point_id"]] == dt.date(2026, 11, 20)
    with engine.begin() as conn:  # a later visit stands against an earlier check-in
        set_actor(conn, Actor(leader.id, "test"))
        conn.execute(
            text("UPDATE inspection_due SET last_visit_on = '2026-11-25' WHERE point_id = :p"),
            {"p": stop["point_id"]},
        )
    other = next((s for s in again["stops"] if s["point_id"] == stop["point_id"]), None)
    if other is not None:
        client.post(
            f"/api/inspection-plans/{again['id']}/stops/{other['seq']}/arrive",
            json={"at": "2026-11-21T21:00:00+08:00"},
            headers=bearer(token),
        )
    assert dues()[stop["point_id"]] == dt.date(2026, 11, 25)
    # cancelled: the round takes no check-in and nothing of it counts
    assert (
        client.post(
            f"/api/inspection-plans/{again['id']}/cancel", headers=bearer(tokens["inspector"][1])
        ).status_code
        == 404
    )  # a team member does not cancel
    gone = client.post(f"/api/inspection-plans/{again['id']}/cancel", headers=bearer(token))
    assert gone.status_code == 200 and gone.get_json()["cancelled_at"]
    seen = dues()
    refused = client.post(
        f"/api/inspection-plans/{again['id']}/stops/{again['stops'][-1]['seq']}/arrive",
        json={"at": "2026-11-21T21:30:00+08:00"},
        headers=bearer(token),
    )
    assert refused.status_code == 409 and dues() == seen
    read = client.get(f"/api/inspection-plans/{again['id']}", headers=bearer(token)).get_json()
    assert read["cancelled_at"] == gone.get_json()["cancelled_at"]


def test_the_coverage_report_says_the_floor_on_foot_cannot_be_kept(client, tokens, demo):
    """On foot for three hours from a depot 1.5 km west of the centre (more than a kilometre
    from every round the tests plan, so the stops a night come from the travel times):
    points out of reach are named, the 28-day
    floor is reported as not kept unforeseeably, with the floor that is and the stops a
    night it would need; a bike, a drive, a longer window or more teams are weighed."""
    token = tokens["leader"][1]
    got = client.get(
        "/api/inspection-coverage?mode=walk&window=20:00-23:00&depot=117.2000,28.2950",
        headers=bearer(token),
    )
    assert got.status_code == 200, got.get_json()
    r = got.get_json()
    assert r["points"] == len(demo[1].points) and 0 < r["reachable"] < r["points"]
    assert len(r["unreachable"]) == r["points"] - r["reachable"]
    assert r["floor_days"] == 28 and r["unforeseeable"] is False
    assert r["kept_floor_days"] > 28
    assert r["needed_stops_per_night"] > r["stops_per_night"] > 0
    kinds = {(o["mode"], o["window_hours"], o["teams"]) for o in r["options"]}
    assert r["stops_from"] == "travel_times"
    assert {("bike", 3.0, 1), ("drive", 3.0, 1), ("walk", 4.0, 1), ("walk", 3.0, 2)} <= kinds
    bike = next(o for o in r["options"] if o["mode"] == "bike")
    assert bike["reachable"] >= r["reachable"] and bike["stops_per_night"] > r["stops_per_night"]
    # only leaders and admins; a bad window or depot is named
    assert (
        client.get(
            "/api/inspection-coverage?mode=walk&window=20:00-23:00&depot=117.2150,28.2900",
            headers=bearer(tokens["inspector"][1]),
        ).status_code
        == 403
    )
    for query, field in (
        ("window=8-9&depot=117.215,28.29", "window"),
        ("window=25:00-26:00&depot=117.215,28.29", "window"),
        ("window=20:00-23:00&depot=east", "depot"),
        ("window=20:00-23:00&depot=117.215,28.29&teams=0", "teams"),
        ("window=20:00-23:00&depot=117.215,28.29&mode=boat", "mode"),
        ("window=20:00-23:00&depot=117.215,28.29&shift=1", "shift"),
    ):
        bad = client.get(f"/api/inspection-coverage?{query}", headers=bearer(token))
        assert bad.status_code in (400, 422), query
        assert field in [e["field"] for e in bad.get_json()["errors"]], (query, bad.get_json())


def test_a_night_of_three_teams_gives_each_its_own_round_and_no_point_twice(
    client, tokens, engine, demo
):
    """Three teams in one request: a round each, from its own depot, no point on two of
    them; each team sees its own round only, and the leader which rounds make the night."""
    leader = tokens["leader"][1]
    teams = [[tokens["inspector"][0].id], [tokens["planner"][0].id], [tokens["admin"][0].id]]
    depots = [DEPOT, [117.2060, 28.2930], [117.2250, 28.2860]]
    resp = _plan(client, leader, member=0, team=teams, depot=depots, window_end="23:30")
    assert resp.status_code == 201, resp.get_data(as_text=True)
    plans = resp.get_json()["plans"]
    assert [p["depot"] for p in plans] == depots
    ids = [p["id"] for p in plans]
    held = [s["point_id"] for p in plans for s in p["stops"] if s["kind"] == "point"]
    assert len(held) == len(set(held)) and all(p["stops"] for p in plans)
    for k, p in enumerate(plans):
        coords = p["geometry"]["coordinates"]
        assert coords[0] == depots[k] == coords[-1]
        etas = [dt.datetime.fromisoformat(s["eta"]) for s in p["stops"]]
        assert etas == sorted(etas) and etas[-1] < dt.datetime.fromisoformat(p["window_end"])
        assert p["night"] == {"team": k + 1, "teams": 3, "plans": ids}
    # the inspector's round is theirs; the others' do not exist for them
    own = client.get(f"/api/inspection-plans/{ids[0]}", headers=bearer(tokens["inspector"][1]))
    assert own.status_code == 200 and "night" not in own.get_json()
    for other in ids[1:]:
        resp = client.get(f"/api/inspection-plans/{other}", headers=bearer(tokens["inspector"][1]))
        assert resp.status_code == 404
    # the rounds list: leaders see each round's team and which of the night's teams it is;
    # a member sees neither
    listed = client.get("/api/inspection-plans?from=2026-11-29&to=2026-11-29",
                        headers=bearer(leader)).get_json()  # fmt: skip
    mine = {p["id"]: p for p in listed["plans"] if p["id"] in ids}
    assert [mine[i]["night"] for i in ids] == [{"team": k + 1, "teams": 3} for k in range(3)]
    with engine.connect() as conn:
        names = dict(
            conn.execute(
                text("SELECT id, coalesce(display_name, name) FROM app_user WHERE id = ANY(:u)"),
                {"u": [t[0] for t in teams]},
            ).all()
        )
    assert [mine[i]["team"] for i in ids] == [[names[t[0]]] for t in teams]
    own = client.get("/api/inspection-plans?from=2026-11-29&to=2026-11-29",
                     headers=bearer(tokens["inspector"][1])).get_json()  # fmt: skip
    assert [p for p in own["plans"] if p["id"] == ids[0]]
    assert all("night" not in p and "team" not in p for p in own["plans"])
    page = client.get("/rounds", headers=bearer(leader)).get_data(as_text=True)
    assert "第 2 组（共 3 组）" in page and names[teams[1][0]] in page
    # the next night's floor is read from the last round like any of its teams': a night
    # whose first team starts where no round started still finds this one
    far = [117.3000, 28.4000]
    likes = [
        coverage.Alike(demo[0], "walk", None, tuple(d), 3.5 * 3600, dt.date(2026, 11, 30))
        for d in (far, depots[2])
    ]
    with engine.connect() as conn:
        kept = conn.execute(
            text("SELECT (draws ->> 'floor_kept_days')::int FROM inspection_plan WHERE id = :p"),
            {"p": ids[2]},
        ).scalar_one()
        assert coverage.last_kept(conn, likes[:1]) is None
        assert coverage.last_kept(conn, likes) == (kept if kept < LONGEST_FLOOR else None)
        assert kept < LONGEST_FLOOR
    # a depot too few, a user in two teams, a team that is no list of ids: named
    bad = _plan(client, leader, member=0, team=teams, depot=depots[:2])
    assert {e["field"] for e in bad.get_json()["errors"]} == {"depot"}
    bad = _plan(client, leader, member=0, team=[teams[0], teams[0]])
    assert {e["field"] for e in bad.get_json()["errors"]} == {"team"}
    bad = _plan(client, leader, member=0, team=["x"], depot=[117.2, 28.2, 1])
    assert {e["field"] for e in bad.get_json()["errors"]} == {"team.0", "depot"}


def _bike_night(day: dt.date, depot: list[float], leader) -> dict:
    """A request for ``leader``'s bike round 19:00-23:00 on ``day`` from ``depot``."""
    return {"date": day.isoformat(), "window_start": "19:00", "window_end": "23:00",
            "depot": depot, "mode": "bike", "team": [leader.id]}  # fmt: skip


def _draws(conn, plan: int) -> dict:
    return conn.execute(
        text("SELECT draws FROM inspection_plan WHERE id = :p"), {"p": plan}
    ).scalar_one()


def _last_visits(conn, city: int, last: dict) -> None:
    """The city's points last visited on the days of ``last`` (point id → date), no other."""
    conn.execute(text("DELETE FROM inspection_due WHERE city_id = :c"), {"c": city})
    conn.execute(
        text(
            "INSERT INTO inspection_due (city_id, point_id, last_visit_on, due_on) "
            "VALUES (:c, :p, :d, :d)"
        ),
        [{"c": city, "p": p, "d": d} for p, d in last.items()],
    )


def _after_a_longer_floor(app, engine, demo, tokens, short: int, days: int):
    """A bike round planned, the floor it kept made ten days longer, then the next night's
    round from the same depot, every point visited five days before that night but the
    ``short`` reachable ones, which are ``days`` short of that longer floor. The longer
    floor, those points and the next night's draws."""
    city = demo[0]
    leader = tokens["leader"][0]
    depot = [117.2160, 28.2910]
    config = {"INSPECTION_FLOOR_DAYS": 28}
    day = dt.date(2027, 9, 1)
    with app.app_context(), engine.begin() as conn:
        set_actor(conn, Actor(leader.id, "test"))
        (first,) = inspections.create(conn, city, leader.id, _bike_night(day, depot, leader),
                                      config, np.random.default_rng(3))  # fmt: skip
        seen = _draws(conn, first)
        longer = seen["floor_kept_days"] + 10
        assert longer - 10 < LONGEST_FLOOR
        conn.execute(
            text(
                "UPDATE inspection_plan SET draws = jsonb_set(draws, '{floor_kept_days}', "
                "to_jsonb(CAST(:k AS int))) WHERE id = :p"
            ),
            {"k": longer, "p": first},
        )
        points = [c["point_id"] for c in seen["candidates"] if c["reachable"]][:short]
        tonight = day + dt.timedelta(days=1)
        last = {c["point_id"]: tonight - dt.timedelta(days=5) for c in seen["candidates"]}
        last.update({p: tonight - dt.timedelta(days=longer - days) for p in points})
        _last_visits(conn, city, last)
        (second,) = inspections.create(conn, city, leader.id, _bike_night(tonight, depot, leader),
                                       config, np.random.default_rng(4))  # fmt: skip
        got = _draws(conn, second)
        conn.rollback()
    return longer, points, got


def test_a_point_three_days_short_of_a_floor_that_shortens_goes_tonight(app, engine, demo, tokens):
    """When the floor kept shortens tonight (the last round like this one kept a longer one)
    it may shorten again tomorrow, and a point's days left close by two a night: a point
    three days short of tonight's floor is at the floor tonight, so that it has two nights
    to be visited, as a point one day short of a floor that holds has."""
    longer, (point,), got = _after_a_longer_floor(app, engine, demo, tokens, 1, 4)
    assert got["floor_kept_days"] == longer - 1
    mine = next(c for c in got["candidates"] if c["point_id"] == point)
    assert mine["since_days"] == longer - 4
    assert mine["at_floor"] and mine["prize"] == 100


def test_a_floor_does_not_shorten_under_a_crowd_near_it(app, engine, demo, tokens):
    """More points that a shorter floor would put at their floor tonight (four days short of
    the floor as it stands) than a night takes of such points (60 % of its stops): the floor
    holds tonight, so that none of them loses a night; one such point does not hold it
    (above)."""
    longer, points, got = _after_a_longer_floor(app, engine, demo, tokens, 40, 4)
    assert len(points) == 40 > 0.6 * got["stops_per_night"]
    assert got["floor_kept_days"] == longer


def test_a_city_sets_the_late_start_and_the_lean_toward_quick_points(app, engine, demo, tokens):
    """INSPECTION_LATE_START_S 0: the round leaves at the window's start (by default up to
    900 s late); INSPECTION_QUICK_LEAN: the same night's odds lean toward the points quick
    to inspect (the draws say how far), the same seed otherwise."""
    city, leader = demo[0], tokens["leader"][0]
    body = {"date": "2027-10-01", "window_start": "19:00", "window_end": "23:00",
            "depot": DEPOT, "mode": "bike", "team": [leader.id]}  # fmt: skip

    def plan(config, seed):
        with app.app_context(), engine.begin() as conn:
            set_actor(conn, Actor(leader.id, "test"))
            (pid,) = inspections.create(conn, city, leader.id, body, config,
                                        np.random.default_rng(seed))  # fmt: skip
            got = _draws(conn, pid)
            rows, dwell = inspections.candidates(conn, city, None, {})
            conn.rollback()
        return got, dict(zip([r.id for r in rows], dwell, strict=True))

    offsets = [plan({}, seed)[0]["start_offset_s"] for seed in range(6)]
    assert max(offsets) > 0 and all(0 <= o <= 900 for o in offsets)
    plain, dwell = plan({"INSPECTION_LATE_START_S": 0}, 1)
    assert plain["start_offset_s"] == 0 and plain["quick_lean"] == 0
    leaned, _ = plan({"INSPECTION_LATE_START_S": 0, "INSPECTION_QUICK_LEAN": 0.1}, 1)
    assert leaned["start_offset_s"] == 0 and abs(leaned["quick_lean"] - 0.1) < 1e-3
    # a setting that is no number plans as if unset
    assert plan({"INSPECTION_LATE_START_S": 0, "INSPECTION_QUICK_LEAN": "x"}, 1)[0] == plain

    # each point's odds leaned over plain, where neither is held at 1, by its dwell
    was = {c["point_id"]: c["odds"] for c in plain["candidates"] if c["reachable"]}
    ratio = {}
    for c in leaned["candidates"]:
        if c["reachable"] and max(c["odds"], was[c["point_id"]]) < 1:
            ratio.setdefault(dwell[c["point_id"]], []).append(c["odds"] / was[c["point_id"]])
    quick, slow = min(ratio), max(ratio)
    assert quick < slow and np.mean(ratio[quick]) > 1 > np.mean(ratio[slow])


def test_a_nights_wanted_points_lean_to_its_heading(app, engine, demo, tokens):
    """Each night's draws name a heading; on rounds of many stops (nine hours by bike) the
    points wanted that night lie on its side of the depot (INSPECTION_HEADING_PULL 2, the
    default, in full); with no pull none is drawn and no point is pulled."""
    city, leader = demo[0], tokens["leader"][0]
    with app.app_context(), engine.begin() as conn:
        set_actor(conn, Actor(leader.id, "test"))
        rows, _ = inspections.candidates(conn, city, None, {})
        where = {r.id: (r.lon - DEPOT[0], r.lat - DEPOT[1]) for r in rows}
        facing = {}
        for pull in (2.0, 0.0):
            got = []
            for night in range(8):
                body = {"date": f"2027-11-{night + 1:02d}", "window_start": "14:00",
                        "window_end": "23:00", "depot": DEPOT, "mode": "bike",
                        "team": [leader.id]}  # fmt: skip
                (pid,) = inspections.create(conn, city, leader.id, body,
                                            {"INSPECTION_HEADING_PULL": pull},
                                            np.random.default_rng(night))  # fmt: skip
                draws = _draws(conn, pid)
                assert draws["stops_per_night"] > 20 and draws["heading"]["kappa"] == pull
                # a night of many stops: the fillers keep their deficit's prizes, none left out
                assert draws["track"] == 0
                assert min(c["prize"] for c in draws["candidates"] if c["reachable"]) >= 1
                if not pull:
                    assert {c["pull"] for c in draws["candidates"]} == {1.0}
                    continue
                toward = np.radians(draws["heading"]["deg"])
                for c in draws["candidates"]:
                    if c["reachable"] and c["wanted"]:
                        dx, dy = where[c["point_id"]]
                        bearing = np.arctan2(dy, dx * np.cos(np.radians(DEPOT[1])))
                        got.append(np.cos(bearing - toward))
            facing[pull] = float(np.mean(got)) if got else None
        conn.rollback()
    assert facing[2.0] > 0.3


def test_a_crowd_of_far_points_near_their_floor_goes_before_a_crowd_of_near_ones(
    app, engine, demo, tokens
):
    """Six points a night short of their margin night: the six nearest to the depot fit the
    night left (a stop's share of a night each) and none is put at the floor tonight; the six
    farthest each take a large part of a round alone, more than the night left holds, and
    the last of them in line go tonight."""
    city, leader = demo[0], tokens["leader"][0]
    depot = [117.2160, 28.2910]
    day = dt.date(2027, 9, 1)
    tonight = day + dt.timedelta(days=1)
    config = {"INSPECTION_FLOOR_DAYS": 28}
    at_floor = {}
    with app.app_context(), engine.begin() as conn:
        set_actor(conn, Actor(leader.id, "test"))
        (first,) = inspections.create(conn, city, leader.id, _bike_night(day, depot, leader),
                                      config, np.random.default_rng(3))  # fmt: skip
        seen = _draws(conn, first)
        kept = seen["floor_kept_days"]
        rows, _ = inspections.candidates(conn, city, None, {})
        reach = {c["point_id"] for c in seen["candidates"] if c["reachable"]}
        away = sorted(
            (np.hypot((r.lon - depot[0]) * np.cos(np.radians(depot[1])), r.lat - depot[1]), r.id)
            for r in rows
            if r.id in reach
        )
        for name, crowd in (("near", [p for _, p in away[:6]]), ("far", [p for _, p in away[-6:]])):
            last = {p: tonight - dt.timedelta(days=5) for p in reach}
            # since = kept − 2: one night (tomorrow) left before the margin night
            last.update({p: tonight - dt.timedelta(days=kept - 2) for p in crowd})
            _last_visits(conn, city, last)
            (plan,) = inspections.create(conn, city, leader.id,
                                         _bike_night(tonight, depot, leader), config,
                                         np.random.default_rng(4))  # fmt: skip
            got = _draws(conn, plan)
            assert got["floor_kept_days"] == kept
            mine = [c for c in got["candidates"] if c["point_id"] in crowd]
            assert {c["since_days"] for c in mine} == {kept - 2}
            at_floor[name] = sum(c["at_floor"] for c in mine)
        conn.rollback()
    assert at_floor["near"] == 0 and at_floor["far"] >= 2


def test_on_short_walks_the_prizes_track_how_many_visits_each_point_is_behind(
    app, engine, demo, tokens
):
    """Eight two-hour walks planned and checked in, then the ninth: a night of few stops,
    so the prizes track the shares. Every reachable point is offered, wanted tonight or not,
    those ahead of their shares (the points just visited) too, each around the rule's prize
    for how far behind or ahead it is; the round's stops are all offered ones."""
    city, leader = demo[0], tokens["leader"][0]
    with app.app_context(), engine.begin() as conn:
        set_actor(conn, Actor(leader.id, "test"))
        conn.execute(text("DELETE FROM inspection_due WHERE city_id = :c"), {"c": city})
        for night in range(9):
            body = {"date": f"2027-12-{night + 1:02d}", "window_start": "20:30",
                    "window_end": "22:30", "depot": DEPOT, "mode": "walk",
                    "team": [leader.id]}  # fmt: skip
            (pid,) = inspections.create(conn, city, leader.id, body, {},
                                        np.random.default_rng(40 + night))  # fmt: skip
            stops = conn.execute(
                text("SELECT seq, point_id, eta FROM inspection_stop WHERE plan_id = :p"),
                {"p": pid},
            ).all()
            if night < 8:
                for seq, _, eta in stops:
                    inspections.arrive(conn, city, leader, pid, seq, eta.isoformat(), now=eta)
        draws = _draws(conn, pid)
        conn.rollback()
    assert draws["stops_per_night"] < 10 and draws["track"] == 1
    free = [c for c in draws["candidates"] if c["reachable"] and not c["at_floor"]]
    # the points just visited (0.7 visits or more ahead) offered too, every prize around the
    # rule's median, 1 + 49 × 0.3 × ln(1 + e^((short + 0.4) / 0.3))
    assert len([c for c in free if c["short"] <= -0.7]) >= 3
    assert min(c["prize"] for c in free) >= 1
    rule = [1 + 49 * 0.3 * np.logaddexp(0, (c["short"] + 0.4) / 0.3) for c in free]
    assert 0.5 < np.median([c["prize"] / r for c, r in zip(free, rule, strict=True)]) < 2
    offered = {c["point_id"] for c in draws["candidates"] if c["prize"] > 0}
    visited = {p for _, p, _ in stops if p is not None}
    assert visited and visited <= offered
