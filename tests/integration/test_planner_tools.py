"""The API behind the map's tools: clean zone borders, search, phone reports with photos,
and the tiles' unit and date filters."""

import io
import json
import struct
import zlib
from pathlib import Path

import pytest
from sqlalchemy import text

from service.web.reports import MAX_PHOTOS
from tests.conftest import bearer
from tests.integration.test_tiles import _city_sums, _city_tiles, _counts


def _png(seed: int = 0) -> bytes:
    """A real 2 × 2 PNG (a different one per seed)."""
    raw = b"".join(b"\x00" + bytes([seed % 256, 0, 0] * 2) for _ in range(2))

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def _grid_zone(engine, city_id):
    """A grid zone valid now: its code, and a point 1 m outside its first vertex's edge."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT id, code, ST_AsGeoJSON(geom) AS g FROM zone WHERE city_id = :c "
                "AND kind = 'grid' AND valid_to IS NULL ORDER BY ST_Area(geom) DESC LIMIT 1"
            ),
            {"c": city_id},
        ).one()


def test_a_zone_drawn_over_its_neighbour_is_snapped_and_offered_trimmed(
    client, tokens, engine, demo
):
    z = _grid_zone(engine, demo[0])
    geom = json.loads(z.g)
    # the neighbour's own shape, drawn again, overlaps it wholly
    resp = client.post(
        "/api/zones/clean",
        json={"geometry": geom, "kind": "grid"},
        headers=bearer(tokens["planner"][1]),
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert z.code in [o["code"] for o in body["overlaps"]]
    assert body["overlaps"][0]["area_m2"] > 1
    # and edited as itself, it overlaps nothing it does not already
    resp = client.post(
        "/api/zones/clean",
        json={"geometry": geom, "kind": "grid", "id": z.id},
        headers=bearer(tokens["planner"][1]),
    )
    assert z.code not in [o["code"] for o in resp.get_json()["overlaps"]]


def test_a_border_drawn_a_metre_off_snaps_onto_the_neighbours_edge(client, tokens, engine, demo):
    z = _grid_zone(engine, demo[0])
    with engine.connect() as conn:
        # a square to the neighbour's west whose east side lies 1 m inside it; 3 m snapping
        # moves that side onto the neighbour's western edge's vertices
        drawn, x0 = conn.execute(
            text(
                "WITH p AS (SELECT ST_Transform(geom, c.crs_epsg) g, c.crs_epsg s FROM zone z "
                "JOIN city c ON c.id = z.city_id WHERE z.id = :id), "
                "e AS (SELECT ST_XMin(g) x, ST_YMin(g) y0, ST_YMax(g) y1, s FROM p) "
                "SELECT ST_AsGeoJSON(ST_Transform(ST_MakeEnvelope(x - 80, y0, x + 1, y1, s), "
                "4326), 9), x FROM e"
            ),
            {"id": z.id},
        ).one()
    resp = client.post(
        "/api/zones/clean",
        json={"geometry": json.loads(drawn), "kind": "grid", "snap_m": 3},
        headers=bearer(tokens["planner"][1]),
    )
    body = resp.get_json()
    assert resp.status_code == 200 and body["moved"] is True
    with engine.connect() as conn:
        shared = conn.execute(
            text(
                "SELECT ST_Area(ST_Intersection(ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON(:g), "
                "4326), c.crs_epsg), ST_Transform(z.geom, c.crs_epsg))) FROM zone z "
                "JOIN city c ON c.id = z.city_id WHERE z.id = :id"
            ),
            {"g": json.dumps(body["geometry"]), "id": z.id},
        ).scalar()
    before = [o for o in body["overlaps"] if o["code"] == z.code]
    # snapped, the sliver of overlap along the shared edge is gone or far smaller
    assert shared < 20 and (not before or before[0]["area_m2"] < 20)


def test_clean_names_what_is_wrong(client, tokens):
    resp = client.post(
        "/api/zones/clean",
        json={
            "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]},
            "kind": "x",
            "snap_m": 500,
        },
        headers=bearer(tokens["planner"][1]),
    )
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert {e["field"] for e in resp.get_json()["errors"]} == {"geometry", "kind", "snap_m"}
    resp = client.post("/api/zones/clean", json={}, headers=bearer(tokens["inspector"][1]))
    assert resp.status_code == 403


def test_search_finds_zones_points_and_cases(client, tokens, engine, demo):
    with engine.connect() as conn:
        zone = conn.execute(
            text("SELECT code FROM zone WHERE city_id = :c ORDER BY id LIMIT 1"), {"c": demo[0]}
        ).scalar()
        point = conn.execute(
            text("SELECT code, name FROM assessment_point WHERE city_id = :c ORDER BY id LIMIT 1"),
            {"c": demo[0]},
        ).one()
        case = conn.execute(
            text("SELECT case_no FROM violation WHERE city_id = :c ORDER BY id LIMIT 1"),
            {"c": demo[0]},
        ).scalar()
    token = tokens["planner"][1]

    def hits(q):
        resp = client.get("/api/search", query_string={"q": q}, headers=bearer(token))
        assert resp.status_code == 200
        return resp.get_json()["results"]

    assert any(h["layer"] == "zones" and h["code"] == zone for h in hits(zone))
    found = hits(point.name[1:4])
    assert any(h["layer"] == "assessment_points" and h["code"] == point.code for h in found)
    (hit,) = [h for h in hits(case) if h["layer"] == "violations"]
    assert hit["code"] == case and len(hit["bbox"]) == 4
    resp = client.get("/api/search", query_string={"q": " "}, headers=bearer(token))
    assert resp.status_code == 400 and resp.get_json()["errors"][0]["field"] == "q"


def test_a_unit_finds_only_its_own_cases(client, tokens, engine, demo):
    unit_user = tokens["unit"][0]
    with engine.connect() as conn:
        other = conn.execute(
            text(
                "SELECT case_no FROM violation WHERE city_id = :c AND unit_id IS DISTINCT FROM :u "
                "AND unit_id NOT IN (SELECT id FROM unit WHERE parent_id = :u) LIMIT 1"
            ),
            {"c": demo[0], "u": unit_user.unit_id},
        ).scalar()
    resp = client.get("/api/search", query_string={"q": other}, headers=bearer(tokens["unit"][1]))
    assert [h for h in resp.get_json()["results"] if h["layer"] == "violations"] == []


def _report(client, token, photos=(), **fields):
    data = {"category": "graffiti", "lon": "117.2150", "lat": "28.2900", **fields}
    data["photos"] = [(io.BytesIO(b), name) for name, b in photos]
    return client.post(
        "/api/reports", data=data, headers=bearer(token), content_type="multipart/form-data"
    )


def _violations(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM violation")).scalar()


def test_a_phone_report_comes_back_owned_with_its_photos(client, tokens, engine, demo, app):
    # a place another unit than the test unit's (or its children's) owns: where a case's
    # owner came from the zones (not one the office gave it to, as other tests do)
    with engine.connect() as conn:
        lon, lat = conn.execute(
            text(
                "SELECT ST_X(geom), ST_Y(geom) FROM violation WHERE city_id = :c AND unit_id "
                "NOT IN (SELECT id FROM unit WHERE id = :u OR parent_id = :u) "
                "AND unit_override IS NULL AND provenance = 'invented' ORDER BY id LIMIT 1"
            ),
            {"c": demo[0], "u": tokens["unit"][0].unit_id},
        ).one()
    resp = _report(
        client,
        tokens["inspector"][1],
        lon=str(lon),
        lat=str(lat),
        photos=[("a.png", _png(1)), ("b.png", _png(2))],
        description="人行道上乱堆杂物",
        accuracy_m="7.5",
    )
    assert resp.status_code == 201, resp.get_data(as_text=True)
    props = resp.get_json()["properties"]
    assert props["unit"] and props["zone_code"] and props["due_at"] and props["case_no"]
    assert props["location_accuracy_m"] == 7.5
    assert len(props["photos"]) == 2
    for ref in props["photos"]:
        got = client.get(ref, headers=bearer(tokens["planner"][1]))
        assert got.status_code == 200 and got.mimetype == "image/png"
        assert got.data.startswith(b"\x89PNG")
        # kept outside the database, by content
        name = ref.rsplit("/", 1)[1]
        assert (Path(app.config["HOME"]) / "photos" / name[:2] / name).exists()
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT source, reported_by, photos FROM violation WHERE case_no = :n"),
            {"n": props["case_no"]},
        ).one()
    assert row.source == "inspection" and row.reported_by == tokens["inspector"][0].id
    assert row.photos == props["photos"]
    # a unit that does not own the case cannot fetch its photo
    assert client.get(props["photos"][0], headers=bearer(tokens["unit"][1])).status_code == 404
    assert (
        client.get("/photos/" + "0" * 64 + ".png", headers=bearer(tokens["planner"][1])).status_code
        == 404
    )


def test_a_bad_report_writes_nothing_and_names_the_field(client, tokens, engine, app):
    token = tokens["inspector"][1]
    before = _violations(engine)
    kept = set((Path(app.config["HOME"]) / "photos").rglob("*.*"))
    resp = _report(client, token, photos=[("ok.png", _png(3)), ("x.png", b"<html>not an image")])
    assert resp.status_code == 422
    assert [e["field"] for e in resp.get_json()["errors"]] == ["photos[1]"]
    resp = _report(
        client, token, photos=[(f"{i}.png", _png(10 + i)) for i in range(MAX_PHOTOS + 1)]
    )
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "photos"
    resp = _report(client, token, lon="", lat="north")
    assert {e["field"] for e in resp.get_json()["errors"]} == {"lon", "lat"}
    # a good photo with a case that fails its checks is not kept either
    resp = _report(client, token, photos=[("ok.png", _png(4))], category="no-such-thing")
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["field"] == "properties.category"
    assert _violations(engine) == before
    assert set((Path(app.config["HOME"]) / "photos").rglob("*.*")) == kept
    resp = client.post("/api/reports", json={}, headers=bearer(token))
    assert resp.status_code == 415
    assert _report(client, tokens["unit"][1]).status_code == 403


def test_gcj02_coordinates_are_converted(client, tokens):
    from gis.chinacrs import wgs84_to_gcj02

    lon, lat = wgs84_to_gcj02(117.2150, 28.2900)
    resp = _report(client, tokens["inspector"][1], lon=str(lon), lat=str(lat), crs="gcj02")
    assert resp.status_code == 201
    got = resp.get_json()["geometry"]["coordinates"]
    assert abs(got[0] - 117.2150) < 1e-5 and abs(got[1] - 28.2900) < 1e-5


@pytest.mark.parametrize("query", ["?unit={unit}", "?from=2026-11-01&to=2026-11-20"])
def test_tile_filters_on_unit_and_days_count_from_the_cases(client, tokens, engine, demo, query):
    with engine.connect() as conn:
        unit_id, unit = conn.execute(
            text(
                "SELECT u.id, u.code FROM violation v JOIN unit u ON u.id = v.unit_id "
                "WHERE v.city_id = :c GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1"
            ),
            {"c": demo[0]},
        ).one()
    q = query.format(unit=unit)
    if "unit" in q:
        where, params = "unit_id = :u", {"u": unit_id}
    else:
        where = (
            "observed_at >= '2026-11-01'::timestamp AT TIME ZONE 'Asia/Shanghai' "
            "AND observed_at < '2026-11-21'::timestamp AT TIME ZONE 'Asia/Shanghai'"
        )
        params = {}
    n, n_open = _counts(engine, demo[0], where, params)
    total, _ = _counts(engine, demo[0])
    assert 0 < n < total
    paths = _city_tiles(engine, demo[0], 10)
    assert _city_sums(client, tokens["planner"][1], paths, q) == (n, n_open)
    resp = client.get(paths[0] + "?from=yesterday", headers=bearer(tokens["planner"][1]))
    assert resp.status_code == 400 and resp.get_json()["errors"][0]["field"] == "from"
