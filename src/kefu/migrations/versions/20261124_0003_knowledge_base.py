"""knowledge base: FAQ entries and their phrasings, unanswered questions, KB revision

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 00:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kb_state",
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_kb_state_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("shop_id", name=op.f("pk_kb_state")),
    )
    op.create_table(
        "kb_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("image_id", sa.Integer(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("hit_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["agents.id"],
            name=op.f("fk_kb_entries_created_by_id_agents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["attachments.id"],
            name=op.f("fk_kb_entries_image_id_attachments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_kb_entries_product_id_products"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_kb_entries_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["agents.id"],
            name=op.f("fk_kb_entries_updated_by_id_agents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_entries")),
    )
    with op.batch_alter_table("kb_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_entries_product_id"), ["product_id"], unique=False)
        batch_op.create_index("ix_kb_entries_shop_category", ["shop_id", "category"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_entries_shop_id"), ["shop_id"], unique=False)

    op.create_table(
        "kb_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.Column("normalized", sa.String(length=255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["kb_entries.id"],
            name=op.f("fk_kb_questions_entry_id_kb_entries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_kb_questions_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_questions")),
        sa.UniqueConstraint(
            "shop_id", "normalized", name=op.f("uq_kb_questions_shop_id_normalized")
        ),
    )
    with op.batch_alter_table("kb_questions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_questions_entry_id"), ["entry_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_questions_shop_id"), ["shop_id"], unique=False)

    op.create_table(
        "kb_unanswered_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("representative", sa.String(length=500), nullable=False),
        sa.Column("normalized", sa.String(length=600), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open", "resolved", "ignored", name="unansweredstatus", native_enum=False, length=10
            ),
            nullable=False,
        ),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["kb_entries.id"],
            name=op.f("fk_kb_unanswered_groups_entry_id_kb_entries"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["agents.id"],
            name=op.f("fk_kb_unanswered_groups_resolved_by_id_agents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_kb_unanswered_groups_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_unanswered_groups")),
    )
    with op.batch_alter_table("kb_unanswered_groups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_kb_unanswered_groups_shop_id"), ["shop_id"], unique=False
        )
        batch_op.create_index(
            "ix_kb_unanswered_groups_shop_status",
            ["shop_id", "status", "last_seen_at"],
            unique=False,
        )

    op.create_table(
        "kb_unanswered_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("normalized", sa.String(length=600), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "open", "resolved", "ignored", name="unansweredstatus", native_enum=False, length=10
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_kb_unanswered_questions_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_kb_unanswered_questions_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["kb_unanswered_groups.id"],
            name=op.f("fk_kb_unanswered_questions_group_id_kb_unanswered_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_kb_unanswered_questions_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_unanswered_questions")),
    )
    with op.batch_alter_table("kb_unanswered_questions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_kb_unanswered_questions_group_id"), ["group_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_kb_unanswered_questions_shop_id"), ["shop_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("kb_unanswered_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_unanswered_questions_shop_id"))
        batch_op.drop_index(batch_op.f("ix_kb_unanswered_questions_group_id"))

    op.drop_table("kb_unanswered_questions")
    with op.batch_alter_table("kb_unanswered_groups", schema=None) as batch_op:
        batch_op.drop_index("ix_kb_unanswered_groups_shop_status")
        batch_op.drop_index(batch_op.f("ix_kb_unanswered_groups_shop_id"))

    op.drop_table("kb_unanswered_groups")
    with op.batch_alter_table("kb_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_questions_shop_id"))
        batch_op.drop_index(batch_op.f("ix_kb_questions_entry_id"))

    op.drop_table("kb_questions")
    with op.batch_alter_table("kb_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_entries_shop_id"))
        batch_op.drop_index("ix_kb_entries_shop_category")
        batch_op.drop_index(batch_op.f("ix_kb_entries_product_id"))

    op.drop_table("kb_entries")
    op.drop_table("kb_state")
