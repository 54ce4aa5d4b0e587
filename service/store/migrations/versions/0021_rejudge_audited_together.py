"""the cases a layer edit judges again are audited in the statement that writes them

Revision ID: 0021
Revises: 0020
"""

import importlib.util
from pathlib import Path

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

# Before, each case a layer edit wrote again was audited by the row trigger (audit_row): a
# plpgsql call and three queries a case, half of a point move's time. Now
# violation_rejudge_cases writes the audit rows itself, in the statement that writes the
# cases, from the values it replaced: the same rows audit_row would write (only the keys
# whose value changed, old and new). The columns are those the statement sets, and
# tally_apart, which is computed from unit_id. While it runs, chuangwen.audited names the
# table, and the row trigger's WHEN passes over the rows already audited. Without an actor
# it leaves the audit to the row trigger, which refuses the write as before. (Like
# chuangwen.judged, the setting is a promise the writing code makes, not a permission: the
# service's own statements are the only ones that write the cases.)
UP = """
CREATE OR REPLACE FUNCTION violation_rejudge_cases(p_city integer, p_ids bigint[]) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    changed bigint;
    who text := nullif(current_setting('chuangwen.actor_name', true), '');
    who_id text := nullif(current_setting('chuangwen.actor_id', true), '');
    audited text := current_setting('chuangwen.audited', true);
BEGIN
    -- the cases locked first, so that each is judged as it stands when written (a case
    -- moved by another transaction meanwhile is judged at its new place)
    PERFORM 1 FROM violation WHERE city_id = p_city AND id = ANY (p_ids) ORDER BY id
        FOR NO KEY UPDATE;
    IF who IS NOT NULL THEN
        PERFORM set_config('chuangwen.audited', 'violation', true);
    END IF;
    WITH written AS (
        UPDATE violation v
           SET grid_cell_id = j.grid_cell_id, zone_id = j.zone_id,
               unit_id = coalesce(v.unit_override, j.unit_id),
               department_code = j.department_code, severity = j.severity,
               permitted = j.permitted, near_points = j.near_points,
               due_at = coalesce(v.due_override, j.due_at)
          FROM violation w
         CROSS JOIN LATERAL violation_judgement(w.city_id, w.geom, w.category_code,
                                                w.observed_at) j
         WHERE w.city_id = p_city AND w.id = ANY (p_ids)
           AND v.city_id = p_city AND v.id = w.id
           AND (v.grid_cell_id, v.zone_id, v.unit_id, v.department_code, v.severity,
                v.permitted, v.near_points, v.due_at)
               IS DISTINCT FROM
               (j.grid_cell_id, j.zone_id, coalesce(v.unit_override, j.unit_id),
                j.department_code, j.severity, j.permitted, j.near_points,
                coalesce(v.due_override, j.due_at))
        RETURNING v.city_id, v.id,
            jsonb_build_object('grid_cell_id', w.grid_cell_id, 'zone_id', w.zone_id,
                'unit_id', w.unit_id, 'department_code', w.department_code,
                'severity', w.severity, 'permitted', w.permitted,
                'near_points', w.near_points, 'due_at', w.due_at,
                'tally_apart', w.tally_apart) AS o,
            jsonb_build_object('grid_cell_id', v.grid_cell_id, 'zone_id', v.zone_id,
                'unit_id', v.unit_id, 'department_code', v.department_code,
                'severity', v.severity, 'permitted', v.permitted,
                'near_points', v.near_points, 'due_at', v.due_at,
                'tally_apart', v.tally_apart) AS n)
    INSERT INTO audit_log (city_id, actor_id, actor_name, action, table_name, row_key, old, new)
    SELECT c.city_id, who_id::bigint, who, 'UPDATE', 'violation', c.id::text, d.o, d.n
      FROM written c
     CROSS JOIN LATERAL (
        SELECT jsonb_object_agg(e.key, c.o -> e.key) AS o, jsonb_object_agg(e.key, e.value) AS n
          FROM jsonb_each(c.n) e
         WHERE c.o -> e.key IS DISTINCT FROM e.value) d
     WHERE who IS NOT NULL;
    GET DIAGNOSTICS changed = ROW_COUNT;
    PERFORM set_config('chuangwen.audited', coalesce(audited, ''), true);
    RETURN changed;
END
$$;
DROP TRIGGER violation_audit ON violation;
CREATE TRIGGER violation_audit AFTER UPDATE ON violation FOR EACH ROW
    WHEN (current_setting('chuangwen.audited', true) IS DISTINCT FROM 'violation')
    EXECUTE FUNCTION audit_row();
"""


def _sibling(filename: str):
    """An earlier revision's module, for the definition this one changes."""
    spec = importlib.util.spec_from_file_location(filename, Path(__file__).with_name(filename))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


DOWN = (
    """
DROP TRIGGER violation_audit ON violation;
CREATE TRIGGER violation_audit AFTER UPDATE ON violation FOR EACH ROW
    EXECUTE FUNCTION audit_row();
DROP FUNCTION violation_rejudge_cases(integer, bigint[]);
"""
    + _sibling("0020_rejudge_what_changes.py").REJUDGE_CASES
)


def upgrade() -> None:
    op.execute(UP)


def downgrade() -> None:
    op.execute(DOWN)
