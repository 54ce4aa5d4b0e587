"""The city's own base map (CHUANGWEN_TILES=own): PNG tiles drawn from its streets."""

from __future__ import annotations

import io
import re

from PIL import Image
from sqlalchemy import text

from gis.webtiles import tile_of
from maps.basemap import LAND, blank_png
from tests.conftest import bearer

CENTRE = (117.215, 28.29)


def _street_pixels(png: bytes) -> int:
    """Pixels of neither the land's colour nor transparent: streets, borders, names."""
    img = Image.open(io.BytesIO(png)).convert("RGBA")
    return sum(
        1
        for r, g, b, a in img.get_flattened_data()
        if a and abs(r - LAND[0]) + abs(g - LAND[1]) + abs(b - LAND[2]) > 30
    )


def test_a_tile_over_the_centre_draws_streets(client, tokens):
    x, y = tile_of(*CENTRE, 16)
    resp = client.get(f"/tiles/basemap/16/{x}/{y}.png", headers=bearer(tokens["planner"][1]))
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    img = Image.open(io.BytesIO(resp.data))
    assert img.format == "PNG" and img.size == (256, 256)
    assert _street_pixels(resp.data) > 2000
    # drawn once, then from the cache; the ETag lets a browser ask again for nothing
    again = client.get(
        f"/tiles/basemap/16/{x}/{y}.png",
        headers={**bearer(tokens["planner"][1]), "If-None-Match": resp.headers["ETag"]},
    )
    assert again.status_code == 304


def test_a_tile_far_away_is_blank(client, tokens):
    x, y = tile_of(100.0, 40.0, 16)
    resp = client.get(f"/tiles/basemap/16/{x}/{y}.png", headers=bearer(tokens["unit"][1]))
    assert resp.status_code == 200 and resp.data == blank_png()
    img = Image.open(io.BytesIO(resp.data)).convert("RGBA")
    assert img.size == (256, 256) and img.getextrema()[3] == (0, 0)  # wholly transparent
    assert len(resp.data) < 200


def test_a_tile_needs_a_sign_in_and_a_real_address(client, tokens):
    assert client.get("/tiles/basemap/16/0/0.png").status_code in (302, 401)
    token = bearer(tokens["planner"][1])
    assert client.get("/tiles/basemap/21/0/0.png", headers=token).status_code == 400
    assert client.get("/tiles/basemap/3/8/0.png", headers=token).status_code == 400
    assert client.get("/tiles/basemap/3/1/1.png?x=1", headers=token).status_code == 400


def test_own_is_the_default_and_the_map_uses_it(pg_url, engine, demo, tokens):
    from service.app import create_app
    from tests.conftest import app_on

    assert create_app({"DATABASE_URL": pg_url, "TESTING": True}).config["TILES"] == "own"
    with app_on(pg_url, TILES="own") as app:
        page = app.test_client().get(
            "/", headers={**bearer(tokens["planner"][1]), "Accept": "text/html"}
        )
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        # the demo's streets are OpenStreetMap's: the base map layer says so (ODbL)
        layer = re.search(r'L\.tileLayer\(\s*"/tiles/basemap/\{z\}/\{x\}/\{y\}\.png",[^}]*\}', html)
        assert layer and "OpenStreetMap" in layer.group(0)
        assert "tile.openstreetmap.org" not in html


PARK = (117.2512, 28.2950)  # 早闲公园 with its pond, east of the town (OSM way 1306318912)
RIVER = (117.225, 28.2848)  # the 信江 (OSM waterways) south of the town


def drawn(resp) -> dict[str, int]:
    """The tile's ``X-Basemap-Drawn`` header as numbers."""
    pairs = (p.split("=") for p in resp.headers["X-Basemap-Drawn"].split("; "))
    return {k: int(v) for k, v in pairs}


def _colour_pixels(png: bytes, colour) -> int:
    img = Image.open(io.BytesIO(png)).convert("RGB")
    return sum(
        1
        for p in img.get_flattened_data()
        if sum(abs(a - b) for a, b in zip(p, colour, strict=True)) < 8
    )


def test_the_demo_s_water_green_and_buildings_are_drawn_and_counted(client, tokens):
    from maps.basemap import BUILDING, DRAWN, GREEN, WATER

    token = bearer(tokens["planner"][1])
    x, y = tile_of(*PARK, 16)
    park = client.get(f"/tiles/basemap/16/{x}/{y}.png", headers=token)
    counts = drawn(park)
    assert list(counts) == list(DRAWN)
    assert counts["green"] >= 1 and counts["water"] >= 1, counts
    assert _colour_pixels(park.data, GREEN) > 2000 and _colour_pixels(park.data, WATER) > 500
    x, y = tile_of(*RIVER, 15)
    river = drawn(client.get(f"/tiles/basemap/15/{x}/{y}.png", headers=token))
    assert river["water"] >= 1 and river["water_labels"] >= 1, river  # 信江 along the river
    # buildings from zoom 15: the town centre's are drawn there, not at zoom 14
    x, y = tile_of(*CENTRE, 15)
    centre = client.get(f"/tiles/basemap/15/{x}/{y}.png", headers=token)
    assert drawn(centre)["buildings"] > 5 and drawn(centre)["streets"] > 5
    assert _colour_pixels(centre.data, BUILDING) > 100
    x, y = tile_of(*CENTRE, 14)
    assert drawn(client.get(f"/tiles/basemap/14/{x}/{y}.png", headers=token))["buildings"] == 0
    x, y = tile_of(100.0, 40.0, 16)
    far = client.get(f"/tiles/basemap/16/{x}/{y}.png", headers=token)
    assert drawn(far) == dict.fromkeys(DRAWN, 0)


def test_a_new_import_of_the_base_map_redraws_its_tiles(client, tokens, engine, demo):
    from service.demo.build import DATA
    from service.layers import basemap_import
    from service.store.db import Actor, set_actor

    token = bearer(tokens["planner"][1])
    x, y = tile_of(*PARK, 16)
    url = f"/tiles/basemap/16/{x}/{y}.png"
    before = client.get(url, headers=token)
    assert drawn(before)["green"] >= 1
    with engine.begin() as conn:  # the park gone: what a re-import without it would leave
        set_actor(conn, Actor(None, "test"))
        conn.execute(
            text("DELETE FROM basemap_feature WHERE city_id = :c AND kind = 'green'"),
            {"c": demo[0]},
        )
    without = client.get(url, headers={**token, "If-None-Match": before.headers["ETag"]})
    assert without.status_code == 200 and drawn(without)["green"] == 0
    assert without.headers["ETag"] != before.headers["ETag"]
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "test"))
        kept = basemap_import.store(
            conn, demo[0], basemap_import.read_osm(DATA / "jiangxi_guixi_center.osm.pbf"), "osm"
        )
    assert kept["green"] == 1 and kept["building"] > 100
    again = client.get(url, headers={**token, "If-None-Match": without.headers["ETag"]})
    assert again.status_code == 200 and drawn(again) == drawn(before)
    assert again.data == before.data
