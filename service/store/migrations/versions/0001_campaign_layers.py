"""campaign layers

Revision ID: 0001
Revises:
Create Date: 2026-11-28 04:48:16.456741
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


AUDITED = [
    "city",
    "admin_area",
    "grid_cell",
    "unit",
    "person",
    "zone",
    "assessment_point_category",
    "violation_category",
    "assessment_point",
    "stall_area",
    "app_user",
    "api_token",
    "violation",
    "inspection_plan",
    "inspection_team_member",
    "inspection_stop",
]

AUDIT_FUNCTION = """
CREATE FUNCTION audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    who text := nullif(current_setting('chuangwen.actor_name', true), '');
    who_id text := nullif(current_setting('chuangwen.actor_id', true), '');
    o jsonb;
    n jsonb;
    r jsonb;
BEGIN
    IF who IS NULL THEN
        RAISE EXCEPTION 'write to % without an actor: every write must say who makes it',
            TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP <> 'INSERT' THEN o := to_jsonb(OLD) - 'password_hash' - 'token_sha256'; END IF;
    IF TG_OP <> 'DELETE' THEN n := to_jsonb(NEW) - 'password_hash' - 'token_sha256'; END IF;
    r := coalesce(n, o);
    IF TG_OP = 'UPDATE' THEN
        -- keep only what changed, plus the keys that name the row
        SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb) INTO n
          FROM jsonb_each(to_jsonb(NEW) - 'password_hash' - 'token_sha256')
         WHERE o -> key IS DISTINCT FROM value;
        SELECT coalesce(jsonb_object_agg(key, o -> key), '{}'::jsonb) INTO o
          FROM jsonb_object_keys(n) AS key;
        IF n = '{}'::jsonb THEN
            RETURN NULL;
        END IF;
    END IF;
    INSERT INTO audit_log (city_id, actor_id, actor_name, action, table_name, row_key, old, new)
    VALUES (
        CASE WHEN TG_TABLE_NAME = 'city' THEN (r ->> 'id')::int ELSE (r ->> 'city_id')::int END,
        who_id::bigint, who, TG_OP, TG_TABLE_NAME,
        coalesce(r ->> 'id', r ->> 'code', r ->> 'plan_id' || ':' || (r ->> 'user_id')),
        o, n
    );
    RETURN NULL;
END
$$;
"""


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table(
        "audit_log",
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("actor_name", sa.Text(), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("row_key", sa.Text(), nullable=True),
        sa.Column("old", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("new", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.PrimaryKeyConstraint("city_id", "id"),
    )
    op.create_index(
        "ix_audit_table_row", "audit_log", ["city_id", "table_name", "row_key"], unique=False
    )
    op.create_geospatial_table(
        "city",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=True),
        sa.Column("crs_epsg", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.Text(), server_default=sa.text("'Asia/Shanghai'"), nullable=False),
        sa.Column(
            "extent",
            Geometry(
                geometry_type="POLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_geospatial_table(
        "admin_area",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.BigInteger(), nullable=True),
        sa.Column("provenance", sa.String(length=16), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.CheckConstraint("level IN ('district', 'street', 'community')", name="admin_area_level"),
        sa.CheckConstraint(
            "provenance IN ('osm', 'derived', 'invented', 'user', 'import')",
            name="admin_area_provenance",
        ),
        sa.ForeignKeyConstraint(
            ["city_id", "parent_id"],
            ["admin_area.city_id", "admin_area.id"],
        ),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("city_id", "id"),
        sa.UniqueConstraint("city_id", "code"),
    )
    op.create_geospatial_index(
        "idx_admin_area_geom",
        "admin_area",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "assessment_point_category",
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name_zh", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("default_radius_m", sa.Integer(), nullable=False),
        sa.Column("default_weight", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("dwell_s", sa.Integer(), nullable=False),
        sa.Column(
            "checklist",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("color", sa.String(length=7), nullable=False),
        sa.CheckConstraint("default_radius_m > 0", name="apc_radius_positive"),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("city_id", "code"),
    )
    op.create_geospatial_table(
        "assessment_point",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("category_code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("weight", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("radius_m", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("provenance", sa.String(length=16), nullable=False),
        sa.Column("osm_id", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.CheckConstraint(
            "GeometryType(geom) IN ('POINT', 'POLYGON', 'MULTIPOLYGON')", name="ap_geom_type"
        ),
        sa.CheckConstraint("radius_m > 0", name="ap_radius_positive"),
        sa.ForeignKeyConstraint(
            ["city_id", "category_code"],
            ["assessment_point_category.city_id", "assessment_point_category.code"],
        ),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("city_id", "id"),
        sa.UniqueConstraint("city_id", "code"),
    )
    op.create_geospatial_index(
        "idx_assessment_point_geom",
        "assessment_point",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_table(
        "grid_cell",
        sa.Column("code", sa.String(length=15), nullable=False),
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("size_m", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("col", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.CheckConstraint("code ~ '^[0-9]{15}$'", name="grid_cell_code_digits"),
        sa.ForeignKeyConstraint(
            ["city_id", "community_id"],
            ["admin_area.city_id", "admin_area.id"],
        ),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("city_id", "id"),
        sa.UniqueConstraint("city_id", "code"),
    )
    op.create_geospatial_index(
        "idx_grid_cell_geom",
        "grid_cell",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "unit",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.BigInteger(), nullable=True),
        sa.Column("area_id", sa.BigInteger(), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("provenance", sa.String(length=16), nullable=False),
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.CheckConstraint("kind IN ('territorial', 'functional', 'company')", name="unit_kind"),
        sa.CheckConstraint(
            "provenance IN ('osm', 'derived', 'invented', 'user', 'import')", name="unit_provenance"
        ),
        sa.ForeignKeyConstraint(
            ["city_id", "area_id"],
            ["admin_area.city_id", "admin_area.id"],
        ),
        sa.ForeignKeyConstraint(
            ["city_id", "parent_id"],
            ["unit.city_id", "unit.id"],
        ),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("city_id", "id"),
        sa.UniqueConstraint("city_id", "code"),
    )
    op.create_table(
        "app_user",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("unit_id", sa.BigInteger(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.CheckConstraint("role <> 'unit' OR unit_id IS NOT NULL", name="app_user_unit_role"),
        sa.CheckConstraint(
            "role IN ('admin', 'planner', 'inspector', 'unit', 'leader')", name="app_user_role"
        ),
        sa.ForeignKeyConstraint(
            ["city_id", "unit_id"],
            ["unit.city_id", "unit.id"],
        ),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("city_id", "id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "person",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("provenance", sa.String(length=16), nullable=False),
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id", "unit_id"],
            ["unit.city_id", "unit.id"],
        ),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("city_id", "id"),
        sa.UniqueConstraint("city_id", "unit_id", "name"),
    )
    op.create_geospatial_table(
        "stall_area",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("opens_at", sa.Time(), nullable=False),
        sa.Column("closes_at", sa.Time(), nullable=False),
        sa.Column("allowed_categories", postgresql.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=True),
        sa.Column("provenance", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.CheckConstraint("opens_at <> closes_at", name="stall_hours_nonempty"),
        sa.ForeignKeyConstraint(
            ["city_id", "unit_id"],
            ["unit.city_id", "unit.id"],
        ),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("city_id", "id"),
        sa.UniqueConstraint("city_id", "code"),
    )
    op.create_geospatial_index(
        "idx_stall_area_geom",
        "stall_area",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "violation_category",
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name_zh", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("group_code", sa.String(length=32), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("deadline_h", sa.Integer(), nullable=False),
        sa.Column("vending", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.CheckConstraint("deadline_h > 0", name="vc_deadline_positive"),
        sa.CheckConstraint("severity BETWEEN 1 AND 5", name="vc_severity_range"),
        sa.ForeignKeyConstraint(
            ["city_id", "department_code"],
            ["unit.city_id", "unit.code"],
        ),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("city_id", "code"),
    )
    op.create_table(
        "api_token",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id", "user_id"], ["app_user.city_id", "app_user.id"], ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("city_id", "id"),
        sa.UniqueConstraint("token_sha256"),
    )
    op.create_geospatial_table(
        "inspection_plan",
        sa.Column("plan_date", sa.Date(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("release_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("area_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("travel_s", sa.Integer(), nullable=True),
        sa.Column("dwell_s", sa.Integer(), nullable=True),
        sa.Column("distance_m", sa.Integer(), nullable=True),
        sa.Column(
            "draws",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "depot",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "route",
            Geometry(
                geometry_type="LINESTRING",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.CheckConstraint("mode IN ('walk', 'bike', 'drive')", name="plan_mode"),
        sa.CheckConstraint("window_end > window_start", name="plan_window"),
        sa.ForeignKeyConstraint(
            ["city_id", "area_id"],
            ["admin_area.city_id", "admin_area.id"],
        ),
        sa.ForeignKeyConstraint(
            ["city_id", "created_by"],
            ["app_user.city_id", "app_user.id"],
        ),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("city_id", "id"),
    )
    op.create_geospatial_table(
        "violation",
        sa.Column("case_no", sa.String(length=32), nullable=False),
        sa.Column("category_code", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_by", sa.BigInteger(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), server_default=sa.text("'open'"), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "photos",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("provenance", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.CheckConstraint(
            "source IN ('inspection', 'hotline', 'camera', 'citizen', 'digital_city')",
            name="violation_source",
        ),
        sa.CheckConstraint(
            "status IN ('open', 'dispatched', 'rectifying', 'resolved', 'closed', 'invalid')",
            name="violation_status",
        ),
        sa.ForeignKeyConstraint(
            ["city_id", "category_code"],
            ["violation_category.city_id", "violation_category.code"],
        ),
        sa.ForeignKeyConstraint(
            ["city_id", "reported_by"],
            ["app_user.city_id", "app_user.id"],
        ),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("city_id", "id"),
        sa.UniqueConstraint("city_id", "case_no"),
    )
    op.create_geospatial_index(
        "idx_violation_geom",
        "violation",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        "ix_violation_city_observed", "violation", ["city_id", "observed_at"], unique=False
    )
    op.create_index("ix_violation_city_status", "violation", ["city_id", "status"], unique=False)
    op.create_geospatial_table(
        "zone",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("first_person_id", sa.BigInteger(), nullable=True),
        sa.Column("direct_person_id", sa.BigInteger(), nullable=True),
        sa.Column("area_id", sa.BigInteger(), nullable=True),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("provenance", sa.String(length=16), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.CheckConstraint(
            "kind IN ('grid', 'road_segment', 'frontage', 'river', 'area')", name="zone_kind"
        ),
        sa.CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="zone_validity"),
        sa.ForeignKeyConstraint(
            ["city_id", "area_id"],
            ["admin_area.city_id", "admin_area.id"],
        ),
        sa.ForeignKeyConstraint(
            ["city_id", "direct_person_id"],
            ["person.city_id", "person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["city_id", "first_person_id"],
            ["person.city_id", "person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["city_id", "unit_id"],
            ["unit.city_id", "unit.id"],
        ),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("city_id", "id"),
        sa.UniqueConstraint("city_id", "code", "valid_from"),
    )
    op.create_geospatial_index(
        "idx_zone_geom", "zone", ["geom"], unique=False, postgresql_using="gist", postgresql_ops={}
    )
    op.create_table(
        "inspection_stop",
        sa.Column("plan_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.BigInteger(), nullable=False),
        sa.Column("eta", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dwell_s", sa.Integer(), nullable=False),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id", "plan_id"],
            ["inspection_plan.city_id", "inspection_plan.id"],
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["city_id", "point_id"],
            ["assessment_point.city_id", "assessment_point.id"],
        ),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("city_id", "id"),
        sa.UniqueConstraint("city_id", "plan_id", "seq"),
    )
    op.create_table(
        "inspection_team_member",
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id", "plan_id"],
            ["inspection_plan.city_id", "inspection_plan.id"],
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["city_id", "user_id"],
            ["app_user.city_id", "app_user.id"],
        ),
        sa.PrimaryKeyConstraint("city_id", "plan_id", "user_id"),
    )
    # ### end Alembic commands ###
    op.execute(AUDIT_FUNCTION)
    for table in AUDITED:
        op.execute(
            f"CREATE TRIGGER {table}_audit AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_row()"
        )


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.drop_table("inspection_team_member")
    op.drop_table("inspection_stop")
    op.drop_geospatial_index(
        "idx_zone_geom", table_name="zone", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("zone")
    op.drop_index("ix_violation_city_status", table_name="violation")
    op.drop_index("ix_violation_city_observed", table_name="violation")
    op.drop_geospatial_index(
        "idx_violation_geom", table_name="violation", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("violation")
    op.drop_geospatial_table("inspection_plan")
    op.drop_table("api_token")
    op.drop_table("violation_category")
    op.drop_geospatial_index(
        "idx_stall_area_geom", table_name="stall_area", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("stall_area")
    op.drop_table("person")
    op.drop_table("app_user")
    op.drop_table("unit")
    op.drop_geospatial_index(
        "idx_grid_cell_geom", table_name="grid_cell", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("grid_cell")
    op.drop_geospatial_index(
        "idx_assessment_point_geom",
        table_name="assessment_point",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("assessment_point")
    op.drop_table("assessment_point_category")
    op.drop_geospatial_index(
        "idx_admin_area_geom", table_name="admin_area", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("admin_area")
    op.drop_geospatial_table("city")
    op.drop_index("ix_audit_table_row", table_name="audit_log")
    op.drop_table("audit_log")
    # ### end Alembic commands ###
    op.execute("DROP FUNCTION audit_row()")
