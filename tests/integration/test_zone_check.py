"""The zone check on a small hand-made city, and over HTTP on the demo."""

from sqlalchemy import text

from service.accounts.scope import case_scope
from service.layers.catalogues import load_catalogues
from service.layers.zone_check import check
from service.store.db import Actor, set_actor
from tests.conftest import bearer


class UnitUser:
    """A unit's user, as case_scope reads one."""

    role = "unit"

    def __init__(self, city_id, unit_id):
        self.city_id = city_id
        self.unit_id = unit_id


SQ = "ST_Multi(ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326))"


def test_finds_gaps_overlaps_owners_and_slivers(engine):
    with engine.connect() as conn:
        trans = conn.begin()
        set_actor(conn, Actor(None, "test-check"))
        c = conn.execute(
            text(
                "INSERT INTO city (code, name, crs_epsg, extent) VALUES ('421202', '咸安区', 4547, "
                "ST_MakeEnvelope(114.0, 29.0, 114.1, 29.1, 4326)) RETURNING id"
            )
        ).scalar()
        load_catalogues(conn, c)
        conn.execute(
            text(
                "INSERT INTO admin_area (city_id, code, level, name, provenance, geom) VALUES "
                f"(:c, '421202001', 'street', '温泉街道', 'user', {SQ})"
            ),
            {"c": c, "x0": 114.0, "y0": 29.0, "x1": 114.01, "y1": 29.01},
        )
        unit = conn.execute(
            text("SELECT id FROM unit WHERE city_id = :c LIMIT 1"), {"c": c}
        ).scalar()

        def zone(code, kind, x0, y0, x1, y1):
            conn.execute(
                text(
                    "INSERT INTO zone (city_id, code, name, kind, unit_id, valid_from, provenance, "
                    f"geom) VALUES (:c, :code, :name, :kind, :u, '2026-01-01', 'user', {SQ})"
                ),
                {
                    "c": c,
                    "code": code,
                    "name": code,
                    "kind": kind,
                    "u": unit,
                    "x0": x0,
                    "y0": y0,
                    "x1": x1,
                    "y1": y1,
                },
            )

        zone("A", "grid", 114.0, 29.0, 114.006, 29.01)  # west part
        zone("B", "grid", 114.005, 29.0, 114.009, 29.01)  # overlaps A by 0.001°
        # 114.009..114.01 is covered by no grid zone: a gap
        zone("R", "road_segment", 114.002, 29.004, 114.004, 29.006)  # inside A: by design
        zone("S", "frontage", 114.001, 29.001, 114.001 + 2e-5, 29.002)  # 2 m wide: a sliver
        for code, x, y in (("P1", 114.0095, 29.005), ("P2", 114.0055, 29.005)):
            conn.execute(
                text(
                    "INSERT INTO assessment_point (city_id, code, category_code, name, weight, "
                    "radius_m, provenance, geom) VALUES (:c, :code, 'school', :name, 1, 100, "
                    "'user', ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
                ),
                {"c": c, "code": code, "name": code, "x": x, "y": y},
            )
        # a case in the gap has no owner: the office's queue; a settled one is not listed
        for no, status in (("G1", "open"), ("G2", "closed")):
            conn.execute(
                text(
                    "INSERT INTO violation (city_id, case_no, category_code, observed_at, "
                    "source, status, provenance, geom) VALUES (:c, :no, (SELECT code FROM "
                    "violation_category WHERE city_id = :c ORDER BY code LIMIT 1), now(), "
                    "'inspection', :s, 'user', ST_SetSRID(ST_MakePoint(114.0097, 29.003), 4326))"
                ),
                {"c": c, "no": no, "s": status},
            )
        found = check(conn, c, tolerance_m2=1.0)
        # a unit's users see no case that is not their unit's
        scoped = check(conn, c, tolerance_m2=1.0, scope=case_scope(UnitUser(c, unit)))
        trans.rollback()
    by = {}
    for f in found["features"]:
        by.setdefault(f["properties"]["problem"], []).append(f["properties"])
    assert [p["zones"] for p in by["overlap"]] == [["A", "B"]]
    assert 100_000 < by["overlap"][0]["area_m2"] < 115_000  # 0.001° × 0.01° ≈ 97 m × 1.1 km
    assert len(by["gap"]) == 1 and 100_000 < by["gap"][0]["area_m2"] < 115_000
    assert [p["point"] for p in by["point_without_zone"]] == ["P1"]
    assert [p["point"] for p in by["point_in_two_zones"]] == ["P2"]
    assert [p["zones"] for p in by["sliver_zone"]] == [["S"]]
    assert [p["case"] for p in by["case_without_owner"]] == ["G1"]
    assert by["case_without_owner"][0]["case_id"] > 0
    assert found["summary"] == {k: len(v) for k, v in by.items()}
    assert "case_without_owner" not in scoped["summary"]
    assert scoped["summary"]["gap"] == 1


def test_zone_check_over_http(client, tokens):
    resp = client.get("/api/zone-check?area=360681001", headers=bearer(tokens["planner"][1]))
    body = resp.get_json()
    assert resp.status_code == 200 and body["type"] == "FeatureCollection"
    assert all(f["geometry"]["type"] for f in body["features"])
    bad = client.get("/api/zone-check?area=nope&x=1", headers=bearer(tokens["planner"][1]))
    assert bad.status_code == 400 and bad.get_json()["errors"][0]["field"] == "x"
    missing = client.get("/api/zone-check?area=000000", headers=bearer(tokens["planner"][1]))
    assert missing.status_code == 404
