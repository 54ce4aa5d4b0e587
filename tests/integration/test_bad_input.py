"""Input that once reached a 500: each is now a problem+json naming the field and the reason.

None of these requests changes the demo city: every one is refused before anything is written.
"""

import io
import json
import zipfile

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


def _attribute_table(tmp_path) -> dict[str, bytes]:
    """Files a reader opens that hold a table and no geometry column at all."""
    pd.DataFrame({"code": ["X1"], "name": ["x"]}).to_csv(tmp_path / "points.csv", index=False)
    with zipfile.ZipFile(tmp_path / "points.zip", "w") as zf:
        zf.write(tmp_path / "points.csv", "points.csv")
    pyogrio.write_dataframe(pd.DataFrame({"code": ["X1"]}), tmp_path / "points.gpkg")
    return {name: (tmp_path / name).read_bytes() for name in ("points.zip", "points.gpkg")}


def test_import_of_a_file_without_a_geometry_column(client, tokens, tmp_path):
    for name, data in _attribute_table(tmp_path).items():
        resp = client.post(
            "/collections/assessment_points/import",
            data={"file": (io.BytesIO(data), name), "dry_run": "true"},
            headers=_h(tokens),
            content_type="multipart/form-data",
        )
        body = _problem(resp, 422, "file")
        assert "geometry" in body["detail"], name


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
