"""The violation rules run in the database, in the writing transaction."""

import datetime as dt

import pytest
from pyproj import Geod
from sqlalchemy import text

from service.store.db import Actor, set_actor

GEOD = Geod(ellps="WGS84")


@pytest.fixture()
def tx(engine):
    """A transaction that is rolled back: the rules are seen without changing the demo."""
    with engine.connect() as conn:
        trans = conn.begin()
        set_actor(conn, Actor(None, "test-rules"))
        yield conn
        trans.rollback()


def _report(conn, city_id, lon, lat, category, observed_at="2026-11-27 10:00+08"):
    return conn.execute(
        text(
            "INSERT INTO violation (city_id, case_no, category_code, observed_at, source, "
            "provenance, geom) VALUES (:c, 'T-' || left(md5(random()::text), 20), :cat, :t, "
            "'inspection', 'user', ST_SetSRID(ST_MakePoint(:x, :y), 4326)) RETURNING *"
        ),
        {"c": city_id, "cat": category, "t": observed_at, "x": lon, "y": lat},
    ).one()


def _point(conn, city_id, category="farmers_market"):
    return conn.execute(
        text(
            "SELECT id, name, radius_m, ST_X(geom) x, ST_Y(geom) y FROM assessment_point "
            "WHERE city_id = :c AND category_code = :k AND GeometryType(geom) = 'POINT' "
            "ORDER BY code LIMIT 1"
        ),
        {"c": city_id, "k": category},
    ).one()


def _stall_spot(conn, city_id):
    """A place inside the demo's evening stall area (18:00–02:00)."""
    return conn.execute(
        text(
            "SELECT ST_X(ST_PointOnSurface(geom)) x, ST_Y(ST_PointOnSurface(geom)) y "
            "FROM stall_area WHERE city_id = :c AND opens_at = '18:00'"
        ),
        {"c": city_id},
    ).one()


def test_owner_department_deadline_and_near_points(tx, demo):
    city_id = demo[0]
    p = _point(tx, city_id)
    lon, lat = p.x + 0.0004, p.y + 0.0003  # about 50 m away
    v = _report(tx, city_id, lon, lat, "garbage_corner")
    cell = tx.execute(
        text("SELECT code FROM grid_cell WHERE city_id = :c AND id = :id"),
        {"c": city_id, "id": v.grid_cell_id},
    ).scalar()
    zone = tx.execute(
        text(
            "SELECT z.unit_id, ST_Covers(z.geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) "
            "FROM zone z WHERE z.city_id = :c AND z.id = :id"
        ),
        {"c": city_id, "id": v.zone_id, "x": lon, "y": lat},
    ).one()
    assert len(cell) == 15 and zone[1] and zone[0] == v.unit_id
    assert v.department_code == "dept_hw"  # sanitation office, from the catalogue
    assert v.due_at - v.observed_at == dt.timedelta(hours=24)
    near = {n["id"]: n for n in v.near_points}
    assert p.id in near
    _, _, metres = GEOD.inv(p.x, p.y, lon, lat)
    assert abs(near[p.id]["distance_m"] - metres) < 0.5
    assert [n["distance_m"] for n in v.near_points] == sorted(
        n["distance_m"] for n in v.near_points
    )
    assert all(n["distance_m"] <= 5000 for n in v.near_points)
    assert v.severity == 4  # garbage corner is 3, one step up near a point


def test_illegal_building_near_a_point_is_the_most_severe(tx, demo):
    p = _point(tx, demo[0], "school")
    near = _report(tx, demo[0], p.x + 0.0002, p.y, "illegal_building")
    assert near.near_points and near.severity == 6
    far = _report(tx, demo[0], 117.1925, 28.3200, "illegal_building")  # north-west corner
    assert far.near_points == [] and far.severity == 5


def test_vending_in_a_stall_area_during_its_hours_is_permitted(tx, demo):
    s = _stall_spot(tx, demo[0])
    night = _report(tx, demo[0], s.x, s.y, "open_air_bbq", "2026-11-27 23:30+08")
    after_midnight = _report(tx, demo[0], s.x, s.y, "street_vending", "2026-11-28 01:30+08")
    morning = _report(tx, demo[0], s.x, s.y, "open_air_bbq", "2026-11-27 10:00+08")
    parking = _report(tx, demo[0], s.x, s.y, "disorderly_parking", "2026-11-27 23:30+08")
    assert night.permitted and night.due_at is None
    assert after_midnight.permitted
    assert not morning.permitted and morning.due_at is not None
    assert not parking.permitted
    _judged_alike(tx, demo[0])


def test_the_zone_valid_when_seen_owns_the_case(tx, demo):
    city_id = demo[0]
    # a place in a community's grid zone, away from the road-chief zones
    p = tx.execute(
        text(
            "WITH roads AS (SELECT ST_Union(geom) g FROM zone WHERE city_id = :c "
            "AND kind = 'road_segment'), spot AS (SELECT ST_PointOnSurface(ST_Difference(z.geom, "
            "roads.g)) g FROM zone z, roads WHERE z.city_id = :c AND z.kind = 'grid' "
            "ORDER BY z.code LIMIT 1) SELECT ST_X(g) x, ST_Y(g) y FROM spot"
        ),
        {"c": city_id},
    ).one()
    old = tx.execute(
        text(
            "SELECT id, unit_id, code FROM zone WHERE city_id = :c AND kind = 'grid' AND "
            "ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
        ),
        {"c": city_id, "x": p.x, "y": p.y},
    ).one()
    other_unit = tx.execute(
        text("SELECT id FROM unit WHERE city_id = :c AND kind = 'company' LIMIT 1"), {"c": city_id}
    ).scalar()
    # the zone is handed to another unit from 2026-11-01 on: a new version of it
    tx.execute(
        text("UPDATE zone SET valid_to = '2026-11-01' WHERE city_id = :c AND id = :id"),
        {"c": city_id, "id": old.id},
    )
    new_id = tx.execute(
        text(
            "INSERT INTO zone (city_id, code, name, kind, unit_id, valid_from, provenance, geom) "
            "SELECT city_id, code, name, kind, :u, '2026-11-01', 'user', geom FROM zone "
            "WHERE city_id = :c AND id = :id RETURNING id"
        ),
        {"c": city_id, "id": old.id, "u": other_unit},
    ).scalar()
    before = _report(tx, city_id, p.x, p.y, "graffiti", "2026-10-20 10:00+08")
    after = _report(tx, city_id, p.x, p.y, "graffiti", "2026-11-20 10:00+08")
    assert (before.zone_id, before.unit_id) == (old.id, old.unit_id)
    assert (after.zone_id, after.unit_id) == (new_id, other_unit)
    _judged_alike(tx, city_id)


def test_moving_a_point_judges_nearby_cases_again(tx, demo):
    city_id = demo[0]
    p = _point(tx, city_id)
    v = _report(tx, city_id, p.x + 0.0005, p.y, "graffiti")
    assert p.id in [n["id"] for n in v.near_points]
    tx.execute(
        text(
            "UPDATE assessment_point SET geom = ST_Translate(geom, 0.05, 0) "
            "WHERE city_id = :c AND id = :id"
        ),
        {"c": city_id, "id": p.id},
    )
    again = tx.execute(
        text("SELECT near_points FROM violation WHERE city_id = :c AND id = :id"),
        {"c": city_id, "id": v.id},
    ).scalar()
    assert p.id not in [n["id"] for n in again]


def test_a_case_outside_every_zone_is_unowned(tx, demo):
    v = _report(tx, demo[0], 117.30, 28.40, "graffiti")  # outside the demo's zones
    assert v.zone_id is None and v.unit_id is None and v.grid_cell_id is None
    assert v.department_code == "dept_cgb"


def test_rejudging_a_city_changes_only_what_is_stale(tx, demo):
    city_id = demo[0]
    assert tx.execute(text("SELECT violation_rejudge(:c)"), {"c": city_id}).scalar() == 0
    tx.execute(
        text(
            "UPDATE violation SET severity = 1, near_points = '[]' WHERE city_id = :c "
            "AND id IN (SELECT id FROM violation WHERE city_id = :c AND "
            "jsonb_array_length(near_points) > 0 ORDER BY id LIMIT 10)"
        ),
        {"c": city_id},
    )
    assert tx.execute(text("SELECT violation_rejudge(:c)"), {"c": city_id}).scalar() == 10


def _judged_alike(conn, city_id) -> dict:
    """Every case of the city judged one by one (the row trigger's query) and all together
    (imports, recomputing): the answers must be the same, field by field."""
    cols = (
        "grid_cell_id, zone_id, unit_id, department_code, severity, permitted, near_points, due_at"
    )
    one = {
        r[0]: tuple(r[1:])
        for r in conn.execute(
            text(
                f"SELECT v.id, {', '.join('j.' + c for c in cols.split(', '))} FROM violation v "
                "CROSS JOIN LATERAL violation_judgement(v.city_id, v.geom, v.category_code, "
                "v.observed_at) j WHERE v.city_id = :c"
            ),
            {"c": city_id},
        )
    }
    many = {
        r[0]: tuple(r[1:])
        for r in conn.execute(
            text(
                f"SELECT k, {cols} FROM violation_judge_many(:c, 'SELECT id AS k, geom, "
                f"category_code, observed_at FROM violation WHERE city_id = {int(city_id)}')"
            ),
            {"c": city_id},
        )
    }
    assert many.keys() == one.keys()
    differ = [k for k in one if one[k] != many[k]]
    assert not differ, [(k, one[k], many[k]) for k in differ[:3]]
    return one


def test_cases_judged_together_get_the_answers_they_get_one_by_one(tx, demo):
    _report(tx, demo[0], 117.30, 28.40, "graffiti")  # in no zone
    s = _stall_spot(tx, demo[0])
    _report(tx, demo[0], s.x, s.y, "open_air_bbq", "2026-11-27 23:30+08")  # permitted
    answers = _judged_alike(tx, demo[0])
    # every rule is exercised: owned and unowned, near points, permitted stalls
    assert len(answers) >= 2000
    assert any(a[1] is None for a in answers.values())
    assert any(a[1] is not None for a in answers.values())
    assert sum(1 for a in answers.values() if len(a[6]) > 1) > 10
    assert any(a[5] for a in answers.values())
    # nothing of the scratch tables is left behind
    left = tx.execute(text("SELECT count(*) FROM pg_class WHERE relname LIKE 'judge\\_%'"))
    assert left.scalar() == 0


def _stored(conn, city_id) -> dict:
    cols = (
        "grid_cell_id, zone_id, unit_id, department_code, severity, permitted, near_points, due_at"
    )
    return {
        r[0]: tuple(r[1:])
        for r in conn.execute(
            text(f"SELECT id, {cols} FROM violation WHERE city_id = :c"), {"c": city_id}
        )
    }


def _places(conn, city_id) -> dict:
    """Where each case's row version lies: a row written again, even unchanged, moves."""
    return dict(
        conn.execute(
            text("SELECT id, ctid::text FROM violation WHERE city_id = :c"), {"c": city_id}
        ).all()
    )


def _rows(conn, city_id) -> dict:
    """Each case's whole row as the audit sees it."""
    return dict(
        conn.execute(
            text("SELECT id::text, to_jsonb(v) FROM violation v WHERE city_id = :c"),
            {"c": city_id},
        ).all()
    )


def _audited_as_the_row_trigger_audits(conn, mark: int, before: dict, after: dict) -> set:
    """The cases written since audit row ``mark`` are audited once each, as audit_row does
    it: by the test's actor, with the keys whose value changed, old and new; the keys."""
    audited = conn.execute(
        text(
            "SELECT row_key, actor_name, action, old, new FROM audit_log "
            "WHERE id > :m AND table_name = 'violation' AND city_id = :c"
        ),
        {"m": mark, "c": next(iter(after.values()))["city_id"]},
    ).all()
    changed = {k for k in after if after[k] != before[k]}
    assert sorted(r.row_key for r in audited) == sorted(changed)
    for r in audited:
        keys = {c for c in after[r.row_key] if after[r.row_key][c] != before[r.row_key][c]}
        assert (r.actor_name, r.action) == ("test-rules", "UPDATE")
        assert r.new == {c: after[r.row_key][c] for c in keys}, r.row_key
        assert r.old == {c: before[r.row_key][c] for c in keys}, r.row_key
    return {k for r in audited for k in r.new}


def test_an_edit_writes_exactly_the_cases_whose_answer_it_changes(tx, demo):
    """A point moved, a zone shrunk, a stall area's hours and a category's deadline changed:
    after each, every stored answer is the one the row trigger's query gives (and the one
    the set-based judgement gives), and the cases written are exactly those whose answer
    changed, each audited as the row trigger audits a write; a unit set by hand stays."""
    city_id = demo[0]
    s = _stall_spot(tx, city_id)
    _report(tx, city_id, s.x, s.y, "open_air_bbq", "2026-11-27 23:30+08")  # permitted
    p = _point(tx, city_id)
    by_hand = tx.execute(
        text(
            "SELECT id FROM violation WHERE city_id = :c AND unit_id IS NOT NULL AND "
            "ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography, "
            "80) ORDER BY id LIMIT 1"
        ),
        {"c": city_id, "x": p.x, "y": p.y},
    ).scalar_one()
    other = tx.execute(
        text("SELECT id FROM unit WHERE city_id = :c ORDER BY id DESC LIMIT 1"), {"c": city_id}
    ).scalar_one()
    tx.execute(
        text("UPDATE violation SET unit_override = :u WHERE city_id = :c AND id = :i"),
        {"u": other, "c": city_id, "i": by_hand},
    )
    zone = tx.execute(
        text(
            "SELECT z.id FROM zone z JOIN violation v ON v.zone_id = z.id AND v.city_id = "
            "z.city_id WHERE z.city_id = :c GROUP BY z.id ORDER BY count(*) DESC LIMIT 1"
        ),
        {"c": city_id},
    ).scalar_one()
    edits = [
        (
            "UPDATE assessment_point SET geom = ST_Translate(geom, 0.0003, 0.0002) "
            "WHERE city_id = :c AND id = :i",
            p.id,
        ),
        (
            "UPDATE zone SET geom = ST_Multi(ST_Buffer(geom::geography, -40)::geometry) "
            "WHERE city_id = :c AND id = :i",
            zone,
        ),
        (
            "UPDATE stall_area SET closes_at = '23:00' WHERE city_id = :c AND opens_at = '18:00' "
            "AND :i = :i",
            0,
        ),
        (
            "UPDATE violation_category SET deadline_h = deadline_h + 5 WHERE city_id = :c "
            "AND code = (SELECT category_code FROM violation WHERE city_id = :c AND id = :i)",
            by_hand,
        ),
    ]
    moved, keys = set(), set()
    for sql, key in edits:
        before, places = _stored(tx, city_id), _places(tx, city_id)
        rows = _rows(tx, city_id)
        mark = tx.execute(text("SELECT coalesce(max(id), 0) FROM audit_log")).scalar()
        tx.execute(text(sql), {"c": city_id, "i": key})
        after, now = _stored(tx, city_id), _places(tx, city_id)
        keys |= _audited_as_the_row_trigger_audits(tx, mark, rows, _rows(tx, city_id))
        one = _judged_alike(tx, city_id)  # one by one == all together
        hand = {
            r[0]: r[1:]
            for r in tx.execute(
                text(
                    "SELECT id, unit_override, due_override FROM violation WHERE city_id = :c "
                    "AND (unit_override IS NOT NULL OR due_override IS NOT NULL)"
                ),
                {"c": city_id},
            )
        }
        assert hand[by_hand][0] == other
        for k, a in one.items():
            unit, due = hand.get(k, (None, None))
            assert after[k] == (*a[:2], unit or a[2], *a[3:7], due or a[7]), (sql, k)
        changed = {k for k in after if after[k] != before[k]}
        assert changed and {k for k in now if now[k] != places[k]} == changed, sql
        moved |= changed
    assert by_hand in moved and after[by_hand][2] == other
    # the owner computed from the unit (tally_apart) is among what was audited
    assert {"near_points", "unit_id", "tally_apart", "due_at"} <= keys
