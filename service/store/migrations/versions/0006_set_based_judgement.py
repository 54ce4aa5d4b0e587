"""judge many cases at once with spatial joins

Revision ID: 0006
Revises: 0005
"""

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op


def _sibling(filename: str):
    """An earlier revision's module, for the definitions this one changes."""
    spec = importlib.util.spec_from_file_location(filename, Path(__file__).with_name(filename))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The same rules as violation_judgement (0002), for a whole set of cases at once. One row
# at a time the rules cost an index probe per layer and per case, and a polygon tested
# against a point is prepared anew each time; here every layer is joined once, polygon
# first, so each cell, zone, surroundings and stall area is prepared once and tested
# against the cases near it, with the cases copied in spatial order (the btree order of
# PostGIS geometry is a space-filling curve) so that neighbours share pages. The joins run
# in parallel workers, which is why the scratch tables are unlogged rather than temporary.
# tests/integration/test_rules.py holds the two implementations to the same answers.
JUDGE_MANY = """
CREATE FUNCTION violation_judge_many(p_city integer, p_source text)
RETURNS TABLE (k bigint, grid_cell_id bigint, zone_id bigint, unit_id bigint,
               department_code varchar, severity integer, permitted boolean,
               near_points jsonb, due_at timestamptz)
LANGUAGE plpgsql
-- the joins are long nested loops over small polygon tables: worth a worker each
SET parallel_setup_cost = 0
SET parallel_tuple_cost = 0
SET min_parallel_table_scan_size = 0
SET work_mem = '256MB'
AS $$
-- p_source: a query yielding (k bigint, geom geometry, category_code text,
-- observed_at timestamptz), k unique.
DECLARE
    t text := 'judge_' || pg_backend_pid() || '_' || txid_current() || '_'
              || (floor(random() * 1e9))::bigint;
BEGIN
    EXECUTE format(
        'CREATE UNLOGGED TABLE %I AS SELECT s.k::bigint AS k, s.geom::geometry AS geom, '
        's.category_code::text AS category_code, s.observed_at::timestamptz AS observed_at '
        'FROM (%s) s ORDER BY s.geom', t || '_src', p_source);
    EXECUTE format('CREATE INDEX ON %I USING gist (geom)', t || '_src');
    EXECUTE format('ANALYZE %I', t || '_src');
    -- the layers, copied without their indexes so that every join runs polygon first
    EXECUTE format('CREATE UNLOGGED TABLE %I AS SELECT id, code, geom FROM grid_cell '
                   'WHERE city_id = $1', t || '_cells') USING p_city;
    EXECUTE format('CREATE UNLOGGED TABLE %I AS SELECT id, unit_id, valid_from, valid_to, '
                   'ST_Area(geom) AS area, geom FROM zone WHERE city_id = $1',
                   t || '_zones') USING p_city;
    EXECUTE format('CREATE UNLOGGED TABLE %I AS SELECT id, name, category_code, radius_m, '
                   'search_area, geom FROM assessment_point WHERE city_id = $1 AND active',
                   t || '_points') USING p_city;
    -- the grid cell: the first by code of those covering the case
    EXECUTE format(
        'CREATE UNLOGGED TABLE %I AS SELECT DISTINCT ON (s.k) s.k, g.id '
        'FROM %I g JOIN %I s ON ST_Covers(g.geom, s.geom) '
        'ORDER BY s.k, g.code', t || '_cell', t || '_cells', t || '_src');
    -- the most specific zone valid when the case was seen
    EXECUTE format(
        'CREATE UNLOGGED TABLE %I AS SELECT DISTINCT ON (s.k) s.k, z.id, z.unit_id '
        'FROM %I z JOIN %I s ON ST_Covers(z.geom, s.geom) '
        'WHERE z.valid_from <= s.observed_at '
        'AND (z.valid_to IS NULL OR z.valid_to > s.observed_at) '
        'ORDER BY s.k, z.area, z.id', t || '_zone', t || '_zones', t || '_src');
    -- every active assessment point whose surroundings hold the case, nearest first (the
    -- search area's box finds candidates: the polygon itself contains the whole circle);
    -- the distance is computed once per pair, and the list is built as text in order
    -- (an aggregate ORDER BY sorts each group on its own: slow for a million small groups)
    EXECUTE format(
        'CREATE UNLOGGED TABLE %I AS SELECT * FROM (SELECT s.k, p.id, p.radius_m, '
        'round(ST_Distance(p.geom::geography, s.geom::geography)::numeric, 1) AS d '
        'FROM %I p JOIN %I s ON p.search_area && s.geom OFFSET 0) n WHERE n.d <= n.radius_m',
        t || '_pairs', t || '_points', t || '_src');
    EXECUTE format(
        'CREATE UNLOGGED TABLE %I AS SELECT q.k, (''['' || string_agg(q.j, '','') || '']'')'
        '::jsonb AS near FROM (SELECT n.k, ''{"id":'' || n.id || '',"name":'' '
        '|| to_json(p.name) || '',"category":'' || to_json(p.category_code) '
        '|| '',"distance_m":'' || n.d || ''}'' AS j FROM %I n JOIN %I p ON p.id = n.id '
        'ORDER BY n.k, n.d, n.id) q GROUP BY q.k', t || '_near', t || '_pairs', t || '_points');
    -- vending inside an approved stall area during its hours
    EXECUTE format(
        'CREATE UNLOGGED TABLE %I AS SELECT DISTINCT s.k '
        'FROM stall_area a JOIN %I s ON ST_Covers(a.geom, s.geom) '
        'JOIN city c ON c.id = a.city_id '
        'WHERE a.city_id = $1 AND s.category_code = ANY (a.allowed_categories) '
        'AND CASE WHEN a.opens_at < a.closes_at '
        'THEN (s.observed_at AT TIME ZONE c.timezone)::time >= a.opens_at '
        'AND (s.observed_at AT TIME ZONE c.timezone)::time < a.closes_at '
        'ELSE (s.observed_at AT TIME ZONE c.timezone)::time >= a.opens_at '
        'OR (s.observed_at AT TIME ZONE c.timezone)::time < a.closes_at END',
        t || '_stall', t || '_src') USING p_city;
    RETURN QUERY EXECUTE format(
        'SELECT s.k, cell.id, zn.id, zn.unit_id, vc.department_code, '
        'CASE WHEN np.near IS NOT NULL '
        'THEN coalesce(vc.severity_near_point, least(vc.severity + 1, 5)) '
        'ELSE vc.severity END, '
        'vc.vending AND st.k IS NOT NULL, coalesce(np.near, ''[]''::jsonb), '
        'CASE WHEN vc.vending AND st.k IS NOT NULL THEN NULL '
        'ELSE s.observed_at + make_interval(hours => vc.deadline_h) END '
        'FROM %I s JOIN violation_category vc ON vc.city_id = $1 '
        'AND vc.code = s.category_code '
        'LEFT JOIN %I cell ON cell.k = s.k LEFT JOIN %I zn ON zn.k = s.k '
        'LEFT JOIN %I np ON np.k = s.k LEFT JOIN %I st ON st.k = s.k',
        t || '_src', t || '_cell', t || '_zone', t || '_near', t || '_stall') USING p_city;
    EXECUTE format('DROP TABLE %I, %I, %I, %I, %I, %I, %I, %I, %I', t || '_src',
                   t || '_cells', t || '_zones', t || '_points', t || '_cell', t || '_zone',
                   t || '_pairs', t || '_near', t || '_stall');
END
$$;

DROP FUNCTION violation_rejudge(integer);
CREATE FUNCTION violation_rejudge(p_city integer) RETURNS bigint LANGUAGE plpgsql AS $$
-- Every case of the city judged again, set-based; only the rows whose owners or flags
-- change are written (and so audited). Returns how many changed.
DECLARE
    changed bigint;
BEGIN
    PERFORM set_config('chuangwen.judged', 'on', true);
    UPDATE violation v
       SET grid_cell_id = s.grid_cell_id, zone_id = s.zone_id, unit_id = s.unit_id,
           department_code = s.department_code, severity = s.severity,
           permitted = s.permitted, near_points = s.near_points, due_at = s.due_at
      FROM violation_judge_many(p_city, format(
               'SELECT id AS k, geom, category_code, observed_at FROM violation '
               'WHERE city_id = %s', p_city)) s
     WHERE v.city_id = p_city AND v.id = s.k
       AND (v.grid_cell_id, v.zone_id, v.unit_id, v.department_code, v.severity, v.permitted,
            v.near_points, v.due_at)
           IS DISTINCT FROM
           (s.grid_cell_id, s.zone_id, s.unit_id, s.department_code, s.severity, s.permitted,
            s.near_points, s.due_at);
    GET DIAGNOSTICS changed = ROW_COUNT;
    PERFORM set_config('chuangwen.judged', 'off', true);
    RETURN changed;
END
$$;
"""


# Inserts and deletes are audited once per statement from its transition table: a row
# each in audit_log as before, written by one INSERT … SELECT instead of a trigger call
# per row (a million-row import spent three quarters of its insert time there). Updates
# keep the row trigger, which stores what changed with its old values.
AUDIT_SETS = """
CREATE FUNCTION audit_refuse(tbl text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'write to % without an actor: every write must say who makes it',
        tbl USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE FUNCTION audit_rows() RETURNS trigger LANGUAGE plpgsql AS $$
-- Once per INSERT or DELETE statement. An insert is recorded by its key alone: the row's
-- first values are its current ones with every later UPDATE entry's old values rolled
-- back (a row's whole content as JSON costs more than inserting the row). A delete keeps
-- the whole row, which is gone.
DECLARE
    who text := nullif(current_setting('chuangwen.actor_name', true), '');
    who_id bigint := nullif(current_setting('chuangwen.actor_id', true), '')::bigint;
    city text := CASE WHEN TG_TABLE_NAME = 'city' THEN 'id' ELSE 'city_id' END;
    -- the key that names a row (its primary key without the city), written out when the
    -- trigger was made, e.g. r.id or r.plan_id || ':' || r.user_id
    key text := TG_ARGV[0];
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF who IS NULL AND EXISTS (SELECT FROM new_rows) THEN
            PERFORM audit_refuse(TG_TABLE_NAME);
        END IF;
        EXECUTE format(
            'INSERT INTO audit_log (city_id, actor_id, actor_name, action, table_name, '
            'row_key) SELECT r.%I, $1, $2, $3, $4, %s FROM new_rows r', city, key)
            USING who_id, who, TG_OP, TG_TABLE_NAME;
    ELSE
        IF who IS NULL AND EXISTS (SELECT FROM old_rows) THEN
            PERFORM audit_refuse(TG_TABLE_NAME);
        END IF;
        EXECUTE format(
            'INSERT INTO audit_log (city_id, actor_id, actor_name, action, table_name, '
            'row_key, old) SELECT r.%I, $1, $2, $3, $4, %s, '
            'to_jsonb(r) - ''password_hash'' - ''token_sha256'' FROM old_rows r', city, key)
            USING who_id, who, TG_OP, TG_TABLE_NAME;
    END IF;
    RETURN NULL;
END
$$;
"""


def _row_key(table: str) -> str:
    """The SQL naming a row of ``table`` as ``r``: its primary key without the city."""
    cols = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT a.attname FROM pg_index i "
                "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                "WHERE i.indrelid = CAST(CAST(:t AS text) AS regclass) AND i.indisprimary "
                "AND (a.attname <> 'city_id' OR CAST(:t AS text) = 'city') ORDER BY k.n"
            ),
            {"t": table},
        )
        .scalars()
    )
    return " || ':' || ".join(f"r.{c}" for c in cols)


def _audit_triggers(statement_level: bool) -> None:
    for table in _sibling("0001_campaign_layers.py").AUDITED:
        op.execute(f"DROP TRIGGER {table}_audit ON {table}")
        if statement_level:
            key = _row_key(table).replace("'", "''")
            op.execute(
                f"CREATE TRIGGER {table}_audit AFTER UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION audit_row()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_audit_insert AFTER INSERT ON {table} "
                "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
                f"EXECUTE FUNCTION audit_rows('{key}')"
            )
            op.execute(
                f"CREATE TRIGGER {table}_audit_delete AFTER DELETE ON {table} "
                "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
                f"EXECUTE FUNCTION audit_rows('{key}')"
            )
        else:
            op.execute(f"DROP TRIGGER {table}_audit_insert ON {table}")
            op.execute(f"DROP TRIGGER {table}_audit_delete ON {table}")
            op.execute(
                f"CREATE TRIGGER {table}_audit AFTER INSERT OR UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION audit_row()"
            )


def upgrade() -> None:
    op.execute(JUDGE_MANY)
    op.execute(AUDIT_SETS)
    _audit_triggers(statement_level=True)


def downgrade() -> None:
    _audit_triggers(statement_level=False)
    op.execute("DROP FUNCTION audit_rows(), audit_refuse(text)")
    op.execute("DROP FUNCTION violation_rejudge(integer)")
    op.execute("DROP FUNCTION violation_judge_many(integer, text)")
    op.execute(_sibling("0004_rejudge.py").REJUDGE)
