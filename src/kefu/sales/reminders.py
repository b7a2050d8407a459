"""催付: one gentle reminder for an order left unpaid, at the right time, at most once.

An unpaid order gets a ``PaymentReminder`` row (pending) due ``delay`` minutes after it
was placed, moved out of the shop's quiet hours; :mod:`kefu.sales.reminder_sender` sends
it through the buyer's latest conversation when it is due.

Why it holds:

- *never twice*: one row per order (unique ``order_id``; scheduling inserts with ON
  CONFLICT DO NOTHING), and the sender claims a row before it sends.
- *nothing falls through*: the rows live in the database, so a restart loses nothing; the
  sender's rounds also schedule unpaid orders whose OrderCreated subscriber never ran
  (:func:`schedule_missed`) and settle orders whose OrderStatusChanged it never heard of
  (:func:`settle_missed`).
- *never when paid*: payment cancels the pending reminder (:func:`order_status_changed`),
  and the sender checks the order again at the moment of sending.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import CursorResult, Insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kefu.commerce.models import Order, OrderStatus
from kefu.errors import NotFound
from kefu.sales.events import PaymentReminderCancelled, PaymentReminderRecovered
from kefu.sales.models import PaymentReminder, ReminderStatus
from kefu.sales.settings import outside_quiet_hours, settings_of
from kefu.shops import service as shops
from kefu.shops.models import Shop
from kefu.uow import UnitOfWork

# An order older than this is not reminded any more: an import of last month's orders, or
# a server that was down for days, must not nudge buyers about stale orders.
REMINDABLE_FOR = timedelta(days=2)
# The OrderCreated subscriber had its chance by then; the sender schedules what it missed.
SWEEP_AFTER = timedelta(minutes=1)
# How long after sending a payment still counts as recovered by the reminder (report).
RECOVERY_WINDOW = timedelta(days=30)


# --- scheduling ---------------------------------------------------------------------------


def schedule_reminder(
    uow: UnitOfWork, *, shop_id: int, order_id: int, commit: bool = True
) -> PaymentReminder | None:
    """Give an unpaid order its reminder (pending, due after the shop's delay, outside
    quiet hours). Returns the order's reminder, new or already there; None when the order
    is not unpaid or too old to remind."""
    session = uow.session
    order = session.scalar(select(Order).where(Order.shop_id == shop_id, Order.id == order_id))
    if order is None:
        raise NotFound("order not found")
    if order.status is not OrderStatus.UNPAID:
        return None
    now = uow.clock.now()
    if order.created_at < now - REMINDABLE_FOR:
        return None
    settings = settings_of(session, shop_id=shop_id)
    timezone = shops.get_shop(session, shop_id=shop_id).timezone
    due = outside_quiet_hours(
        settings,
        moment=order.created_at + timedelta(minutes=settings.reminder_delay_minutes),
        timezone=timezone,
    )
    session.execute(
        _insert_once(
            session,
            {
                "shop_id": shop_id,
                "order_id": order.id,
                "customer_id": order.customer_id,
                "status": ReminderStatus.PENDING,
                "due_at": due,
                "reason": "",
                "created_at": now,
            },
        )
    )
    reminder = session.scalar(select(PaymentReminder).where(PaymentReminder.order_id == order.id))
    if commit:
        uow.commit()
    return reminder


def schedule_reminders(
    uow: UnitOfWork, *, shop_id: int, order_ids: Sequence[int], commit: bool = True
) -> int:
    """:func:`schedule_reminder` for many orders at once (a batch from the shop's system):
    one read of the orders, the settings and the shop, one INSERT. Orders not unpaid, or
    too old, are left alone. Returns how many orders qualified."""
    if not order_ids:
        return 0
    session = uow.session
    now = uow.clock.now()
    rows = session.execute(
        select(Order.id, Order.customer_id, Order.created_at).where(
            Order.shop_id == shop_id,
            Order.id.in_(list(order_ids)),
            Order.status == OrderStatus.UNPAID,
            Order.created_at >= now - REMINDABLE_FOR,
        )
    ).all()
    if rows:
        settings = settings_of(session, shop_id=shop_id)
        timezone = shops.get_shop(session, shop_id=shop_id).timezone
        delay = timedelta(minutes=settings.reminder_delay_minutes)
        session.execute(
            _insert_once(
                session,
                [
                    {
                        "shop_id": shop_id,
                        "order_id": order_id,
                        "customer_id": customer_id,
                        "status": ReminderStatus.PENDING,
                        "due_at": outside_quiet_hours(
                            settings, moment=created_at + delay, timezone=timezone
                        ),
                        "reason": "",
                        "created_at": now,
                    }
                    for order_id, customer_id, created_at in rows
                ],
            )
        )
    if commit:
        uow.commit()
    return len(rows)


def note_reminded_by_hand(
    uow: UnitOfWork, *, shop_id: int, order_id: int, commit: bool = True
) -> PaymentReminder:
    """An agent already reminded the buyer in person (a 催付 chat): the automatic reminder
    would be a second nudge, so the order's reminder is settled as skipped (``by_hand``)."""
    session = uow.session
    order = session.scalar(select(Order).where(Order.shop_id == shop_id, Order.id == order_id))
    if order is None:
        raise NotFound("order not found")
    now = uow.clock.now()
    session.execute(
        _insert_once(
            session,
            {
                "shop_id": shop_id,
                "order_id": order.id,
                "customer_id": order.customer_id,
                "status": ReminderStatus.SKIPPED,
                "due_at": now,
                "reason": "by_hand",
                "created_at": now,
            },
        )
    )
    session.execute(
        update(PaymentReminder)
        .where(
            PaymentReminder.order_id == order.id,
            PaymentReminder.status == ReminderStatus.PENDING,
        )
        .values(status=ReminderStatus.SKIPPED, reason="by_hand")
    )
    reminder = session.scalars(
        select(PaymentReminder)
        .where(PaymentReminder.order_id == order.id)
        .execution_options(populate_existing=True)
    ).one()
    if commit:
        uow.commit()
    return reminder


def _insert_once(session: Session, values: dict[str, Any] | list[dict[str, Any]]) -> Insert:
    """INSERT … ON CONFLICT (order_id) DO NOTHING: a second scheduler (the subscriber and
    the sweep, or two processes) leaves the first one's row as it is."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(PaymentReminder).values(values).on_conflict_do_nothing()
    return sqlite.insert(PaymentReminder).values(values).on_conflict_do_nothing()


def schedule_missed(uow: UnitOfWork, *, limit: int = 100) -> int:
    """Schedule unpaid orders that have no reminder a minute after they were placed (their
    OrderCreated subscriber failed or the process stopped first). Returns how many."""
    now = uow.clock.now()
    missed = uow.session.execute(
        select(Order.shop_id, Order.id)
        .outerjoin(PaymentReminder, PaymentReminder.order_id == Order.id)
        .where(
            Order.shop_id.in_(select(Shop.id)),  # lets the (shop_id, status) index serve
            Order.status == OrderStatus.UNPAID,
            Order.created_at >= now - REMINDABLE_FOR,
            Order.created_at <= now - SWEEP_AFTER,
            PaymentReminder.id.is_(None),
        )
        .order_by(Order.created_at)
        .limit(limit)
    ).all()
    for shop_id, order_id in missed:
        schedule_reminder(uow, shop_id=shop_id, order_id=order_id, commit=False)
    uow.commit()
    return len(missed)


# --- the order moved on -------------------------------------------------------------------


def order_status_changed(
    uow: UnitOfWork, *, shop_id: int, order_id: int, new_status: str, commit: bool = True
) -> None:
    """The shop's system reported the order's new status: a pending reminder is cancelled
    (reason: the status); a sent one whose order is now paid records the recovered money."""
    if new_status == OrderStatus.UNPAID.value:
        schedule_reminder(uow, shop_id=shop_id, order_id=order_id, commit=commit)
        return
    _cancel_pending(uow, shop_id=shop_id, order_id=order_id, reason=new_status)
    _record_payment(uow, shop_id=shop_id, order_id=order_id)
    if commit:
        uow.commit()


def orders_reported(
    uow: UnitOfWork,
    *,
    shop_id: int,
    new_unpaid: Sequence[int] = (),
    moves: Mapping[int, str],
    commit: bool = True,
) -> None:
    """A batch from the shop's system, in one unit of work: new unpaid orders get their
    reminder (:func:`schedule_reminders`), and for the orders that moved (order id → new
    status) :func:`order_status_changed` is done at once — the pending reminders cancelled
    with one UPDATE per new status, not one per order."""
    session = uow.session
    back_to_unpaid = [order_id for order_id, status in moves.items() if status == "unpaid"]
    schedule_reminders(uow, shop_id=shop_id, order_ids=[*new_unpaid, *back_to_unpaid], commit=False)
    moved = {order_id: status for order_id, status in moves.items() if status != "unpaid"}
    if moved:
        ids_by_reason: dict[str, list[int]] = {}
        for reminder_id, order_id in session.execute(
            select(PaymentReminder.id, PaymentReminder.order_id).where(
                PaymentReminder.shop_id == shop_id,
                PaymentReminder.order_id.in_(list(moved)),
                PaymentReminder.status == ReminderStatus.PENDING,
            )
        ):
            ids_by_reason.setdefault(moved[order_id][:40], []).append(reminder_id)
        for reason, ids in ids_by_reason.items():
            session.execute(
                update(PaymentReminder)
                .where(
                    PaymentReminder.id.in_(ids), PaymentReminder.status == ReminderStatus.PENDING
                )
                .values(status=ReminderStatus.CANCELLED, reason=reason)
                .execution_options(synchronize_session=False)
            )
            # Those this UPDATE cancelled (a sender may have claimed one just before).
            for reminder in session.scalars(
                select(PaymentReminder)
                .where(
                    PaymentReminder.id.in_(ids),
                    PaymentReminder.status == ReminderStatus.CANCELLED,
                    PaymentReminder.reason == reason,
                )
                .execution_options(populate_existing=True)
            ):
                uow.collect(cancelled_event(reminder))
        sent = session.scalars(
            select(PaymentReminder.order_id).where(
                PaymentReminder.shop_id == shop_id,
                PaymentReminder.order_id.in_(list(moved)),
                PaymentReminder.status == ReminderStatus.SENT,
                PaymentReminder.paid_at.is_(None),
            )
        ).all()
        for order_id in sent:
            _record_payment(uow, shop_id=shop_id, order_id=order_id)
    if commit:
        uow.commit()


def _cancel_pending(uow: UnitOfWork, *, shop_id: int, order_id: int, reason: str) -> bool:
    session = uow.session
    result = session.execute(
        update(PaymentReminder)
        .where(
            PaymentReminder.shop_id == shop_id,
            PaymentReminder.order_id == order_id,
            PaymentReminder.status == ReminderStatus.PENDING,
        )
        .values(status=ReminderStatus.CANCELLED, reason=reason[:40])
        .execution_options(synchronize_session=False)
    )
    if not cast(CursorResult[Any], result).rowcount:
        return False
    reminder = session.scalars(
        select(PaymentReminder)
        .where(PaymentReminder.order_id == order_id)
        .execution_options(populate_existing=True)
    ).one()
    uow.collect(cancelled_event(reminder))
    return True


def cancelled_event(reminder: PaymentReminder) -> PaymentReminderCancelled:
    return PaymentReminderCancelled(
        shop_id=reminder.shop_id,
        reminder_id=reminder.id,
        order_id=reminder.order_id,
        customer_id=reminder.customer_id,
        status=reminder.status.value,
        reason=reminder.reason,
    )


def _record_payment(uow: UnitOfWork, *, shop_id: int, order_id: int) -> bool:
    """A sent reminder whose order was paid at or after the sending: recovered revenue."""
    session = uow.session
    found = session.execute(
        select(PaymentReminder.id, Order.paid_at, Order.total)
        .join(Order, Order.id == PaymentReminder.order_id)
        .where(
            PaymentReminder.shop_id == shop_id,
            PaymentReminder.order_id == order_id,
            PaymentReminder.status == ReminderStatus.SENT,
            PaymentReminder.paid_at.is_(None),
            Order.paid_at.is_not(None),
            Order.paid_at >= PaymentReminder.sent_at,
        )
    ).one_or_none()
    if found is None:
        return False
    reminder_id, paid_at, total = found
    result = session.execute(
        update(PaymentReminder)
        .where(PaymentReminder.id == reminder_id, PaymentReminder.paid_at.is_(None))
        .values(paid_at=paid_at, paid_amount=total)
        .execution_options(synchronize_session=False)
    )
    if not cast(CursorResult[Any], result).rowcount:
        return False
    reminder = session.scalars(
        select(PaymentReminder)
        .where(PaymentReminder.id == reminder_id)
        .execution_options(populate_existing=True)
    ).one()
    uow.collect(
        PaymentReminderRecovered(
            shop_id=shop_id,
            reminder_id=reminder.id,
            order_id=order_id,
            customer_id=reminder.customer_id,
            amount=Decimal(total),
            paid_at=cast(datetime, paid_at),
        )
    )
    return True


def settle_missed(uow: UnitOfWork, *, limit: int = 100) -> int:
    """What OrderStatusChanged subscribers missed: pending reminders of orders no longer
    unpaid are cancelled, sent ones of orders since paid record the payment."""
    session = uow.session
    now = uow.clock.now()
    moved_on = session.execute(
        select(PaymentReminder.shop_id, PaymentReminder.order_id, Order.status)
        .join(Order, Order.id == PaymentReminder.order_id)
        .where(PaymentReminder.status == ReminderStatus.PENDING, Order.status != OrderStatus.UNPAID)
        .limit(limit)
    ).all()
    paid = session.execute(
        select(PaymentReminder.shop_id, PaymentReminder.order_id)
        .join(Order, Order.id == PaymentReminder.order_id)
        .where(
            PaymentReminder.status == ReminderStatus.SENT,
            PaymentReminder.due_at >= now - RECOVERY_WINDOW,
            PaymentReminder.paid_at.is_(None),
            Order.paid_at.is_not(None),
            Order.paid_at >= PaymentReminder.sent_at,
        )
        .limit(limit)
    ).all()
    settled = 0
    for shop_id, order_id, status in moved_on:
        settled += _cancel_pending(uow, shop_id=shop_id, order_id=order_id, reason=status.value)
    for shop_id, order_id in paid:
        settled += _record_payment(uow, shop_id=shop_id, order_id=order_id)
    uow.commit()
    return settled
