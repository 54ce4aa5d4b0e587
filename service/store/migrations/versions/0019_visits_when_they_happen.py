"""a round can be cancelled (its check-ins then refused); a visit counts when checked in,
no longer when its round is planned

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "inspection_plan",
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column("inspection_plan", sa.Column("cancelled_by", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        "inspection_plan_cancelled_by_fkey",
        "inspection_plan",
        "app_user",
        ["city_id", "cancelled_by"],
        ["city_id", "id"],
    )


def downgrade() -> None:
    op.drop_constraint("inspection_plan_cancelled_by_fkey", "inspection_plan")
    op.drop_column("inspection_plan", "cancelled_by")
    op.drop_column("inspection_plan", "cancelled_at")
