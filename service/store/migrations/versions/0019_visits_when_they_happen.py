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
    # a point's last visit was written when its round was planned; it is now its last
    # check-in (in the city's day), and a point never checked in has none
    op.execute("SELECT set_config('chuangwen.actor_name', 'migration 0019', true)")
    op.execute("DELETE FROM inspection_due")
    op.execute(
        "INSERT INTO inspection_due (city_id, point_id, last_visit_on, due_on) "
        "SELECT s.city_id, s.point_id, max((s.arrived_at AT TIME ZONE c.timezone)::date), "
        "max((s.arrived_at AT TIME ZONE c.timezone)::date) + 28 FROM inspection_stop s "
        "JOIN city c ON c.id = s.city_id WHERE s.arrived_at IS NOT NULL "
        "AND s.point_id IS NOT NULL GROUP BY s.city_id, s.point_id"
    )


def downgrade() -> None:
    op.drop_constraint("inspection_plan_cancelled_by_fkey", "inspection_plan")
    op.drop_column("inspection_plan", "cancelled_by")
    op.drop_column("inspection_plan", "cancelled_at")
