"""Tables of the sales domain: reminders for unpaid orders (催付), after-sales cases (售后)
and pre-sale inquiries with whether they became a paid order (询单转化).

These act in conversations (a reminder is a message, a case is told to the buyer step by
step), so they live above ``conversations`` and not in ``commerce``, which the desk reads.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db import Base, UTCDateTime, value_enum

Money = Numeric(12, 2)


# Seed 001: a kindly nudge (拍下忘记付款), and the shop's after-sales promise rather than a
# lower price when the buyer is comparing shops.
DEFAULT_REMINDER_TEMPLATE = (
    "亲,您好~看到您拍下的「{product}」还没有付款哦。宝贝库存有限,现在付款我们会尽快为您安排发货,"
    "收到不满意支持7天无理由退换。{coupon_hint}有任何疑问随时联系我们~"
)
DEFAULT_COUPON_HINT = "老顾客付款后还可以领取店铺优惠券,会员另有小礼品哦。"


class SalesSettings(Base):
    """A shop's settings for reminders and for counting conversions."""

    __tablename__ = "sales_settings"

    shop_id: Mapped[int] = mapped_column(
        ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True
    )
    reminders_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    reminder_delay_minutes: Mapped[int] = mapped_column(Integer, default=30)
    # Quiet hours (shop time, "HH:MM"): a reminder due then waits for quiet_end.
    quiet_start: Mapped[str] = mapped_column(String(5), default="22:00")
    quiet_end: Mapped[str] = mapped_column(String(5), default="08:00")
    reminder_template: Mapped[str] = mapped_column(Text, default=DEFAULT_REMINDER_TEMPLATE)
    coupon_hint: Mapped[str] = mapped_column(String(200), default=DEFAULT_COUPON_HINT)
    # An inquiry counts as converted when the buyer pays an order within this many days.
    conversion_window_days: Mapped[int] = mapped_column(Integer, default=3)
    # Where buyers send returns and exchanges (told when a case is approved); "" = not set.
    return_address: Mapped[str] = mapped_column(String(255), default="", server_default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReminderStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its time
    SENT = "sent"
    CANCELLED = "cancelled"  # the order was paid or closed first
    SKIPPED = "skipped"  # due, but there was no way to reach the buyer (reason says why)


class PaymentReminder(Base):
    """One reminder per unpaid order, at most: the unique order id makes "never twice" hold."""

    __tablename__ = "payment_reminders"
    __table_args__ = (
        UniqueConstraint("order_id"),
        Index("ix_payment_reminders_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    status: Mapped[ReminderStatus] = mapped_column(value_enum(ReminderStatus))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(40), default="", server_default="")
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), default=None
    )
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Set when the order is paid after the reminder was sent: the recovered revenue.
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    paid_amount: Mapped[Decimal | None] = mapped_column(Money, default=None)


class CaseKind(enum.StrEnum):
    REFUND = "refund"  # 仅退款
    RETURN = "return"  # 退货退款
    EXCHANGE = "exchange"  # 换货


class CaseStatus(enum.StrEnum):
    OPEN = "open"  # 待处理: waiting for a person's decision
    APPROVED = "approved"  # 已同意 (a return or exchange now waits for the goods)
    REJECTED = "rejected"  # 已拒绝
    GOODS_RETURNED = "goods_returned"  # 买家已寄回
    COMPLETED = "completed"  # 已完成: refunded, or the replacement shipped
    CANCELLED = "cancelled"  # 买家撤销


class AfterSalesCase(Base):
    __tablename__ = "aftersales_cases"
    __table_args__ = (Index("ix_aftersales_cases_shop_status", "shop_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), default=None, index=True
    )
    kind: Mapped[CaseKind] = mapped_column(value_enum(CaseKind))
    status: Mapped[CaseStatus] = mapped_column(value_enum(CaseStatus))
    reason: Mapped[str] = mapped_column(Text, default="")
    # The amount the buyer asks back (a refund or return); None for an exchange.
    amount: Mapped[Decimal | None] = mapped_column(Money, default=None)
    # Who opened it: an agent's id, or None when the bot opened it from the buyer's words.
    opened_by_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    decided_by_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    decision_note: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # The buyer's return parcel, and the replacement's (exchange).
    return_tracking_no: Mapped[str] = mapped_column(String(40), default="")
    reship_tracking_no: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CasePhoto(Base):
    """A photo the buyer sent for a case (an uploaded attachment)."""

    __tablename__ = "aftersales_case_photos"
    __table_args__ = (UniqueConstraint("case_id", "attachment_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("aftersales_cases.id", ondelete="CASCADE"), index=True
    )
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id", ondelete="CASCADE"))


class CaseStep(Base):
    """The case's history: every status change, who made it and what the buyer was told."""

    __tablename__ = "aftersales_case_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("aftersales_cases.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[CaseStatus] = mapped_column(value_enum(CaseStatus))
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Inquiry(Base):
    """A pre-sale conversation (询单), and the paid order it led to, if any. A buyer who
    comes back to the same conversation after the window starts a new inquiry."""

    __tablename__ = "inquiries"
    __table_args__ = (
        Index("ix_inquiries_conversation", "conversation_id", "started_at"),
        Index("ix_inquiries_shop_customer", "shop_id", "customer_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), default=None
    )
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), default=None
    )
    converted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    amount: Mapped[Decimal | None] = mapped_column(Money, default=None)
