"""commerce: product pictures, webhook deliveries and settings; the sales domain's tables
(催付 reminders, after-sales cases, inquiries); message cards; the bot's pending order question

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 02:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "commerce_settings",
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("webhook_secret", sa.String(length=64), nullable=False),
        sa.Column("ships_within_hours", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_commerce_settings_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("shop_id", name=op.f("pk_commerce_settings")),
    )
    op.create_table(
        "sales_settings",
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("reminders_enabled", sa.Boolean(), nullable=False),
        sa.Column("reminder_delay_minutes", sa.Integer(), nullable=False),
        sa.Column("quiet_start", sa.String(length=5), nullable=False),
        sa.Column("quiet_end", sa.String(length=5), nullable=False),
        sa.Column("reminder_template", sa.Text(), nullable=False),
        sa.Column("coupon_hint", sa.String(length=200), nullable=False),
        sa.Column("conversion_window_days", sa.Integer(), nullable=False),
        sa.Column("return_address", sa.String(length=255), server_default="", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_sales_settings_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("shop_id", name=op.f("pk_sales_settings")),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.String(length=80), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_webhook_deliveries_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "shop_id", "delivery_id", name=op.f("uq_webhook_deliveries_shop_id_delivery_id")
        ),
    )
    op.create_index(
        op.f("ix_webhook_deliveries_shop_id"), "webhook_deliveries", ["shop_id"], unique=False
    )
    op.create_table(
        "aftersales_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum("refund", "return", "exchange", name="casekind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "approved",
                "rejected",
                "goods_returned",
                "completed",
                "cancelled",
                name="casestatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("opened_by_agent_id", sa.Integer(), nullable=True),
        sa.Column("decided_by_agent_id", sa.Integer(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("return_tracking_no", sa.String(length=40), nullable=False),
        sa.Column("reship_tracking_no", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_aftersales_cases_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_aftersales_cases_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_agent_id"],
            ["agents.id"],
            name=op.f("fk_aftersales_cases_decided_by_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["opened_by_agent_id"],
            ["agents.id"],
            name=op.f("fk_aftersales_cases_opened_by_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_aftersales_cases_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_aftersales_cases_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aftersales_cases")),
    )
    op.create_index(
        op.f("ix_aftersales_cases_conversation_id"),
        "aftersales_cases",
        ["conversation_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_aftersales_cases_order_id"), "aftersales_cases", ["order_id"], unique=False
    )
    op.create_index(
        op.f("ix_aftersales_cases_shop_id"), "aftersales_cases", ["shop_id"], unique=False
    )
    op.create_index(
        "ix_aftersales_cases_shop_status", "aftersales_cases", ["shop_id", "status"], unique=False
    )
    op.create_table(
        "inquiries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("converted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_inquiries_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_inquiries_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_inquiries_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_inquiries_order_id_orders"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_inquiries_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_inquiries_team_id_teams"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inquiries")),
    )
    op.create_index(
        "ix_inquiries_conversation", "inquiries", ["conversation_id", "started_at"], unique=False
    )
    op.create_index(
        "ix_inquiries_shop_customer", "inquiries", ["shop_id", "customer_id"], unique=False
    )
    op.create_index(op.f("ix_inquiries_shop_id"), "inquiries", ["shop_id"], unique=False)
    op.create_table(
        "aftersales_case_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["attachments.id"],
            name=op.f("fk_aftersales_case_photos_attachment_id_attachments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["aftersales_cases.id"],
            name=op.f("fk_aftersales_case_photos_case_id_aftersales_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_aftersales_case_photos_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aftersales_case_photos")),
        sa.UniqueConstraint(
            "case_id", "attachment_id", name=op.f("uq_aftersales_case_photos_case_id_attachment_id")
        ),
    )
    op.create_index(
        op.f("ix_aftersales_case_photos_case_id"),
        "aftersales_case_photos",
        ["case_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_aftersales_case_photos_shop_id"),
        "aftersales_case_photos",
        ["shop_id"],
        unique=False,
    )
    op.create_table(
        "aftersales_case_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "approved",
                "rejected",
                "goods_returned",
                "completed",
                "cancelled",
                name="casestatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_aftersales_case_steps_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["aftersales_cases.id"],
            name=op.f("fk_aftersales_case_steps_case_id_aftersales_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_aftersales_case_steps_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aftersales_case_steps")),
    )
    op.create_index(
        op.f("ix_aftersales_case_steps_case_id"), "aftersales_case_steps", ["case_id"], unique=False
    )
    op.create_index(
        op.f("ix_aftersales_case_steps_shop_id"), "aftersales_case_steps", ["shop_id"], unique=False
    )
    op.create_table(
        "payment_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sent",
                "cancelled",
                "skipped",
                name="reminderstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=40), server_default="", nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_payment_reminders_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_payment_reminders_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_payment_reminders_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_payment_reminders_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_payment_reminders_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_reminders")),
        sa.UniqueConstraint("order_id", name=op.f("uq_payment_reminders_order_id")),
    )
    op.create_index(
        "ix_payment_reminders_due", "payment_reminders", ["status", "due_at"], unique=False
    )
    op.create_index(
        op.f("ix_payment_reminders_shop_id"), "payment_reminders", ["shop_id"], unique=False
    )
    with op.batch_alter_table("bot_conversation_states") as batch:
        batch.add_column(
            sa.Column("awaiting_order_for", sa.String(length=40), server_default="", nullable=False)
        )
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("card", sa.Text(), server_default="", nullable=False))
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("images", sa.Text(), server_default="[]", nullable=False))
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.drop_column("updated_at")
        batch.drop_column("images")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("updated_at")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("card")
    with op.batch_alter_table("bot_conversation_states") as batch:
        batch.drop_column("awaiting_order_for")
    op.drop_index(op.f("ix_payment_reminders_shop_id"), table_name="payment_reminders")
    op.drop_index("ix_payment_reminders_due", table_name="payment_reminders")
    op.drop_table("payment_reminders")
    op.drop_index(op.f("ix_aftersales_case_steps_shop_id"), table_name="aftersales_case_steps")
    op.drop_index(op.f("ix_aftersales_case_steps_case_id"), table_name="aftersales_case_steps")
    op.drop_table("aftersales_case_steps")
    op.drop_index(op.f("ix_aftersales_case_photos_shop_id"), table_name="aftersales_case_photos")
    op.drop_index(op.f("ix_aftersales_case_photos_case_id"), table_name="aftersales_case_photos")
    op.drop_table("aftersales_case_photos")
    op.drop_index(op.f("ix_inquiries_shop_id"), table_name="inquiries")
    op.drop_index("ix_inquiries_conversation", table_name="inquiries")
    op.drop_index("ix_inquiries_shop_customer", table_name="inquiries")
    op.drop_table("inquiries")
    op.drop_index("ix_aftersales_cases_shop_status", table_name="aftersales_cases")
    op.drop_index(op.f("ix_aftersales_cases_shop_id"), table_name="aftersales_cases")
    op.drop_index(op.f("ix_aftersales_cases_order_id"), table_name="aftersales_cases")
    op.drop_index(op.f("ix_aftersales_cases_conversation_id"), table_name="aftersales_cases")
    op.drop_table("aftersales_cases")
    op.drop_index(op.f("ix_webhook_deliveries_shop_id"), table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_table("sales_settings")
    op.drop_table("commerce_settings")
