"""Input that once reached a 500: each is now a problem+json naming the field and the reason.

None of these requests changes the demo city: every one is refused before anything is written.
"""

import io
import json

import pandas as pd
import pyogrio
import pytest

from tests.conftest import bearer

PROBLEM = "application/problem+json"
GEO = "application/geo+json"


def _h(tokens, role="admin", **extra):
    return {**bearer(tokens[role][1]), **extra}


def _problem(resp, status: int, field: str) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == PROBLEM
    body = resp.get_json()
    assert body["status"] == status
    assert field in [e["field"] for e in body["errors"]], body
    assert all(e["reason"] for e in body["errors"])
    return body


@pytest.mark.parametrize(
    "url, field",
    [
        ("/collections/zones/items?code=Z%00", "code"),
        ("/api/search?q=%E5%85%AC%00", "q"),
        ("/api/problem-points?category=%00", "category"),
        ("/api/zone-check?area=%00", "area"),
        ("/tiles/violations/14/13650/6991.pbf?status=open%00", "status"),
    ],
)
def test_nul_in_a_query_parameter(client, tokens, url, field):
    _problem(client.get(url, headers=_h(tokens)), 400, field)


@pytest.mark.parametrize(
    "url, field",
    [
        ("/api/catalogues/violation-categories/graffiti%00", "code"),
        ("/photos/a%00.jpg", "name"),
    ],
)
def test_nul_in_a_path_segment(client, tokens, url, field):
    _problem(client.get(url, headers=_h(tokens)), 400, field)


def test_nul_in_a_form_field(client, tokens):
    resp = client.post(
        "/api/reports",
        data={
            "category": "street_vending",
            "description": "占道\x00经营",
            "lon": "117.215",
            "lat": "28.29",
        },
        headers=_h(tokens, "inspector"),
        content_type="multipart/form-data",
    )
    _problem(resp, 400, "description")


@pytest.mark.parametrize(
    "method, url, body, field",
    [
        (
            "post",
            "/collections/violations/items",
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [117.215, 28.29]},
                "properties": {"category": "street_vending", "description": "a\x00b"},
            },
            "properties.description",
        ),
        (
            "post",
            "/api/zones/clean",
            {"geometry": {"type": "Polygon", "coordinates": []}, "kind": "grid\x00"},
            "kind",
        ),
        ("post", "/api/inspection-plans", {"area\x00": "360681"}, "area\\u0000"),
        (
            "patch",
            "/api/catalogues/violation-categories/graffiti",
            {"name_en": "Graffiti\x00"},
            "name_en",
        ),
    ],
)
def test_nul_in_a_json_body(client, tokens, method, url, body, field):
    resp = getattr(client, method)(
        url,
        data=json.dumps(body),
        headers=_h(tokens, **{"Content-Type": "application/json", "If-Match": '"x"'}),
    )
    _problem(resp, 400, field)


@pytest.mark.parametrize(
    "url",
    [
        "/api/problem-points?limit=%C2%B2",  # ², which str.isdigit() takes and int() does not
        "/api/search?q=a&limit=%C2%B2",
    ],
)
def test_non_ascii_digits_in_a_whole_number(client, tokens, url):
    _problem(client.get(url, headers=_h(tokens)), 400, "limit")


def test_arabic_indic_digits_are_not_a_whole_number(client, tokens):
    resp = client.get("/collections/zones/items?limit=%D9%A3", headers=_h(tokens))  # ٣
    _problem(resp, 400, "limit")


@pytest.mark.parametrize("offset", [2**63, 2**64])
def test_offset_beyond_a_bigint(client, tokens, offset):
    resp = client.get(f"/collections/zones/items?offset={offset}", headers=_h(tokens))
    _problem(resp, 400, "offset")


def test_a_whole_number_filter_beyond_a_bigint(client, tokens):
    resp = client.get(f"/collections/violations/items?severity={2**64}", headers=_h(tokens))
    _problem(resp, 400, "severity")


@pytest.mark.parametrize(
    "method, url",
    [
        ("post", "/collections/violations/items"),
        ("post", "/api/zones/clean"),
        ("post", "/api/inspection-plans"),
        ("patch", "/api/catalogues/violation-categories/graffiti"),
    ],
)
def test_json_nested_100k_deep(client, tokens, method, url):
    deep = "[" * 100_000 + "]" * 100_000
    resp = getattr(client, method)(
        url,
        data=deep,
        headers=_h(tokens, **{"Content-Type": "application/json", "If-Match": '"x"'}),
    )
    _problem(resp, 400, "body")


def test_json_nested_deeper_than_the_limit_in_an_object(client, tokens):
    deep = '{"a":' * 200 + "1" + "}" * 200
    resp = client.post(
        "/collections/zones/items",
        data=deep,
        headers=_h(tokens, **{"Content-Type": GEO}),
    )
    _problem(resp, 400, "body")


def test_lone_surrogate_in_a_json_body(client, tokens):
    body = (
        '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [117.215, 28.29]}, '
        '"properties": {"category": "street_vending", "description": "\\ud800"}}'
    )
    resp = client.post(
        "/collections/violations/items",
        data=body,
        headers=_h(tokens, **{"Content-Type": GEO}),
    )
    _problem(resp, 400, "properties.description")


def _attribute_table(tmp_path) -> bytes:
    """A GeoPackage holding a table and no geometry column at all."""
    pyogrio.write_dataframe(pd.DataFrame({"code": ["X1"]}), tmp_path / "points.gpkg")
    return (tmp_path / "points.gpkg").read_bytes()


def test_import_of_a_file_without_a_geometry_column(client, tokens, tmp_path):
    resp = client.post(
        "/collections/assessment_points/import",
        data={"file": (io.BytesIO(_attribute_table(tmp_path)), "points.gpkg"), "dry_run": "true"},
        headers=_h(tokens),
        content_type="multipart/form-data",
    )
    body = _problem(resp, 422, "file")
    assert "geometry" in body["detail"]


def test_cli_import_of_a_file_without_a_geometry_column(tmp_path, app):
    from flask.cli import ScriptInfo

    from service.cli import main

    _attribute_table(tmp_path)
    result = app.test_cli_runner().invoke(
        main,
        ["import", "assessment_points", str(tmp_path / "points.gpkg"), "--dry-run"],
        obj=ScriptInfo(create_app=lambda: app),
    )
    assert result.exit_code == 1, result.output
    assert not isinstance(result.exception, AttributeError)
    assert "geometry" in result.output


def test_405_says_what_is_allowed(client, tokens):
    resp = client.delete("/collections/zones/items", headers=_h(tokens))
    assert resp.status_code == 405 and resp.mimetype == PROBLEM
    assert set(resp.headers["Allow"].split(", ")) >= {"GET", "POST"}
    resp = client.put("/api/search", headers=_h(tokens))
    assert resp.status_code == 405 and "GET" in resp.headers["Allow"]


@pytest.mark.parametrize(
    "url, body, field",
    [
        (
            "/collections/violations/items",
            {
                "type": "Feature",
                "geometry": {"type": "AAA", "coordinates": [None, None]},
                "properties": {"category": "street_vending"},
            },
            "geometry",
        ),
        (
            "/api/zones/clean",
            {"geometry": {"type": "AAA", "coordinates": [None, None]}, "kind": "grid"},
            "geometry",
        ),
    ],
)
def test_unknown_geometry_type(client, tokens, url, body, field):
    resp = client.post(
        url, data=json.dumps(body), headers=_h(tokens, **{"Content-Type": "application/json"})
    )
    _problem(resp, 422, field)


@pytest.mark.parametrize("idempotency", [{}, {"Idempotency-Key": "fuzz-nameless-part"}])
def test_a_form_part_without_a_name(client, tokens, idempotency):
    body = (
        b"--b0\r\nContent-Disposition: form-data\r\n\r\nnameless\r\n"
        b'--b0\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
        b"lon,lat\n117.2,28.2\n\r\n--b0--\r\n"
    )
    resp = client.post(
        "/collections/zones/import",
        data=body,
        headers=_h(tokens, **idempotency, **{"Content-Type": "multipart/form-data; boundary=b0"}),
    )
    _problem(resp, 400, "form")


def test_a_zone_id_beyond_a_bigint(client, tokens):
    ring = [[117.21, 28.29], [117.212, 28.29], [117.212, 28.292], [117.21, 28.29]]
    body = {"geometry": {"type": "Polygon", "coordinates": [ring]}, "kind": "grid", "id": 2**64}
    resp = client.post(
        "/api/zones/clean",
        data=json.dumps(body),
        headers=_h(tokens, **{"Content-Type": "application/json"}),
    )
    _problem(resp, 422, "id")


@pytest.mark.parametrize(
    "change, field",
    [
        ({"date": "9999-12-31", "window_start": "23:00", "window_end": "01:00"}, "date"),
        ({"window_start": "9999-12-31T23:00:00-14:00"}, "window_start"),
        ({"release_at": "9999-12-31T23:59:59-14:00"}, "release_at"),
        ({"release_at": "0001-01-01T00:00:00+14:00"}, "release_at"),
    ],
)
def test_plan_times_past_the_calendar(client, tokens, change, field):
    body = {
        "date": "2026-11-29",
        "window_start": "19:00",
        "window_end": "21:00",
        "depot": [117.215, 28.29],
        "team": [tokens["inspector"][0].id],
        **change,
    }
    resp = client.post(
        "/api/inspection-plans",
        data=json.dumps(body),
        headers=_h(tokens, **{"Content-Type": "application/json"}),
    )
    _problem(resp, 422, field)


def test_patch_with_a_null_geometry_keeps_the_stored_one(client, tokens, engine):
    from sqlalchemy import text

    from service.store.db import Actor, set_actor

    lon, lat = 117.2150, 28.2930
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"category": "street_vending", "description": "patch me"},
    }
    made = client.post(
        "/collections/violations/items",
        data=json.dumps(feature),
        headers=_h(tokens, **{"Content-Type": GEO}),
    )
    fid = made.get_json()["id"]
    try:
        url = f"/collections/violations/items/{fid}?crs=gcj02"  # would move a sent point
        null = client.patch(
            url,
            data=json.dumps({"geometry": None, "properties": {"description": "still here"}}),
            headers=_h(tokens, **{"Content-Type": GEO, "If-Match": made.headers["ETag"]}),
        )
        assert null.status_code == 200, null.get_data(as_text=True)
        assert null.get_json()["geometry"]["coordinates"] == [lon, lat]
        false = client.patch(
            url,
            data=json.dumps({"geometry": False}),
            headers=_h(tokens, **{"Content-Type": GEO, "If-Match": null.headers["ETag"]}),
        )
        _problem(false, 422, "geometry")
    finally:
        with engine.begin() as conn:
            set_actor(conn, Actor(None, "test"))
            conn.execute(text("DELETE FROM violation WHERE id = :i"), {"i": fid})
