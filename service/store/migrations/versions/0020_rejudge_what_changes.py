"""an edit of a layer the rules read writes only the cases whose judgement it changes

Revision ID: 0020
Revises: 0019
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# Before, a zone, cell, point or stall area edit rewrote every case under its old or new
# shape (``SET geom = geom``, the row trigger judging each), and a category edit every case
# of the category: each such row was written, audited and binned even when its answer was
# the same. Now the cases it can affect are judged by the row trigger's own query
# (violation_judgement) in one statement, and only those whose answer differs are written.
# A decision made by hand (unit_override, due_override) stands, as violation_keep_decisions
# keeps it on every write.
# the trigger on the layers as in 0002, but for what it does with the cases under the old
# or the new shape (a point's search area is its shape buffered by its radius): no other
# case's answer can change
AREA = """
CREATE OR REPLACE FUNCTION violation_reapply_area() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    before_area geometry;
    after_area geometry;
    city int;
BEGIN
    -- (a branch is planned only when it runs: other tables have no search_area)
    IF TG_OP <> 'INSERT' THEN
        city := OLD.city_id;
        IF TG_TABLE_NAME = 'assessment_point' THEN
            before_area := OLD.search_area;
        ELSE
            before_area := OLD.geom;
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        city := NEW.city_id;
        IF TG_TABLE_NAME = 'assessment_point' THEN
            after_area := NEW.search_area;
        ELSE
            after_area := NEW.geom;
        END IF;
    END IF;
    %s
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION violation_reapply_category() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    %s
    RETURN NULL;
END
$$;
"""

REJUDGE_CASES = """
CREATE FUNCTION violation_rejudge_cases(p_city integer, p_ids bigint[]) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    changed bigint;
BEGIN
    -- the cases locked first, so that each is judged as it stands when written (a case
    -- moved by another transaction meanwhile is judged at its new place)
    PERFORM 1 FROM violation WHERE city_id = p_city AND id = ANY (p_ids) ORDER BY id
        FOR NO KEY UPDATE;
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
            coalesce(v.due_override, j.due_at));
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
END
$$;
"""

UP = REJUDGE_CASES + AREA % (
    """PERFORM violation_rejudge_cases(city, ARRAY(
        SELECT v.id FROM violation v
         WHERE v.city_id = city
           AND (ST_Intersects(v.geom, before_area) OR ST_Intersects(v.geom, after_area))));""",
    """PERFORM violation_rejudge_cases(NEW.city_id, ARRAY(
        SELECT v.id FROM violation v
         WHERE v.city_id = NEW.city_id AND v.category_code = NEW.code));""",
)

DOWN = (
    AREA
    % (
        """UPDATE violation v SET geom = v.geom
     WHERE v.city_id = city
       AND (ST_Intersects(v.geom, before_area) OR ST_Intersects(v.geom, after_area));""",
        """UPDATE violation v SET category_code = v.category_code
     WHERE v.city_id = NEW.city_id AND v.category_code = NEW.code;""",
    )
    + "DROP FUNCTION violation_rejudge_cases(integer, bigint[]);"
)


def upgrade() -> None:
    op.execute(UP)


def downgrade() -> None:
    op.execute(DOWN)
