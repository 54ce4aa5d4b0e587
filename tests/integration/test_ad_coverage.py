"""Public-service ad coverage (驻足可观、抬眼可见): a point is covered by a site within its
category's sight distance that faces it and that no building hides; stale sites are flagged;
the coverage is listed over HTTP and as XLSX and drawn on the planner map."""

from __future__ import annotations

import datetime as dt
import io
import math

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from service.ads import coverage
from service.layers.catalogues import load_catalogues
from service.store.db import Actor, set_actor
from tests.conftest import bearer

LAT0 = 28.2
M_LAT = 1 / 111_320  # degrees of latitude per metre
M_LON = 1 / (111_320 * math.cos(math.radians(LAT0)))


def _at(x0: float, east_m: float, north_m: float) -> tuple[float, float]:
    return x0 + east_m * M_LON, LAT0 + north_m * M_LAT


@pytest.fixture()
def city(engine):
    """A city of its own in a transaction that is rolled back: points 2 km apart, each with
    the sites and buildings of one case (the farmers' market's sight distance is 50 m)."""
    with engine.connect() as conn:
        trans = conn.begin()
        set_actor(conn, Actor(None, "test-ads"))
        c = conn.execute(
            text(
                "INSERT INTO city (code, name, crs_epsg, extent) VALUES ('360602', '月湖区', "
                "4549, ST_MakeEnvelope(117.0, 28.1, 117.4, 28.3, 4326)) RETURNING id"
            )
        ).scalar()
        load_catalogues(conn, c)
        today = conn.execute(
            text("SELECT (now() AT TIME ZONE timezone)::date FROM city WHERE id = :c"), {"c": c}
        ).scalar()

        def point(code, x0, category="farmers_market", active=True, square_m=None):
            x, y = _at(x0, 0, 0)
            geom = (
                "ST_SetSRID(ST_MakePoint(:x, :y), 4326)"
                if square_m is None
                else "ST_Expand(ST_SetSRID(ST_MakePoint(:x, :y), 4326), :dx, :dy)"
            )
            conn.execute(
                text(
                    "INSERT INTO assessment_point (city_id, code, category_code, name, weight, "
                    f"radius_m, active, provenance, geom) VALUES (:c, :code, :cat, :name, 1, "
                    f"100, :active, 'user', {geom})"
                ),
                dict(
                    c=c,
                    code=code,
                    name=code,
                    cat=category,
                    active=active,
                    x=x,
                    y=y,
                    dx=(square_m or 0) / 2 * M_LON,
                    dy=(square_m or 0) / 2 * M_LAT,
                ),
            )

        def site(code, x0, east_m, north_m, facing=None, checked_days_ago=0):
            x, y = _at(x0, east_m, north_m)
            conn.execute(
                text(
                    "INSERT INTO ad_site (city_id, code, content, facing_deg, last_checked, "
                    "provenance, geom) VALUES (:c, :code, '讲文明 树新风', :f, :d, 'user', "
                    "ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
                ),
                dict(
                    c=c,
                    code=code,
                    f=facing,
                    x=x,
                    y=y,
                    d=None if checked_days_ago is None else today - dt.timedelta(checked_days_ago),
                ),
            )

        def building(x0, east0, north0, east1, north1):
            (a, b), (d, e) = _at(x0, east0, north0), _at(x0, east1, north1)
            conn.execute(
                text(
                    "INSERT INTO basemap_feature (city_id, kind, tag, provenance, geom) VALUES "
                    "(:c, 'building', 'building=yes', 'osm', ST_MakeEnvelope(:a, :b, :d, :e, 4326))"
                ),
                dict(c=c, a=a, b=b, d=d, e=e),
            )

        x = [117.02 + i * 0.02 for i in range(12)]
        point("SEEN", x[0])
        site("A-SEEN", x[0], 30, 0, facing=270)  # 30 m east, looking west at the point
        point("FAR", x[1])
        site("A-FAR", x[1], 70, 0, facing=270)  # beyond 50 m
        point("AWAY", x[2])
        site("A-AWAY", x[2], 0, 20, facing=0)  # 20 m north, looking further north
        point("BLOCKED", x[3])
        site("A-BLOCKED", x[3], 40, 0, facing=270)
        building(x[3], 15, -10, 25, 10)  # a house between them
        point("WALL", x[4])
        site("A-WALL", x[4], 25.5, 0, facing=270)  # on the west wall of the house behind it
        building(x[4], 25, -10, 35, 10)
        point("STALE", x[5])
        site("A-STALE", x[5], 20, 0, checked_days_ago=60)  # a column: all sides
        point("NEVER", x[6])
        site("A-NEVER", x[6], 20, 0, checked_days_ago=None)
        point("HALL", x[7])
        site("A-HALL", x[7], 0, -20, facing=0)  # at the hall's door, looking in
        building(x[7], -10, -10, 10, 10)  # the point stands in its market hall
        point("SQUARE", x[8], square_m=100)  # a 100 m square: distance from its edge
        site("A-SQUARE", x[8], 90, 0, facing=270)
        point("BOARD", x[9], category="ad_site")  # needs none
        point("SHUT", x[10], active=False)
        point("NONE", x[11])
        yield conn, c
        trans.rollback()


def test_coverage_follows_distance_facing_buildings_and_checks(city):
    conn, c = city
    result = coverage.coverage(conn, c)
    by_code = {p["code"]: p for p in result["points"]}
    assert set(by_code) == {
        "SEEN", "FAR", "AWAY", "BLOCKED", "WALL", "STALE", "NEVER", "HALL", "SQUARE", "NONE"
    }  # fmt: skip
    status = {k: (p["status"], p["reason"]) for k, p in by_code.items()}
    assert status == {
        "SEEN": ("covered", None),
        "FAR": ("uncovered", "none_within"),
        "AWAY": ("uncovered", "facing_away"),
        "BLOCKED": ("uncovered", "behind_building"),
        "WALL": ("covered", None),
        "STALE": ("stale", None),
        "NEVER": ("stale", None),
        "HALL": ("covered", None),
        "SQUARE": ("covered", None),
        "NONE": ("uncovered", "none_within"),
    }
    assert by_code["SEEN"]["seen_m"] == pytest.approx(30, abs=0.5)
    assert by_code["SQUARE"]["seen_m"] == pytest.approx(40, abs=0.5)
    assert by_code["SEEN"]["sight_m"] == 50
    assert by_code["BLOCKED"]["sites"] == [
        {"code": "A-BLOCKED", "distance_m": pytest.approx(40, abs=0.5), "stale": False,
         "hidden": "behind_building"}
    ]  # fmt: skip
    assert result["totals"] == {"points": 10, "covered": 4, "stale": 2, "uncovered": 4}
    # uncovered first, then stale, then covered
    assert [p["status"] for p in result["points"]] == ["uncovered"] * 4 + ["stale"] * 2 + [
        "covered"
    ] * 4
    # a name that looks like a formula stays text in the sheet
    conn.execute(
        text("UPDATE assessment_point SET name = '=HYPERLINK(\"http://x\")' WHERE city_id = :c"),
        {"c": c},
    )
    book = load_workbook(io.BytesIO(coverage.xlsx(coverage.coverage(conn, c))))
    names = [row[1] for row in book.active.iter_rows(min_row=2, max_row=11)]
    assert all(cell.value.startswith("=HYPERLINK") and cell.data_type == "s" for cell in names)
    stale = {s["code"]: s for s in result["stale_sites"]}
    assert list(stale) == ["A-NEVER", "A-STALE"]  # never checked first
    assert stale["A-STALE"]["days_since"] == 60 and stale["A-NEVER"]["days_since"] is None


def test_the_city_and_the_categories_set_the_rules(city):
    conn, c = city
    conn.execute(text("UPDATE city SET ad_stale_days = 90 WHERE id = :c"), {"c": c})
    conn.execute(
        text(
            "UPDATE assessment_point_category SET ad_sight_m = 80 "
            "WHERE city_id = :c AND code = 'farmers_market'"
        ),
        {"c": c},
    )
    by_code = {p["code"]: p for p in coverage.coverage(conn, c)["points"]}
    assert by_code["STALE"]["status"] == "covered"  # 60 days is fresh within 90
    assert by_code["NEVER"]["status"] == "stale"  # never checked stays stale
    assert by_code["FAR"]["status"] == "covered"  # 70 m is within 80 m


def _demo_coverage(engine, city_id):
    with engine.connect() as conn:
        return coverage.coverage(conn, city_id)


def test_the_demo_coverage_over_http_as_xlsx_and_on_the_map(client, tokens, engine, demo):
    city_id = demo[0]
    expected = _demo_coverage(engine, city_id)
    t = expected["totals"]
    assert t["points"] > 50 and t["covered"] > 0 and t["uncovered"] > 0 and t["stale"] > 0
    assert t["covered"] + t["stale"] + t["uncovered"] == t["points"]
    assert expected["stale_sites"]

    got = client.get("/api/ad-coverage", headers=bearer(tokens["planner"][1]))
    assert got.status_code == 200 and got.get_json()["totals"] == t
    assert [p["code"] for p in got.get_json()["points"]] == [p["code"] for p in expected["points"]]

    # a unit puts ads up too: it reads the same
    unit = client.get("/api/ad-coverage", headers=bearer(tokens["unit"][1]))
    assert unit.status_code == 200 and unit.get_json()["totals"] == t

    sheet = client.get("/api/ad-coverage.xlsx", headers=bearer(tokens["leader"][1]))
    assert sheet.status_code == 200
    rows = list(load_workbook(io.BytesIO(sheet.data)).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("点位编码", "点位名称", "点位类别", "公益广告覆盖")
    table = [r for r in rows[1 : 1 + t["points"]]]
    assert [r[0] for r in table] == [p["code"] for p in expected["points"]]
    assert sum(r[3] == "未覆盖" for r in table) == t["uncovered"]
    stale_sheet = list(load_workbook(io.BytesIO(sheet.data))["久未检查的广告"].values)
    assert stale_sheet[0][0] == "广告编码"
    assert [r[0] for r in stale_sheet[1:]] == [s["code"] for s in expected["stale_sites"]]

    gaps = client.get("/api/map/layers/ad_gaps", headers=bearer(tokens["planner"][1]))
    assert gaps.status_code == 200
    drawn = {
        f["properties"]["code"]: f["properties"]["ad_status"] for f in gaps.get_json()["features"]
    }
    assert drawn == {p["code"]: p["status"] for p in expected["points"] if p["status"] != "covered"}

    sites = client.get("/api/map/layers/ad_sites", headers=bearer(tokens["planner"][1])).get_json()
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM ad_site WHERE city_id = :c"), {"c": city_id})
        assert len(sites["features"]) == n.scalar()
    stale = {f["properties"]["code"] for f in sites["features"] if f["properties"]["stale"]}
    assert stale == {s["code"] for s in expected["stale_sites"]}


def test_sites_are_written_through_the_features_api(client, tokens, demo, engine):
    token = tokens["planner"][1]
    at = demo[1].points.geometry.iloc[0].representative_point()
    lon, lat = round(at.x, 6), round(at.y, 6)
    body = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "code": "ADT-1",
            "content": "文明交通 从我做起",
            "facing_deg": "东南",
            "width_m": 4,
            "height_m": 2,
            "last_checked": "2026-11-30",
        },
    }
    try:
        made = client.post("/collections/ad_sites/items", json=body, headers=bearer(token))
        assert made.status_code == 201, made.get_json()
        props = made.get_json()["properties"]
        assert props["facing_deg"] == 135 and props["last_checked"] == "2026-11-30"
        for field, value in (("facing_deg", 400), ("width_m", 1e-50), ("height_m", "high")):
            bad = client.post(
                "/collections/ad_sites/items",
                json={**body, "properties": {**body["properties"], "code": "ADT-2", field: value}},
                headers=bearer(token),
            )
            assert bad.status_code == 422, (field, bad.status_code)
            assert [e["field"] for e in bad.get_json()["errors"]] == [f"properties.{field}"]
        north = client.post(
            "/collections/ad_sites/items",
            json={
                **body,
                "properties": {**body["properties"], "code": "ADT-5", "facing_deg": 359.99},
            },
            headers=bearer(token),
        )
        assert north.status_code == 201 and north.get_json()["properties"]["facing_deg"] == 0
        line = client.post(
            "/collections/ad_sites/items",
            json={
                **body,
                "geometry": {"type": "LineString", "coordinates": [[lon, lat], [lon, lat + 1e-3]]},
                "properties": {**body["properties"], "code": "ADT-3"},
            },
            headers=bearer(token),
        )
        assert line.status_code in (400, 422)
        # a unit's user writes no layer
        assert (
            client.post(
                "/collections/ad_sites/items",
                json={**body, "properties": {**body["properties"], "code": "ADT-4"}},
                headers=bearer(tokens["unit"][1]),
            ).status_code
            == 403
        )
    finally:
        with engine.begin() as conn:
            set_actor(conn, Actor(None, "test-ads"))
            conn.execute(
                text("DELETE FROM ad_site WHERE city_id = :c AND code LIKE 'ADT-%'"),
                {"c": demo[0]},
            )
