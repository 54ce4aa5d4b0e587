"""The round's page on a phone (390 × 844): the map above the stop list with every stop in
view, catalogue names instead of codes, the city's clock, a sealed round saying when it
opens, the next stop with the links that open the phone's map app, and each stop's street on
the city's own base map (the README's picture)."""

import datetime as dt
import io
import os
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import text

from service.store.db import Actor, set_actor
from tests.browser.conftest import sign_in_as, watched_context
from tests.browser.test_editing import _api
from tests.conftest import _serving

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
# the README's picture, remade when asked: CHUANGWEN_SCREENSHOTS=1
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "round-phone.png"


def save_small(png: bytes, path: Path) -> None:
    """A screenshot for the README in 256 colours: a fraction of the bytes, the same look."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.quantize(256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def _create(server, tokens, **more) -> dict:
    status, _, plan = _api(
        server,
        tokens["leader"][1],
        "POST",
        "/api/inspection-plans",
        {
            "date": "2026-11-30",
            "window_start": "08:00",
            "window_end": "12:00",
            "depot": [117.2150, 28.2900],
            "mode": "walk",
            "team": [tokens["inspector"][0].id],
            **more,
        },
    )
    assert status == 201, plan
    return plan


def _city_tz(engine, demo) -> ZoneInfo:
    with engine.connect() as conn:
        return ZoneInfo(
            conn.execute(text("SELECT timezone FROM city WHERE id = :c"), {"c": demo[0]}).scalar()
        )


def _names(engine, demo, table: str) -> dict[str, str]:
    with engine.connect() as conn:
        sql = f"SELECT code, name_zh FROM {table} WHERE city_id = :c"
        return dict(conn.execute(text(sql), {"c": demo[0]}).all())


@pytest.fixture()
def open_case_at(engine, demo):
    """An open case put at a place (the trigger finds the points near it), removed after."""
    made = []

    def put(lon: float, lat: float, category: str) -> str:
        case_no = f"PH{len(made)}{dt.datetime.now().microsecond}"
        with engine.begin() as conn:
            set_actor(conn, Actor(None, "test"))
            conn.execute(
                text(
                    "INSERT INTO violation (city_id, case_no, category_code, description, "
                    "observed_at, source, provenance, geom) VALUES (:c, :n, :k, 'x', now(), "
                    "'citizen', 'user', ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
                ),
                {"c": demo[0], "n": case_no, "k": category, "x": lon, "y": lat},
            )
        made.append(case_no)
        return case_no

    yield put
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "test"))
        conn.execute(text("DELETE FROM violation WHERE case_no = ANY(:n)"), {"n": made})


def test_on_a_phone_every_stop_is_in_view_above_the_list_and_named(
    browser, server, tokens, engine, demo, open_case_at
):
    plan = _create(server, tokens)
    stops = plan["stops"]
    assert len(stops) >= 2
    # a verification stop is named by its kind (zh: the page's language here)
    point_names = {**_names(engine, demo, "assessment_point_category"), "verify": "核查整改"}
    case_names = _names(engine, demo, "violation_category")
    case_category = sorted(case_names)[0]
    # an open case by the first assessment point (a verification stop lists its own case)
    first = next(s for s in stops if s["kind"] == "point")
    case_no = open_case_at(first["lon"], first["lat"], case_category)
    codes = re.compile(r"\b(" + "|".join(map(re.escape, {*point_names, *case_names})) + r")\b")
    with watched_context(browser, viewport=PHONE) as (ctx, watch):
        page = ctx.new_page()
        sign_in_as(page, server, "t_leader", "leader-password")
        page.goto(f"{server}/inspection-plans/{plan['id']}")
        page.wait_for_selector(".cw-stop", timeout=30000)
        page.wait_for_timeout(300)  # the first fit has no animation; let the layout settle
        assert page.locator(".cw-stop").count() == len(stops)
        m = page.locator(".folium-map").bounding_box()
        sheet = page.locator("#cw-sheet").bounding_box()
        visible = {
            "left": max(m["x"], 0),
            "top": max(m["y"], 0),
            "right": min(m["x"] + m["width"], PHONE["width"]),
            "bottom": min(m["y"] + m["height"], PHONE["height"], sheet["y"]),
        }
        assert m["y"] + m["height"] <= sheet["y"] + 1  # the map ends where the list begins
        assert visible["bottom"] - visible["top"] > 250  # and is still a map
        for s in stops:
            box = page.locator(f".cw-stop[data-seq='{s['seq']}']").bounding_box()
            assert box is not None, s["seq"]
            assert visible["left"] <= box["x"], (s["seq"], box, visible)
            assert box["x"] + box["width"] <= visible["right"], (s["seq"], box, visible)
            assert visible["top"] <= box["y"], (s["seq"], box, visible)
            assert box["y"] + box["height"] <= visible["bottom"], (s["seq"], box, visible)
            assert box["width"] >= 30  # a number one can read
        # popups name the categories, they do not show the catalogues' codes
        for s in stops:
            page.locator(f".cw-stop[data-seq='{s['seq']}']").dispatch_event("click")
            content = page.locator(".leaflet-popup-content")
            page.wait_for_function(
                "document.querySelector('.leaflet-popup-content') && document.querySelector("
                f"'.leaflet-popup-content').textContent.startsWith('{int(s['seq'])}. ')",
                timeout=5000,
            )
            shown = content.inner_text()
            assert point_names[s["category"]] in shown, shown
            assert not codes.search(shown), shown
            if s["seq"] == first["seq"]:
                assert case_no in shown and case_names[case_category] in shown, shown
        rows = page.locator("#cw-sheet").inner_text()
        assert point_names[stops[0]["category"]] in rows and not codes.search(rows)
        # times in the city's clock, as HH:MM
        tz = _city_tz(engine, demo)
        eta = dt.datetime.fromisoformat(stops[0]["eta"]).astimezone(tz).strftime("%H:%M")
        assert eta in page.locator("#cw-sheet tr[data-seq]").first.inner_text()
        assert "08:00–12:00" in page.locator("#cw-sheet h3").inner_text()
        # the list folds away and the map takes the room
        page.click("#cw-sheet-toggle")
        page.wait_for_timeout(200)
        folded = page.locator(".folium-map").bounding_box()
        assert folded["height"] > m["height"] + 200
        assert page.locator("#cw-sheet").bounding_box()["y"] >= folded["y"] + folded["height"] - 1
        assert not page.locator("#cw-sheet table").is_visible()
        page.click("#cw-sheet-toggle")
        assert page.locator("#cw-sheet table").is_visible()
        assert watch.outside == [] and watch.errors == []


def test_a_sealed_round_says_when_it_opens(browser, server, tokens, engine, demo):
    tz = _city_tz(engine, demo)
    tomorrow = dt.datetime.now(tz).date() + dt.timedelta(days=1)
    release = dt.datetime.combine(tomorrow, dt.time(7, 45), tz)
    plan = _create(server, tokens, date=tomorrow.isoformat(), release_at=release.isoformat())
    with watched_context(browser, viewport=PHONE) as (ctx, watch):
        page = ctx.new_page()
        sign_in_as(page, server, "t_inspector", "inspector-password")
        page.goto(f"{server}/inspection-plans/{plan['id']}")
        page.wait_for_selector("#cw-sheet")
        state = page.locator("#cw-sheet .cw-state").inner_text()
        assert "封存" in state and "07:45" in state and tomorrow.isoformat() in state, state
        assert "0个点位" not in page.locator("#cw-sheet").inner_text()
        assert page.locator(".cw-stop").count() == 0
        assert plan["stops"][0]["name"] not in page.content()
        page.goto(f"{server}/inspection-plans/{plan['id']}?lang=en")
        state = page.locator("#cw-sheet .cw-state").inner_text()
        assert state == f"Sealed until 07:45 on {tomorrow.isoformat()}", state
        assert watch.outside == [] and watch.errors == []


def test_the_head_sends_the_map_app_to_the_next_stop_and_moves_on(browser, server, tokens):
    plan = _create(server, tokens)
    first, second = plan["stops"][:2]
    with watched_context(browser, viewport=PHONE) as (ctx, watch):
        page = ctx.new_page()
        sign_in_as(page, server, "t_leader", "leader-password")
        page.goto(f"{server}/inspection-plans/{plan['id']}")
        page.wait_for_selector(".cw-stop", timeout=30000)
        head = page.locator("#cw-next")

        def links(scope) -> dict[str, str]:
            return {
                app: scope.locator(f"a.cw-nav-{app}").get_attribute("href")
                for app in ("amap", "baidu", "geo")
            }

        def row(stop):
            return page.locator(f"#cw-sheet tr[data-seq='{stop['seq']}']")

        assert head.locator(".cw-next-stop").inner_text() == f"1. {first['name']}"
        ahead = links(head)
        assert ahead == links(row(first))
        assert ahead["amap"].startswith("amapuri://route/plan/?")
        assert ahead["baidu"].startswith("baidumap://map/direction?")
        lat, lon = f"{first['lat']:.6f}", f"{first['lon']:.6f}"
        assert ahead["geo"].startswith(f"geo:{lat},{lon}?q={lat},{lon}(")  # WGS-84 as stored
        page.locator(".cw-arrive[data-seq='1']").click()
        page.wait_for_function(
            "document.querySelector('#cw-next .cw-next-stop').textContent.startsWith('2. ')",
            timeout=10000,
        )
        assert head.locator(".cw-next-stop").inner_text() == f"2. {second['name']}"
        assert links(head) == links(row(second))
        assert head.locator(".cw-nav").get_attribute("data-seq") == "2"
        assert watch.outside == [] and watch.errors == []


@pytest.fixture(scope="module")
def own_server(pg_url, engine, demo, tokens, app_home):
    """The server with the city's own base map (CHUANGWEN_TILES=own)."""
    with _serving(pg_url, app_home, CHUANGWEN_TILES="own") as base:
        yield base


def test_on_the_city_s_own_streets_each_stop_names_its_street(browser, own_server, tokens):
    # six hours on foot: a dozen stops or more, so that some lie on a named road (a round of
    # three or four, drawn at random, may have none within 60 m of one)
    plan = _create(own_server, tokens, window_start="17:00", window_end="23:00")
    with watched_context(browser, viewport=PHONE) as (ctx, watch):
        page = ctx.new_page()
        sign_in_as(page, own_server, "t_leader", "leader-password")
        page.goto(f"{own_server}/inspection-plans/{plan['id']}")
        page.wait_for_selector(".cw-stop", timeout=30000)
        page.wait_for_function(
            "document.querySelectorAll(\"img.leaflet-tile-loaded[src*='/tiles/basemap/']\")"
            ".length >= 4 && !document.querySelector('img.leaflet-tile:not(.leaflet-tile-loaded)')",
            timeout=30000,
        )
        streets = page.locator("#cw-sheet tr[data-seq] .cw-street").all_inner_texts()
        assert streets and all(streets), streets  # which ones: tests/integration/test_round_page.py
        page.wait_for_timeout(300)
        if os.environ.get("CHUANGWEN_SCREENSHOTS"):
            save_small(page.screenshot(), SCREENSHOT)
        assert watch.outside == [] and watch.errors == []
