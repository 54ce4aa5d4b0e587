"""Open311 GeoReport v2: a client system (role ``system``, made by ``chuangwen user add``)
lists the city's categories as services, files a case with its api_key that arrives
dispatched to its owner and audited, follows it round the loop to closed; bad input and bad
keys answer GeoReport's errors; nobody but client systems and admins uses these routes, and
a client system uses nothing else."""

from __future__ import annotations

import io

import pytest
from flask.cli import ScriptInfo
from PIL import Image
from sqlalchemy import text

from service.cli import main
from tests.conftest import bearer

V2 = "/open311/v2"


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4, 3), (10, 200, 30)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def system_token(pg_url, engine, demo, app_home):
    """A client system made with the command line, as an operator would."""
    from service.app import create_app

    app = create_app({"DATABASE_URL": pg_url, "HOME": str(app_home), "TESTING": True,
                      "TILES": "none", "SECRET_KEY": "t"})  # fmt: skip
    result = app.test_cli_runner().invoke(
        main,
        ["user", "add", "hotline_12345", "--role", "system", "--display-name", "12345热线"],
        obj=ScriptInfo(create_app=lambda: app),
    )
    assert result.exit_code == 0, result.output
    if app.extensions.get("chuangwen_engine") is not None:
        app.extensions["chuangwen_engine"].dispose()
    return result.output.strip().splitlines()[-1]


@pytest.fixture
def owned(engine, demo, tokens):
    """A point inside a zone owned by the demo unit user's unit (or one of its communities)."""
    unit_id = tokens["unit"][0].unit_id
    with engine.connect() as conn:
        return tuple(
            conn.execute(
                text(
                    "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(z.geom) p FROM zone z "
                    "JOIN unit u ON u.city_id = z.city_id AND u.id = z.unit_id "
                    "WHERE z.city_id = :c AND (u.id = :u OR u.parent_id = :u) "
                    "AND z.valid_to IS NULL ORDER BY ST_Area(z.geom) DESC LIMIT 1) s"
                ),
                {"c": demo[0], "u": unit_id},
            ).one()
        )


def _post(client, data, **kw):
    return client.post(f"{V2}/requests.json", data=data, **kw)


def _georeport_errors(resp, status):
    assert resp.status_code == status, resp.data
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    assert isinstance(body, list) and body
    assert all(set(e) == {"code", "description"} and e["code"] == status for e in body)
    return " ".join(e["description"] for e in body)


def test_services_are_the_citys_categories(client, engine, demo, system_token):
    resp = client.get(f"{V2}/services.json?api_key={system_token}")
    assert resp.status_code == 200, resp.data
    services = resp.get_json()
    with engine.connect() as conn:
        codes = set(
            conn.execute(
                text("SELECT code FROM violation_category WHERE city_id = :c"), {"c": demo[0]}
            ).scalars()
        )
    assert {s["service_code"] for s in services} == codes
    graffiti = next(s for s in services if s["service_code"] == "graffiti")
    assert graffiti["metadata"] is False and graffiti["type"] == "realtime"
    assert graffiti["service_name"] and graffiti["group"] and graffiti["keywords"]
    # the bearer header works as well as api_key
    assert client.get(f"{V2}/services.json", headers=bearer(system_token)).status_code == 200


def test_a_request_goes_round_the_loop(client, engine, tokens, owned, system_token):
    lon, lat = owned
    resp = _post(client, {
        "api_key": system_token, "service_code": "graffiti", "lat": str(lat), "long": str(lon),
        "description": "墙上涂鸦", "address_string": "东门路 12 号", "source": "hotline",
        "email": "citizen@example.org",
    })  # fmt: skip
    assert resp.status_code == 201, resp.data
    answer = resp.get_json()
    assert len(answer) == 1 and answer[0]["service_notice"].startswith("案件编号")
    cid = int(answer[0]["service_request_id"])
    with engine.connect() as conn:
        case = conn.execute(
            text(
                "SELECT v.status, v.source, v.address, v.unit_id, u.name AS reporter, "
                "u.role FROM violation v JOIN app_user u ON u.city_id = v.city_id "
                "AND u.id = v.reported_by WHERE v.id = :i"
            ),
            {"i": cid},
        ).one()
        events = (
            conn.execute(
                text("SELECT action FROM case_event WHERE violation_id = :i ORDER BY at, id"),
                {"i": cid},
            )
            .scalars()
            .all()
        )
        audited = (
            conn.execute(
                text(
                    "SELECT actor_name FROM audit_log WHERE table_name = 'violation' "
                    "AND row_key = :i AND action = 'INSERT'"
                ),
                {"i": str(cid)},
            )
            .scalars()
            .all()
        )
        unit_name = conn.execute(
            text("SELECT name FROM unit WHERE id = :u"), {"u": case.unit_id}
        ).scalar()
    # the same rules as a report: an owner found, dispatched on arrival, audited
    assert case.status == "dispatched" and case.source == "hotline"
    assert case.address == "东门路 12 号" and case.reporter == "hotline_12345"
    assert case.role == "system"
    assert events == ["report", "dispatch"]
    assert audited == ["hotline_12345"]

    one = client.get(f"{V2}/requests/{cid}.json?api_key={system_token}")
    assert one.status_code == 200, one.data
    (req,) = one.get_json()
    assert req["status"] == "open" and req["service_code"] == "graffiti"
    assert req["agency_responsible"] == unit_name
    assert req["address"] == "东门路 12 号" and req["description"] == "墙上涂鸦"
    assert abs(req["lat"] - lat) < 1e-6 and abs(req["long"] - lon) < 1e-6
    assert req["expected_datetime"] and req["requested_datetime"]
    assert req["status_notes"].startswith("已立案派遣") and req["media_url"] is None

    # round the loop: accepted, fixed with an after-photo, verified
    unit, inspector = tokens["unit"][1], tokens["inspector"][1]
    etag = client.get(f"/collections/violations/items/{cid}", headers=bearer(unit)).headers["ETag"]
    step = client.post(f"/api/cases/{cid}/events", json={"action": "accept"},
                       headers={**bearer(unit), "If-Match": etag})  # fmt: skip
    assert step.status_code == 201, step.get_json()
    step = client.post(
        f"/api/cases/{cid}/events",
        data={"action": "fix", "lon": str(lon), "lat": str(lat),
              "photos": [(io.BytesIO(_png()), "after.png")]},
        headers={**bearer(unit), "If-Match": step.headers["ETag"]},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert step.status_code == 201, step.get_json()
    (req,) = client.get(f"{V2}/requests/{cid}.json", headers=bearer(system_token)).get_json()
    assert req["status"] == "open" and req["status_notes"].startswith("已整改")
    step = client.post(f"/api/cases/{cid}/events",
                       json={"action": "verify_pass", "comment": "现场已清理干净"},
                       headers={**bearer(inspector), "If-Match": step.headers["ETag"]})  # fmt: skip
    assert step.status_code == 201, step.get_json()
    (req,) = client.get(f"{V2}/requests/{cid}.json?api_key={system_token}").get_json()
    assert req["status"] == "closed"
    assert req["status_notes"] == "已核查结案：现场已清理干净"
    assert req["updated_datetime"] >= req["requested_datetime"]

    # the list finds it by id, by status, by code; open ones leave it out
    listed = client.get(f"{V2}/requests.json?api_key={system_token}&service_request_id={cid}")
    assert [r["service_request_id"] for r in listed.get_json()] == [str(cid)]
    closed = client.get(f"{V2}/requests.json?api_key={system_token}&status=closed"
                        "&service_code=graffiti").get_json()  # fmt: skip
    assert str(cid) in {r["service_request_id"] for r in closed}
    still_open = client.get(f"{V2}/requests.json?api_key={system_token}&status=open").get_json()
    assert str(cid) not in {r["service_request_id"] for r in still_open}
    since = client.get(f"{V2}/requests.json?api_key={system_token}"
                       "&start_date=2999-01-01T00:00:00%2B08:00").get_json()  # fmt: skip
    assert since == []


def test_a_client_system_reads_only_the_cases_it_filed(client, engine, demo, system_token, tokens):
    with engine.connect() as conn:
        other = conn.execute(
            text("SELECT id FROM violation WHERE city_id = :c AND reported_by IS DISTINCT FROM "
                 "(SELECT id FROM app_user WHERE name = 'hotline_12345') LIMIT 1"),
            {"c": demo[0]},
        ).scalar()  # fmt: skip
    resp = client.get(f"{V2}/requests/{other}.json?api_key={system_token}")
    _georeport_errors(resp, 404)
    listed = client.get(f"{V2}/requests.json?api_key={system_token}&service_request_id={other}")
    assert listed.status_code == 200 and listed.get_json() == []
    # an admin reads every case of the city
    admin = tokens["admin"][1]
    resp = client.get(f"{V2}/requests/{other}.json", headers=bearer(admin))
    assert resp.status_code == 200 and resp.get_json()[0]["service_request_id"] == str(other)


def test_bad_input_answers_georeport_errors(client, owned, system_token):
    lon, lat = owned
    said = _georeport_errors(
        _post(client, {"api_key": system_token, "service_code": "graffiti", "long": str(lon)}),
        400,
    )
    assert "lat:" in said
    said = _georeport_errors(
        _post(
            client,
            {
                "api_key": system_token,
                "service_code": "no_such_thing",
                "lat": str(lat),
                "long": str(lon),
            },
        ),  # fmt: skip
        400,
    )
    assert "service_code:" in said
    said = _georeport_errors(
        _post(
            client,
            {
                "api_key": system_token,
                "service_code": "graffiti",
                "lat": str(lat),
                "long": str(lon),
                "media_url": "http://example.org/a.jpg",
            },
        ),  # fmt: skip
        400,
    )
    assert "media_url:" in said
    said = _georeport_errors(
        _post(
            client,
            {
                "api_key": system_token,
                "service_code": "graffiti",
                "lat": str(lat),
                "long": str(lon),
                "source": "camera",
            },
        ),  # fmt: skip
        400,
    )
    assert "source:" in said
    # a place outside the city is refused like a report's
    _georeport_errors(
        _post(
            client,
            {"api_key": system_token, "service_code": "graffiti", "lat": "39.9", "long": "116.4"},
        ),  # fmt: skip
        400,
    )
    _georeport_errors(client.get(f"{V2}/requests.json?api_key={system_token}&status=pending"), 400)
    _georeport_errors(
        client.get(f"{V2}/requests.json?api_key={system_token}&start_date=yesterday"), 400
    )
    _georeport_errors(client.get(f"{V2}/services.json?api_key={system_token}&x=1"), 400)
    _georeport_errors(
        client.post(
            f"{V2}/requests.json", json={"service_code": "graffiti"}, headers=bearer(system_token)
        ),  # fmt: skip
        415,
    )
    # only JSON is served: .xml is not a route
    assert client.get(f"{V2}/services.xml?api_key={system_token}").status_code == 404


def test_a_wrong_or_missing_key_is_refused(client, owned):
    lon, lat = owned
    _georeport_errors(client.get(f"{V2}/services.json"), 401)
    said = _georeport_errors(client.get(f"{V2}/services.json?api_key=not-a-key"), 401)
    assert "api_key" in said
    _georeport_errors(
        _post(
            client,
            {"api_key": "nope", "service_code": "graffiti", "lat": str(lat), "long": str(lon)},
        ),  # fmt: skip
        401,
    )
    _georeport_errors(client.get(f"{V2}/services.json", headers=bearer("nope")), 401)
    # api_key is a token on the Open311 routes only
    assert client.get("/api/me?api_key=x").status_code == 401


def test_only_client_systems_and_admins_use_open311(client, tokens, owned):
    lon, lat = owned
    for role in ("unit", "planner", "inspector", "leader"):
        token = tokens[role][1]
        _georeport_errors(client.get(f"{V2}/services.json?api_key={token}"), 403)
        _georeport_errors(client.get(f"{V2}/requests.json", headers=bearer(token)), 403)
        _georeport_errors(
            _post(
                client,
                {"service_code": "graffiti", "lat": str(lat), "long": str(lon)},
                headers=bearer(token),
            ),  # fmt: skip
            403,
        )
    assert client.get(f"{V2}/services.json", headers=bearer(tokens["admin"][1])).status_code == 200


def test_a_client_system_uses_nothing_else(client, engine, demo, system_token, owned):
    lon, lat = owned
    for url in ("/collections/violations/items", "/api/me", "/", "/report", "/api/cases/1/events",
                "/tiles/violations/13/6794/3376.pbf", "/api/search?q=x", "/rounds"):  # fmt: skip
        resp = client.get(url, headers=bearer(system_token))
        assert resp.status_code == 403, (url, resp.status_code)
    resp = client.post(
        "/api/reports",
        data={"category": "graffiti", "lon": str(lon), "lat": str(lat)},
        headers=bearer(system_token),
        content_type="multipart/form-data",
    )
    assert resp.status_code == 403
    resp = client.post("/api/cases/1/events", json={"action": "dispatch"},
                       headers={**bearer(system_token), "If-Match": '"1.1"'})  # fmt: skip
    assert resp.status_code == 403
    # it cannot sign in on the login page: it has no password, and none can be set
    from service.accounts.users import create_user, set_password
    from service.errors import Problem
    from service.store.db import Actor, set_actor

    with engine.begin() as conn:
        set_actor(conn, Actor(None, "test-open311"))
        with pytest.raises(Problem) as refused:
            set_password(conn, "hotline_12345", "a-long-password")
        assert refused.value.errors[0]["field"] == "password"
        with pytest.raises(Problem) as refused:
            create_user(conn, demo[0], "sys_with_pw", "system", password="a-long-password")
        assert refused.value.errors[0]["field"] == "password"
        conn.rollback()
    login = client.post("/login", data={"name": "hotline_12345", "password": "a-long-password"})
    assert login.status_code in (200, 400, 403, 422)
    assert client.get("/api/me").status_code == 401


def test_an_admin_makes_a_client_system_on_the_users_api(client, tokens):
    admin = bearer(tokens["admin"][1])
    asked = {"name": "app_pw", "role": "system", "password": "a-long-password"}
    refused = client.post("/api/users", json=asked, headers=admin)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.get_json()["errors"]] == ["password"]
    asked = {"name": "citizen_app", "role": "system", "display_name": "文明随手拍"}
    made = client.post("/api/users", json=asked, headers=admin)
    assert made.status_code == 201, made.get_json()
    uid = made.get_json()["id"]
    token = client.post(f"/api/users/{uid}/tokens", json={}, headers=admin).get_json()["token"]
    assert client.get(f"{V2}/services.json?api_key={token}").status_code == 200
    reset = client.put(f"/api/users/{uid}/password", json={"password": "a-long-password"},
                       headers=admin)  # fmt: skip
    assert reset.status_code == 422
    # disabled, its tokens stop working
    assert client.post(f"/api/users/{uid}/disable", headers=admin).status_code == 200
    _georeport_errors(client.get(f"{V2}/services.json?api_key={token}"), 401)


def test_a_retried_request_files_one_case(client, engine, owned, system_token):
    lon, lat = owned
    data = {"service_code": "graffiti", "lat": str(lat), "long": str(lon), "source": "digital_city"}
    headers = {**bearer(system_token), "Idempotency-Key": "dcm-2026-000123"}
    first = _post(client, data, headers=headers)
    again = _post(client, data, headers=headers)
    assert first.status_code == again.status_code == 201, again.data
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json() == first.get_json()
    # the same key with another body is refused, in GeoReport's format
    _georeport_errors(_post(client, {**data, "description": "x"}, headers=headers), 400)
    cid = int(first.get_json()[0]["service_request_id"])
    with engine.connect() as conn:
        source = conn.execute(text("SELECT source FROM violation WHERE id = :i"), {"i": cid})
        assert source.scalar() == "digital_city"
