"""public-service advertising sites (公益广告) and what each point category asks of them:
the distance within which a point should have one in sight, and after how many days a city
counts a site's last check as stale

Revision ID: 0018
Revises: 0017
"""

import json
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

CATEGORIES = (
    Path(__file__).resolve().parents[4] / "data" / "catalogues" / "assessment_point_categories.json"
)


def upgrade() -> None:
    op.create_table(
        "ad_site",
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("facing_deg", sa.Float(), nullable=True),
        sa.Column("width_m", sa.Float(), nullable=True),
        sa.Column("height_m", sa.Float(), nullable=True),
        sa.Column("last_checked", sa.Date(), nullable=True),
        sa.Column("unit_id", sa.BigInteger(), nullable=True),
        sa.Column("provenance", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.PrimaryKeyConstraint("city_id", "id"),
        sa.UniqueConstraint("city_id", "code"),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["city_id", "unit_id"], ["unit.city_id", "unit.id"]),
        sa.CheckConstraint("facing_deg >= 0 AND facing_deg < 360", name="ad_site_facing"),
        sa.CheckConstraint(
            "width_m > 0 AND width_m <= 200 AND height_m > 0 AND height_m <= 200",
            name="ad_site_size",
        ),
    )
    op.create_index("ix_ad_site_city_geom", "ad_site", ["city_id", "geom"], postgresql_using="gist")
    op.execute(
        "CREATE TRIGGER ad_site_audit AFTER INSERT OR UPDATE OR DELETE ON ad_site "
        "FOR EACH ROW EXECUTE FUNCTION audit_row()"
    )
    op.execute(
        "CREATE TRIGGER ad_site_version AFTER INSERT OR UPDATE OR DELETE ON ad_site "
        "FOR EACH STATEMENT EXECUTE FUNCTION layer_version_bump('ad_site')"
    )
    # NULL: the category needs no advertising in sight (an advertising site itself)
    op.add_column("assessment_point_category", sa.Column("ad_sight_m", sa.Integer(), nullable=True))
    op.create_check_constraint(
        "apc_ad_sight", "assessment_point_category", "ad_sight_m > 0 AND ad_sight_m <= 500"
    )
    op.add_column(
        "city",
        sa.Column("ad_stale_days", sa.Integer(), server_default=sa.text("30"), nullable=False),
    )
    op.create_check_constraint("city_ad_stale_days", "city", "ad_stale_days > 0")
    op.execute("SELECT set_config('chuangwen.actor_name', 'migration 0018', true)")
    conn = op.get_bind()
    for c in json.loads(CATEGORIES.read_text(encoding="utf-8"))["categories"]:
        conn.execute(
            sa.text("UPDATE assessment_point_category SET ad_sight_m = :m WHERE code = :code"),
            {"m": c.get("ad_sight_m"), "code": c["code"]},
        )


def downgrade() -> None:
    op.drop_column("city", "ad_stale_days")
    op.drop_column("assessment_point_category", "ad_sight_m")
    op.drop_table("ad_site")
    op.execute("DELETE FROM layer_version WHERE layer = 'ad_site'")
