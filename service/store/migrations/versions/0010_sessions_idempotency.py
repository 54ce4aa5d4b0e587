"""server-side sign-in sessions, idempotency keys, the session key kept in the database

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_session",
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "last_seen_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["city_id", "user_id"], ["app_user.city_id", "app_user.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("city_id", "id"),
        sa.UniqueConstraint("token_sha256"),
    )
    op.create_table(
        "idempotency_key",
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("headers", JSONB(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(["city_id"], ["city.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["city_id", "user_id"], ["app_user.city_id", "app_user.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("city_id", "user_id", "key"),
    )
    op.create_index("ix_idempotency_key_created", "idempotency_key", ["created_at"])
    op.create_table(
        "server_secret",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("name"),
    )
    # A new session key on upgrade: the one kept in a file before may have been read out
    # through a file import, so every cookie signed with it stops working here. Two v4 UUIDs
    # come from the server's strong random source (244 random bits).
    op.execute(
        "INSERT INTO server_secret (name, value) VALUES ('session', "
        "replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''))"
    )


def downgrade() -> None:
    op.drop_table("server_secret")
    op.drop_index("ix_idempotency_key_created", table_name="idempotency_key")
    op.drop_table("idempotency_key")
    op.drop_table("user_session")
