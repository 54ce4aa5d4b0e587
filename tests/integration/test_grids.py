from sqlalchemy import text

from service.layers.grids import regenerate
from service.store.db import Actor, set_actor

CELLS_OF_COMMUNITY = (
    "SELECT g.code, md5(ST_AsBinary(g.geom)) FROM grid_cell g JOIN admin_area a "
    "ON a.city_id = g.city_id AND a.id = g.community_id WHERE g.city_id = :c AND a.code = :a"
)


def test_regenerating_the_demo_grid_changes_nothing(engine, demo):
    with engine.connect() as conn:
        trans = conn.begin()
        set_actor(conn, Actor(None, "test-grid"))
        before = dict(
            conn.execute(
                text("SELECT code, md5(ST_AsBinary(geom)) FROM grid_cell WHERE city_id = :c"),
                {"c": demo[0]},
            ).all()
        )
        change = regenerate(conn, demo[0], "360681001", 100)
        after = dict(
            conn.execute(
                text("SELECT code, md5(ST_AsBinary(geom)) FROM grid_cell WHERE city_id = :c"),
                {"c": demo[0]},
            ).all()
        )
        trans.rollback()
    assert change.added == change.removed == change.reshaped == 0 and change.kept > 500
    assert before == after


def test_moving_a_boundary_keeps_the_codes_of_untouched_cells(engine, demo):
    with engine.connect() as conn:
        trans = conn.begin()
        set_actor(conn, Actor(None, "test-grid"))
        c = demo[0]
        code = "360681001001"
        before = dict(
            conn.execute(
                text(CELLS_OF_COMMUNITY),
                {"c": c, "a": code},
            ).all()
        )
        # the community grows by 150 m to the west and loses nothing
        conn.execute(
            text(
                "UPDATE admin_area SET geom = "
                "ST_Multi(ST_Union(geom, ST_Translate(geom, -0.0015, 0))) "
                "WHERE city_id = :c AND code = :a"
            ),
            {"c": c, "a": code},
        )
        change = regenerate(conn, c, code, 100)
        after = dict(
            conn.execute(
                text(CELLS_OF_COMMUNITY),
                {"c": c, "a": code},
            ).all()
        )
        cells_have_owner = conn.execute(
            text(
                "SELECT count(*) FROM violation WHERE city_id = :c AND grid_cell_id IS NOT NULL "
                "AND grid_cell_id NOT IN (SELECT id FROM grid_cell WHERE city_id = :c)"
            ),
            {"c": c},
        ).scalar()
        trans.rollback()
    assert change.added > 0 and change.removed == 0
    unchanged = [k for k in before if before[k] == after.get(k)]
    assert len(unchanged) == change.kept > 0
    assert set(before) <= set(after)  # no code disappeared
    assert len(after) == len(before) + change.added
    assert all(len(k) == 15 for k in after)
    assert cells_have_owner == 0


def test_cli_grid_reports_and_names_a_bad_area(app, demo):
    from flask.cli import ScriptInfo

    from service.cli import main

    runner = app.test_cli_runner()
    ok = runner.invoke(main, ["grid", "360681002003"], obj=ScriptInfo(create_app=lambda: app))
    assert ok.exit_code == 0, ok.output
    assert "added 0" in ok.output and "removed 0" in ok.output
    bad = runner.invoke(main, ["grid", "999"], obj=ScriptInfo(create_app=lambda: app))
    assert bad.exit_code != 0 and "AREA_CODE" in bad.output


def test_a_community_of_more_than_999_cells_numbers_the_rest_with_five_digits(engine, demo):
    with engine.connect() as conn:
        trans = conn.begin()
        set_actor(conn, Actor(None, "test-grid"))
        change = regenerate(conn, demo[0], "360681001001", 20)  # 20 m cells: thousands
        codes = conn.execute(
            text(CELLS_OF_COMMUNITY.replace("md5(ST_AsBinary(g.geom))", "g.row")),
            {"c": demo[0], "a": "360681001001"},
        ).all()
        trans.rollback()
    lengths = sorted({len(code) for code, _ in codes})
    assert change.added > 999 and lengths == [15, 17]
    short = sorted(code for code, _ in codes if len(code) == 15)
    assert len(short) == 999 and short[-1].endswith("999")
    assert min(code for code, _ in codes if len(code) == 17).endswith("01000")
