"""The city's own base map (CHUANGWEN_TILES=own): PNG tiles drawn from its streets."""

from __future__ import annotations

import io
import re

from PIL import Image

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
