"""the loop's tally on each case (first fix, disputes, passed verifications, the unit they
count to), so that the figures read one row per case

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# the cases whose counted events do not all go to their owner now (a case given to another
# unit after a dispute, a re-drawn zone): few; the figures (service/cases/kpis.py) count their
# tally or events apart. A stored column, so that the planner knows how few.
APART = "tally_mixed OR coalesce(tally_unit <> coalesce(unit_id, -1), false)"

BACKFILL = """
UPDATE violation v SET
    first_fix_at = t.first_fix_at, disputes = t.disputes, verify_passes = t.passes,
    tally_unit = t.tally_unit, tally_mixed = t.units > 1
  FROM (
    SELECT city_id, violation_id,
           min(at) FILTER (WHERE action = 'fix') AS first_fix_at,
           count(*) FILTER (WHERE action = 'dispute') AS disputes,
           count(*) FILTER (WHERE action = 'verify_pass') AS passes,
           min(unit_id) FILTER (WHERE action IN ('dispute', 'verify_pass', 'verify_fail'))
               AS tally_unit,
           count(DISTINCT unit_id) FILTER (
               WHERE action IN ('dispute', 'verify_pass', 'verify_fail')) AS units
      FROM case_event
     WHERE action IN ('fix', 'dispute', 'verify_pass', 'verify_fail')
     GROUP BY 1, 2
  ) t
 WHERE v.city_id = t.city_id AND v.id = t.violation_id
"""


def upgrade() -> None:
    op.add_column("violation", sa.Column("first_fix_at", sa.DateTime(timezone=True), nullable=True))
    for name in ("disputes", "verify_passes"):
        op.add_column(
            "violation",
            sa.Column(name, sa.Integer(), server_default=sa.text("0"), nullable=False),
        )
    op.add_column("violation", sa.Column("tally_unit", sa.BigInteger(), nullable=True))
    op.add_column(
        "violation",
        sa.Column("tally_mixed", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column(
        "violation",
        sa.Column("tally_apart", sa.Boolean(), sa.Computed(APART, persisted=True), nullable=True),
    )
    # a count computed from what is stored is not a user's change: no audit row, no new version
    op.execute("ALTER TABLE violation DISABLE TRIGGER USER")
    op.execute(BACKFILL)
    op.execute("ALTER TABLE violation ENABLE TRIGGER USER")
    op.create_index(
        "ix_violation_tally_apart",
        "violation",
        ["city_id", "observed_at"],
        postgresql_where=sa.text("tally_apart"),
    )

    # the medians of the figures read a key's fixed cases from these alone
    op.drop_index("ix_violation_city_unit", table_name="violation")
    for column in ("unit_id", "department_code"):
        op.create_index(
            f"ix_violation_city_{column.split('_')[0]}",
            "violation",
            ["city_id", column, "observed_at"],
            postgresql_include=["first_fix_at", "permitted", "status"],
        )


def downgrade() -> None:
    op.drop_index("ix_violation_city_department", table_name="violation")
    op.drop_index("ix_violation_city_unit", table_name="violation")
    op.create_index("ix_violation_city_unit", "violation", ["city_id", "unit_id"])
    op.drop_index("ix_violation_tally_apart", table_name="violation")
    for name in (
        "tally_apart",
        "tally_mixed",
        "tally_unit",
        "verify_passes",
        "disputes",
        "first_fix_at",
    ):
        op.drop_column("violation", name)
