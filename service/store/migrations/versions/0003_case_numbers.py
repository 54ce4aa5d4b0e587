"""case numbers for violations reported without one

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE SEQUENCE violation_case_seq")


def downgrade() -> None:
    op.execute("DROP SEQUENCE violation_case_seq")
