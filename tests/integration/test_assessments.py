"""Mock assessments over the API on the demo city: a point scored with a deduction files a
case at the deduction's place, and the lost points land on the unit and zone of that place
and the department of its category; sheets are versioned and a score keeps its version."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

from PIL import Image
from sqlalchemy import text

from service.ranking import score
from tests.conftest import bearer


def _png(colour=(120, 40, 200)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (6, 5), colour).save(buf, "PNG")
    return buf.getvalue()


def _point(engine, city):
    """An active point whose place a grid zone gives an owner, with its category."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT p.code, p.category_code, ST_X(ST_PointOnSurface(p.geom)) AS lon, "
                "ST_Y(ST_PointOnSurface(p.geom)) AS lat, u.code AS unit, z.code AS zone "
                "FROM assessment_point p JOIN zone z ON z.city_id = p.city_id AND z.kind = "
                "'grid' AND ST_Covers(z.geom, p.geom) AND z.valid_to IS NULL "
                "JOIN unit u ON u.city_id = z.city_id AND u.id = z.unit_id "
                "WHERE p.city_id = :c AND p.active ORDER BY p.code LIMIT 1"
            ),
            {"c": city},
        ).one()


def _score(client, token, point, sheet, lost_item=None, **extra):
    data = {"point": point.code}
    for item in sheet["items"]:
        data[f"score.{item['code']}"] = str(item["points"])
    files = {}
    if lost_item:
        data[f"score.{lost_item}"] = "2"
        data[f"lon.{lost_item}"] = f"{point.lon:.7f}"
        data[f"lat.{lost_item}"] = f"{point.lat:.7f}"
        data[f"accuracy_m.{lost_item}"] = "8"
        files[f"photos.{lost_item}"] = [(io.BytesIO(_png()), "deduction.png")]
    data.update(extra)
    for k, v in files.items():
        data[k] = v
    return client.post(
        "/api/assessments", data=data, headers=bearer(token), content_type="multipart/form-data"
    )


def _today() -> str:
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


def test_a_deduction_files_a_case_and_its_points_land_on_the_owners(client, engine, demo, tokens):
    city = demo[0]
    point = _point(engine, city)
    inspector = tokens["inspector"][1]
    sheet = client.get(
        f"/api/assessment-sheets/{point.category_code}", headers=bearer(inspector)
    ).get_json()
    item = sheet["items"][0]
    resp = _score(client, inspector, point, sheet, lost_item=item["code"])
    assert resp.status_code == 201, resp.get_json()
    done = resp.get_json()
    assert done["sheet_version"] == sheet["version"]
    assert done["lost"] == item["points"] - 2 and done["max_score"] == sheet["max_score"]
    [d] = done["deductions"]
    assert d["item"] == item["code"] and d["points"] == item["points"] - 2
    assert d["unit"] == point.unit and d["zone"] == point.zone and d["case_no"]
    with engine.connect() as conn:
        case = conn.execute(
            text(
                "SELECT v.category_code, v.source, jsonb_array_length(v.photos) AS photos, "
                "u.code AS unit, v.department_code, v.status FROM violation v "
                "LEFT JOIN unit u ON u.id = v.unit_id WHERE v.id = :i"
            ),
            {"i": d["case_id"]},
        ).one()
    assert case.category_code == item["violation_category"] and case.source == "inspection"
    assert case.photos == 1 and case.unit == point.unit
    assert d["department"] == case.department_code and case.status == "dispatched"
    # the lost points, per unit, department and zone, today
    window = {"from": _today(), "to": _today()}
    planner = bearer(tokens["planner"][1])
    for level, key in (("unit", point.unit), ("department", case.department_code),
                       ("zone", point.zone)):  # fmt: skip
        got = client.get("/api/lost-points", query_string={**window, "level": level},
                         headers=planner).get_json()  # fmt: skip
        rows = {r["code"]: r for r in got["rows"]}
        assert rows[key]["points"] >= item["points"] - 2 and rows[key]["deductions"] >= 1, level
    # and the week's rankings count them: the department's, and the street office's the
    # unit rolls up to (its points assessed: the assessments inside its area)
    week = score.week_of(dt.date.fromisoformat(_today()))
    for group, pick in (("department", lambda r: r["code"] == case.department_code),
                        ("street", lambda r: r["lost"] > 0)):  # fmt: skip
        ranked = client.get(f"/api/ranking?week={week}&group={group}", headers=planner).get_json()
        row = next(r for r in ranked["rows"] if pick(r))
        assert row["lost"] >= item["points"] - 2 and row["assessed"] >= sheet["max_score"]
        assert row["penalties"]["lost_points"] > 0, group
    sheet_xlsx = client.get(
        "/api/lost-points.xlsx", query_string={**window, "level": "unit"}, headers=planner
    )
    assert sheet_xlsx.status_code == 200 and sheet_xlsx.data[:2] == b"PK"


def test_what_a_deduction_needs(client, engine, demo, tokens):
    point = _point(engine, demo[0])
    inspector = tokens["inspector"][1]
    sheet = client.get(
        f"/api/assessment-sheets/{point.category_code}", headers=bearer(inspector)
    ).get_json()
    code = sheet["items"][0]["code"]
    before = _count(engine)
    # no photo, no place
    data = {"point": point.code, **{f"score.{i['code']}": str(i["points"]) for i in sheet["items"]}}
    data[f"score.{code}"] = "1"
    resp = client.post("/api/assessments", data=data, headers=bearer(inspector),
                       content_type="multipart/form-data")  # fmt: skip
    fields = {e["field"] for e in resp.get_json()["errors"]}
    assert resp.status_code == 422 and {f"photos.{code}", f"lon.{code}"} <= fields
    # seen far from the point
    far = _score(client, inspector, point, sheet, lost_item=code, **{f"lat.{code}": "0.0"})
    assert far.status_code == 422
    assert far.get_json()["errors"][0]["field"] == f"lon.{code}"
    # an item left unscored, a score above the item's points, an unknown item
    partial = {"point": point.code, f"score.{code}": "999", "score.nope": "1"}
    resp = client.post("/api/assessments", data=partial, headers=bearer(inspector),
                       content_type="multipart/form-data")  # fmt: skip
    fields = {e["field"] for e in resp.get_json()["errors"]}
    assert {f"score.{code}", "score.nope", f"score.{sheet['items'][1]['code']}"} <= fields
    # a place or photos for an item not lost, or for no item of the sheet; a wild accuracy
    kept = str(sheet["items"][0]["points"])
    full = _score(client, inspector, point, sheet, lost_item=code, **{f"score.{code}": kept})
    assert {e["field"] for e in full.get_json()["errors"]} == {f"lon.{code}"}
    stray = _score(client, inspector, point, sheet, **{"lon.nope": "117.2"})
    assert stray.status_code == 422
    assert "lon.nope" in {e["field"] for e in stray.get_json()["errors"]}
    wild = _score(client, inspector, point, sheet, lost_item=code, **{f"accuracy_m.{code}": "1e9"})
    assert {e["field"] for e in wild.get_json()["errors"]} == {f"accuracy_m.{code}"}
    assert _count(engine) == before  # nothing half-written
    # a unit's users do not assess
    assert _score(client, tokens["unit"][1], point, sheet).status_code == 403


def _count(engine):
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT (SELECT count(*) FROM violation) + (SELECT count(*) FROM assessment)")
        ).scalar()


def test_a_sheet_is_versioned_and_a_score_keeps_its_version(client, engine, demo, tokens):
    point = _point(engine, demo[0])
    admin = bearer(tokens["admin"][1])
    url = f"/api/assessment-sheets/{point.category_code}"
    old = client.get(url, headers=admin).get_json()
    scored = _score(client, tokens["inspector"][1], point, old).get_json()
    items = [*old["items"], {"code": "night_light", "name_zh": "夜间亮化完好", "points": 5,
                             "violation_category": "broken_streetlight"}]  # fmt: skip
    new = client.put(url, json={"items": items}, headers=admin)
    assert new.status_code == 200, new.get_json()
    assert new.get_json()["version"] == old["version"] + 1
    assert new.get_json()["max_score"] == old["max_score"] + 5
    with engine.connect() as conn:
        kept = conn.execute(
            text("SELECT sheet_version FROM assessment WHERE id = :i"), {"i": scored["id"]}
        ).scalar()
    assert kept == old["version"]
    bad = client.put(url, json={"items": [{"code": "X Y", "points": 0}]}, headers=admin)
    fields = {e["field"] for e in bad.get_json()["errors"]}
    assert bad.status_code == 422
    assert {"items[0].code", "items[0].points", "items[0].name_zh"} <= fields
    odd = client.put(
        url,
        json={"items": [{"code": "a", "name_zh": "甲", "points": 5, "name_en": 7,
                         "violation_category": ["graffiti"]}], "more": 1},
        headers=admin,
    )  # fmt: skip
    assert odd.status_code == 422
    assert {e["field"] for e in odd.get_json()["errors"]} == {
        "more", "items[0].name_en", "items[0].violation_category"}  # fmt: skip
    assert (
        client.put(url, json={"items": items}, headers=bearer(tokens["planner"][1])).status_code
        == 403
    )
