"""a round's stop is an assessment point or a case awaiting verification (核查)

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("inspection_stop", sa.Column("violation_id", sa.BigInteger(), nullable=True))
    op.alter_column("inspection_stop", "point_id", nullable=True)
    op.create_foreign_key(
        "inspection_stop_city_id_violation_id_fkey",
        "inspection_stop",
        "violation",
        ["city_id", "violation_id"],
        ["city_id", "id"],
        ondelete="CASCADE",
    )
    op.create_check_constraint(
        "inspection_stop_one_place",
        "inspection_stop",
        "(point_id IS NULL) <> (violation_id IS NULL)",
    )


def downgrade() -> None:
    op.execute("DELETE FROM inspection_stop WHERE violation_id IS NOT NULL")
    op.drop_constraint("inspection_stop_one_place", "inspection_stop", type_="check")
    op.drop_constraint(
        "inspection_stop_city_id_violation_id_fkey", "inspection_stop", type_="foreignkey"
    )
    op.alter_column("inspection_stop", "point_id", nullable=False)
    op.drop_column("inspection_stop", "violation_id")
