"""The loop's figures (GET /api/kpis, /api/kpis.xlsx) against figures worked out by hand.

Cases are made in the demo city through the features API with ``observed_at`` in a week of
1999 that holds no other case (the demo's zones are younger, so the cases arrive without an
owner and the office gives them to units), walked through the loop over the API, and every
figure of level ``unit`` and of level ``street`` is computed here from what was done and
compared with the endpoint's. Then: a unit's user sees its own rows only, inspectors none,
and a bad parameter is a 400 naming it.
"""

from __future__ import annotations

import datetime as dt
import io
import statistics

import openpyxl
import pytest
from PIL import Image
from sqlalchemy import text

from service.store.db import Actor, set_actor
from tests.conftest import bearer

WINDOW = {"from": "1999-06-01", "to": "1999-06-03"}
FAR = "2100-01-01"  # a due date no one reaches


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


class Loop:
    """Cases made and walked over the API, with what the test expects of each."""

    def __init__(self, client, tokens, lonlat):
        self.client, self.tokens, self.lonlat = client, tokens, lonlat
        self.etag: dict[int, str] = {}

    def new(self, observed_at: str) -> int:
        lon, lat = self.lonlat
        resp = self.client.post(
            "/collections/violations/items",
            json={
                "type": "Feature",
                "properties": {"category": "graffiti", "observed_at": observed_at},
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
            },
            headers=bearer(self.tokens["planner"]),
        )
        assert resp.status_code == 201, resp.get_json()
        cid = resp.get_json()["id"]
        got = self.client.get(
            f"/collections/violations/items/{cid}", headers=bearer(self.tokens["planner"])
        )
        self.etag[cid] = got.headers["ETag"]
        return cid

    def step(self, who: str, cid: int, action: str, **fields):
        headers = {**bearer(self.tokens[who]), "If-Match": self.etag[cid]}
        if action == "fix":
            lon, lat = self.lonlat
            data = {"action": "fix", "lon": str(lon), "lat": str(lat)}
            data["photos"] = [(io.BytesIO(_png()), "after.png")]
            resp = self.client.post(
                f"/api/cases/{cid}/events",
                data=data,
                headers=headers,
                content_type="multipart/form-data",
            )
        else:
            resp = self.client.post(
                f"/api/cases/{cid}/events", json={"action": action, **fields}, headers=headers
            )
        assert resp.status_code == 201, (action, resp.get_json())
        self.etag[cid] = resp.headers["ETag"]

    def fix_hours(self, cid: int) -> float | None:
        events = self.client.get(
            f"/api/cases/{cid}/events", headers=bearer(self.tokens["planner"])
        ).get_json()["events"]
        report = min(dt.datetime.fromisoformat(e["at"]) for e in events if e["action"] == "report")
        fixes = [dt.datetime.fromisoformat(e["at"]) for e in events if e["action"] == "fix"]
        return (min(fixes) - report).total_seconds() / 3600 if fixes else None


@pytest.fixture(scope="module")
def units(engine, demo, tokens):
    """Unit A (a community of the unit user's unit, or that unit), unit B (a community of
    another street office) with a user of its own, the streets they roll up to, and a place
    to report at."""
    from service.accounts.users import create_user, issue_token

    city = demo[0]
    mine = tokens["unit"][0].unit_id
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "test-kpis"))
        rows = conn.execute(
            text(
                "SELECT u.id, u.code, u.parent_id, a.code AS area, a.level, p.code AS up "
                "FROM unit u JOIN admin_area a ON a.city_id = u.city_id AND a.id = u.area_id "
                "LEFT JOIN admin_area p ON p.city_id = a.city_id AND p.id = a.parent_id "
                "WHERE u.city_id = :c ORDER BY u.code"
            ),
            {"c": city},
        ).all()
        a = next((r for r in rows if r.parent_id == mine), None) or next(
            r for r in rows if r.id == mine
        )
        b = next(
            r
            for r in rows
            if r.level == "community" and r.parent_id not in (mine, None) and r.id != mine
        )
        user_b = create_user(
            conn, city, "t_kpis_unit_b", "unit", password="unit-b-password", unit_code=b.code
        )
        token_b = issue_token(conn, user_b)
        lonlat = conn.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM admin_area "
                "WHERE city_id = :c AND code = :a) s"
            ),
            {"c": city, "a": a.area},
        ).one()

    def street(r):
        return r.area if r.level == "street" else r.up

    return {
        "A": a.code,
        "B": b.code,
        "street_A": street(a),
        "street_B": street(b),
        "token_B": token_b,
        "lonlat": tuple(lonlat),
    }


@pytest.fixture(scope="module")
def walked(app_module_client, tokens, units):
    """The cases of the window, walked; what each one is expected to count."""
    t = {
        "planner": tokens["planner"][1],
        "leader": tokens["leader"][1],
        "inspector": tokens["inspector"][1],
        "uA": tokens["unit"][1],
        "uB": units["token_B"],
    }
    loop = Loop(app_module_client, t, units["lonlat"])
    A, B = units["A"], units["B"]
    c = {}
    # 1: A, fixed, failed once, fixed again, verified late (due in 1999)
    c[1] = loop.new("1999-06-01T10:00:00+08:00")
    loop.step("planner", c[1], "reassign", unit=A)
    loop.step("uA", c[1], "accept")
    loop.step("uA", c[1], "fix")
    loop.step("inspector", c[1], "verify_fail", comment="仍有残留")
    loop.step("uA", c[1], "fix")
    loop.step("inspector", c[1], "verify_pass")
    # 2: A, an extension approved, fixed and verified on time
    c[2] = loop.new("1999-06-02T08:00:00+08:00")
    loop.step("planner", c[2], "reassign", unit=A)
    loop.step("uA", c[2], "extend_request", comment="需要协调", due_at=FAR)
    loop.step("planner", c[2], "extend_decide", approve=True)
    loop.step("uA", c[2], "fix")
    loop.step("planner", c[2], "verify_pass")
    # 3: disputed by A, given to B, left dispatched (overdue, B's; the dispute A's)
    c[3] = loop.new("1999-06-02T09:00:00+08:00")
    loop.step("planner", c[3], "reassign", unit=A)
    loop.step("uA", c[3], "dispute", comment="不属于本单位")
    loop.step("planner", c[3], "reassign", unit=B)
    # 4: B, fixed, awaiting verification (not settled: overdue)
    c[4] = loop.new("1999-06-03T23:30:00+08:00")  # the window's last day, in the city's time
    loop.step("planner", c[4], "reassign", unit=B)
    loop.step("uB", c[4], "accept")
    loop.step("uB", c[4], "fix")
    # 5: A, found invalid: not counted
    c[5] = loop.new("1999-06-01T11:00:00+08:00")
    loop.step("planner", c[5], "reassign", unit=A)
    loop.step("planner", c[5], "invalidate", comment="不属实")
    # 6: A, observed after the window in the city's time (still 1999-06-03 in UTC)
    c[6] = loop.new("1999-06-04T00:30:00+08:00")
    loop.step("planner", c[6], "reassign", unit=A)
    # 7: no owner, open (overdue)
    c[7] = loop.new("1999-06-02T12:00:00+08:00")
    # 8: A, a long-term case with a date far ahead (not overdue)
    c[8] = loop.new("1999-06-01T12:00:00+08:00")
    loop.step("planner", c[8], "reassign", unit=A)
    loop.step("leader", c[8], "hang", comment="需立项改造", due_at=FAR)
    # 9: disputed by B, given to A, fixed, failed, fixed again, verified late: its counted
    # events went to two units (the dispute B's, the verifications A's)
    c[9] = loop.new("1999-06-03T08:00:00+08:00")
    loop.step("planner", c[9], "reassign", unit=B)
    loop.step("uB", c[9], "dispute", comment="不属于本单位")
    loop.step("planner", c[9], "reassign", unit=A)
    loop.step("uA", c[9], "fix")
    loop.step("inspector", c[9], "verify_fail", comment="仍有残留")
    loop.step("uA", c[9], "fix")
    loop.step("inspector", c[9], "verify_pass")
    hours = {k: loop.fix_hours(v) for k, v in c.items()}
    return c, hours


@pytest.fixture(scope="module")
def app_module_client(pg_url, engine, demo, app_home):
    from service.app import create_app

    app = create_app(
        {
            "DATABASE_URL": pg_url,
            "HOME": str(app_home),
            "TESTING": True,
            "TILES": "none",
            "SECRET_KEY": "test-secret",
        }
    )
    yield app.test_client()
    eng = app.extensions.get("chuangwen_engine")
    if eng is not None:
        eng.dispose()


def _expected(hours: dict) -> dict:
    """Every figure, by hand, per owner: A owns 1, 2, 8, 9; B owns 3, 4; none owns 7."""

    def median(keys):
        got = [hours[k] for k in keys if hours[k] is not None]
        return round(statistics.median(got), 2) if got else None

    return {
        "A": dict(
            received=4,
            closed=3,
            closed_on_time=1,
            on_time_rate=0.25,
            overdue_now=0,
            reworks=2,
            reworked_cases=2,
            fixed_cases=3,
            rework_rate=round(2 / 3, 4),
            disputes=1,
            verify_pass=3,
            verify_fail=2,
            verify_pass_rate=0.6,
            median_fix_hours=median([1, 2, 9]),
        ),
        "B": dict(
            received=2,
            closed=0,
            closed_on_time=0,
            on_time_rate=0.0,
            overdue_now=2,
            reworks=0,
            reworked_cases=0,
            fixed_cases=1,
            rework_rate=0.0,
            disputes=1,
            verify_pass=0,
            verify_fail=0,
            verify_pass_rate=None,
            median_fix_hours=median([4]),
        ),
        None: dict(
            received=1,
            closed=0,
            closed_on_time=0,
            on_time_rate=0.0,
            overdue_now=1,
            reworks=0,
            reworked_cases=0,
            fixed_cases=0,
            rework_rate=None,
            disputes=0,
            verify_pass=0,
            verify_fail=0,
            verify_pass_rate=None,
            median_fix_hours=None,
        ),
    }


def _sum(rows: list[dict]) -> dict:
    """Rows of one key added up (A and B under one street), rates recomputed."""
    out = {
        k: sum(r[k] for r in rows)
        for k in rows[0]
        if k not in ("median_fix_hours",) and not k.endswith("_rate")
    }
    for rate, num, den in (
        ("on_time_rate", "closed_on_time", ("received",)),
        ("rework_rate", "reworked_cases", ("fixed_cases",)),
        ("verify_pass_rate", "verify_pass", ("verify_pass", "verify_fail")),
    ):
        d = sum(out[x] for x in den)
        out[rate] = round(out[num] / d, 4) if d else None
    return out


def _get(client, token, **params):
    resp = client.get("/api/kpis", query_string={**WINDOW, **params}, headers=bearer(token))
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_figures_per_unit_match_the_hand_count(app_module_client, tokens, units, walked):
    _, hours = walked
    got = _get(app_module_client, tokens["planner"][1], level="unit")
    assert got["level"] == "unit" and got["from"] == WINDOW["from"]
    rows = {r["code"]: r for r in got["rows"]}
    assert set(rows) == {units["A"], units["B"], None}
    want = _expected(hours)
    for key, code in (("A", units["A"]), ("B", units["B"]), (None, None)):
        row = {k: v for k, v in rows[code].items() if k not in ("code", "name")}
        assert row == want[key], key
    assert rows[units["A"]]["name"]


def test_figures_roll_up_to_street_offices(app_module_client, tokens, units, walked):
    _, hours = walked
    got = _get(app_module_client, tokens["leader"][1], level="street")
    rows = {r["code"]: r for r in got["rows"]}
    want = _expected(hours)
    streets: dict = {}
    for key in ("A", "B"):
        streets.setdefault(units[f"street_{key}"], []).append(key)
    assert set(rows) == {*streets, None}
    for street, keys in streets.items():
        row = {k: v for k, v in rows[street].items() if k not in ("code", "name")}
        expect = _sum([want[k] for k in keys])
        expect["median_fix_hours"] = (
            want[keys[0]]["median_fix_hours"]
            if len(keys) == 1
            else round(statistics.median([hours[k] for k in (1, 2, 4, 9)]), 2)
        )
        assert row == expect, street
    assert {k: v for k, v in rows[None].items() if k not in ("code", "name")} == want[None]
    # every case is graffiti: one department, all of them
    dept = _get(app_module_client, tokens["leader"][1], level="department")["rows"]
    assert len(dept) == 1
    expect = _sum([want["A"], want["B"], want[None]])
    expect["median_fix_hours"] = round(statistics.median([hours[k] for k in (1, 2, 4, 9)]), 2)
    assert {k: v for k, v in dept[0].items() if k not in ("code", "name")} == expect


def test_a_unit_user_sees_its_own_rows_and_an_inspector_none(
    app_module_client, tokens, units, walked
):
    _, hours = walked
    got = _get(app_module_client, tokens["unit"][1], level="unit")
    assert [r["code"] for r in got["rows"]] == [units["A"]]
    row = {k: v for k, v in got["rows"][0].items() if k not in ("code", "name")}
    assert row == _expected(hours)["A"]
    street = _get(app_module_client, units["token_B"], level="street")
    assert [r["code"] for r in street["rows"]] == [units["street_B"]]
    assert street["rows"][0]["received"] == 2
    resp = app_module_client.get(
        "/api/kpis", query_string=WINDOW, headers=bearer(tokens["inspector"][1])
    )
    assert resp.status_code == 403


def test_the_sheet_is_the_same_table_in_chinese(app_module_client, tokens, units, walked):
    resp = app_module_client.get(
        "/api/kpis.xlsx",
        query_string={**WINDOW, "level": "unit"},
        headers=bearer(tokens["planner"][1]),
    )
    assert resp.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(resp.data)).active
    header = [c.value for c in ws[1]]
    assert header[:6] == ["编码", "名称", "受理数", "结案数", "按期结案数", "按期整改率"]
    by_code = {
        r[0]: dict(zip(header, r, strict=True)) for r in ws.iter_rows(2, 4, values_only=True)
    }
    assert by_code[units["A"]]["受理数"] == 4 and by_code[units["A"]]["返工率"] == round(2 / 3, 4)
    assert by_code[units["B"]]["当前超期数"] == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"to": "1999-06-03"}, "from"),
        ({"from": "1999-06-01"}, "to"),
        ({**WINDOW, "from": "1999-6-1"}, "from"),
        ({**WINDOW, "to": "1999-02-30"}, "to"),
        ({**WINDOW, "to": "1999-05-31"}, "to"),
        ({**WINDOW, "level": "province"}, "level"),
        ({**WINDOW, "unit": "x"}, "unit"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(app_module_client, tokens, query, field):
    for path in ("/api/kpis", "/api/kpis.xlsx"):
        resp = app_module_client.get(path, query_string=query, headers=bearer(tokens["admin"][1]))
        assert resp.status_code == 400
        assert resp.mimetype == "application/problem+json"
        assert [e["field"] for e in resp.get_json()["errors"]] == [field]


def test_the_widest_window_is_answered(app_module_client, tokens, walked):
    got = _get(app_module_client, tokens["admin"][1], **{"from": "0001-01-01", "to": "9999-12-31"})
    assert sum(r["received"] for r in got["rows"]) >= 6
