"""The round's page as served: each stop's street is the nearest named road within 60 m, as
PostGIS measures it; the links to the phone's map apps carry the stop's position converted on
the server (GCJ-02 for AMap, BD-09 for Baidu, WGS-84 for geo:); the page links its own
style and behaviour; names in the page's language."""

from __future__ import annotations

import html
import re

from sqlalchemy import text

from gis.chinacrs import wgs84_to_bd09, wgs84_to_gcj02
from service.rounds.sheet import STREET_RADIUS_M
from tests.conftest import bearer


def _plan(client, leader: str, team: list[int], **more) -> dict:
    body = {
        "date": "2026-11-30",
        "window_start": "19:00",
        "window_end": "22:00",
        "depot": [117.215, 28.29],
        "mode": "walk",
        "team": team,
        **more,
    }
    resp = client.post("/api/inspection-plans", json=body, headers=bearer(leader))
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return resp.get_json()


def _rows(page: str) -> dict[int, str]:
    return {
        int(seq): row
        for seq, row in re.findall(r'<tr data-seq="(\d+)"[^>]*>(.*?)</tr>', page, re.S)
    }


def _href(row: str, app: str) -> str:
    return html.unescape(re.search(rf'class="cw-nav-{app}" href="([^"]+)"', row).group(1))


def test_each_stop_names_the_nearest_street_within_60_m(client, tokens, engine, demo):
    leader = tokens["leader"][1]
    plan = _plan(client, leader, [tokens["inspector"][0].id])
    page = client.get(f"/inspection-plans/{plan['id']}", headers=bearer(leader))
    assert page.status_code == 200
    rows = _rows(page.get_data(as_text=True))
    assert set(rows) == {s["seq"] for s in plan["stops"]}
    named = 0
    with engine.connect() as conn:
        for s in plan["stops"]:
            # every named road and its distance, the nearest first: no index, no shortcut
            nearest = conn.execute(
                text(
                    "SELECT r.name, ST_Distance(r.geom::geography, ST_PointOnSurface("
                    "coalesce(p.geom, v.geom))::geography) AS d FROM road r "
                    "LEFT JOIN assessment_point p ON p.city_id = r.city_id AND p.id = :p "
                    "LEFT JOIN violation v ON v.city_id = r.city_id AND v.id = :v "
                    "WHERE r.city_id = :c AND r.name <> '' ORDER BY d, r.id LIMIT 1"
                ),
                {"c": demo[0], "p": s["point_id"], "v": s["case_id"]},
            ).one()
            shown = re.search(r'<div class="cw-street">(.*?)</div>', rows[s["seq"]])
            if nearest.d <= STREET_RADIUS_M:
                assert shown and html.unescape(shown.group(1)) == nearest.name, (s, nearest)
                named += 1
            else:
                assert shown is None, (s, nearest)
    assert named > 0


def test_the_map_app_links_carry_the_converted_position(client, tokens):
    leader = tokens["leader"][1]
    plan = _plan(client, leader, [tokens["inspector"][0].id], mode="bike")
    page = client.get(f"/inspection-plans/{plan['id']}", headers=bearer(leader))
    body = page.get_data(as_text=True)
    rows = _rows(body)
    for s in plan["stops"]:  # the position the plan gives, the page converts
        lon, lat = s["lon"], s["lat"]
        gx, gy = (float(v) for v in wgs84_to_gcj02(lon, lat))
        bx, by = (float(v) for v in wgs84_to_bd09(lon, lat))
        row = rows[s["seq"]]
        amap = _href(row, "amap")
        assert f"&dlat={gy:.6f}&dlon={gx:.6f}&" in amap and amap.endswith("&dev=0&t=3"), amap
        baidu = _href(row, "baidu")
        assert f"destination=latlng:{by:.6f},{bx:.6f}|name:" in baidu, baidu
        assert "coord_type=bd09ll" in baidu and "mode=riding" in baidu
        geo = _href(row, "geo")
        assert geo.startswith(f"geo:{lat:.6f},{lon:.6f}?q={lat:.6f},{lon:.6f}("), geo
    # the head offers the first stop not yet arrived at
    head = re.search(r'<div id="cw-next"[^>]*>(.*?)</div>', body, re.S).group(1)
    assert _href(head, "amap") == _href(rows[1], "amap")
    assert "下一站" in head and "高德" in head and "百度" in head
    # the page's own style and behaviour, from this server
    assert '<link rel="stylesheet" href="/static/round.css"/>' in body
    assert re.search(r'<script nonce="[^"]+" src="/static/round.js"></script>', body)
    assert body.index("/static/chuangwen.css") < body.index("/static/round.css")
    for name in ("round.css", "round.js"):
        assert client.get(f"/static/{name}").status_code == 200


def test_in_english_the_page_says_it_in_english(client, tokens, engine, demo):
    leader = tokens["leader"][1]
    plan = _plan(client, leader, [tokens["inspector"][0].id])
    body = client.get(f"/inspection-plans/{plan['id']}?lang=en", headers=bearer(leader))
    text_ = html.unescape(body.get_data(as_text=True))  # "Farmers&#39; market"
    # the first stop's category in English: a point's, or that of the case it goes to verify
    # (a night's stops are drawn: some nights hold only cases awaiting verification)
    first = plan["stops"][0]
    with engine.connect() as conn:
        english = conn.execute(
            text(
                "SELECT coalesce(name_en, name_zh) FROM assessment_point_category "
                "WHERE city_id = :c AND code = :k"
                if first["kind"] == "point"
                else "SELECT coalesce(k.name_en, k.name_zh) FROM violation v "
                "JOIN violation_category k ON k.city_id = v.city_id AND k.code = v.category_code "
                "WHERE v.city_id = :c AND v.id = :i"
            ),
            {"c": demo[0], "k": first["category"], "i": first["case_id"]},
        ).scalar_one()
    assert "Next stop" in text_ and "Navigate" in text_ and "AMap" in text_
    assert english in text_
