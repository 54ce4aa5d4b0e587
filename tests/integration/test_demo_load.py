from sqlalchemy import text

from service.store.db import Actor, set_actor

COUNTED = [
    "admin_area",
    "grid_cell",
    "unit",
    "person",
    "zone",
    "assessment_point",
    "stall_area",
    "ad_site",
    "violation",
    "assessment_point_category",
    "violation_category",
    "app_user",
]


def _counts(conn, city_id):
    return {
        t: conn.execute(
            text(f"SELECT count(*) FROM {t} WHERE city_id = :c"), {"c": city_id}
        ).scalar()
        for t in COUNTED
    }


def test_loading_twice_leaves_the_same_rows(engine, demo):
    from service.demo.load import load

    city_id, city, _ = demo
    with engine.connect() as conn:
        before = _counts(conn, city_id)
    with engine.begin() as conn:
        set_actor(conn, Actor(None, "test-demo"))
        again_id, added, password = load(conn, city)
    with engine.connect() as conn:
        after = _counts(conn, city_id)
    assert again_id == city_id and password is None
    assert all(v == 0 for v in added.values()), added
    assert before == after
    # the demo's own cases (other tests of the session may have filed more)
    with engine.connect() as conn:
        demo_cases = conn.execute(
            text("SELECT count(*) FROM violation WHERE city_id = :c AND case_no = ANY(:n)"),
            {"c": city_id, "n": list(city.violations["case_no"])},
        ).scalar()
    assert demo_cases == len(city.violations) == 2000
    assert after["assessment_point"] >= 130


def test_demo_rows_are_consistent_in_the_database(engine, demo):
    city_id = demo[0]
    with engine.connect() as conn:
        invalid = conn.execute(
            text("SELECT count(*) FROM admin_area WHERE city_id = :c AND NOT ST_IsValid(geom)"),
            {"c": city_id},
        ).scalar()
        outside = conn.execute(
            text(
                "SELECT count(*) FROM violation v JOIN city c ON c.id = v.city_id "
                "WHERE v.city_id = :c AND NOT ST_Contains(c.extent, v.geom)"
            ),
            {"c": city_id},
        ).scalar()
        cells_outside = conn.execute(
            text(
                "SELECT count(*) FROM grid_cell g JOIN admin_area a ON a.city_id = g.city_id "
                "AND a.id = g.community_id WHERE g.city_id = :c "
                "AND ST_Area(ST_Difference(g.geom, a.geom)::geography) > 0.01"
            ),
            {"c": city_id},
        ).scalar()
        zone_people = conn.execute(
            text(
                "SELECT count(*) FROM zone WHERE city_id = :c AND (first_person_id IS NULL "
                "OR direct_person_id IS NULL)"
            ),
            {"c": city_id},
        ).scalar()
    assert (invalid, outside, cells_outside, zone_people) == (0, 0, 0, 0)


def test_every_demo_case_has_a_history_that_leads_to_its_state(engine, demo):
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT v.id, v.status, v.rework_count, v.extension_count, "
                "array_agg(e.from_status ORDER BY e.at, e.id), "
                "array_agg(e.to_status ORDER BY e.at, e.id), "
                "array_agg(e.action ORDER BY e.at, e.id) FROM violation v "
                "JOIN case_event e ON e.city_id = v.city_id AND e.violation_id = v.id "
                "WHERE v.city_id = :c AND v.case_no LIKE 'DEMO%' GROUP BY v.city_id, v.id"
            ),
            {"c": demo[0]},
        ).all()
    assert len(rows) == 2000
    actions: dict[str, int] = {}
    for _, status, reworks, extensions, froms, tos, acts in rows:
        assert acts[0] == "report" and froms[0] is None
        # each step starts where the one before ended, and the last is the case's state
        assert all(f == t for f, t in zip(froms[1:], tos[:-1], strict=True)), acts
        assert tos[-1] == status
        assert reworks == acts.count("verify_fail")
        assert extensions == acts.count("extend_decide")
        for a in acts:
            actions[a] = actions.get(a, 0) + 1
    # plausible: reworks, extensions, disputes and verifications all occur
    for action in ("verify_fail", "extend_decide", "dispute", "verify_pass", "fix", "invalidate"):
        assert actions.get(action, 0) > 5, (action, actions)
