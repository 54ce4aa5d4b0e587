"""Bulk insert of violations: COPY into a staging table, then one INSERT … SELECT of the
rows judged together by ``violation_judge_many`` (the set-based form of the rules the row
trigger applies one case at a time)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, text

from service.layers.features.write import next_case_numbers

COLUMNS = (
    "row_no",
    "case_no",
    "category_code",
    "description",
    "observed_at",
    "reported_by",
    "source",
    "status",
    "resolved_at",
    "photos",
    "provenance",
    "wkb",
)


def stage(
    conn: Connection, city_id: int, rows: list[tuple[int, dict]], actor_id: int | None
) -> list[dict]:
    """COPY validated rows into a temporary table; return case-number conflicts by row."""
    conn.execute(
        text(
            "CREATE TEMP TABLE IF NOT EXISTS violation_staging (row_no int, case_no text, "
            "category_code text, description text, observed_at timestamptz, reported_by bigint, "
            "source text, status text, resolved_at timestamptz, photos jsonb, provenance text, "
            "wkb text) ON COMMIT DROP"
        )
    )
    conn.execute(text("TRUNCATE violation_staging"))
    missing = [r for _, r in rows if not r.get("case_no")]
    for r, case_no in zip(missing, next_case_numbers(conn, len(missing)), strict=True):
        r["case_no"] = case_no
    raw = conn.connection.driver_connection
    with (
        raw.cursor() as cur,
        cur.copy(f"COPY violation_staging ({', '.join(COLUMNS)}) FROM STDIN") as copy,
    ):
        for row_no, r in rows:
            copy.write_row(
                (
                    row_no,
                    r["case_no"],
                    r["category_code"],
                    r.get("description"),
                    _ts(r["observed_at"]),
                    actor_id,
                    r.get("source"),
                    r.get("status"),
                    _ts(r.get("resolved_at")),
                    r.get("photos") or "[]",
                    r.get("provenance", "import"),
                    r["wkb"],
                )
            )
    clashes = conn.execute(
        text(
            "WITH stored AS (SELECT s.case_no FROM violation_staging s JOIN violation v "
            "ON v.city_id = :c AND v.case_no = s.case_no), "
            "twice AS (SELECT case_no FROM violation_staging GROUP BY case_no HAVING count(*) > 1) "
            "SELECT s.row_no, s.case_no, s.case_no IN (SELECT case_no FROM stored) AS stored "
            "FROM violation_staging s WHERE s.case_no IN (SELECT case_no FROM stored) "
            "OR s.case_no IN (SELECT case_no FROM twice) ORDER BY s.row_no"
        ),
        {"c": city_id},
    ).all()
    return [
        {
            "row": r.row_no,
            "field": "properties.case_no",
            "reason": f"{r.case_no} is already stored"
            if r.stored
            else f"{r.case_no} is used by another row of the file",
        }
        for r in clashes
    ]


def insert_staged(conn: Connection, city_id: int) -> int:
    """Insert the staged rows, judged together by ``violation_judge_many``; return how many."""
    conn.execute(text("SELECT set_config('chuangwen.judged', 'on', true)"))
    n = conn.execute(
        text(
            "INSERT INTO violation (city_id, case_no, category_code, description, observed_at, "
            "reported_by, source, status, resolved_at, photos, provenance, geom, grid_cell_id, "
            "zone_id, unit_id, department_code, severity, permitted, near_points, due_at) "
            "SELECT :c, s.case_no, s.category_code, s.description, s.observed_at, s.reported_by, "
            "s.source, s.status, s.resolved_at, s.photos, s.provenance, "
            "ST_SetSRID(CAST(s.wkb AS geometry), 4326), j.grid_cell_id, j.zone_id, j.unit_id, "
            "j.department_code, j.severity, j.permitted, j.near_points, j.due_at "
            "FROM violation_staging s JOIN violation_judge_many(:c, 'SELECT row_no AS k, "
            "ST_SetSRID(CAST(wkb AS geometry), 4326) AS geom, category_code, observed_at "
            "FROM violation_staging') j ON j.k = s.row_no "
            # in spatial order: each insert into the spatial index lands beside the one
            # before (a fifth less time than file order at a million rows)
            "ORDER BY ST_SetSRID(CAST(s.wkb AS geometry), 4326), s.row_no"
        ),
        {"c": city_id},
    ).rowcount
    conn.execute(text("SELECT set_config('chuangwen.judged', 'off', true)"))
    return n


def _ts(value) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, dt.datetime) else str(value)
