"""bot: reception by the bot, hand-off notes and priority, bot settings and state

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 00:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("shops") as batch:
        batch.add_column(
            sa.Column("bot_enabled", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(
            sa.Column("with_bot", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(sa.Column("priority", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(
            sa.Column("handoff_note", sa.String(length=300), server_default="", nullable=False)
        )
    with op.batch_alter_table("messages") as batch:
        batch.add_column(
            sa.Column("agent_note", sa.String(length=300), server_default="", nullable=False)
        )
    op.create_table(
        "bot_settings",
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("bot_name", sa.String(length=30), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("greeting", sa.Text(), nullable=False),
        sa.Column("handoff_message", sa.Text(), nullable=False),
        sa.Column("offline_message", sa.Text(), nullable=False),
        sa.Column("work_start", sa.String(length=5), nullable=False),
        sa.Column("work_end", sa.String(length=5), nullable=False),
        sa.Column("work_days", sa.String(length=7), nullable=False),
        sa.Column("order_pattern", sa.String(length=100), server_default="", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("shop_id"),
    )
    op.create_table(
        "bot_intent_routes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("intent", sa.String(length=60), nullable=False),
        sa.Column("team_code", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("shop_id", "intent"),
    )
    op.create_table(
        "bot_conversation_states",
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("greeted", sa.Boolean(), nullable=False),
        sa.Column("unanswered_turns", sa.Integer(), nullable=False),
        sa.Column("replies_in_row", sa.Integer(), nullable=False),
        sa.Column("choices", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("conversation_id"),
    )
    op.create_index("ix_bot_conversation_states_shop_id", "bot_conversation_states", ["shop_id"])


def downgrade() -> None:
    op.drop_index("ix_bot_conversation_states_shop_id", table_name="bot_conversation_states")
    op.drop_table("bot_conversation_states")
    op.drop_table("bot_intent_routes")
    op.drop_table("bot_settings")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("agent_note")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("handoff_note")
        batch.drop_column("priority")
        batch.drop_column("with_bot")
    with op.batch_alter_table("shops") as batch:
        batch.drop_column("bot_enabled")
