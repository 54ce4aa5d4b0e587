"""mock assessments (模拟测评): versioned sheets per point category, scores at points, and each
deduction with the case it filed and the owners it was attributed to (谁丢分谁受责)

Revision ID: 0017
Revises: 0016
"""

import json
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

SHEETS = Path(__file__).resolve().parents[4] / "data" / "catalogues" / "assessment_sheets.json"


def upgrade() -> None:
    op.create_table(
        "assessment_sheet",
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("category_code", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("items", JSONB(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("city_id", "category_code", "version"),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["city_id", "category_code"],
            ["assessment_point_category.city_id", "assessment_point_category.code"],
        ),
    )
    op.create_table(
        "assessment",
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("point_id", sa.BigInteger(), nullable=False),
        sa.Column("category_code", sa.String(32), nullable=False),
        sa.Column("sheet_version", sa.Integer(), nullable=False),
        sa.Column("assessor_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("scores", JSONB(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("max_score", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("city_id", "id"),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["city_id", "point_id"], ["assessment_point.city_id", "assessment_point.id"]
        ),
        sa.ForeignKeyConstraint(
            ["city_id", "category_code", "sheet_version"],
            [
                "assessment_sheet.city_id",
                "assessment_sheet.category_code",
                "assessment_sheet.version",
            ],
        ),
        sa.ForeignKeyConstraint(["city_id", "assessor_id"], ["app_user.city_id", "app_user.id"]),
    )
    op.create_index("ix_assessment_city_at", "assessment", ["city_id", "at"])
    op.create_table(
        "assessment_deduction",
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("assessment_id", sa.BigInteger(), nullable=False),
        sa.Column("item_code", sa.String(32), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("violation_id", sa.BigInteger(), nullable=True),
        sa.Column("unit_id", sa.BigInteger(), nullable=True),
        sa.Column("zone_id", sa.BigInteger(), nullable=True),
        sa.Column("department_code", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("city_id", "id"),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["city_id", "assessment_id"],
            ["assessment.city_id", "assessment.id"],
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["city_id", "violation_id"],
            ["violation.city_id", "violation.id"],
            ondelete="SET NULL (violation_id)",
        ),
        sa.ForeignKeyConstraint(["city_id", "unit_id"], ["unit.city_id", "unit.id"]),
        sa.CheckConstraint("points > 0", name="assessment_deduction_points"),
    )
    op.create_index(
        "ix_assessment_deduction_assessment", "assessment_deduction", ["city_id", "assessment_id"]
    )
    for table in ("assessment_sheet", "assessment", "assessment_deduction"):
        op.execute(
            f"CREATE TRIGGER {table}_audit AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_row()"
        )
    # version 1 of every city's sheets, from the catalogue (new cities get it from
    # load_catalogues); written as the migration
    sheets = json.loads(SHEETS.read_text(encoding="utf-8"))["sheets"]
    op.execute("SELECT set_config('chuangwen.actor_name', 'migration 0017', true)")
    conn = op.get_bind()
    for code, items in sheets.items():
        conn.execute(
            sa.text(
                "INSERT INTO assessment_sheet (city_id, category_code, version, items) "
                "SELECT k.city_id, k.code, 1, CAST(:items AS jsonb) "
                "FROM assessment_point_category k WHERE k.code = :code"
            ),
            {"code": code, "items": json.dumps(items, ensure_ascii=False)},
        )


def downgrade() -> None:
    op.drop_table("assessment_deduction")
    op.drop_table("assessment")
    op.drop_table("assessment_sheet")
