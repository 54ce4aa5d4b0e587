"""the street network for inspection routes; hidden next-visit dates

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "road",
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("osm_id", sa.BigInteger(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("highway", sa.String(length=32), nullable=False),
        sa.Column("oneway", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("provenance", sa.String(length=16), nullable=False),
        sa.Column(
            "geom",
            Geometry("LINESTRING", srid=4326, spatial_index=False),
            nullable=False,
        ),
        sa.CheckConstraint("oneway IN (-1, 0, 1)", name="road_oneway"),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("city_id", "id"),
    )
    op.create_index("ix_road_city_geom", "road", ["city_id", "geom"], postgresql_using="gist")
    op.create_table(
        "inspection_due",
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.BigInteger(), nullable=False),
        sa.Column("last_visit_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id", "point_id"],
            ["assessment_point.city_id", "assessment_point.id"],
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("city_id", "point_id"),
    )
    for table, key in (("road", "r.id"), ("inspection_due", "r.point_id")):
        op.execute(
            f"CREATE TRIGGER {table}_audit AFTER UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_row()"
        )
        for event, ref in (
            ("insert", "NEW TABLE AS new_rows"),
            ("delete", "OLD TABLE AS old_rows"),
        ):
            op.execute(
                f"CREATE TRIGGER {table}_audit_{event} AFTER {event.upper()} ON {table} "
                f"REFERENCING {ref} FOR EACH STATEMENT EXECUTE FUNCTION audit_rows('{key}')"
            )
    # the in-memory street graph is kept until the network's version moves
    op.execute(
        "CREATE TRIGGER road_version AFTER INSERT OR UPDATE OR DELETE ON road "
        "FOR EACH STATEMENT EXECUTE FUNCTION layer_version_bump('road')"
    )


def downgrade() -> None:
    op.drop_table("inspection_due")
    op.drop_table("road")
