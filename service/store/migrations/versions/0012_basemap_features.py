"""the own base map's water, waterways, buildings and green areas (chuangwen import-basemap)

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "basemap_feature",
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("osm_id", sa.BigInteger(), nullable=True),
        sa.Column("provenance", sa.String(length=16), nullable=False),
        sa.Column("geom", Geometry("GEOMETRY", srid=4326, spatial_index=False), nullable=False),
        sa.Column("label_at", Geometry("POINT", srid=4326, spatial_index=False), nullable=True),
        sa.Column("label_radius_mercator_m", sa.REAL(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('water', 'waterway', 'building', 'green')", name="basemap_feature_kind"
        ),
        sa.CheckConstraint(
            "ST_Dimension(geom) = CASE kind WHEN 'waterway' THEN 1 ELSE 2 END",
            name="basemap_feature_dimension",
        ),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("city_id", "id"),
    )
    op.create_index(
        "ix_basemap_feature_city_geom",
        "basemap_feature",
        ["city_id", "geom"],
        postgresql_using="gist",
    )
    # imported by a person like the streets, so audited like them: a row trigger for
    # updates, one statement trigger each for the wholesale delete and insert of an import
    op.execute(
        "CREATE TRIGGER basemap_feature_audit AFTER UPDATE ON basemap_feature "
        "FOR EACH ROW EXECUTE FUNCTION audit_row()"
    )
    for event, ref in (("insert", "NEW TABLE AS new_rows"), ("delete", "OLD TABLE AS old_rows")):
        op.execute(
            f"CREATE TRIGGER basemap_feature_audit_{event} AFTER {event.upper()} "
            f"ON basemap_feature REFERENCING {ref} FOR EACH STATEMENT "
            "EXECUTE FUNCTION audit_rows('r.id')"
        )
    # the base map's tiles are kept until this moves
    op.execute(
        "CREATE TRIGGER basemap_feature_version AFTER INSERT OR UPDATE OR DELETE "
        "ON basemap_feature FOR EACH STATEMENT "
        "EXECUTE FUNCTION layer_version_bump('basemap_feature')"
    )


def downgrade() -> None:
    op.drop_table("basemap_feature")
    op.execute("DELETE FROM layer_version WHERE layer = 'basemap_feature'")
