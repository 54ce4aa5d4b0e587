"""the case's loop: every step a case_event; disputed and long-term (hung) states; rework and
extension counts; dispatch on arrival per category

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

OLD = ("open", "dispatched", "rectifying", "resolved", "closed", "invalid")
NEW = (*OLD, "disputed", "hung")
ACTIONS = (
    "report",
    "dispatch",
    "accept",
    "start",
    "fix",
    "verify_pass",
    "verify_fail",
    "invalidate",
    "dispute",
    "reassign",
    "extend_request",
    "extend_decide",
    "hang",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


# A new case whose owner the rules found is dispatched to it as it arrives, when its category
# says so (violation_category.auto_dispatch); after violation_rules (triggers of one kind fire
# in the order of their names), so that unit_id is known. Its event is written per statement.
DISPATCH = """
CREATE FUNCTION violation_dispatch_on_arrival() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'open' AND NEW.unit_id IS NOT NULL AND (
        SELECT k.auto_dispatch FROM violation_category k
         WHERE k.city_id = NEW.city_id AND k.code = NEW.category_code) THEN
        NEW.status := 'dispatched';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER violation_to_dispatch BEFORE INSERT ON violation
    FOR EACH ROW EXECUTE FUNCTION violation_dispatch_on_arrival();
CREATE FUNCTION violation_arrival_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO case_event (city_id, violation_id, at, actor_id, action, from_status,
                            to_status, unit_id, photos, geom, accuracy_m)
    SELECT n.city_id, n.id, n.observed_at, n.reported_by, 'report', NULL, 'open', n.unit_id,
           n.photos, n.geom, n.location_accuracy_m
      FROM new_rows n;
    INSERT INTO case_event (city_id, violation_id, at, action, from_status, to_status, unit_id,
                            comment)
    SELECT n.city_id, n.id, n.observed_at, 'dispatch', 'open', 'dispatched', n.unit_id,
           'on arrival'
      FROM new_rows n WHERE n.status = 'dispatched';
    RETURN NULL;
END
$$;
CREATE TRIGGER violation_arrival_events AFTER INSERT ON violation
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION violation_arrival_events();
"""


OLD_ROLES = ("admin", "planner", "inspector", "unit", "leader")
NEW_ROLES = (*OLD_ROLES, "system")  # a client system filing cases over Open311


# after violation_rules (the same kind of trigger fires in the order of names)
KEEP_DECISIONS = """
CREATE FUNCTION violation_keep_decisions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.unit_override IS NOT NULL THEN NEW.unit_id := NEW.unit_override; END IF;
    IF NEW.due_override IS NOT NULL THEN NEW.due_at := NEW.due_override; END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER violation_to_keep_decisions BEFORE INSERT OR UPDATE ON violation
    FOR EACH ROW EXECUTE FUNCTION violation_keep_decisions();
"""

# 0006's re-judging, comparing with the loop's decisions where there are some
REJUDGE = """
CREATE FUNCTION violation_rejudge(p_city integer) RETURNS bigint LANGUAGE plpgsql AS $$
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
           (s.grid_cell_id, s.zone_id, coalesce(v.unit_override, s.unit_id), s.department_code,
            s.severity, s.permitted, s.near_points, coalesce(v.due_override, s.due_at));
    GET DIAGNOSTICS changed = ROW_COUNT;
    PERFORM set_config('chuangwen.judged', 'off', true);
    RETURN changed;
END
$$;
"""


# as 0006 had it, for the way down
OLD_REJUDGE = REJUDGE.replace("coalesce(v.unit_override, s.unit_id)", "s.unit_id").replace(
    "coalesce(v.due_override, s.due_at)", "s.due_at"
)


def upgrade() -> None:
    op.drop_constraint("app_user_role", "app_user", type_="check")
    op.create_check_constraint("app_user_role", "app_user", _in("role", NEW_ROLES))
    op.add_column("violation", sa.Column("address", sa.Text(), nullable=True))
    op.drop_constraint("violation_status", "violation", type_="check")
    op.create_check_constraint("violation_status", "violation", _in("status", NEW))
    op.add_column(
        "violation",
        sa.Column("rework_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column(
        "violation",
        sa.Column("extension_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column("violation", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    # what the loop decided (a unit given the case, a due date approved) stands against the
    # rules: they would set owner and deadline again from the zones and the category
    op.add_column("violation", sa.Column("unit_override", sa.BigInteger(), nullable=True))
    op.add_column("violation", sa.Column("due_override", sa.DateTime(timezone=True), nullable=True))
    op.execute(KEEP_DECISIONS)
    op.execute("DROP FUNCTION violation_rejudge(integer)")
    op.execute(REJUDGE)
    op.add_column(
        "violation_category",
        sa.Column("auto_dispatch", sa.Boolean(), server_default=sa.text("true"), nullable=False),
    )
    op.create_table(
        "case_event",
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("violation_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("photos", JSONB(), server_default=sa.text("'[]'::jsonb"), nullable=False),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=True),
        sa.Column("accuracy_m", sa.REAL(), nullable=True),
        sa.Column("unit_id", sa.BigInteger(), nullable=True),
        sa.Column("data", JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.CheckConstraint(_in("action", ACTIONS), name="case_event_action"),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["city_id", "violation_id"],
            ["violation.city_id", "violation.id"],
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["city_id", "actor_id"], ["app_user.city_id", "app_user.id"]),
        sa.PrimaryKeyConstraint("city_id", "id"),
    )
    op.create_index("ix_case_event_city_case_at", "case_event", ["city_id", "violation_id", "at"])
    op.create_index("ix_case_event_city_at", "case_event", ["city_id", "at"])
    op.create_index(
        "case_event_photos_idx",
        "case_event",
        ["photos"],
        postgresql_using="gin",
        postgresql_ops={"photos": "jsonb_path_ops"},
    )
    # the events are the case's own record: appended, never changed (each one changes the
    # case's row, which the audit log keeps)
    op.execute(
        "CREATE FUNCTION case_event_unchanged() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'case_event rows are not changed: add an event' "
        "USING ERRCODE = 'insufficient_privilege'; END $$"
    )
    op.execute(
        "CREATE TRIGGER case_event_unchanged BEFORE UPDATE ON case_event "
        "FOR EACH ROW EXECUTE FUNCTION case_event_unchanged()"
    )
    op.execute(DISPATCH)
    # the map's layers are cached under their version (service/layers/map_layers.py): every
    # statement that changes one of these moves it (zones and grid cells have theirs, 0007)
    for table in ("admin_area", "assessment_point", "stall_area", "unit", "person"):
        op.execute(
            f"CREATE TRIGGER {table}_version AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION layer_version_bump('{table}')"
        )
    # the cases stored so far: their report, and the state they had reached without events
    op.execute(
        "INSERT INTO case_event (city_id, violation_id, at, actor_id, action, from_status, "
        "to_status, unit_id, photos, geom, accuracy_m) SELECT city_id, id, observed_at, "
        "reported_by, 'report', NULL, 'open', unit_id, photos, geom, location_accuracy_m "
        "FROM violation"
    )
    op.execute(
        "INSERT INTO case_event (city_id, violation_id, at, action, from_status, to_status, "
        "unit_id, data) SELECT city_id, id, coalesce(resolved_at, created_at), 'dispatch', "
        "'open', status, unit_id, '{\"recorded_before_events\": true}'::jsonb "
        "FROM violation WHERE status <> 'open'"
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION violation_rejudge(integer)")
    op.execute(OLD_REJUDGE)
    op.execute("DROP TRIGGER violation_to_keep_decisions ON violation")
    op.execute("DROP FUNCTION violation_keep_decisions()")
    op.drop_column("violation", "due_override")
    op.drop_column("violation", "unit_override")
    for table in ("admin_area", "assessment_point", "stall_area", "unit", "person"):
        op.execute(f"DROP TRIGGER {table}_version ON {table}")
    op.execute("DROP TRIGGER violation_arrival_events ON violation")
    op.execute("DROP TRIGGER violation_to_dispatch ON violation")
    op.execute("DROP FUNCTION violation_arrival_events(), violation_dispatch_on_arrival()")
    op.drop_table("case_event")
    op.execute("DROP FUNCTION case_event_unchanged()")
    op.drop_column("violation_category", "auto_dispatch")
    for column in ("closed_at", "extension_count", "rework_count"):
        op.drop_column("violation", column)
    op.execute("UPDATE violation SET status = 'dispatched' WHERE status IN ('disputed', 'hung')")
    op.drop_constraint("violation_status", "violation", type_="check")
    op.create_check_constraint("violation_status", "violation", _in("status", OLD))
    op.drop_column("violation", "address")
    # a client system's cases keep it as their reporter: it stays, disabled, as a planner
    # would not be right either, so downgrading with client systems is refused
    op.execute(
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM app_user WHERE role = 'system') THEN "
        "RAISE EXCEPTION 'remove the client systems (role system) before downgrading'; "
        "END IF; END $$"
    )
    op.drop_constraint("app_user_role", "app_user", type_="check")
    op.create_check_constraint("app_user_role", "app_user", _in("role", OLD_ROLES))
