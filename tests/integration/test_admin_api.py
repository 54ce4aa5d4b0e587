"""The admin's JSON: the audit log read back with its filters, and the city's checklist."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from service.store.db import Actor, set_actor
from tests.conftest import bearer


@pytest.fixture()
def made_user(client, engine, tokens):
    """A user the admin creates over the API (its creation is in the log), removed after."""
    resp = client.post(
        "/api/users",
        json={"name": "audit_probe", "role": "inspector", "password": "probe-password"},
        headers=bearer(tokens["admin"][1]),
    )
    assert resp.status_code == 201, resp.get_data(as_text=True)
    yield resp.get_json()
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "test"))
        conn.execute(text("DELETE FROM app_user WHERE name = 'audit_probe'"))


def _audit(client, tokens, query: str = "", role: str = "admin"):
    return client.get("/api/audit" + query, headers=bearer(tokens[role][1]))


def test_the_log_names_who_created_a_user_newest_first(client, tokens, demo, made_user):
    admin = tokens["admin"][0]
    resp = _audit(client, tokens, "?table=app_user&user=t_admin")
    assert resp.status_code == 200
    entries = resp.get_json()["entries"]
    first = entries[0]
    assert (first["action"], first["table_name"], first["row_key"]) == (
        "INSERT",
        "app_user",
        str(made_user["id"]),
    )
    assert (first["actor_name"], first["actor_id"]) == ("t_admin", admin.id)
    assert all(e["table_name"] == "app_user" and e["actor_name"] == "t_admin" for e in entries)
    # by the actor's id the same entry; newest first
    by_id = _audit(client, tokens, f"?table=app_user&user={admin.id}").get_json()["entries"]
    assert by_id[0]["id"] == first["id"]
    everything = _audit(client, tokens, "?limit=50").get_json()["entries"]
    assert len(everything) == 50
    assert [e["id"] for e in everything] == sorted((e["id"] for e in everything), reverse=True)
    assert everything[0]["id"] >= first["id"]
    # the day is the city's: today in Asia/Shanghai holds it, the day before does not
    at = dt.datetime.fromisoformat(first["at"])
    assert at.utcoffset() == dt.timedelta(hours=8)
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    assert at.date() == today
    day = _audit(client, tokens, f"?table=app_user&day={today}").get_json()["entries"]
    assert first["id"] in {e["id"] for e in day}
    before = _audit(client, tokens, f"?table=app_user&day={today - dt.timedelta(days=1)}")
    assert first["id"] not in {e["id"] for e in before.get_json()["entries"]}
    one = _audit(client, tokens, "?table=app_user&limit=1").get_json()["entries"]
    assert [e["id"] for e in one] == [first["id"]]
    nobody = _audit(client, tokens, "?user=no-such-user").get_json()["entries"]
    assert nobody == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?day=2026-13-01", "day"),
        ("?day=20261128", "day"),
        ("?day=", "day"),
        ("?limit=0", "limit"),
        ("?limit=1001", "limit"),
        ("?limit=ten", "limit"),
        ("?table=no_such_table", "table"),
        ("?table=", "table"),
        ("?user=" + "x" * 101, "user"),
        ("?who=t_admin", "who"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(client, tokens, query, field):
    resp = _audit(client, tokens, query)
    assert resp.status_code == 400
    assert resp.mimetype == "application/problem+json"
    assert [e["field"] for e in resp.get_json()["errors"]] == [field]


def test_only_admins_read_the_log_and_the_checklist(client, tokens):
    for role in ("planner", "leader", "unit"):
        assert _audit(client, tokens, role=role).status_code == 403
        resp = client.get("/api/city/checklist", headers=bearer(tokens[role][1]))
        assert resp.status_code == 403


def test_the_checklist_counts_what_the_city_has(client, tokens, engine, demo):
    resp = client.get("/api/city/checklist", headers=bearer(tokens["admin"][1]))
    assert resp.status_code == 200
    items = {i["key"]: i for i in resp.get_json()["items"]}
    with engine.connect() as conn:
        points, communities = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM assessment_point WHERE city_id = :c), "
                "(SELECT count(*) FROM admin_area WHERE city_id = :c AND level = 'community')"
            ),
            {"c": demo[0]},
        ).one()
    assert items["assessment_points"]["count"] == points > 0
    in_demo = int((demo[1].areas["level"] == "community").sum())
    assert items["areas_community"]["count"] == communities == in_demo
    assert items["boundary"]["count"] == 1 and not items["boundary"]["missing"]
    assert items["roads"]["count"] > 0 and items["users"]["count"] >= 5
    assert items["assessment_points"]["collection"] == "assessment_points"
    assert all(i["missing"] == (i["count"] == 0) for i in items.values())
