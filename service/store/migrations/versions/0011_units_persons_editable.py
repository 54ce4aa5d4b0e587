"""responsible units and persons as editable collections: a version each, a unit kind 'other';
grid cell codes of 17 digits for the cells past 999 of a large community

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
    op.execute("ALTER TABLE grid_cell DROP CONSTRAINT grid_cell_code_digits")
    op.execute("ALTER TABLE grid_cell ALTER COLUMN code TYPE varchar(17)")
    op.execute(
        "ALTER TABLE grid_cell ADD CONSTRAINT grid_cell_code_digits "
        "CHECK (code ~ '^[0-9]{15}([0-9]{2})?$')"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE grid_cell DROP CONSTRAINT grid_cell_code_digits")
    op.execute("ALTER TABLE grid_cell ALTER COLUMN code TYPE varchar(15)")
    op.execute(
        "ALTER TABLE grid_cell ADD CONSTRAINT grid_cell_code_digits CHECK (code ~ '^[0-9]{15}$')"
    )
    op.execute("ALTER TABLE unit DROP CONSTRAINT unit_kind")
    op.execute(
        "ALTER TABLE unit ADD CONSTRAINT unit_kind "
        "CHECK (kind IN ('territorial', 'functional', 'company'))"
    )
    for table in ("unit", "person"):
        op.execute(f"ALTER TABLE {table} DROP COLUMN version")
