import json
import re

from sqlalchemy import text

from service.layers import reads as layers
from service.store.db import Actor, set_actor
from tests.conftest import bearer


def test_planner_map_shows_every_layer(client, tokens):
    resp = client.get("/", headers=bearer(tokens["planner"][1]))
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    for name in (
        "区县",
        "街道",
        "社区",
        "单元网格",
        "责任区",
        "测评点位",
        "点位周边范围",
        "便民摊点",
        "问题（不文明现象）",
    ):
        assert json.dumps(name) + " : " in page  # the layer control's entry
    assert "<title>贵溪市 创文地图</title>" in page


def test_english_switch(client, tokens):
    page = client.get("/?lang=en", headers=bearer(tokens["planner"][1])).get_data(as_text=True)
    assert "Guixi campaign map" in page and '"Assessment points" : ' in page
    assert client.get_cookie("lang").value == "en"


def test_page_references_no_outside_host_with_tiles_none(client, tokens):
    page = client.get("/", headers=bearer(tokens["leader"][1])).get_data(as_text=True)
    refs = re.findall(r'(?:src|href)=["\']([^"\']+)', page)
    assert refs and all(r.startswith(("/", "?")) for r in refs), refs
    assert not re.findall(r"https?://[^\s\"'<>]+", page)
    for ref in refs:
        if ref.startswith("/static/"):
            assert client.get(ref).status_code == 200, ref


def test_user_text_in_popups_is_escaped(client, evil_violation, tokens):
    page = client.get("/", headers=bearer(tokens["planner"][1])).get_data(as_text=True)
    assert "<img src=x" not in page and evil_violation not in page  # the page is a shell
    # the case comes as JSON data (the page sets its text as text: tests/browser/test_xss.py)
    layer = client.get("/api/map/layers/violations", headers=bearer(tokens["planner"][1]))
    assert layer.mimetype == "application/geo+json"
    found = [
        f["properties"]["description"]
        for f in layer.get_json()["features"]
        if f["properties"]["case_no"] == evil_violation
    ]
    assert found and "<img src=x" in found[0]


def test_layers_stay_inside_their_city(engine, demo):
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "test"))
        other = conn.execute(
            text(
                "INSERT INTO city (code, name, crs_epsg, extent) VALUES ('421202', '咸安区', 4547, "
                "ST_MakeEnvelope(114.2, 29.8, 114.4, 29.9, 4326)) RETURNING id"
            )
        ).scalar()
        try:
            assert len(layers.violations(conn, demo[0])) >= 2000
            for read in (
                layers.violations,
                layers.zones,
                layers.grid_cells,
                layers.assessment_points,
                layers.stall_areas,
                layers.admin_areas,
            ):
                assert read(conn, other).empty
        finally:
            conn.execute(text("DELETE FROM city WHERE id = :o"), {"o": other})


def test_unknown_route_is_problem_json(client, tokens):
    resp = client.get("/api/nothing-here", headers=bearer(tokens["planner"][1]))
    assert resp.status_code == 404 and resp.mimetype == "application/problem+json"
