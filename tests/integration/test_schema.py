import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from service.store.db import Actor, set_actor, upgrade
from service.store.models import (
    DERIVED_TABLES,
    LOG_TABLES,
    OPERATIONAL_TABLES,
    Base,
    include_object,
)


def test_second_autogenerate_finds_nothing(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": True}
        )
        assert compare_metadata(ctx, Base.metadata) == []


def test_upgrade_is_idempotent(pg_url, engine):
    upgrade(pg_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
        assert conn.execute(
            text("SELECT extversion FROM pg_extension WHERE extname='postgis'")
        ).scalar()


def test_every_table_has_city_id_and_an_audit_trigger(engine):
    with engine.connect() as conn:
        tables = set(
            conn.execute(
                text(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' "
                    "AND table_name NOT IN ('alembic_version', 'spatial_ref_sys') "
                    # a city's partitions of the cases and their events (migration 0022)
                    "AND table_name NOT IN (SELECT relname FROM pg_class WHERE relispartition)"
                )
            ).scalars()
        )
        with_city = set(
            conn.execute(
                text(
                    "SELECT table_name FROM information_schema.columns "
                    "WHERE column_name = 'city_id'"
                )
            ).scalars()
        )
        audited = set(
            conn.execute(
                text(
                    "SELECT event_object_table FROM information_schema.triggers "
                    "WHERE trigger_name LIKE '%\\_audit'"
                )
            ).scalars()
        )
    assert tables - with_city == {"city", "server_secret"}
    assert tables - audited == set(DERIVED_TABLES) | set(OPERATIONAL_TABLES) | set(LOG_TABLES)


def test_geometry_columns_are_4326_with_gist_indexes(engine):
    with engine.connect() as conn:
        srids = set(
            conn.execute(
                text(
                    "SELECT DISTINCT srid FROM geometry_columns "
                    # the one derived copy for the map: a generated column, never written
                    "WHERE (f_table_name, f_geometry_column) <> ('violation', 'geom_3857') "
                    # and its copies in a city's partitions of the cases
                    "AND f_table_name NOT IN (SELECT relname FROM pg_class WHERE relispartition)"
                )
            ).scalars()
        )
        mercator = conn.execute(
            text(
                "SELECT srid, is_generated FROM geometry_columns g JOIN information_schema.columns "
                "c ON c.table_name = g.f_table_name AND c.column_name = g.f_geometry_column "
                "WHERE g.f_table_name = 'violation' AND g.f_geometry_column = 'geom_3857'"
            )
        ).one()
        gist = set(
            conn.execute(
                text("SELECT tablename FROM pg_indexes WHERE indexdef ILIKE '%USING gist%'")
            ).scalars()
        )
    assert srids == {4326}
    assert tuple(mercator) == (3857, "ALWAYS")
    assert {
        "admin_area",
        "grid_cell",
        "zone",
        "assessment_point",
        "stall_area",
        "violation",
    } <= gist


def test_a_write_without_an_actor_is_refused(engine, demo):
    with pytest.raises(DBAPIError, match="without an actor"), engine.begin() as conn:
        conn.execute(text("UPDATE zone SET name = name || '!' WHERE city_id = :c"), {"c": demo[0]})
    with engine.connect() as conn:
        assert not conn.execute(text("SELECT count(*) FROM zone WHERE name LIKE '%!'")).scalar()


def test_audit_records_who_and_only_what_changed(engine, demo):
    city_id = demo[0]
    with engine.begin() as conn:
        set_actor(conn, Actor(42, "auditor-test"))
        zone_id = conn.execute(
            text("SELECT id FROM zone WHERE city_id = :c ORDER BY id LIMIT 1"), {"c": city_id}
        ).scalar()
        conn.execute(
            text(
                "UPDATE zone SET name = name || ' (audited)', version = version + 1 "
                "WHERE city_id = :c AND id = :id"
            ),
            {"c": city_id, "id": zone_id},
        )
    with engine.begin() as conn:
        row = conn.execute(
            text(
                "SELECT actor_id, actor_name, action, old, new FROM audit_log "
                "WHERE table_name = 'zone' AND row_key = :k ORDER BY id DESC LIMIT 1"
            ),
            {"k": str(zone_id)},
        ).one()
        set_actor(conn, Actor(None, "auditor-test"))
        conn.execute(
            text(
                "UPDATE zone SET name = replace(name, ' (audited)', ''), "
                "version = version + 1 WHERE city_id = :c AND id = :id"
            ),
            {"c": city_id, "id": zone_id},
        )
    assert (row.actor_id, row.actor_name, row.action) == (42, "auditor-test", "UPDATE")
    assert set(row.new) == {"name", "version"}
    assert row.new["name"].endswith("(audited)") and not row.old["name"].endswith("(audited)")


def test_audit_never_stores_secrets(engine, tokens):
    with engine.connect() as conn:
        leaked = conn.execute(
            text(
                "SELECT count(*) FROM audit_log WHERE table_name IN ('app_user', 'api_token') AND "
                "(new ? 'password_hash' OR new ? 'token_sha256')"
            )
        ).scalar()
        users = conn.execute(
            text(
                "SELECT count(*) FROM audit_log WHERE table_name = 'app_user' AND action = 'INSERT'"
            )
        ).scalar()
    assert users >= 5 and leaked == 0


def test_zone_cannot_point_into_another_city(engine, demo):
    """Composite (city_id, id) keys: a row of one city cannot reference another's."""
    with pytest.raises(DBAPIError, match="foreign key"), engine.begin() as conn:
        set_actor(conn, Actor(None, "test"))
        other = conn.execute(
            text(
                "INSERT INTO city (code, name, crs_epsg, extent) VALUES ('999999', 'x', 4548, "
                "ST_MakeEnvelope(117, 28, 117.1, 28.1, 4326)) RETURNING id"
            )
        ).scalar()
        unit = conn.execute(
            text("SELECT id FROM unit WHERE city_id = :c LIMIT 1"), {"c": demo[0]}
        ).scalar()
        conn.execute(
            text(
                "INSERT INTO zone (city_id, code, name, kind, unit_id, valid_from, provenance, "
                "geom) "
                "VALUES (:o, 'Z', 'z', 'grid', :u, now(), 'user', "
                "ST_Multi(ST_MakeEnvelope(117, 28, 117.1, 28.1, 4326)))"
            ),
            {"o": other, "u": unit},
        )


def test_cluster_lifecycle_in_a_fresh_home():
    import tempfile
    from pathlib import Path

    from service.store.pgcluster import Cluster

    home = Path(tempfile.mkdtemp(prefix="chuangwen-life-"))
    home.chmod(0o755)
    cluster = Cluster(home)
    try:
        assert cluster.status() == "absent"
        cluster.start()
        assert cluster.status() == "running"
        upgrade(cluster.url)
        cluster.stop()
        assert cluster.status() == "stopped"
        cluster.start()  # a second start reuses the data directory
        assert cluster.status() == "running"
    finally:
        cluster.stop()
        import shutil

        shutil.rmtree(home, ignore_errors=True)


def test_cases_by_city_go_down_and_up_again_with_every_row(engine, pg_url):
    """Migration 0022 and back: every case and event as it was, each city's partitions
    made again, the ids carrying on, and a new city given partitions of its own."""
    from alembic import command
    from sqlalchemy import create_engine

    from service.demo.build import build
    from service.demo.load import load
    from service.store.db import alembic_config
    from tests.conftest import NOW, own_database

    state = (
        "SELECT (SELECT md5(string_agg(v::text, ',' ORDER BY city_id, id)) FROM violation v), "
        "(SELECT md5(string_agg(e::text, ',' ORDER BY city_id, id)) FROM case_event e), "
        "(SELECT relkind FROM pg_class WHERE relname = 'violation'), "
        "(SELECT count(*) FROM pg_trigger WHERE tgrelid = 'violation'::regclass "
        "AND NOT tgisinternal), "
        "(SELECT count(*) FROM pg_index WHERE indrelid = 'violation'::regclass), "
        "(SELECT count(*) FROM pg_constraint WHERE conparentid = 0 AND "
        "(conrelid = 'violation'::regclass OR confrelid = 'violation'::regclass)), "
        "(SELECT count(*) FROM pg_class WHERE relname ~ '^(violation|case_event)_c[0-9]+$')"
    )
    with own_database(engine, pg_url, "partitions") as url:
        own = create_engine(url)
        try:
            with own.begin() as conn:
                set_actor(conn, Actor(None, "test"))
                load(conn, build(NOW))
            with own.connect() as conn:
                up = conn.execute(text(state)).one()
            command.downgrade(alembic_config(url), "0021")
            with own.connect() as conn:
                down = conn.execute(text(state)).one()
            command.upgrade(alembic_config(url), "head")
            with own.begin() as conn:
                again = conn.execute(text(state)).one()
                set_actor(conn, Actor(None, "test"))
                city = conn.execute(
                    text(
                        "INSERT INTO city (code, name, crs_epsg, extent) SELECT '999999', "
                        "'新城', crs_epsg, extent FROM city LIMIT 1 RETURNING id"
                    )
                ).scalar()
                made = conn.execute(
                    text(
                        "SELECT relname, relispartition FROM pg_class "
                        "WHERE relname IN (:v, :e) ORDER BY 1"
                    ),
                    {"v": f"violation_c{city}", "e": f"case_event_c{city}"},
                ).all()
                last = conn.execute(text("SELECT max(id) FROM violation")).scalar()
                nxt = conn.execute(
                    text("SELECT nextval(pg_get_serial_sequence('violation', 'id'))")
                ).scalar()
        finally:
            own.dispose()
    assert up[0] is not None and up[1] is not None
    assert down[:2] == up[:2] == again[:2]
    assert (up[2], down[2], again[2]) == ("p", "r", "p")
    assert down[3:6] == up[3:6] == again[3:6] and up[3] > 5 and up[4] >= 10
    assert up[6] == again[6] == 2 and down[6] == 0
    assert made == [(f"case_event_c{city}", True), (f"violation_c{city}", True)]
    assert nxt > last
