"""OGC API – Features: reads, writes, errors, against the demo city in a real PostGIS."""

import json

import pytest
import shapely
from shapely.geometry import shape

from gis.chinacrs import wgs84_to_gcj02
from tests.conftest import bearer

GEO = "application/geo+json"


def _h(tokens, role="planner", **extra):
    return {**bearer(tokens[role][1]), **extra}


def _post(client, tokens, cid, feature, role="planner", query=""):
    return client.post(
        f"/collections/{cid}/items{query}",
        data=json.dumps(feature),
        headers=_h(tokens, role, **{"Content-Type": GEO}),
    )


def _violation(lon, lat, **props):
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "category": "street_vending",
            "description": "占道卖水果",
            "observed_at": "2026-11-27T10:15:00+08:00",
            **props,
        },
    }


def test_landing_conformance_collections(client, tokens):
    land = client.get("/", headers=_h(tokens, Accept="application/json"))
    assert land.status_code == 200
    rels = {link["rel"] for link in land.get_json()["links"]}
    assert {"self", "conformance", "data", "service-desc"} <= rels
    conf = client.get("/conformance", headers=_h(tokens)).get_json()["conformsTo"]
    assert any(c.endswith("/conf/core") for c in conf)
    cols = client.get("/collections", headers=_h(tokens)).get_json()["collections"]
    assert [c["id"] for c in cols] == [
        "areas",
        "grid_cells",
        "zones",
        "assessment_points",
        "stall_areas",
        "ad_sites",
        "violations",
        "units",
        "persons",
    ]
    missing = client.get("/collections/nope", headers=_h(tokens))
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"


def test_items_page_and_follow_next(client, tokens, demo):
    first = client.get("/collections/violations/items?limit=700", headers=_h(tokens))
    body = first.get_json()
    assert first.mimetype == GEO
    assert body["numberMatched"] >= 2000 and body["numberReturned"] == 700
    seen = [f["id"] for f in body["features"]]
    nxt = next(link["href"] for link in body["links"] if link["rel"] == "next")
    while nxt:
        page = client.get(nxt.replace("http://localhost", ""), headers=_h(tokens)).get_json()
        seen += [f["id"] for f in page["features"]]
        nxt = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
    assert len(seen) == len(set(seen)) == body["numberMatched"]


def test_limit_is_capped_not_rejected(client, tokens):
    body = client.get("/collections/grid_cells/items?limit=999999", headers=_h(tokens)).get_json()
    assert body["numberReturned"] == min(10_000, body["numberMatched"])


def test_filters_bbox_and_datetime(client, tokens):
    everything = client.get("/collections/violations/items?limit=1", headers=_h(tokens))
    total = everything.get_json()["numberMatched"]
    box = "117.20,28.28,117.22,28.30"
    inside = client.get(
        f"/collections/violations/items?bbox={box}&limit=10000", headers=_h(tokens)
    ).get_json()
    assert 0 < inside["numberMatched"] < total
    frame = shapely.box(117.20, 28.28, 117.22, 28.30)
    assert all(frame.covers(shape(f["geometry"])) for f in inside["features"])
    # (the demo's new cases with an owner were dispatched as they arrived)
    open_ = client.get(
        "/collections/violations/items?status=dispatched&limit=10000", headers=_h(tokens)
    ).get_json()
    assert open_["features"]
    assert {f["properties"]["status"] for f in open_["features"]} == {"dispatched"}
    week = client.get(
        "/collections/violations/items?datetime=2026-11-20T00:00:00Z/..&limit=10000",
        headers=_h(tokens),
    ).get_json()
    assert 0 < week["numberMatched"] < total
    assert all(f["properties"]["observed_at"] >= "2026-11-20" for f in week["features"])


def test_bad_query_parameters_are_400_naming_each(client, tokens):
    resp = client.get(
        "/collections/violations/items?limt=5&bbox=1,2&limit=x&status=open", headers=_h(tokens)
    )
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"
    fields = {e["field"] for e in resp.get_json()["errors"]}
    assert fields == {"limt", "bbox", "limit"}
    bad_time = client.get("/collections/violations/items?datetime=yesterday", headers=_h(tokens))
    assert bad_time.status_code == 400 and bad_time.get_json()["errors"][0]["field"] == "datetime"


def test_geojson_follows_rfc_7946(client, tokens):
    body = client.get("/collections/zones/items?limit=100", headers=_h(tokens)).get_data(
        as_text=True
    )
    data = json.loads(body)
    assert "crs" not in data
    for f in data["features"]:
        assert isinstance(f["id"], int)
        geom = shape(f["geometry"])
        for poly in geom.geoms:
            assert poly.exterior.is_ccw
            assert all(not ring.is_ccw for ring in poly.interiors)
    decimals = max(
        len(s.split(".")[1])
        for s in __import__("re").findall(
            r"-?\d+\.\d+", json.dumps(data["features"][0]["geometry"])
        )
    )
    assert decimals <= 7


def test_a_posted_violation_comes_back_owned_and_flagged(client, tokens, demo):
    market = next(
        p
        for p in client.get(
            "/collections/assessment_points/items?category=farmers_market", headers=_h(tokens)
        ).get_json()["features"]
    )
    lon, lat = market["geometry"]["coordinates"]
    resp = _post(client, tokens, "violations", _violation(lon + 0.0003, lat), role="inspector")
    assert resp.status_code == 201, resp.get_json()
    assert resp.headers["Location"].endswith(
        f"/collections/violations/items/{resp.get_json()['id']}"
    )
    assert resp.headers["ETag"]
    p = resp.get_json()["properties"]
    assert len(p["grid_cell_code"]) == 15 and p["zone_id"] and p["unit"]
    assert p["department"] == "dept_zfzd" and p["due_at"] and p["severity"] >= 3
    assert p["reported_by"] == "t_inspector" and p["case_no"].startswith("V")
    near = {n["id"]: n["distance_m"] for n in p["near_points"]}
    assert market["id"] in near and 20 < near[market["id"]] < 40
    again = client.get(resp.headers["Location"].replace("http://localhost", ""), headers=_h(tokens))
    assert again.get_json()["properties"]["case_no"] == p["case_no"]


def test_gcj02_input_is_converted(client, tokens):
    lon, lat = 117.2150, 28.2930
    glon, glat = wgs84_to_gcj02(lon, lat)
    resp = _post(
        client,
        tokens,
        "violations",
        _violation(float(glon), float(glat)),
        role="leader",
        query="?crs=gcj02",
    )
    assert resp.status_code == 201
    got = resp.get_json()
    x, y = got["geometry"]["coordinates"]
    assert abs(x - lon) < 1e-6 and abs(y - lat) < 1e-6
    assert any("GCJ02" in n for n in got["notes"])


def _zone(client, tokens):
    z = client.get("/collections/zones/items?kind=grid&limit=1", headers=_h(tokens)).get_json()
    fid = z["features"][0]["id"]
    resp = client.get(f"/collections/zones/items/{fid}", headers=_h(tokens))
    return fid, resp.get_json(), resp.headers["ETag"]


def test_stale_if_match_gets_412_and_the_zone_is_unchanged(client, tokens):
    fid, feature, etag = _zone(client, tokens)
    mine = json.loads(json.dumps(feature))
    mine["properties"]["name"] = feature["properties"]["name"] + "（甲）"
    first = client.put(
        f"/collections/zones/items/{fid}",
        data=json.dumps(mine),
        headers=_h(tokens, **{"Content-Type": GEO, "If-Match": etag}),
    )
    assert first.status_code == 200 and first.headers["ETag"] != etag
    theirs = json.loads(json.dumps(feature))
    theirs["properties"]["name"] = "乙的改动"
    stale = client.put(
        f"/collections/zones/items/{fid}",
        data=json.dumps(theirs),
        headers=_h(tokens, **{"Content-Type": GEO, "If-Match": etag}),
    )
    assert stale.status_code == 412 and stale.mimetype == "application/problem+json"
    now = client.get(f"/collections/zones/items/{fid}", headers=_h(tokens)).get_json()
    assert now["properties"]["name"] == mine["properties"]["name"]
    no_tag = client.patch(
        f"/collections/zones/items/{fid}",
        data=json.dumps({"properties": {"name": "x"}}),
        headers=_h(tokens, **{"Content-Type": GEO}),
    )
    assert no_tag.status_code == 428
    back = client.patch(
        f"/collections/zones/items/{fid}",
        data=json.dumps({"properties": {"name": feature["properties"]["name"]}}),
        headers=_h(tokens, **{"Content-Type": GEO, "If-Match": first.headers["ETag"]}),
    )
    assert back.status_code == 200
    assert back.get_json()["properties"]["name"] == feature["properties"]["name"]


SQUARE_BOWTIE = {
    "type": "Polygon",
    "coordinates": [
        [[117.21, 28.29], [117.212, 28.292], [117.212, 28.29], [117.21, 28.292], [117.21, 28.29]]
    ],
}


def _stall(geometry, **props):
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {
            "code": props.pop("code", "STX1"),
            "name": "测试摊点",
            "opens_at": "17:00",
            "closes_at": "22:00",
            "allowed_categories": ["street_vending"],
            **props,
        },
    }


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (_violation(117.21, 28.29, category="no_such"), "properties.category", None),
        (_violation(117.21, 28.29, colour="red"), "properties.colour", "Extra"),
        (
            _violation(117.21, 28.29, observed_at="2026-11-27T10:00:00"),
            "properties.observed_at",
            "time zone",
        ),
        (_violation(28.29, 117.21), "geometry", "latitude,longitude"),
        (_violation(2.35, 48.85), "geometry", "outside the city"),
        (
            {
                **_violation(117.21, 28.29),
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[117.21, 28.29], [117.22, 28.3]],
                },
            },
            "geometry",
            "should be Point",
        ),
        (
            {**_violation(117.21, 28.29), "geometry": {"type": "Point", "coordinates": ["a", 1]}},
            "geometry",
            None,
        ),
        ({"type": "FeatureCollection"}, "type", None),
    ],
)
def test_bad_violations_are_422_or_400_naming_the_field(client, tokens, body, field, words):
    resp = _post(client, tokens, "violations", body)
    assert resp.status_code in (400, 422), resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    errors = resp.get_json()["errors"]
    hit = [e for e in errors if e["field"] == field]
    assert hit, errors
    if words:
        assert words in hit[0]["reason"]


def test_self_intersection_is_named_or_repaired_on_request(client, tokens):
    bad = _post(client, tokens, "stall_areas", _stall(SQUARE_BOWTIE))
    assert bad.status_code == 422
    reason = bad.get_json()["errors"][0]["reason"]
    assert reason.startswith("self-intersection at 117.211") and "repair=true" in reason
    fixed = _post(
        client, tokens, "stall_areas", _stall(SQUARE_BOWTIE, code="STX2"), query="?repair=true"
    )
    assert fixed.status_code == 201
    assert any("repaired" in n for n in fixed.get_json()["notes"])
    assert fixed.get_json()["geometry"]["type"] == "MultiPolygon"


def test_transport_errors(client, tokens):
    url = "/collections/violations/items"
    wrong_type = client.post(url, data="x", headers=_h(tokens, **{"Content-Type": "text/plain"}))
    assert wrong_type.status_code == 415
    not_json = client.post(url, data="{oops", headers=_h(tokens, **{"Content-Type": GEO}))
    assert not_json.status_code == 400
    big = client.post(
        url, data="[" + "0," * 3_000_000 + "0]", headers=_h(tokens, **{"Content-Type": GEO})
    )
    assert big.status_code == 413
    anon = client.post(url, data="{}", headers={"Content-Type": GEO})
    assert anon.status_code == 401
    for resp in (wrong_type, not_json, big, anon):
        assert resp.mimetype == "application/problem+json"


def test_duplicate_code_is_409(client, tokens):
    first = _post(
        client,
        tokens,
        "stall_areas",
        _stall(
            {
                "type": "Polygon",
                "coordinates": [
                    [
                        [117.22, 28.30],
                        [117.221, 28.30],
                        [117.221, 28.301],
                        [117.22, 28.301],
                        [117.22, 28.30],
                    ]
                ],
            },
            code="DUP1",
        ),
    )
    assert first.status_code == 201
    again = _post(client, tokens, "stall_areas", _stall(first.get_json()["geometry"], code="DUP1"))
    assert again.status_code == 409 and again.get_json()["errors"][0]["field"] == "properties.code"


def test_roles(client, tokens):
    fid, feature, etag = _zone(client, tokens)
    assert (
        _post(client, tokens, "violations", _violation(117.21, 28.29), role="unit").status_code
        == 403
    )
    put = client.put(
        f"/collections/zones/items/{fid}",
        data=json.dumps(feature),
        headers=_h(tokens, "inspector", **{"Content-Type": GEO, "If-Match": etag}),
    )
    assert put.status_code == 403


def test_unit_users_read_only_their_own_cases(client, tokens):
    unit_user = tokens["unit"][0]
    mine = client.get(
        "/collections/violations/items?limit=10000", headers=_h(tokens, "unit")
    ).get_json()
    everyone = client.get(
        "/collections/violations/items?limit=1", headers=_h(tokens, "planner")
    ).get_json()
    assert 0 < mine["numberMatched"] < everyone["numberMatched"]
    other = client.get(
        "/collections/violations/items?limit=1&unit=u360681003002", headers=_h(tokens, "planner")
    ).get_json()["features"][0]
    if other["properties"]["unit"] != unit_user.unit_id:
        hidden = client.get(
            f"/collections/violations/items/{other['id']}", headers=_h(tokens, "unit")
        )
        assert hidden.status_code == 404


def test_delete_retires_a_zone_and_keeps_its_cases(client, tokens):
    created = _post(
        client,
        tokens,
        "zones",
        {
            "type": "Feature",
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [117.240, 28.310],
                        [117.241, 28.310],
                        [117.241, 28.311],
                        [117.240, 28.311],
                        [117.240, 28.310],
                    ]
                ],
            },
            "properties": {
                "code": "ZDEL",
                "name": "临时责任区",
                "kind": "frontage",
                "unit": "dept_cgb",
            },
        },
    )
    assert created.status_code == 201, created.get_json()
    fid, etag = created.get_json()["id"], created.headers["ETag"]
    gone = client.delete(
        f"/collections/zones/items/{fid}", headers=_h(tokens, **{"If-Match": etag})
    )
    assert gone.status_code == 204
    current = client.get("/collections/zones/items?code=ZDEL", headers=_h(tokens)).get_json()
    assert current["numberMatched"] == 0
    history = client.get(
        "/collections/zones/items?code=ZDEL&datetime=2026-01-01T00:00:00Z/..", headers=_h(tokens)
    ).get_json()
    assert history["numberMatched"] == 1


def test_problem_points_rank_and_list_nearby_cases(client, tokens):
    ranked = client.get("/api/problem-points?limit=20", headers=_h(tokens)).get_json()["points"]
    assert ranked and [p["score"] for p in ranked] == sorted(
        (p["score"] for p in ranked), reverse=True
    )
    top = ranked[0]
    near = client.get(f"/api/assessment-points/{top['id']}/nearby", headers=_h(tokens)).get_json()
    assert near["score"] == top["score"] and len(near["violations"]) == top["open_violations"]
    assert all(v["distance_m"] <= near["point"]["radius_m"] for v in near["violations"])
    assert {v["status"] for v in near["violations"]} <= {"open", "dispatched", "rectifying"}
    # a new report next to a quiet point puts it on the list
    quiet = client.get(
        "/collections/assessment_points/items?category=ad_site&limit=200", headers=_h(tokens)
    ).get_json()["features"]
    listed = {
        p["id"]
        for p in client.get("/api/problem-points?limit=10000", headers=_h(tokens)).get_json()[
            "points"
        ]
    }
    target = next(p for p in quiet if p["id"] not in listed)
    lon, lat = target["geometry"]["coordinates"]
    assert (
        _post(
            client,
            tokens,
            "violations",
            _violation(lon, lat + 0.0001, category="stale_ad"),
            role="inspector",
        ).status_code
        == 201
    )
    listed = {
        p["id"]
        for p in client.get("/api/problem-points?limit=10000", headers=_h(tokens)).get_json()[
            "points"
        ]
    }
    assert target["id"] in listed
    assert client.get("/api/assessment-points/999999/nearby", headers=_h(tokens)).status_code == 404
    assert client.get("/api/problem-points?limit=0", headers=_h(tokens)).status_code == 400


def test_next_links_page_by_key_through_every_case_once(client, tokens, demo):
    """The next link carries the page's last id (keyset): following it from the first page
    visits every case once, in id order; a page asked by ``after`` deep down equals the same
    page asked by offset; the count is kept per version of the cases and moves with them."""
    first = client.get("/collections/violations/items?limit=97", headers=_h(tokens)).get_json()
    matched = first["numberMatched"]
    seen, page, hops = [], first, 0
    while True:
        seen += [f["id"] for f in page["features"]]
        assert page["numberReturned"] == len(page["features"])
        assert page["numberMatched"] == matched
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        if not nxt:
            break
        assert "after=" in nxt[0] and "offset=" not in nxt[0]
        page = client.get(nxt[0].split("localhost", 1)[-1], headers=_h(tokens)).get_json()
        hops += 1
    assert hops >= 3 and len(seen) == matched and seen == sorted(set(seen))
    deep = seen[3 * 97 - 1]
    by_key = client.get(
        f"/collections/violations/items?limit=97&after={deep}", headers=_h(tokens)
    ).get_json()
    by_offset = client.get(
        "/collections/violations/items?limit=97&offset=291", headers=_h(tokens)
    ).get_json()
    assert [f["id"] for f in by_key["features"]] == [f["id"] for f in by_offset["features"]]
    assert any(link["rel"] == "prev" for link in by_offset["links"])
    # both at once, or an after that is not a number: 400 naming it
    both = client.get("/collections/violations/items?offset=5&after=3", headers=_h(tokens))
    assert both.status_code == 400 and [e["field"] for e in both.get_json()["errors"]] == ["offset"]
    bad = client.get("/collections/violations/items?after=x7", headers=_h(tokens))
    assert bad.status_code == 400 and bad.get_json()["errors"][0]["field"] == "after"
    # a new case moves the count kept for the collection
    made = client.post(
        "/collections/violations/items",
        json={
            "type": "Feature",
            "geometry": first["features"][0]["geometry"],
            "properties": {"category": first["features"][0]["properties"]["category"]},
        },
        headers=_h(tokens),
    )
    assert made.status_code == 201, made.get_json()
    again = client.get("/collections/violations/items?limit=1", headers=_h(tokens)).get_json()
    assert again["numberMatched"] == matched + 1
    gone = client.delete(
        f"/collections/violations/items/{made.get_json()['id']}",
        headers=_h(tokens, **{"If-Match": made.headers["ETag"]}),
    )
    assert gone.status_code in (200, 204)
    assert (
        client.get("/collections/violations/items?limit=1", headers=_h(tokens)).get_json()[
            "numberMatched"
        ]
        == matched
    )


def test_a_page_made_ahead_is_what_a_fresh_read_gives_its_user(
    client, tokens, demo, engine, monkeypatch
):
    """Walking by next links, the page after the one asked is made meanwhile and served to
    the same user for the same query: the same features as the page asked afresh; after a
    change to the layer, the page made before it is dropped; another user (a unit's, whose
    scope is narrower) asking the same ``after`` gets their own page, not this one."""
    from sqlalchemy import text

    from service.layers.features import ahead, read
    from service.store.db import Actor, set_actor

    def get(url, role="planner"):
        got = client.get(url.split("localhost", 1)[-1], headers=_h(tokens, role))
        assert got.status_code == 200
        return got.get_json()

    def following(page):
        return next(link["href"] for link in page["links"] if link["rel"] == "next")

    def made(role, cid, after):  # a page made ahead for this user, collection and after
        for _, job in list(ahead._PAGES.values()):
            job.result(30)
        uid = tokens[role][0].id
        return any(k[0] == uid and k[1] == cid and k[5] == after for k in ahead._PAGES)

    first = get("/collections/violations/items?limit=40")
    second = get(following(first))  # asked by after: the third is made meanwhile
    last2 = second["features"][-1]["id"]
    assert made("planner", "violations", last2)
    third = get(following(second))
    assert not made("planner", "violations", last2)  # taken
    assert made("planner", "violations", third["features"][-1]["id"])  # and the fourth made
    fresh = get("/collections/violations/items?limit=40&offset=80")
    assert third["features"] == fresh["features"] and third["numberReturned"] == 40
    assert [link["href"] for link in third["links"] if link["rel"] == "next"] == [following(fresh)]
    # a unit's user asking the planner's next link gets the unit's cases after that id
    assert made("planner", "violations", third["features"][-1]["id"])
    theirs = get(following(third), role="unit")
    assert made("planner", "violations", third["features"][-1]["id"])  # not taken by them
    own = get("/collections/violations/items?limit=10000", role="unit")["features"]
    after = [f for f in own if f["id"] > third["features"][-1]["id"]][:40]
    assert theirs["features"] == after
    assert theirs["numberMatched"] < third["numberMatched"]
    # a change between two pages: the page made before it is not served
    points = get("/collections/assessment_points/items?limit=2")
    page2 = get(following(points))
    assert made("planner", "assessment_points", page2["features"][-1]["id"])
    page3_url = following(page2)
    target = get(page3_url)["features"][0]  # (taken: made again for the next page)
    assert not made("planner", "assessment_points", page2["features"][-1]["id"])
    page2 = get(following(points))  # made again: page 3 waits for the next request
    assert made("planner", "assessment_points", page2["features"][-1]["id"])
    etag = client.get(
        f"/collections/assessment_points/items/{target['id']}", headers=_h(tokens)
    ).headers["ETag"]
    renamed = client.patch(
        f"/collections/assessment_points/items/{target['id']}",
        data=json.dumps({"properties": {"name": "预读之后改名"}}),
        headers=_h(tokens, **{"Content-Type": GEO, "If-Match": etag}),
    )
    assert renamed.status_code == 200
    page3 = get(page3_url)
    assert page3["features"][0]["id"] == target["id"]
    assert page3["features"][0]["properties"]["name"] == "预读之后改名"
    back = client.patch(  # as it was, for the tests after this one
        f"/collections/assessment_points/items/{target['id']}",
        data=json.dumps({"properties": {"name": target["properties"]["name"]}}),
        headers=_h(tokens, **{"Content-Type": GEO, "If-Match": renamed.headers["ETag"]}),
    )
    assert back.status_code == 200
    # the rows changed while the version stayed (the cases' change numbers are drawn as a
    # statement runs, not in commit order): the page's mark differs, the page is made afresh
    monkeypatch.setattr(read, "version", lambda *args: "the same")
    p1 = get("/collections/violations/items?limit=40")
    p2 = get(following(p1))
    assert made("planner", "violations", p2["features"][-1]["id"])
    victim = get("/collections/violations/items?limit=1&offset=80")["features"][0]
    change = text("UPDATE violation SET description = :d WHERE id = :id")
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "test-ahead"))
        conn.execute(change, {"d": "预读之后改写", "id": victim["id"]})
    p3 = get(following(p2))
    assert p3["features"][0]["id"] == victim["id"]
    assert p3["features"][0]["properties"]["description"] == "预读之后改写"
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "test-ahead"))
        conn.execute(change, {"d": victim["properties"]["description"], "id": victim["id"]})
