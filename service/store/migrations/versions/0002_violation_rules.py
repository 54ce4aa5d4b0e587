"""violation rules

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 05:12:10.514711
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


RULES = """
-- The rules that turn a report into an owned, flagged case, as one inlinable query: the
-- row trigger asks it about one case, bulk imports join it against a whole file.
CREATE FUNCTION violation_judgement(p_city integer, p_geom geometry, p_category text,
                                    p_seen timestamptz)
RETURNS TABLE (grid_cell_id bigint, zone_id bigint, unit_id bigint,
               department_code varchar, severity integer, permitted boolean,
               near_points jsonb, due_at timestamptz)
LANGUAGE sql STABLE AS $$
SELECT cell.id, zn.id, zn.unit_id, k.department_code,
       CASE WHEN jsonb_array_length(np.near) > 0
            THEN coalesce(k.severity_near_point, least(k.severity + 1, 5))
            ELSE k.severity END,
       st.ok,
       np.near,
       CASE WHEN st.ok THEN NULL ELSE p_seen + make_interval(hours => k.deadline_h) END
  FROM violation_category k
  JOIN city c ON c.id = k.city_id
  -- the grid cell, and the most specific zone valid when the case was seen (a road or
  -- frontage zone inside a community's grid zone wins over it)
  -- (OFFSET 0 keeps each lookup on the spatial index: without it the planner may walk
  -- the city's code index in order and test every cell)
  LEFT JOIN LATERAL (
      SELECT f.id FROM (SELECT g.id, g.code FROM grid_cell g
                         WHERE g.city_id = p_city AND ST_Covers(g.geom, p_geom) OFFSET 0) f
       ORDER BY f.code LIMIT 1
  ) cell ON true
  LEFT JOIN LATERAL (
      SELECT f.id, f.unit_id FROM (
          SELECT z.id, z.unit_id, ST_Area(z.geom) AS area FROM zone z
           WHERE z.city_id = p_city AND ST_Covers(z.geom, p_geom) AND z.valid_from <= p_seen
             AND (z.valid_to IS NULL OR z.valid_to > p_seen) OFFSET 0) f
       ORDER BY f.area, f.id LIMIT 1
  ) zn ON true
  -- every active assessment point whose surroundings hold the case, nearest first
  CROSS JOIN LATERAL (
      SELECT coalesce(jsonb_agg(jsonb_build_object(
                 'id', n.id, 'name', n.name, 'category', n.category_code,
                 'distance_m', n.distance_m) ORDER BY n.distance_m, n.id), '[]'::jsonb) AS near
        FROM (SELECT p.id, p.name, p.category_code, p.radius_m,
                     round(ST_Distance(p.geom::geography, p_geom::geography)::numeric, 1)
                         AS distance_m
                FROM assessment_point p
               WHERE p.city_id = p_city AND p.active
                 AND ST_Intersects(p.search_area, p_geom)) n
       WHERE n.distance_m <= n.radius_m
  ) np
  -- vending inside an approved stall area during its hours is permitted
  CROSS JOIN LATERAL (
      SELECT k.vending AND EXISTS (
          SELECT 1 FROM stall_area s
           WHERE s.city_id = p_city AND ST_Covers(s.geom, p_geom)
             AND p_category = ANY (s.allowed_categories)
             AND CASE WHEN s.opens_at < s.closes_at
                      THEN (p_seen AT TIME ZONE c.timezone)::time >= s.opens_at
                           AND (p_seen AT TIME ZONE c.timezone)::time < s.closes_at
                      ELSE (p_seen AT TIME ZONE c.timezone)::time >= s.opens_at
                           OR (p_seen AT TIME ZONE c.timezone)::time < s.closes_at END
      ) AS ok
  ) st
 WHERE k.city_id = p_city AND k.code = p_category
$$;

CREATE FUNCTION violation_rules() RETURNS trigger LANGUAGE plpgsql AS $$
-- Runs in the writing transaction for every insert and every update of location,
-- category or time. A bulk import that judged its rows in the same statement says so
-- with chuangwen.judged = 'on' for its transaction.
BEGIN
    IF current_setting('chuangwen.judged', true) = 'on' THEN
        RETURN NEW;
    END IF;
    SELECT j.grid_cell_id, j.zone_id, j.unit_id, j.department_code, j.severity,
           j.permitted, j.near_points, j.due_at
      INTO NEW.grid_cell_id, NEW.zone_id, NEW.unit_id, NEW.department_code, NEW.severity,
           NEW.permitted, NEW.near_points, NEW.due_at
      FROM violation_judgement(NEW.city_id, NEW.geom, NEW.category_code, NEW.observed_at) j;
    RETURN NEW;
END
$$;

CREATE TRIGGER violation_rules BEFORE INSERT OR UPDATE OF geom, category_code, observed_at
    ON violation FOR EACH ROW EXECUTE FUNCTION violation_rules();

-- When a layer the rules read changes, the cases it touches are judged again.
CREATE FUNCTION violation_reapply_area() RETURNS trigger LANGUAGE plpgsql AS $$
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
    UPDATE violation v SET geom = v.geom
     WHERE v.city_id = city
       AND (ST_Intersects(v.geom, before_area) OR ST_Intersects(v.geom, after_area));
    RETURN NULL;
END
$$;

CREATE FUNCTION violation_reapply_category() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE violation v SET category_code = v.category_code
     WHERE v.city_id = NEW.city_id AND v.category_code = NEW.code;
    RETURN NULL;
END
$$;
"""

REAPPLY = {
    "zone": "geom, valid_from, valid_to, unit_id",
    "grid_cell": "geom",
    "assessment_point": "geom, radius_m, active, name, category_code",
    "stall_area": "geom, opens_at, closes_at, allowed_categories",
}


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.add_column(
        "admin_area",
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
    )
    op.add_geospatial_column(
        "assessment_point",
        sa.Column(
            "search_area",
            Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            sa.Computed(
                "ST_Buffer(geom::geography, radius_m * 1.005 + 1)::geometry", persisted=True
            ),
            nullable=True,
        ),
    )
    op.create_geospatial_index(
        "idx_assessment_point_search_area",
        "assessment_point",
        ["search_area"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.add_column("violation", sa.Column("grid_cell_id", sa.BigInteger(), nullable=True))
    op.add_column("violation", sa.Column("zone_id", sa.BigInteger(), nullable=True))
    op.add_column("violation", sa.Column("unit_id", sa.BigInteger(), nullable=True))
    op.add_column("violation", sa.Column("department_code", sa.String(length=32), nullable=True))
    op.add_column("violation", sa.Column("severity", sa.Integer(), nullable=True))
    op.add_column(
        "violation",
        sa.Column("permitted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column(
        "violation",
        sa.Column(
            "near_points",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
    )
    op.create_index("ix_violation_city_unit", "violation", ["city_id", "unit_id"], unique=False)
    op.create_index("ix_violation_city_zone", "violation", ["city_id", "zone_id"], unique=False)
    op.create_foreign_key(
        "violation_city_id_unit_id_fkey",
        "violation",
        "unit",
        ["city_id", "unit_id"],
        ["city_id", "id"],
    )
    op.add_column(
        "violation_category", sa.Column("severity_near_point", sa.Integer(), nullable=True)
    )
    # ### end Alembic commands ###
    op.create_check_constraint(
        "vc_near_severity_range", "violation_category", "severity_near_point BETWEEN 1 AND 6"
    )
    op.drop_constraint("ap_radius_positive", "assessment_point", type_="check")
    op.create_check_constraint(
        "ap_radius_positive", "assessment_point", "radius_m > 0 AND radius_m <= 5000"
    )
    op.execute(RULES)
    for table, columns in REAPPLY.items():
        op.execute(
            f"CREATE TRIGGER {table}_reapply_insert_delete AFTER INSERT OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION violation_reapply_area()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_reapply_update AFTER UPDATE OF {columns} ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION violation_reapply_area()"
        )
    op.execute(
        "CREATE TRIGGER violation_category_reapply AFTER UPDATE OF department_code, severity, "
        "severity_near_point, deadline_h, vending ON violation_category "
        "FOR EACH ROW EXECUTE FUNCTION violation_reapply_category()"
    )
    op.execute("SELECT set_config('chuangwen.actor_name', 'migration 0002', true)")
    op.execute("UPDATE violation SET geom = geom")  # judge the cases already stored


def downgrade() -> None:
    op.execute("DROP TRIGGER violation_category_reapply ON violation_category")
    for table in REAPPLY:
        op.execute(f"DROP TRIGGER {table}_reapply_insert_delete ON {table}")
        op.execute(f"DROP TRIGGER {table}_reapply_update ON {table}")
    op.execute("DROP TRIGGER violation_rules ON violation")
    op.execute(
        "DROP FUNCTION violation_reapply_category(), violation_reapply_area(), violation_rules(), "
        "violation_judgement(integer, geometry, text, timestamptz)"
    )
    op.drop_constraint("vc_near_severity_range", "violation_category", type_="check")
    op.drop_constraint("ap_radius_positive", "assessment_point", type_="check")
    op.create_check_constraint("ap_radius_positive", "assessment_point", "radius_m > 0")
    # ### commands auto generated by Alembic - please adjust! ###
    op.drop_column("violation_category", "severity_near_point")
    op.drop_constraint("violation_city_id_unit_id_fkey", "violation", type_="foreignkey")
    op.drop_index("ix_violation_city_zone", table_name="violation")
    op.drop_index("ix_violation_city_unit", table_name="violation")
    op.drop_column("violation", "near_points")
    op.drop_column("violation", "permitted")
    op.drop_column("violation", "severity")
    op.drop_column("violation", "department_code")
    op.drop_column("violation", "unit_id")
    op.drop_column("violation", "zone_id")
    op.drop_column("violation", "grid_cell_id")
    op.drop_geospatial_index(
        "idx_assessment_point_search_area",
        table_name="assessment_point",
        postgresql_using="gist",
        column_name="search_area",
    )
    op.drop_geospatial_column("assessment_point", "search_area")
    op.drop_column("admin_area", "version")
    # ### end Alembic commands ###
