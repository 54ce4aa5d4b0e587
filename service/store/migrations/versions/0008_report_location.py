"""a reported case's location accuracy; photo references found by index

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # how far the phone says its fix may be off (metres, the radius of 68 % confidence)
    op.execute(
        "ALTER TABLE violation ADD COLUMN location_accuracy_m real CHECK (location_accuracy_m >= 0)"
    )
    # a photo is served only to those who may see a case that refers to it
    op.execute("CREATE INDEX violation_photos_idx ON violation USING gin (photos jsonb_path_ops)")


def downgrade() -> None:
    op.execute("DROP INDEX violation_photos_idx")
    op.execute("ALTER TABLE violation DROP COLUMN location_accuracy_m")
