"""judge a city's cases again in one statement

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

REJUDGE = """
CREATE FUNCTION violation_rejudge(p_city integer) RETURNS bigint LANGUAGE plpgsql AS $$
-- Every case of the city judged again by violation_judgement, set-based; only the rows
-- whose owners or flags change are written (and so audited). Returns how many changed.
DECLARE
    changed bigint;
BEGIN
    PERFORM set_config('chuangwen.judged', 'on', true);
    UPDATE violation v
       SET grid_cell_id = s.grid_cell_id, zone_id = s.zone_id, unit_id = s.unit_id,
           department_code = s.department_code, severity = s.severity,
           permitted = s.permitted, near_points = s.near_points, due_at = s.due_at
      FROM (SELECT w.id, j.* FROM violation w
              CROSS JOIN LATERAL violation_judgement(w.city_id, w.geom, w.category_code,
                                                     w.observed_at) j
             WHERE w.city_id = p_city) s
     WHERE v.city_id = p_city AND v.id = s.id
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


def upgrade() -> None:
    op.execute(REJUDGE)


def downgrade() -> None:
    op.execute("DROP FUNCTION violation_rejudge(integer)")
