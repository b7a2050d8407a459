"""What the 催付 reminders did: how many were sent, how many of those orders were paid
afterwards and for how much (recovered revenue), and the latest reminders one by one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.commerce.models import Order
from kefu.conversations import desk
from kefu.crm import service as crm
from kefu.sales.models import PaymentReminder, ReminderStatus

MAX_LIST = 200


@dataclass(frozen=True)
class ReminderReport:
    since: datetime
    until: datetime
    sent: int  # reminders sent in the period
    paid_after_reminder: int  # … whose order was paid after the reminder
    paid_rate: float | None  # paid_after_reminder / sent (None when none was sent)
    recovered_revenue: Decimal  # the totals of those orders
    cancelled: int  # scheduled in the period, then the order was paid or closed first
    skipped: int  # scheduled in the period, due, but not sent (off, no conversation, old)
    pending: int  # waiting now, whatever the period


@dataclass(frozen=True)
class ReminderRow:
    id: int
    order_id: int
    order_no: str
    customer_id: int
    customer_name: str
    status: ReminderStatus
    reason: str
    due_at: datetime
    sent_at: datetime | None
    conversation_id: int | None
    paid_at: datetime | None
    paid_amount: Decimal | None


def reminder_report(
    session: Session, *, shop_id: int, since: datetime, until: datetime
) -> ReminderReport:
    """The figures for reminders sent (or, when not sent, scheduled) in [since, until)."""
    shop = PaymentReminder.shop_id == shop_id
    sent, paid, recovered = session.execute(
        select(
            func.count(PaymentReminder.id),
            func.count(PaymentReminder.paid_at),
            func.coalesce(func.sum(PaymentReminder.paid_amount), 0),
        ).where(
            shop,
            PaymentReminder.status == ReminderStatus.SENT,
            PaymentReminder.sent_at >= since,
            PaymentReminder.sent_at < until,
        )
    ).one()
    closed: dict[ReminderStatus, int] = dict(
        session.execute(
            select(PaymentReminder.status, func.count(PaymentReminder.id))
            .where(
                shop,
                PaymentReminder.status.in_([ReminderStatus.CANCELLED, ReminderStatus.SKIPPED]),
                PaymentReminder.created_at >= since,
                PaymentReminder.created_at < until,
            )
            .group_by(PaymentReminder.status)
        ).all()
    )
    pending = session.scalar(
        select(func.count(PaymentReminder.id)).where(
            shop, PaymentReminder.status == ReminderStatus.PENDING
        )
    )
    return ReminderReport(
        since=since,
        until=until,
        sent=sent,
        paid_after_reminder=paid,
        paid_rate=paid / sent if sent else None,
        recovered_revenue=Decimal(recovered or 0).quantize(Decimal("0.01")),
        cancelled=closed.get(ReminderStatus.CANCELLED, 0),
        skipped=closed.get(ReminderStatus.SKIPPED, 0),
        pending=pending or 0,
    )


def list_reminders(
    session: Session,
    *,
    shop_id: int,
    status: ReminderStatus | None = None,
    limit: int = 50,
) -> list[ReminderRow]:
    """The shop's latest reminders (newest scheduled first), with order and buyer."""
    query = (
        select(PaymentReminder, Order.order_no)
        .join(Order, Order.id == PaymentReminder.order_id)
        .where(PaymentReminder.shop_id == shop_id)
        .order_by(PaymentReminder.created_at.desc(), PaymentReminder.id.desc())
        .limit(max(1, min(limit, MAX_LIST)))
    )
    if status is not None:
        query = query.where(PaymentReminder.status == status)
    found = session.execute(query).all()
    buyers = crm.customers_by_id(
        session, shop_id=shop_id, ids=[reminder.customer_id for reminder, _ in found]
    )
    rows = []
    for reminder, order_no in found:
        buyer = buyers.get(reminder.customer_id)
        rows.append(
            ReminderRow(
                id=reminder.id,
                order_id=reminder.order_id,
                order_no=order_no,
                customer_id=reminder.customer_id,
                customer_name=desk.customer_display_name(buyer) if buyer else "",  # as the desk
                status=reminder.status,
                reason=reminder.reason,
                due_at=reminder.due_at,
                sent_at=reminder.sent_at,
                conversation_id=reminder.conversation_id,
                paid_at=reminder.paid_at,
                paid_amount=reminder.paid_amount,
            )
        )
    return rows
