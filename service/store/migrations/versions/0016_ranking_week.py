"""the published weekly rankings of groups of units (红黑榜, 流动黄旗), kept as published

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ranking_week",
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.String(8), nullable=False),
        sa.Column("grp", sa.String(16), nullable=False),
        sa.Column("rows", JSONB(), nullable=False),
        sa.Column("rules", JSONB(), nullable=False),
        sa.Column("published_by", sa.BigInteger(), nullable=True),
        sa.Column(
            "published_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("city_id", "week", "grp"),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["city_id", "published_by"], ["app_user.city_id", "app_user.id"]),
        sa.CheckConstraint("grp IN ('street', 'community', 'department')", name="ranking_grp"),
        sa.CheckConstraint("week ~ '^[0-9]{4}-W[0-9]{2}$'", name="ranking_week_form"),
    )
    op.execute(
        "CREATE TRIGGER ranking_week_audit AFTER INSERT OR UPDATE OR DELETE ON ranking_week "
        "FOR EACH ROW EXECUTE FUNCTION audit_row()"
    )
    # kept as published: never changed
    op.execute(
        """
        CREATE FUNCTION ranking_week_kept() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'a published ranking is kept as it was published';
        END
        $$;
        CREATE TRIGGER ranking_week_unchanged BEFORE UPDATE ON ranking_week
            FOR EACH ROW EXECUTE FUNCTION ranking_week_kept();
        """
    )


def downgrade() -> None:
    op.drop_table("ranking_week")
    op.execute("DROP FUNCTION ranking_week_kept()")
