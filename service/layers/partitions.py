"""A city's first cases written into tables of their own and put in place of its empty
partitions (migration 0022 keeps the cases and their events one partition per city).

Writing a million cases into indexed tables costs three times writing them into tables
without an index and building the indexes after. So a city's first import, when its
partitions hold nothing, writes into two new tables (``violation_l<city>`` and
``case_event_l<city>``) with none and no trigger. The insert itself judges the cases and
dispatches them on arrival (bulk.judged_insert); the cases' row triggers would have nothing
more to do (no decision of the loop to keep on a new case). What the cases' statement
triggers write after an insert, the arrival events (into the events' new table), the audit
rows and the map's bins, is written once all the cases are, by the same SQL the triggers
run (migration 0022), from the new table. Then each table is given the keys and indexes of
the partition it replaces, and at the end of the import's transaction the empty partitions
are detached and dropped and the new tables attached in their place (which adds their
foreign keys and checks each once, set-based).

While the import runs, the city's partitions are held in SHARE ROW EXCLUSIVE mode: no case
can be added to the city meanwhile, a second import waits for the first, and every read goes
on. The swap takes the parents, the tables whose foreign keys refer to the cases and the
tables the cases and events refer to (city, unit, user, category) in ACCESS EXCLUSIVE mode,
from then until the import commits: for the attaching of the two tables, which checks their
foreign keys set-based (a few seconds at a million cases). When it cannot have them within
SWAP_WAIT, the new tables' rows are copied into the partitions instead."""

from __future__ import annotations

from collections.abc import Callable

from psycopg.errors import DeadlockDetected, LockNotAvailable
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from service.store.models import CITY_PARTITIONED

TABLES = CITY_PARTITIONED  # the cases first, then their events
# fewer cases than this go into the partition as any import's: the swap's locks are not
# worth taking for them
LEAST_ROWS = 10_000
# how long the swap waits for the locks it needs (every reader of any city's cases holds
# one); beyond it the cases are copied into the partitions instead, at an ordinary import's
# cost. Shorter than PostgreSQL's deadlock_timeout, so that two first imports that would
# wait for each other both copy instead of one being aborted.
SWAP_WAIT = "500ms"
# the cases' triggers this path stands in for: the row triggers have nothing to do for the
# rows of an import (judged and dispatched by its statement, no decision of the loop to
# keep) and the statement triggers' work is written after (violation_arrival_of,
# audit_inserted, violation_bins_add). Any other trigger and the import goes the ordinary
# way.
TRIGGERS = {
    "violation_arrival_events",
    "violation_audit",
    "violation_audit_delete",
    "violation_audit_insert",
    "violation_bins_delete",
    "violation_bins_insert",
    "violation_bins_update",
    "violation_rules",
    "violation_to_dispatch",
    "violation_to_keep_decisions",
}

RENAME_KEY = 'ALTER TABLE {table} RENAME CONSTRAINT "{made}" TO "{name}"'
RENAME_INDEX = 'ALTER INDEX "{made}" RENAME TO "{name}"'


def load_alone(
    conn: Connection,
    city_id: int,
    rows: int,
    insert: Callable[[str], int],
    lap: Callable[[str], None] = lambda step: None,
) -> int | None:
    """When the city's partitions hold nothing and ``rows`` are many: ``insert`` (given the
    table to write into) writes the city's cases into a table of their own, put in place of
    the partition; return how many it wrote (``lap`` told when each step ends). Otherwise
    nothing is done, and None returned."""
    city = int(city_id)
    stored = f"SELECT EXISTS (SELECT FROM violation_c{city})"
    if rows < LEAST_ROWS or conn.execute(text(stored)).scalar():
        return None
    triggers = conn.execute(
        text(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'violation'::regclass "
            "AND NOT tgisinternal"
        )
    ).scalars()
    if set(triggers) != TRIGGERS:
        return None
    # no case may come in meanwhile, nor another import do the same (a mode that conflicts
    # with itself: a second import waits, then finds the cases and writes as any import)
    conn.execute(
        text(f"LOCK TABLE violation_c{city}, case_event_c{city} IN SHARE ROW EXCLUSIVE MODE")
    )
    if conn.execute(text(stored)).scalar():  # a case came in before the lock
        return None
    before = conn.execute(text("SELECT current_setting('maintenance_work_mem')")).scalar()
    conn.execute(text("SELECT set_config('maintenance_work_mem', '1GB', true)"))
    for table in TABLES:
        _empty_copy(conn, table, city)
    n = insert(f"violation_l{city}")
    lap("write")
    # what the cases' statement triggers write after an insert (migration 0022), in their
    # order: the arrival events (into the events' new table), the audit rows (keyed as
    # violation_audit_insert keys them), the map's bins
    cases = {"cases": f"violation_l{city}", "events": f"case_event_l{city}"}
    conn.execute(text("SELECT violation_arrival_of(:events, :cases)"), cases)
    conn.execute(text("SELECT audit_inserted('violation', :cases, 'r.id')"), cases)
    # a city without cases has bins only at nought (its cases since deleted): gone, the new
    # bins are written without looking for them (migration 0023)
    conn.execute(text("DELETE FROM violation_bin WHERE city_id = :c"), {"c": city})
    conn.execute(text("SELECT violation_bins_add(:cases, true)"), cases)
    lap("events, audit and bins")
    names = {}
    for table in TABLES:
        names[table] = _built_like(conn, table, city)
        lap(f"index {table}")
    _swap(conn, city, names)
    conn.execute(text("SELECT set_config('maintenance_work_mem', :m, true)"), {"m": before})
    lap("attach")
    return n


def _swap(conn: Connection, city: int, names: dict) -> None:
    """The city's new tables put in place of its empty partitions; or, when the locks that
    needs are not had within SWAP_WAIT, their rows copied into the partitions."""
    # every table the swap holds, taken at once: the parents; the tables whose foreign keys
    # to the cases detaching a partition changes; and the tables the cases and events refer
    # to, whose foreign-key triggers dropping the empty partitions and attaching the new
    # ones drop and make
    held = [
        "violation",
        "case_event",
        *conn.execute(
            text(
                "SELECT t FROM (SELECT DISTINCT CASE WHEN confrelid = 'violation'::regclass "
                "THEN conrelid ELSE confrelid END::regclass::text AS t FROM pg_constraint "
                "WHERE contype = 'f' AND conparentid = 0 AND (confrelid = 'violation'::regclass "
                "OR conrelid IN ('violation'::regclass, 'case_event'::regclass))) f "
                "WHERE t NOT IN ('violation', 'case_event') ORDER BY 1"
            )
        ).scalars(),
    ]
    wait = conn.execute(text("SELECT current_setting('lock_timeout')")).scalar()
    swap = conn.begin_nested()
    try:
        conn.execute(text("SELECT set_config('lock_timeout', :w, true)"), {"w": SWAP_WAIT})
        conn.execute(text(f"LOCK TABLE {', '.join(held)} IN ACCESS EXCLUSIVE MODE"))
    except DBAPIError as exc:
        if not isinstance(exc.orig, LockNotAvailable | DeadlockDetected):
            raise
        swap.rollback()  # and lock_timeout with it
        for table in TABLES:  # the partitions' own triggers fire: none for these rows
            columns = _written_columns(conn, table)
            conn.execute(
                text(
                    f"INSERT INTO {table}_c{city} ({columns}) "
                    f"SELECT {columns} FROM {table}_l{city} ORDER BY id"
                )
            )
        for table in reversed(TABLES):  # with no foreign key, they hold nothing else
            conn.execute(text(f"DROP TABLE {table}_l{city}"))
        return
    else:
        conn.execute(text("SELECT set_config('lock_timeout', :w, true)"), {"w": wait})
    for table in TABLES:
        conn.execute(text(f"ALTER TABLE {table} DETACH PARTITION {table}_c{city}"))
        conn.execute(text(f"DROP TABLE {table}_c{city}"))
    for table in TABLES:
        conn.execute(text(f"ALTER TABLE {table}_l{city} RENAME TO {table}_c{city}"))
        conn.execute(text(f"ALTER TABLE {table}_c{city} ALTER id DROP DEFAULT"))
        conn.execute(
            text(f"ALTER TABLE {table} ATTACH PARTITION {table}_c{city} FOR VALUES IN ({city})")
        )
        conn.execute(text(f"ALTER TABLE {table}_c{city} DROP CONSTRAINT {table}_l{city}_city"))
        _names_back(conn, f"{table}_c{city}", names[table])
    swap.commit()


def _written_columns(conn: Connection, table: str) -> str:
    """``table``'s columns that are written (not generated), in order."""
    return ", ".join(
        conn.execute(
            text(
                "SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = "
                "CAST(:t AS regclass) AND attnum > 0 AND NOT attisdropped "
                "AND attgenerated = '' ORDER BY attnum"
            ),
            {"t": table},
        ).scalars()
    )


def _names_back(conn: Connection, table: str, names: list[tuple[str, str, str]]) -> None:
    """The keys and indexes of ``table`` named as those of the partition it replaced."""
    for what, made, name in names:
        conn.execute(text(what.format(table=table, made=made, name=name)))


def _empty_copy(conn: Connection, table: str, city: int) -> None:
    """``<table>_l<city>``: the columns, defaults and checks of the city's partition, ids
    from the parent's identity, and only the city's rows allowed (which spares attaching
    it a scan); no key, no index, no trigger."""
    new = f"{table}_l{city}"
    conn.execute(
        text(
            f"CREATE TABLE {new} (LIKE {table}_c{city} INCLUDING DEFAULTS INCLUDING GENERATED "
            "INCLUDING CONSTRAINTS INCLUDING STORAGE)"
        )
    )
    # the sequence named once: looked up in the default, it would be looked up for every
    # row (2.5 s a million rows)
    nextval = conn.execute(
        text("SELECT format('nextval(%L::regclass)', pg_get_serial_sequence(:t, 'id'))"),
        {"t": table},
    ).scalar()
    conn.execute(
        text(
            f"ALTER TABLE {new} ALTER id SET DEFAULT {nextval}, "
            f"ADD CONSTRAINT {new}_city CHECK (city_id = {city})"
        )
    )


def _built_like(conn: Connection, table: str, city: int) -> list[tuple[str, str, str]]:
    """The keys and indexes of ``<table>_c<city>`` given to ``<table>_l<city>``, and its
    statistics gathered. Not its foreign keys: attaching the table adds and checks them (a
    foreign key made here would put triggers on the tables it refers to, which dropping the
    table, should the swap not be had, would have to hold). Return how to name the keys and
    indexes as the partition's were (which they cannot be while it stands): (what to alter,
    name given, name meant)."""
    old, new = f"{table}_c{city}", f"{table}_l{city}"
    names = []
    for name, definition in conn.execute(
        text(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = CAST(:t AS regclass) "
            "AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
        ),
        {"t": old},
    ).all():
        names.append((RENAME_INDEX, f"{new}_i{len(names)}", name))
        unique = "UNIQUE " if definition.startswith("CREATE UNIQUE ") else ""
        method = definition[definition.index(" USING ") :]
        conn.execute(text(f"CREATE {unique}INDEX {names[-1][1]} ON {new}{method}"))
    for name, definition in conn.execute(
        text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = CAST(:t AS regclass) AND contype IN ('p', 'u') ORDER BY conname"
        ),
        {"t": old},
    ).all():
        names.append((RENAME_KEY, f"{new}_k{len(names)}", name))
        conn.execute(text(f'ALTER TABLE {new} ADD CONSTRAINT "{names[-1][1]}" {definition}'))
    conn.execute(text(f"ANALYZE {new}"))
    return names
