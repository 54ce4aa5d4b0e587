"""The holes an outside tester found, each closed and held closed: uploads that read server
files or fetch URLs, the session key, sessions that outlive sign-out, lost catalogue edits,
a sealed plan's secrets, spreadsheet formulas, retried POSTs, a database outage."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import socket
import sqlite3
import threading
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from pathlib import Path

import geopandas as gpd
import openpyxl
import pyogrio
import pytest
import shapely
from sqlalchemy import text

from service.accounts.users import create_user, issue_token
from service.cli import main
from service.store.db import Actor, set_actor
from tests.conftest import bearer
from tests.integration.test_cli import _script_info

CANARY = "chuangwen-canary-" + uuid.uuid4().hex


class Listener:
    """A TCP port on 127.0.0.1 that counts who connects (a request leaving the process)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.hits += 1
            conn.close()

    def close(self):
        self._stop = True
        self._thread.join()
        self.sock.close()


@pytest.fixture()
def listener():
    lst = Listener()
    yield lst
    lst.close()


@pytest.fixture()
def canary_file(tmp_path):
    path = tmp_path / "secret.csv"
    path.write_text(f"name,WKT\n{CANARY},POINT (117.215 28.29)\n")
    path.chmod(0o644)
    return path


def _vrt(source: str) -> str:
    return (
        '<OGRVRTDataSource><OGRVRTLayer name="x">'
        f"<SrcDataSource>{source}</SrcDataSource>"
        '<GeometryType>wkbPoint</GeometryType><GeometryField encoding="WKT" field="WKT"/>'
        "</OGRVRTLayer></OGRVRTDataSource>"
    )


def _gpkg_with_virtual_table(path: Path, target: Path) -> bytes:
    frame = gpd.GeoDataFrame(
        {"code": ["A1"], "name": ["x"]}, geometry=[shapely.Point(117.215, 28.29)], crs=4326
    )
    pyogrio.write_dataframe(frame, path, driver="GPKG", layer="stall_areas")
    db = sqlite3.connect(path)
    db.execute("PRAGMA writable_schema = ON")
    db.execute(
        "INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) VALUES ('table', "
        "'leak', 'leak', 0, ?)",
        (
            f"CREATE VIRTUAL TABLE leak USING VirtualText('{target}', 'UTF-8', 1, POINT, "
            "DOUBLEQUOTE, ',')",
        ),
    )
    db.commit()
    db.close()
    return path.read_bytes()


def _import(client, token, collection, name, data, dry_run="true"):
    return client.post(
        f"/collections/{collection}/import",
        data={"file": (io.BytesIO(data), name), "dry_run": dry_run},
        headers=bearer(token),
        content_type="multipart/form-data",
    )


def test_uploads_that_point_at_other_files_or_urls_are_refused(
    client, tokens, engine, demo, canary_file, listener, tmp_path
):
    token = tokens["planner"][1]
    url = f"http://127.0.0.1:{listener.port}/layer.geojson"
    with engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM assessment_point")).scalar()
    cases = {
        "a VRT": ("points.vrt", _vrt(f"CSV:{canary_file}").encode()),
        "a .geojson that is a VRT": ("points.geojson", _vrt(f"CSV:{canary_file}").encode()),
        "a .kml that is a VRT": ("points.kml", _vrt(f"/vsicurl/{url}").encode()),
        "a .geojson pipeline": (
            "points.geojson",
            json.dumps(
                {"type": "gdal_streamed_alg", "command_line": f"gdal vector read {canary_file}"}
            ).encode(),
        ),
        "a GPKG with a virtual table": (
            "points.gpkg",
            _gpkg_with_virtual_table(tmp_path / "v.gpkg", canary_file),
        ),
        "a KML with a network link": (
            "points.kml",
            (
                '<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
                f"<NetworkLink><Link><href>{url}</href></Link></NetworkLink></Document></kml>"
            ).encode(),
        ),
        "a KML with an external entity": (
            "points.kml",
            (
                f'<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY x SYSTEM "file://{canary_file}">]>'
                '<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&x;</name>'
                "<Point><coordinates>117.215,28.29</coordinates></Point></Placemark></kml>"
            ).encode(),
        ),
        "a CSV with /vsicurl/": (
            "points.csv",
            f"code,name,category,lon,lat\nP1,x,school,/vsicurl/{url},/vsicurl/{url}\n".encode(),
        ),
        "a CSV that is a VRT": ("points.csv", _vrt(f"CSV:{canary_file}").encode()),
        "a zip with a VRT": ("points.zip", _zip({"layer.vrt": _vrt(f"CSV:{canary_file}")})),
        "a zip whose .shp is a VRT": ("points.zip", _zip({"a.shp": _vrt(str(canary_file))})),
    }
    for what, (name, data) in cases.items():
        resp = _import(client, token, "assessment_points", name, data)
        assert resp.status_code in (415, 422), (what, resp.status_code, resp.get_data())
        body = resp.get_data(as_text=True)
        assert resp.mimetype == "application/problem+json", what
        assert CANARY not in body, what
        assert str(tmp_path) not in body and "/tmp/" not in body, (what, body)
        assert {e["field"] for e in resp.get_json()["errors"]} & {"file", "geometry"}, what
    assert listener.hits == 0
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM assessment_point")).scalar() == before


def _zip(members: dict[str, str | bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_a_zipped_shapefile_still_imports(client, tokens, tmp_path):
    frame = gpd.GeoDataFrame(
        {"code": ["SEC1"], "name": ["zip test"], "category": ["school"]},
        geometry=[shapely.Point(117.2151, 28.2901)],
        crs=4326,
    )
    shp = tmp_path / "pts.shp"
    pyogrio.write_dataframe(frame, shp, driver="ESRI Shapefile")
    parts = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.stem == "pts"}
    resp = _import(client, tokens["planner"][1], "assessment_points", "pts.zip", _zip(parts))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["rows"] == 1 and resp.get_json()["dry_run"] is True


def test_the_session_key_is_in_no_file(app_home, server, engine):
    assert not (app_home / "secret_key").exists()
    with engine.connect() as conn:
        key = conn.execute(text("SELECT value FROM server_secret WHERE name = 'session'")).scalar()
    assert key and len(key) >= 60
    assert not any(key in p.read_text(errors="ignore") for p in app_home.rglob("*") if p.is_file())


def _user(engine, demo, role="inspector", password="a-good-password"):
    name = f"sec_{uuid.uuid4().hex[:10]}"
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "test"))
        unit = None
        if role == "unit":
            unit = conn.execute(
                text("SELECT code FROM unit WHERE city_id = :c LIMIT 1"), {"c": demo[0]}
            ).scalar()
        user = create_user(conn, demo[0], name, role, password=password, unit_code=unit)
        token = issue_token(conn, user)
    return user, token, password


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', html).group(1)


def _sign_in(client, name, password):
    page = client.get("/login").get_data(as_text=True)
    return client.post(
        "/login", data={"csrf_token": _csrf(page), "username": name, "password": password}
    )


def _cookie(client) -> str:
    return client.get_cookie("session").value


def test_signing_out_ends_the_cookie(app, engine, demo):
    user, _, password = _user(engine, demo)
    first = app.test_client()
    assert _sign_in(first, user.name, password).status_code == 302
    cookie = _cookie(first)
    assert first.get("/api/me").status_code == 200
    page = first.get("/login").get_data(as_text=True)
    first.post("/logout", data={"csrf_token": _csrf(page)})
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    assert replay.get("/api/me").status_code == 401


def test_a_new_password_ends_every_sign_in(app, client, engine, demo, tokens):
    user, _, password = _user(engine, demo)
    phone, desk = app.test_client(), app.test_client()
    for c in (phone, desk):
        assert _sign_in(c, user.name, password).status_code == 302
    resp = phone.post(
        "/api/me/password",
        json={"current_password": password, "new_password": "another-password"},
        headers={"X-CSRFToken": _csrf(phone.get("/login").get_data(as_text=True))},
    )
    assert resp.status_code == 204
    assert phone.get("/api/me").status_code == 401 and desk.get("/api/me").status_code == 401
    again = app.test_client()
    assert _sign_in(again, user.name, "another-password").status_code == 302
    # an admin's reset does the same
    reset = client.put(
        f"/api/users/{user.id}/password",
        json={"password": "third-password"},
        headers=bearer(tokens["admin"][1]),
    )
    assert reset.status_code == 204 and again.get("/api/me").status_code == 401


def test_an_idle_sign_in_expires(app, engine, demo):
    user, _, password = _user(engine, demo)
    app.config["SESSION_IDLE_HOURS"] = 1 / 3600  # one second
    c = app.test_client()
    assert _sign_in(c, user.name, password).status_code == 302
    assert c.get("/api/me").status_code == 200
    time.sleep(1.5)
    assert c.get("/api/me").status_code == 401


def test_repeated_failed_sign_ins_are_refused_for_a_while(app, engine, demo, caplog):
    from service.web.auth import throttle

    user, _, password = _user(engine, demo)
    c = app.test_client()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert _sign_in(c, user.name, "wrong-password").status_code == 401
    refused = _sign_in(c, user.name, password)  # the right one, too late
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "sign-in failed" in caplog.text
    throttle.succeeded(user.name)  # the window would pass; other tests share the process
    assert _sign_in(c, user.name, password).status_code == 302


def test_disabled_users_and_revoked_tokens_are_refused(client, engine, demo, tokens, app):
    user, token, password = _user(engine, demo)
    admin = bearer(tokens["admin"][1])
    browser = app.test_client()
    assert _sign_in(browser, user.name, password).status_code == 302
    listed = client.get(f"/api/users/{user.id}/tokens", headers=admin).get_json()["tokens"]
    assert listed and all("token" not in t for t in listed)
    assert (
        client.delete(f"/api/users/{user.id}/tokens/{listed[0]['id']}", headers=admin).status_code
        == 204
    )
    assert client.get("/api/me", headers=bearer(token)).status_code == 401
    fresh = client.post(f"/api/users/{user.id}/tokens", json={"label": "t"}, headers=admin)
    assert fresh.status_code == 201
    new_token = fresh.get_json()["token"]
    assert client.get("/api/me", headers=bearer(new_token)).status_code == 200
    assert client.post(f"/api/users/{user.id}/disable", headers=admin).status_code == 200
    assert client.get("/api/me", headers=bearer(new_token)).status_code == 401
    assert browser.get("/api/me").status_code == 401
    assert client.post(f"/api/users/{user.id}/enable", headers=admin).status_code == 200
    assert client.get("/api/me", headers=bearer(new_token)).status_code == 200
    # another role cannot manage accounts
    assert client.get("/api/users", headers=bearer(tokens["leader"][1])).status_code == 403


def test_cli_revokes_tokens_and_disables_users(app, engine, demo):
    user, token, _ = _user(engine, demo)
    runner = app.test_cli_runner()

    def run(*args):
        return runner.invoke(main, list(args), obj=_script_info(app))

    assert run("user", "revoke-token", user.name).exit_code == 0
    assert app.test_client().get("/api/me", headers=bearer(token)).status_code == 401
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "test"))
        token2 = issue_token(conn, user)
    assert run("user", "disable", user.name).exit_code == 0
    assert app.test_client().get("/api/me", headers=bearer(token2)).status_code == 401


def test_eight_concurrent_catalogue_edits_with_one_etag_make_one_winner(server, tokens):
    url = f"{server}/api/catalogues/violation-categories/open_air_bbq"
    admin = tokens["admin"][1]
    with urllib.request.urlopen(_req(url, admin)) as resp:
        etag = resp.headers["ETag"]
        before = json.loads(resp.read())["deadline_h"]
    barrier, statuses = threading.Barrier(8), []

    def edit(hours):
        barrier.wait()
        req = _req(url, admin, "PATCH", {"deadline_h": hours}, {"If-Match": etag})
        try:
            with urllib.request.urlopen(req) as resp:
                statuses.append(resp.status)
        except urllib.error.HTTPError as exc:
            statuses.append(exc.code)

    threads = [threading.Thread(target=edit, args=(before + 1 + i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] + [412] * 7
    with urllib.request.urlopen(_req(url, admin)) as resp:
        etag = resp.headers["ETag"]
    urllib.request.urlopen(
        _req(url, admin, "PATCH", {"deadline_h": before}, {"If-Match": etag})
    ).close()


def _req(url, token, method="GET", body=None, headers=None):
    return urllib.request.Request(
        url,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            **(headers or {}),
        },
    )


def _sealed_plan(client, tokens):
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    body = {
        "date": "2026-11-30",
        "window_start": "20:00",
        "window_end": "21:00",
        "depot": [117.215, 28.29],
        "mode": "walk",
        "team": [tokens["inspector"][0].id],
        "release_at": later,
    }
    resp = client.post("/api/inspection-plans", json=body, headers=bearer(tokens["leader"][1]))
    assert resp.status_code == 201
    return resp.get_json()


def test_a_sealed_plan_tells_its_team_only_when_and_when_it_opens(client, tokens):
    plan = _sealed_plan(client, tokens)
    seen = client.get(
        f"/api/inspection-plans/{plan['id']}", headers=bearer(tokens["inspector"][1])
    ).get_json()
    told = {k for k, v in seen.items() if v not in (None, [], False)}
    assert told == {"id", "date", "window_start", "window_end", "release_at"}
    assert seen["release_at"] == plan["release_at"]
    fc = client.get(
        f"/api/inspection-plans/{plan['id']}.geojson", headers=bearer(tokens["inspector"][1])
    ).get_json()
    assert all(
        f["geometry"] is None or f["properties"].get("kind") != "stop" for f in fc["features"]
    )
    assert "notes" not in json.dumps(fc) or not any(fc.get("notes", []))


def test_refused_reads_of_a_plan_are_logged_and_take_as_long_as_missing_ones(
    client, tokens, engine, demo
):
    plan = _sealed_plan(client, tokens)
    unit = bearer(tokens["unit"][1])
    with engine.connect() as conn:
        since = conn.execute(text("SELECT clock_timestamp()")).scalar()
    timings = {"forbidden": [], "missing": []}
    for _ in range(15):
        for what, pid in (("forbidden", plan["id"]), ("missing", 10**9)):
            t0 = time.perf_counter()
            resp = client.get(f"/api/inspection-plans/{pid}", headers=unit)
            timings[what].append(time.perf_counter() - t0)
            assert resp.status_code == 404
            assert resp.get_json()["detail"] == f"No inspection plan {pid}."
    with engine.connect() as conn:
        refused = conn.execute(
            text(
                "SELECT row_key, count(*) FROM audit_log WHERE city_id = :c AND action = 'refused' "
                "AND table_name = 'inspection_plan' AND actor_id = :u AND at >= :t "
                "GROUP BY row_key"
            ),
            {"c": demo[0], "u": tokens["unit"][0].id, "t": since},
        ).all()
    assert dict(refused) == {str(plan["id"]): 15, str(10**9): 15}
    views = client.get(
        f"/api/inspection-plans/{plan['id']}/views", headers=bearer(tokens["leader"][1])
    ).get_json()["views"]
    assert any(v["refused"] and v["user"] == "t_unit" for v in views)
    median = {k: sorted(v)[len(v) // 2] for k, v in timings.items()}
    assert abs(median["forbidden"] - median["missing"]) < 0.5 * max(median.values()) + 0.003


def test_exported_text_that_a_spreadsheet_would_run_stays_text(app, engine, demo, tmp_path):
    formula = '=HYPERLINK("http://example.invalid","x")'
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "test"))
        pid = conn.execute(
            text(
                "INSERT INTO stall_area (city_id, code, name, opens_at, closes_at, "
                "allowed_categories, provenance, geom) VALUES (:c, 'SECF1', :n, '08:00', "
                "'10:00', ARRAY['street_vending'], 'user', ST_Multi(ST_Buffer(ST_SetSRID("
                "ST_MakePoint(117.23, 28.27), 4326), 0.0005)::geometry)) RETURNING id"
            ),
            {"c": demo[0], "n": formula},
        ).scalar()
    try:
        runner = app.test_cli_runner()
        csv_path, xlsx_path = tmp_path / "s.csv", tmp_path / "s.xlsx"
        for p in (csv_path, xlsx_path):
            out = runner.invoke(main, ["export", "stall_areas", str(p)], obj=_script_info(app))
            assert out.exit_code == 0, out.output
        assert f",'{formula.replace(chr(34), chr(34) * 2)}" in csv_path.read_text() or (
            "'=HYPERLINK" in csv_path.read_text()
        )
        ws = openpyxl.load_workbook(xlsx_path).active
        cells = [c for row in ws.iter_rows() for c in row if c.value == formula]
        assert cells and all(c.data_type == "s" for c in cells)
        from service.layers.transfer import read_features

        frame, _ = read_features(csv_path)
        assert formula in set(frame["name"])
    finally:
        with engine.begin() as conn:
            set_actor(conn, Actor(None, "test"))
            conn.execute(
                text("DELETE FROM stall_area WHERE city_id = :c AND id = :i"),
                {"c": demo[0], "i": pid},
            )


def _case(description):
    return {
        "type": "Feature",
        "properties": {"category": "graffiti", "description": description, "source": "inspection"},
        "geometry": {"type": "Point", "coordinates": [117.2152, 28.2903]},
    }


def _count(engine, description) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT count(*) FROM violation WHERE description = :d"), {"d": description}
        ).scalar()


def test_a_retried_post_with_its_idempotency_key_writes_once(client, tokens, engine):
    token = tokens["inspector"][1]
    marker = f"idem-{uuid.uuid4().hex}"
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = client.post(
        "/collections/violations/items", json=_case(marker), headers={**bearer(token), **key}
    )
    again = client.post(
        "/collections/violations/items", json=_case(marker), headers={**bearer(token), **key}
    )
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.data == first.data and again.headers["Location"] == first.headers["Location"]
    assert _count(engine, marker) == 1
    other = client.post(
        "/collections/violations/items",
        json=_case(marker + "-changed"),
        headers={**bearer(token), **key},
    )
    assert other.status_code == 422 and other.get_json()["errors"][0]["field"] == "Idempotency-Key"
    assert _count(engine, marker + "-changed") == 0
    # the key is the user's own: another user with the same key is another request
    mine = client.post(
        "/collections/violations/items",
        json=_case(marker),
        headers={**bearer(tokens["leader"][1]), **key},
    )
    assert mine.status_code == 201 and "Idempotent-Replayed" not in mine.headers
    assert _count(engine, marker) == 2


def test_a_retried_report_with_a_new_boundary_is_the_same_report(server, tokens, engine):
    marker = f"idem-report-{uuid.uuid4().hex}"
    key = uuid.uuid4().hex
    answers = []
    for boundary in ("first-boundary-1", "second-boundary-2"):
        body = (
            "".join(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                for k, v in (
                    ("category", "graffiti"),
                    ("description", marker),
                    ("lon", "117.2153"),
                    ("lat", "28.2904"),
                )
            )
            + f"--{boundary}--\r\n"
        )
        req = urllib.request.Request(
            f"{server}/api/reports",
            data=body.encode(),
            method="POST",
            headers={
                "Authorization": f"Bearer {tokens['inspector'][1]}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Idempotency-Key": key,
            },
        )
        with urllib.request.urlopen(req) as resp:
            answers.append((resp.status, json.loads(resp.read())["id"]))
    assert answers[0] == answers[1] and answers[0][0] == 201
    assert _count(engine, marker) == 1


def test_concurrent_requests_with_one_key_write_once(server, tokens, engine):
    marker = f"idem-race-{uuid.uuid4().hex}"
    key, barrier, ids = uuid.uuid4().hex, threading.Barrier(4), []
    url = f"{server}/collections/violations/items"

    def post():
        barrier.wait()
        req = _req(url, tokens["inspector"][1], "POST", _case(marker), {"Idempotency-Key": key})
        with urllib.request.urlopen(req) as resp:
            ids.append(json.loads(resp.read())["id"])

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ids) == 4 and len(set(ids)) == 1
    assert _count(engine, marker) == 1


def test_a_database_outage_is_503_and_writes_resume(pg_cluster, server, tokens, engine):
    assert pg_cluster is not None, "needs the throw-away cluster to stop and start it"
    token = tokens["inspector"][1]
    marker = f"outage-{uuid.uuid4().hex}"
    pg_cluster.stop()
    try:
        for url, method, body in (
            (f"{server}/api/me", "GET", None),
            (f"{server}/collections/violations/items", "POST", _case(marker)),
            (f"{server}/collections/zones/items?limit=1", "GET", None),
        ):
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(_req(url, token, method, body))
            assert err.value.code == 503, url
            assert err.value.headers["Content-Type"] == "application/problem+json"
            assert int(err.value.headers["Retry-After"]) > 0
        with urllib.request.urlopen(f"{server}/health") as resp:
            assert json.loads(resp.read())["database"] == "unavailable"
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{server}/health?ready")
        assert err.value.code == 503
    finally:
        pg_cluster.start()
    with urllib.request.urlopen(f"{server}/health?ready") as resp:
        assert json.loads(resp.read())["database"] == "ok"
    req = _req(f"{server}/collections/violations/items", token, "POST", _case(marker))
    with urllib.request.urlopen(req) as resp:
        assert resp.status == 201
    assert _count(engine, marker) == 1


# what an independent review found after the first round of fixes


def test_a_geojson_crs_link_is_not_fetched(client, tokens, listener):
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "link", "properties": {"href": f"http://127.0.0.1:{listener.port}/x"}},
        "features": [],
    }
    resp = _import(
        client, tokens["planner"][1], "assessment_points", "p.geojson", json.dumps(doc).encode()
    )
    assert resp.status_code == 422 and "crs" in resp.get_json()["errors"][0]["reason"]
    assert listener.hits == 0


def _tile_ids(client, token, z, x, y) -> set[int]:
    import mapbox_vector_tile

    resp = client.get(f"/tiles/violations/{z}/{x}/{y}.pbf", headers=bearer(token))
    assert resp.status_code == 200
    layer = mapbox_vector_tile.decode(resp.data).get("violations", {"features": []})
    return {f["id"] for f in layer["features"]}


def test_a_community_moved_to_another_unit_leaves_its_old_units_tiles(client, engine, demo, tokens):
    import math

    city = demo[0]
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "test"))
        row = conn.execute(
            text(
                "SELECT c.code AS ccode, a.id AS aid, a.code AS acode, v.id AS vid, "
                "ST_X(v.geom) AS lon, ST_Y(v.geom) AS lat FROM unit c JOIN unit a ON "
                "a.city_id = c.city_id AND a.id = c.parent_id JOIN violation v ON "
                "v.city_id = c.city_id AND v.unit_id = c.id WHERE c.city_id = :c "
                "ORDER BY v.id LIMIT 1"
            ),
            {"c": city},
        ).one()
        other = conn.execute(
            text(
                "SELECT code FROM unit WHERE city_id = :c AND kind = 'territorial' "
                "AND parent_id IS NULL AND id <> :a ORDER BY id LIMIT 1"
            ),
            {"c": city, "a": row.aid},
        ).scalar()
        watcher = create_user(
            conn, city, f"sec_{uuid.uuid4().hex[:8]}", "unit", unit_code=row.acode
        )
        token = issue_token(conn, watcher)
    z = 14
    x = int((row.lon + 180) / 360 * 2**z)
    y = int((1 - math.asinh(math.tan(math.radians(row.lat))) / math.pi) / 2 * 2**z)
    assert row.vid in _tile_ids(client, token, z, x, y)
    planner = bearer(tokens["planner"][1])
    fid = client.get(f"/collections/units/items?code={row.ccode}", headers=planner).get_json()[
        "features"
    ][0]["id"]

    def move(parent):
        tag = client.get(f"/collections/units/items/{fid}", headers=planner).headers["ETag"]
        resp = client.patch(
            f"/collections/units/items/{fid}",
            json={"properties": {"parent_code": parent}},
            headers={**planner, "If-Match": tag},
        )
        assert resp.status_code == 200, resp.get_data(as_text=True)

    move(other)
    try:
        assert row.vid not in _tile_ids(client, token, z, x, y)
    finally:
        move(row.acode)


def test_signing_in_gives_a_new_csrf_token(app, engine, demo):
    user, _, password = _user(engine, demo)
    c = app.test_client()
    planted = _csrf(c.get("/login").get_data(as_text=True))  # what an attacker could plant
    resp = c.post(
        "/login", data={"csrf_token": planted, "username": user.name, "password": password}
    )
    assert resp.status_code == 302
    attempt = c.post(
        "/api/me/password",
        json={"current_password": password, "new_password": "attacker-chosen"},
        headers={"X-CSRFToken": planted},
    )
    assert attempt.status_code == 400  # the planted token is refused
    assert c.get("/api/me").status_code == 200  # and the sign-in still works


def test_guessing_ones_own_password_is_slowed(app, client, engine, demo):
    from service.web.auth import throttle

    user, token, _ = _user(engine, demo)
    codes = [
        client.post(
            "/api/me/password",
            json={"current_password": f"guess-{i}", "new_password": "a-new-password"},
            headers=bearer(token),
        ).status_code
        for i in range(app.config["LOGIN_MAX_FAILURES"] + 1)
    ]
    throttle.succeeded(user.name)
    assert codes[:-1] == [422] * app.config["LOGIN_MAX_FAILURES"] and codes[-1] == 429


def test_broken_zips_odd_prj_and_late_nul_bytes_are_422(client, tokens, tmp_path):
    import struct

    frame = gpd.GeoDataFrame(
        {"code": ["Z1"], "name": ["x"], "category": ["school"]},
        geometry=[shapely.Point(117.215, 28.29)],
        crs=4326,
    )
    frame.to_file(tmp_path / "a.shp")
    parts = {f"a{s}": (tmp_path / f"a{s}").read_bytes() for s in (".shp", ".shx", ".dbf")}
    good = bytearray(_zip(parts))
    encrypted = bytearray(good)
    encrypted[good.find(b"PK\x01\x02") + 8] |= 1
    method9 = bytearray(good)
    method9[8:10] = struct.pack("<H", 9)
    central = good.find(b"PK\x01\x02")
    method9[central + 10 : central + 12] = struct.pack("<H", 9)
    flipped = bytearray(good)
    flipped[30 + struct.unpack("<H", good[26:28])[0] + 50] ^= 0xFF
    grid = (
        'GEOGCS["x",DATUM["x",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["G",0],'
        'UNIT["degree",0.0174532925199433],'
        'EXTENSION["PROJ4","+proj=longlat +ellps=WGS84 +nadgrids=nope.tif +no_defs"]]'
    )
    odd_prj = _zip({**parts, "a.prj": grid})
    late_nul = ("code,name,category,lon,lat\n" + "P,x,school,117.215,28.29\n" * 4000).encode()
    late_nul = late_nul[:-10] + b"\x00" + late_nul[-10:]
    for what, name, data in (
        ("encrypted", "p.zip", bytes(encrypted)),
        ("method 9", "p.zip", bytes(method9)),
        ("bad crc", "p.zip", bytes(flipped)),
        ("odd prj", "p.zip", odd_prj),
        ("late NUL", "p.csv", late_nul),
    ):
        resp = _import(client, tokens["planner"][1], "assessment_points", name, data)
        assert resp.status_code == 422, (what, resp.status_code, resp.get_data(as_text=True))
