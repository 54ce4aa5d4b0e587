"""The map page's layers (/api/map/layers): a cached layer moves with every change of what
it shows — the rules' re-judging included — and a layer too big for a page is not sent whole."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import text

from service.store.db import Actor, set_actor
from tests.conftest import app_on, bearer


@contextmanager
def _deadline_moved(engine, demo, hours: int):
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "test"))
        conn.execute(
            text(
                "UPDATE violation_category SET deadline_h = deadline_h + :h "
                "WHERE city_id = :c AND code = 'graffiti'"
            ),
            {"c": demo[0], "h": hours},
        )
    try:
        yield
    finally:
        with engine.begin() as conn:
            set_actor(conn, Actor(None, "test"))
            conn.execute(
                text(
                    "UPDATE violation_category SET deadline_h = deadline_h - :h "
                    "WHERE city_id = :c AND code = 'graffiti'"
                ),
                {"c": demo[0], "h": hours},
            )


def _graffiti_due(layer) -> dict:
    return {
        f["properties"]["case_no"]: f["properties"]["due_at"]
        for f in layer.get_json()["features"]
        if f["properties"]["category_code"] == "graffiti"
    }


def test_a_re_judged_case_moves_the_layer_s_version(client, engine, demo, tokens):
    h = bearer(tokens["planner"][1])
    first = client.get("/api/map/layers/violations", headers=h)
    assert first.status_code == 200
    again = client.get(
        "/api/map/layers/violations", headers={**h, "If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304
    before = _graffiti_due(first)
    assert before
    # a catalogue edit re-judges the cases' deadlines without touching their own version
    with _deadline_moved(engine, demo, 24):
        moved = client.get(
            "/api/map/layers/violations",
            headers={**h, "If-None-Match": first.headers["ETag"]},
        )
        assert moved.status_code == 200 and moved.headers["ETag"] != first.headers["ETag"]
        after = _graffiti_due(moved)
        with engine.connect() as conn:
            decided = set(
                conn.execute(
                    text(
                        "SELECT case_no FROM violation WHERE city_id = :c "
                        "AND due_override IS NOT NULL"
                    ),
                    {"c": demo[0]},
                ).scalars()
            )  # a due date the loop decided stands
        assert after.keys() == before.keys()
        assert all(after[k] != before[k] for k in before if k not in decided)
        assert any(k not in decided for k in before)


def test_a_layer_too_big_for_a_page_is_asked_for_by_view(pg_url, demo, tokens):
    with app_on(pg_url, EMBED_MAX=10) as app:
        client = app.test_client()
        h = bearer(tokens["planner"][1])
        whole = client.get("/api/map/layers/violations", headers=h)
        assert whole.status_code == 400 and whole.get_json()["errors"][0]["field"] == "bbox"
        assert client.get("/api/map/layers/zones", headers=h).status_code == 400
        view = client.get("/api/map/layers/violations?bbox=117.2,28.28,117.21,28.29", headers=h)
        assert view.status_code == 200 and view.get_json()["features"]
        # a province is not a view; ² and ٣ are not digits
        big = client.get("/api/map/layers/violations?bbox=110,20,120,30", headers=h)
        assert big.status_code == 400 and big.get_json()["errors"][0]["field"] == "bbox"
        for odd in ("²", "٣", "0", "10001"):
            resp = client.get(
                f"/api/map/layers/violations?bbox=117.2,28.28,117.21,28.29&limit={odd}",
                headers=h,
            )
            assert resp.status_code == 400, odd
            assert resp.get_json()["errors"][0]["field"] == "limit"


def test_a_case_refers_only_to_kept_photos(client, tokens):
    h = bearer(tokens["planner"][1])
    for ref in ("/photos/../api/inspection-plans/7", "https://example.org/x.jpg", "x.jpg"):
        resp = client.post(
            "/collections/violations/items",
            json={
                "type": "Feature",
                "properties": {"category": "graffiti", "photos": [ref]},
                "geometry": {"type": "Point", "coordinates": [117.215, 28.29]},
            },
            headers={**h, "Content-Type": "application/geo+json"},
        )
        assert resp.status_code == 422, ref
        assert any(e["field"].startswith("properties.photos") for e in resp.get_json()["errors"])
