"""responsible units and persons as editable collections: a version each, a unit kind 'other'

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("unit", "person"):
        op.execute(f"ALTER TABLE {table} ADD COLUMN version integer DEFAULT 1 NOT NULL")
    op.execute("ALTER TABLE unit DROP CONSTRAINT unit_kind")
    op.execute(
        "ALTER TABLE unit ADD CONSTRAINT unit_kind "
        "CHECK (kind IN ('territorial', 'functional', 'company', 'other'))"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE unit DROP CONSTRAINT unit_kind")
    op.execute(
        "ALTER TABLE unit ADD CONSTRAINT unit_kind "
        "CHECK (kind IN ('territorial', 'functional', 'company'))"
    )
    for table in ("unit", "person"):
        op.execute(f"ALTER TABLE {table} DROP COLUMN version")
