"""The case's loop over the API: report → dispatched on arrival → accepted → fixed with an
after-photo near the case → verification failed (one rework) → fixed again → verified; who
may take which step, on which version, and what the history and the audit log keep."""

from __future__ import annotations

import io
import math

import pytest
from PIL import Image
from sqlalchemy import text

from service.store.db import Actor, set_actor
from tests.conftest import bearer


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4, 3), (10, 200, 30)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def place(engine, demo, tokens):
    """A point inside a zone owned by the unit user's unit (or one of its communities), and
    one owned by another unit."""
    unit_id = tokens["unit"][0].unit_id
    with engine.connect() as conn:
        mine = conn.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(z.geom) p FROM zone z "
                "JOIN unit u ON u.city_id = z.city_id AND u.id = z.unit_id WHERE z.city_id = :c "
                "AND (u.id = :u OR u.parent_id = :u) AND z.valid_to IS NULL "
                "ORDER BY ST_Area(z.geom) DESC LIMIT 1) s"
            ),
            {"c": demo[0], "u": unit_id},
        ).one()
        theirs = conn.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(z.geom) p FROM zone z "
                "JOIN unit u ON u.city_id = z.city_id AND u.id = z.unit_id WHERE z.city_id = :c "
                "AND u.id <> :u AND coalesce(u.parent_id, 0) <> :u AND z.valid_to IS NULL "
                "ORDER BY ST_Area(z.geom) DESC LIMIT 1) s"
            ),
            {"c": demo[0], "u": unit_id},
        ).one()
    return tuple(mine), tuple(theirs)


def _report(client, token, lon, lat) -> dict:
    resp = client.post(
        "/api/reports",
        data={"category": "graffiti", "lon": str(lon), "lat": str(lat), "description": "涂鸦"},
        headers=bearer(token),
        content_type="multipart/form-data",
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def _etag(client, token, cid) -> str:
    resp = client.get(f"/collections/violations/items/{cid}", headers=bearer(token))
    assert resp.status_code == 200
    return resp.headers["ETag"]


def _step(client, token, cid, etag, photo=False, **fields):
    headers = {**bearer(token), "If-Match": etag} if etag else bearer(token)
    if photo:
        data = {k: str(v) for k, v in fields.items()}
        data["photos"] = [(io.BytesIO(_png()), "after.png")]
        return client.post(
            f"/api/cases/{cid}/events",
            data=data,
            headers=headers,
            content_type="multipart/form-data",
        )
    return client.post(f"/api/cases/{cid}/events", json=fields, headers=headers)


def _near(lon, lat, metres):
    """A point ``metres`` east of (lon, lat)."""
    return lon + metres / (111_320 * math.cos(math.radians(lat))), lat


def test_a_case_goes_round_the_loop_with_one_rework(client, engine, tokens, place):
    inspector, unit, planner = tokens["inspector"][1], tokens["unit"][1], tokens["planner"][1]
    (lon, lat), _ = place
    case = _report(client, inspector, lon, lat)
    cid = case["id"]
    # with an owner it arrives dispatched (the category says so), with its report and dispatch
    assert case["properties"]["status"] == "dispatched"
    history = client.get(f"/api/cases/{cid}/events", headers=bearer(planner)).get_json()
    assert [e["action"] for e in history["events"]] == ["report", "dispatch"]
    # no step without the version read; none on an older version
    assert _step(client, unit, cid, None, action="accept").status_code == 428
    etag = _etag(client, unit, cid)
    accepted = _step(client, unit, cid, etag, action="accept")
    assert accepted.status_code == 201, accepted.get_json()
    assert _step(client, unit, cid, etag, action="accept").status_code == 412
    etag = accepted.headers["ETag"]
    # a fix needs a photo taken near the case
    far = _near(lon, lat, 300)
    refused = _step(client, unit, cid, etag, photo=True, action="fix", lon=far[0], lat=far[1])
    assert refused.status_code == 422
    assert any(e["field"] == "lon" for e in refused.get_json()["errors"])
    no_photo = _step(client, unit, cid, etag, action="fix", lon=lon, lat=lat)
    assert no_photo.status_code == 422
    assert any(e["field"] == "photos" for e in no_photo.get_json()["errors"])
    close = _near(lon, lat, 20)
    fixed = _step(client, unit, cid, etag, photo=True, action="fix", lon=close[0], lat=close[1],
                  accuracy_m=8, comment="已清除")  # fmt: skip
    assert fixed.status_code == 201, fixed.get_json()
    assert fixed.get_json()["to_status"] == "resolved" and fixed.get_json()["photos"]
    # the unit may not verify its own fix
    etag = fixed.headers["ETag"]
    assert _step(client, unit, cid, etag, action="verify_pass").status_code == 403
    # the inspector fails it (a reason is required) and the unit fixes again
    assert _step(client, inspector, cid, etag, action="verify_fail").status_code == 422
    failed = _step(client, inspector, cid, etag, action="verify_fail", comment="仍有残留")
    assert failed.status_code == 201 and failed.get_json()["to_status"] == "rectifying"
    again = _step(client, unit, cid, failed.headers["ETag"], photo=True, action="fix",
                  lon=close[0], lat=close[1])  # fmt: skip
    assert again.status_code == 201
    passed = _step(client, inspector, cid, again.headers["ETag"], action="verify_pass")
    assert passed.status_code == 201 and passed.get_json()["to_status"] == "closed"
    # a closed case takes no more fixes
    assert (
        _step(
            client,
            unit,
            cid,
            passed.headers["ETag"],
            photo=True,
            action="fix",
            lon=close[0],
            lat=close[1],
        ).status_code
        == 409  # fmt: skip
    )
    events = client.get(f"/api/cases/{cid}/events", headers=bearer(unit)).get_json()["events"]
    assert [e["action"] for e in events] == [
        "report", "dispatch", "accept", "fix", "verify_fail", "fix", "verify_pass",
    ]  # fmt: skip
    assert events[3]["accuracy_m"] == 8 and events[4]["comment"] == "仍有残留"
    # the after-photo is shown to the unit, as the case's own photos are
    after = events[3]["photos"][0]
    assert client.get(after, headers=bearer(unit)).status_code == 200
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT status, rework_count, closed_at IS NOT NULL, resolved_at IS NOT NULL "
                "FROM violation WHERE id = :i"
            ),
            {"i": cid},
        ).one()
        audited = conn.execute(
            text(
                "SELECT count(*) FROM audit_log WHERE table_name = 'violation' "
                "AND row_key = :i AND action = 'UPDATE'"
            ),
            {"i": str(cid)},
        ).scalar()
    assert tuple(row) == ("closed", 1, True, True)
    assert audited >= 5  # every step changed the case's row, and the audit log has each


def test_a_unit_reaches_only_its_own_cases(client, tokens, place):
    inspector, unit = tokens["inspector"][1], tokens["unit"][1]
    _, (lon, lat) = place
    theirs = _report(client, inspector, lon, lat)["id"]
    etag = _etag(client, inspector, theirs)
    assert _step(client, unit, theirs, etag, action="accept").status_code == 404
    assert client.get(f"/api/cases/{theirs}/events", headers=bearer(unit)).status_code == 404


def test_a_dispute_is_decided_by_the_office_and_counted(client, engine, tokens, place):
    inspector, unit, planner = tokens["inspector"][1], tokens["unit"][1], tokens["planner"][1]
    (lon, lat), _ = place
    cid = _report(client, inspector, lon, lat)["id"]
    etag = _etag(client, unit, cid)
    assert _step(client, unit, cid, etag, action="dispute").status_code == 422  # no reason
    disputed = _step(client, unit, cid, etag, action="dispute", comment="不在本社区")
    assert disputed.status_code == 201 and disputed.get_json()["to_status"] == "disputed"
    # a unit cannot decide; the planner gives it back to the same unit (the dispute refused)
    etag = disputed.headers["ETag"]
    with engine.connect() as conn:
        code = conn.execute(
            text("SELECT u.code FROM violation v JOIN unit u ON u.id = v.unit_id WHERE v.id = :i"),
            {"i": cid},
        ).scalar()
    assert _step(client, unit, cid, etag, action="reassign", unit=code).status_code == 403
    back = _step(client, planner, cid, etag, action="reassign", unit=code, comment="属于本单位")
    assert back.status_code == 201 and back.get_json()["to_status"] == "dispatched"
    with engine.connect() as conn:
        disputes = conn.execute(
            text(
                "SELECT count(*) FROM case_event WHERE unit_id = (SELECT unit_id FROM violation "
                "WHERE id = :i) AND action = 'dispute' AND violation_id = :i"
            ),
            {"i": cid},
        ).scalar()
    assert disputes == 1


def test_an_extension_moves_the_due_date_when_approved(client, engine, tokens, place):
    inspector, unit, leader = tokens["inspector"][1], tokens["unit"][1], tokens["leader"][1]
    (lon, lat), _ = place
    cid = _report(client, inspector, lon, lat)["id"]
    etag = _etag(client, unit, cid)
    decide = _step(client, leader, cid, etag, action="extend_decide", approve=True)
    assert decide.status_code == 409  # nothing asked yet
    asked = _step(client, unit, cid, etag, action="extend_request", due_at="2027-01-31",
                  comment="需要更换设施")  # fmt: skip
    assert asked.status_code == 201
    approved = _step(client, leader, cid, asked.headers["ETag"], action="extend_decide",
                     approve="true")  # fmt: skip
    assert approved.status_code == 201, approved.get_json()
    with engine.connect() as conn:
        due, count = conn.execute(
            text(
                "SELECT (due_at AT TIME ZONE 'Asia/Shanghai')::text, extension_count "
                "FROM violation WHERE id = :i"
            ),
            {"i": cid},
        ).one()
    assert due.startswith("2027-01-31 23:59") and count == 1
    # the approved date stands when the rules judge the city's cases again
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "test"))
        conn.execute(text("SELECT violation_rejudge(city_id) FROM violation WHERE id = :i"),
                     {"i": cid})  # fmt: skip
        kept = conn.execute(
            text("SELECT (due_at AT TIME ZONE 'Asia/Shanghai')::text FROM violation "
                 "WHERE id = :i"),
            {"i": cid},
        ).scalar()  # fmt: skip
    assert kept.startswith("2027-01-31 23:59")


def test_bad_steps_are_named(client, tokens, place):
    inspector = tokens["inspector"][1]
    (lon, lat), _ = place
    cid = _report(client, inspector, lon, lat)["id"]
    etag = _etag(client, inspector, cid)
    unknown = _step(client, inspector, cid, etag, action="teleport")
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["field"] == "action"
    extra = _step(client, inspector, cid, etag, action="verify_pass", colour="red")
    assert extra.status_code == 422 and extra.get_json()["errors"][0]["field"] == "colour"
    wrong_state = _step(client, inspector, cid, etag, action="verify_pass")
    assert wrong_state.status_code == 409
    assert _step(client, inspector, 999_999_999, etag, action="accept").status_code == 404


def test_the_readme_table_is_the_loop_s_table():
    from pathlib import Path

    from service.cases.loop import STEPS

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    rows = {
        line.split("|")[1].strip().strip("`"): [c.strip() for c in line.split("|")[2:5]]
        for line in readme.splitlines()
        if line.startswith("| `") and line.split("|")[1].strip().strip("`") in STEPS
    }
    assert set(rows) == set(STEPS)
    for action, step in STEPS.items():
        before, after, who = rows[action]
        assert before == ", ".join(step.before), action
        assert after == (step.after or "(unchanged)"), action
        assert who == ", ".join(step.roles), action
