"""the cases and their events in one partition per city

Revision ID: 0022
Revises: 0021
"""

import importlib.util
from pathlib import Path

from alembic import op
from sqlalchemy import text

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

# violation and case_event become tables partitioned by city (LIST (city_id)), one partition
# each per city, named violation_c<id> and case_event_c<id>, made with the city. Their keys
# already began with city_id, so every key, unique constraint and foreign key stays as it was,
# and every query naming a city reads that city's partition alone. What this buys is a city's
# first import: its rows are written into a table of their own with no index, indexed once,
# and put in place of the empty partition (service/layers/partitions.py), a third of the time of
# writing a million rows into indexed tables.
#
# The city's partitions are made by a standalone CREATE and an ATTACH, which let every city
# read its cases while a new city's transaction runs (CREATE … PARTITION OF would hold the
# parent with ACCESS EXCLUSIVE); writes to cases and events wait for it, since attaching
# clones foreign keys. A deleted city's empty partitions stay (a city's id is never used
# again).
TABLES = ("violation", "case_event")

PARTITIONS = """
CREATE FUNCTION city_partitions(p_city integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t text;
BEGIN
    -- both parents first, in the order the cases' writers take them: attaching a partition
    -- clones its foreign keys, which holds the tables they join (and the events' partitions
    -- hold the cases') against writes until the city's transaction ends
    LOCK TABLE violation, case_event IN SHARE ROW EXCLUSIVE MODE;
    FOREACH t IN ARRAY ARRAY['violation', 'case_event'] LOOP
        EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING GENERATED '
                       'INCLUDING CONSTRAINTS INCLUDING STORAGE)', t || '_c' || p_city, t);
        EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES IN (%s)',
                       t, t || '_c' || p_city, p_city);
    END LOOP;
END
$$;
CREATE FUNCTION city_made() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM city_partitions(NEW.id);
    RETURN NULL;
END
$$;
"""


def _migration(filename: str):
    spec = importlib.util.spec_from_file_location(filename, Path(__file__).with_name(filename))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _part(text: str, start: str, end: str | None = None) -> str:
    """The definition in an earlier migration's ``text`` from ``start`` to ``end`` (or its
    end), made to replace what stands."""
    return text[text.index(start) : text.index(end) if end else None].replace(
        "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"
    )


# What the cases' statement triggers write after an insert (the arrival events, the audit
# rows, the map's bins) is built as SQL text by a function of its own, for two readers: the
# trigger runs it on the statement's new rows (a transition table, which only the trigger's
# own statements see), and a city's first import on its table of new cases once they are all
# written (service/layers/partitions.py), which spares that insert keeping a million rows
# aside for its triggers (5 s of a million-row import).
ARRIVAL = """
CREATE FUNCTION violation_arrival_sql(p_events text, p_cases text) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
-- every case's report; then, for those dispatched on arrival, their dispatch
SELECT ARRAY[
    format('INSERT INTO %I (city_id, violation_id, at, actor_id, action, from_status, '
           'to_status, unit_id, photos, geom, accuracy_m) '
           'SELECT n.city_id, n.id, n.observed_at, n.reported_by, ''report'', NULL, ''open'', '
           'n.unit_id, n.photos, n.geom, n.location_accuracy_m FROM %I n', p_events, p_cases),
    format('INSERT INTO %I (city_id, violation_id, at, action, from_status, to_status, '
           'unit_id, comment) '
           'SELECT n.city_id, n.id, n.observed_at, ''dispatch'', ''open'', ''dispatched'', '
           'n.unit_id, ''on arrival'' FROM %I n WHERE n.status = ''dispatched''',
           p_events, p_cases)]
$$;
CREATE OR REPLACE FUNCTION violation_arrival_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    q text;
BEGIN
    FOREACH q IN ARRAY violation_arrival_sql('case_event', 'new_rows') LOOP
        EXECUTE q;
    END LOOP;
    RETURN NULL;
END
$$;
CREATE FUNCTION violation_arrival_of(p_events text, p_cases text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    q text;
BEGIN
    FOREACH q IN ARRAY violation_arrival_sql(p_events, p_cases) LOOP
        EXECUTE q;
    END LOOP;
END
$$;
"""
OLD_ARRIVAL = (
    "DROP FUNCTION violation_arrival_of(text, text);\n"
    + _part(
        _migration("0013_case_loop.py").DISPATCH,
        "CREATE FUNCTION violation_arrival_events()",
        "CREATE TRIGGER violation_arrival_events",
    )
    + "DROP FUNCTION violation_arrival_sql(text, text);\n"
)

AUDIT = """
CREATE FUNCTION audit_insert_sql(p_city text, p_key text, p_rows text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
-- an insert's audit rows: each new row's key; $1-$4 the actor's id and name, the action and
-- the table
SELECT format('INSERT INTO audit_log (city_id, actor_id, actor_name, action, table_name, '
              'row_key) SELECT r.%I, $1, $2, $3, $4, %s FROM %I r', p_city, p_key, p_rows)
$$;
CREATE OR REPLACE FUNCTION audit_rows() RETURNS trigger LANGUAGE plpgsql AS $$
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
        EXECUTE audit_insert_sql(city, key, 'new_rows')
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
CREATE FUNCTION audit_inserted(p_table text, p_rows text, p_key text) RETURNS void
LANGUAGE plpgsql AS $$
-- the audit of the rows of the table p_rows, inserted into p_table (which they will be part
-- of), as audit_rows records an insert
DECLARE
    who text := nullif(current_setting('chuangwen.actor_name', true), '');
    who_id bigint := nullif(current_setting('chuangwen.actor_id', true), '')::bigint;
BEGIN
    IF who IS NULL THEN
        PERFORM audit_refuse(p_table);
    END IF;
    EXECUTE audit_insert_sql('city_id', p_key, p_rows) USING who_id, who, 'INSERT', p_table;
END
$$;
"""
OLD_AUDIT = (
    _part(
        _migration("0006_set_based_judgement.py").AUDIT_SETS,
        "CREATE FUNCTION audit_rows()",
    )
    + "DROP FUNCTION audit_inserted(text, text, text), audit_insert_sql(text, text, text);\n"
)


# A case's bin as two scalar SQL functions, which the planner writes into the query in place
# of the call: a million cases' bins counted 1.5 s faster than through violation_bin_of (which
# returns a record: a function scan a row).
_BINS = _migration("0007_tile_bins.py")
_OLD_BINS_APPLY = _part(
    _BINS.BINS, "CREATE FUNCTION violation_bins_apply()", "CREATE FUNCTION violation_bin_of("
)
_OLD_BIN_OF = _part(
    _BINS.BINS, "CREATE FUNCTION violation_bin_of(", "CREATE FUNCTION layer_version_bump()"
)
BINS = f"""
CREATE FUNCTION violation_bin_x(m geometry) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT floor((ST_X(m) + {_BINS.HALF}) / {_BINS.BIN_M})::int
$$;
CREATE FUNCTION violation_bin_y(m geometry) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT floor(({_BINS.HALF} - ST_Y(m)) / {_BINS.BIN_M})::int
$$;
CREATE OR REPLACE FUNCTION violation_bin_of(m geometry, OUT bx integer, OUT by integer)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
-- the bin of a web-mercator point
SELECT violation_bin_x(m), violation_bin_y(m)
$$;
CREATE FUNCTION violation_bins_sql(p_cases text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
-- The cases of the query p_cases (city_id, status, category_code, geom_3857, and d: -1 for a
-- case that leaves its bin, 1 for one that enters it) counted into their bins, and every bin
-- touched given a new change number, so that a tile's cache key (the largest change number
-- of the bins under it) moves when, and only when, its cases change.
SELECT format($q$
    WITH t AS (SELECT s.city_id, s.status, s.category_code, s.d,
                      violation_bin_x(s.geom_3857) AS bx, violation_bin_y(s.geom_3857) AS by
                 FROM (%s) s),
    counted AS (
        INSERT INTO violation_bin AS b (city_id, bx, by, status, category_code, n)
        SELECT city_id, bx, by, status, category_code, sum(d) FROM t
         GROUP BY 1, 2, 3, 4, 5 HAVING sum(d) <> 0 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (city_id, bx, by, status, category_code)
        DO UPDATE SET n = b.n + excluded.n)
    INSERT INTO violation_bin_change AS c (city_id, bx, by, change)
    SELECT city_id, bx, by, nextval('violation_bin_change_seq')
      FROM (SELECT DISTINCT city_id, bx, by FROM t ORDER BY 1, 2, 3) d
    ON CONFLICT (city_id, bx, by) DO UPDATE SET change = excluded.change
    $q$, p_cases)
$$;
CREATE OR REPLACE FUNCTION violation_bins_apply() RETURNS trigger LANGUAGE plpgsql AS $$
-- once per statement: the changed cases leave their old bins and enter their new ones (an
-- INSERT trigger has no old_rows and a DELETE trigger no new_rows)
BEGIN
    EXECUTE violation_bins_sql(concat_ws(' UNION ALL ',
        CASE WHEN TG_OP <> 'INSERT' THEN
            'SELECT city_id, status, category_code, geom_3857, -1 AS d FROM old_rows' END,
        CASE WHEN TG_OP <> 'DELETE' THEN
            'SELECT city_id, status, category_code, geom_3857, 1 AS d FROM new_rows' END));
    RETURN NULL;
END
$$;
CREATE FUNCTION violation_bins_add(p_cases text) RETURNS void LANGUAGE plpgsql AS $$
-- the cases of the table p_cases entered into their bins
BEGIN
    EXECUTE violation_bins_sql(format(
        'SELECT city_id, status, category_code, geom_3857, 1 AS d FROM %I', p_cases));
END
$$;
"""
OLD_BINS = (
    _OLD_BIN_OF
    + _OLD_BINS_APPLY
    + "DROP FUNCTION violation_bins_add(text), violation_bins_sql(text), "
    "violation_bin_x(geometry), violation_bin_y(geometry);\n"
)


# A row trigger on a partitioned table fires on the partition, whose name TG_TABLE_NAME
# gives: the cases' row audit names its table in its argument instead.
def _row_audit() -> tuple[str, str]:
    old = _migration("0001_campaign_layers.py").AUDIT_FUNCTION.replace(
        "CREATE FUNCTION audit_row()", "CREATE OR REPLACE FUNCTION audit_row()"
    )
    new = old
    for was, now in (
        ("DECLARE\n", "DECLARE\n    tab text := coalesce(TG_ARGV[0], TG_TABLE_NAME);\n"),
        ("TG_TABLE_NAME USING ERRCODE", "tab USING ERRCODE"),
        ("who_id::bigint, who, TG_OP, TG_TABLE_NAME,", "who_id::bigint, who, TG_OP, tab,"),
    ):
        assert was in new
        new = new.replace(was, now)
    return old, new


OLD_ROW_AUDIT, ROW_AUDIT = _row_audit()
ROW_AUDIT_TRIGGER = """
DROP TRIGGER violation_audit ON violation;
CREATE TRIGGER violation_audit AFTER UPDATE ON violation FOR EACH ROW
    WHEN (current_setting('chuangwen.audited', true) IS DISTINCT FROM 'violation')
    EXECUTE FUNCTION audit_row({});
"""


def _sequence(conn, table: str) -> str:
    """The sequence of ``table``'s identity."""
    return conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}).scalar()


def _rebuild(conn, partitioned: bool) -> None:
    """violation and case_event made again, partitioned by city or not, with their rows,
    columns, defaults, identity, checks, keys, indexes, triggers and the foreign keys from
    and to them as they were."""
    names = list(TABLES)
    keep = {
        "fks": conn.execute(
            text(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE contype = 'f' AND conparentid = 0 "
                "AND (conrelid::regclass::text = ANY (:t) OR confrelid::regclass::text = ANY (:t))"
            ),
            {"t": names},
        ).all(),
        "keys": conn.execute(
            text(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE contype IN ('p', 'u') AND conparentid = 0 "
                "AND conrelid::regclass::text = ANY (:t)"
            ),
            {"t": names},
        ).all(),
        "indexes": conn.execute(
            text(
                "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE i.indrelid::regclass::text = ANY (:t) AND NOT EXISTS "
                "(SELECT FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
            ),
            {"t": names},
        ).all(),
        "triggers": conn.execute(
            text(
                "SELECT pg_get_triggerdef(oid) FROM pg_trigger "
                "WHERE tgrelid::regclass::text = ANY (:t) AND NOT tgisinternal "
                "AND tgparentid = 0 ORDER BY tgrelid, tgname"
            ),
            {"t": names},
        )
        .scalars()
        .all(),
    }
    for table, name, _ in keep["fks"]:
        op.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    old_sequence = {table: _sequence(conn, table).split(".")[-1] for table in names}
    for table in names:
        op.execute(f"ALTER TABLE {table} RENAME TO {table}_old")
        for (index,) in conn.execute(
            text(
                "SELECT indexrelid::regclass::text FROM pg_index "
                "WHERE indrelid = CAST(:t AS regclass)"
            ),
            {"t": f"{table}_old"},
        ):
            op.execute(f'ALTER INDEX "{index}" RENAME TO "{index}_old"')
        op.execute(
            f"CREATE TABLE {table} (LIKE {table}_old INCLUDING DEFAULTS INCLUDING GENERATED "
            "INCLUDING IDENTITY INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS)"
            + (" PARTITION BY LIST (city_id)" if partitioned else "")
        )
    if partitioned:
        op.execute("SELECT city_partitions(id) FROM city ORDER BY id")
    for table in names:
        columns = ", ".join(
            conn.execute(
                text(
                    "SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = "
                    "CAST(:t AS regclass) AND attnum > 0 AND NOT attisdropped "
                    "AND attgenerated = '' "
                    "ORDER BY attnum"
                ),
                {"t": table},
            ).scalars()
        )
        op.execute(
            f"INSERT INTO {table} ({columns}) OVERRIDING SYSTEM VALUE "
            f"SELECT {columns} FROM {table}_old"
        )
        # the identity carries on from where it was, under its old name
        op.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"greatest((SELECT last_value FROM {_sequence(conn, table + '_old')}), "
            f"(SELECT max(id) FROM {table}), 1))"
        )
    # keys and indexes built once the rows are in
    for table, name, definition in keep["keys"]:
        op.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for _, definition in keep["indexes"]:
        op.execute(definition.replace(" ON ONLY ", " ON "))
    for table in reversed(names):
        op.execute(f"DROP TABLE {table}_old")
    for table in names:
        op.execute(f"ALTER SEQUENCE {_sequence(conn, table)} RENAME TO {old_sequence[table]}")
    for table, name, definition in keep["fks"]:
        op.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for definition in keep["triggers"]:
        op.execute(definition)


def upgrade() -> None:
    op.execute(PARTITIONS)
    op.execute(ARRIVAL)
    op.execute(AUDIT)
    op.execute(BINS)
    op.execute(ROW_AUDIT)
    _rebuild(op.get_bind(), partitioned=True)
    op.execute(ROW_AUDIT_TRIGGER.format("'violation'"))
    op.execute(
        "CREATE TRIGGER city_made AFTER INSERT ON city FOR EACH ROW EXECUTE FUNCTION city_made()"
    )
    op.execute("ANALYZE violation, case_event")  # the new tables' statistics


def downgrade() -> None:
    op.execute("DROP TRIGGER city_made ON city")
    _rebuild(op.get_bind(), partitioned=False)  # the partitions go with the old tables
    op.execute(ROW_AUDIT_TRIGGER.format(""))
    op.execute(OLD_ROW_AUDIT)
    op.execute("DROP FUNCTION city_made(), city_partitions(integer)")
    op.execute(OLD_AUDIT)
    op.execute(OLD_BINS)
    op.execute(OLD_ARRIVAL)
    op.execute("ANALYZE violation, case_event")
