"""The 催付 sender: every round (the app runs one every 30 s in each worker process)
schedules and settles what events missed, then sends each reminder that is due, in
batches of 100 while they come back full.

Sending first *claims* the row with a conditional UPDATE (pending → sent) in the same
transaction as the message: two senders racing for a row, one updates it and the other's
UPDATE waits for that commit and then matches nothing (PostgreSQL re-checks the row after
the lock; SQLite has one writer at a time). So a reminder goes out once, whatever the
number of processes.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from anyio import to_thread
from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from kefu.commerce.models import Order, OrderLine, OrderStatus
from kefu.conversations import service as conversations
from kefu.conversations.models import SenderType
from kefu.crm import service as crm
from kefu.sales.events import PaymentReminderSent
from kefu.sales.models import PaymentReminder, ReminderStatus, SalesSettings
from kefu.sales.reminders import (
    REMINDABLE_FOR,
    cancelled_event,
    schedule_missed,
    settle_missed,
)
from kefu.sales.settings import quiet_until, render_template, settings_of
from kefu.shops import service as shops
from kefu.shops.models import Shop
from kefu.uow import UnitOfWork

log = logging.getLogger(__name__)

SEND_EVERY = 30.0  # seconds between the sender's rounds


def send_due_reminders(uow: UnitOfWork, *, now: datetime | None = None, limit: int = 100) -> int:
    """One round of the sender: schedule and settle what events missed, then send every
    reminder due by ``now`` (each in a transaction of its own, so one failure stops no
    other). Returns how many were sent."""
    now = now or uow.clock.now()
    schedule_missed(uow, limit=limit)
    settle_missed(uow, limit=limit)
    due = list(
        uow.session.scalars(
            select(PaymentReminder.id)
            .where(PaymentReminder.status == ReminderStatus.PENDING, PaymentReminder.due_at <= now)
            .order_by(PaymentReminder.due_at, PaymentReminder.id)
            .limit(limit)
        )
    )
    uow.session.rollback()  # end the read, so each claim below starts its own transaction
    sent = 0
    for reminder_id in due:
        try:
            sent += _send_one(uow, reminder_id=reminder_id, now=now)
            uow.commit()
        except Exception:  # the row stays pending: the next round tries again
            uow.rollback()
            log.exception("a payment reminder could not be sent", extra={"id": reminder_id})
    return sent


def _send_one(uow: UnitOfWork, *, reminder_id: int, now: datetime) -> bool:
    session = uow.session
    # The claim: only one transaction turns this row from pending to sent.
    claim = session.execute(
        update(PaymentReminder)
        .where(
            PaymentReminder.id == reminder_id,
            PaymentReminder.status == ReminderStatus.PENDING,
            PaymentReminder.due_at <= now,
        )
        .values(status=ReminderStatus.SENT, sent_at=now)
        .execution_options(synchronize_session=False)
    )
    if not cast(CursorResult[Any], claim).rowcount:
        return False  # another sender has it, or it was cancelled meanwhile
    reminder = session.scalars(
        select(PaymentReminder)
        .where(PaymentReminder.id == reminder_id)
        .execution_options(populate_existing=True)
    ).one()
    # Read again, not from this session's memory: the order may have been paid meanwhile.
    order = session.get_one(Order, reminder.order_id, populate_existing=True)
    if order.status is not OrderStatus.UNPAID:
        return _close(uow, reminder, ReminderStatus.CANCELLED, order.status.value)
    settings = settings_of(session, shop_id=reminder.shop_id)
    shop = shops.get_shop(session, shop_id=reminder.shop_id)
    if not settings.reminders_enabled:
        return _close(uow, reminder, ReminderStatus.SKIPPED, "disabled")
    if now - order.created_at > REMINDABLE_FOR:
        return _close(uow, reminder, ReminderStatus.SKIPPED, "expired")
    morning = quiet_until(settings, moment=now, timezone=shop.timezone)
    if morning is not None:  # the quiet hours changed since it was scheduled: wait
        reminder.status, reminder.sent_at, reminder.due_at = ReminderStatus.PENDING, None, morning
        return False
    conversation = conversations.latest_conversation(
        session, shop_id=reminder.shop_id, customer_id=order.customer_id
    )
    if conversation is None:
        return _close(uow, reminder, ReminderStatus.SKIPPED, "no_channel")
    # The buyer's latest conversation, open or closed: a closed one stays closed (if the
    # buyer answers, it opens again as for any message of theirs). The words, then the
    # order's card: the chat draws a card instead of its message's text, so they are two
    # messages, as an agent would send them; both or neither (one transaction).
    message = conversations.send_reply(
        uow,
        shop_id=reminder.shop_id,
        conversation_id=conversation.id,
        client_msg_id=f"payment-reminder-{reminder.id}",
        body=render_reminder(session, settings=settings, shop=shop, order=order),
        sender_type=SenderType.BOT,  # the shop speaking, drawn as its bubble, not a notice
        sender_agent_id=None,
        sender_name=shop.name,
        commit=False,
    )
    card = conversations.order_card(session, shop_id=reminder.shop_id, order_id=order.id)
    conversations.send_reply(
        uow,
        shop_id=reminder.shop_id,
        conversation_id=conversation.id,
        client_msg_id=f"payment-reminder-{reminder.id}-card",
        body=conversations.card_text(json.loads(card)),
        sender_type=SenderType.BOT,
        sender_agent_id=None,
        sender_name=shop.name,
        card=card,
        commit=False,
    )
    reminder.conversation_id, reminder.message_id = conversation.id, message.id
    uow.collect(
        PaymentReminderSent(
            shop_id=reminder.shop_id,
            reminder_id=reminder.id,
            order_id=order.id,
            order_no=order.order_no,
            customer_id=order.customer_id,
            conversation_id=conversation.id,
            message_id=message.id,
        )
    )
    return True


def _close(uow: UnitOfWork, reminder: PaymentReminder, status: ReminderStatus, reason: str) -> bool:
    reminder.status, reminder.reason, reminder.sent_at = status, reason[:40], None
    uow.collect(cancelled_event(reminder))
    return False


def render_reminder(session: Session, *, settings: SalesSettings, shop: Shop, order: Order) -> str:
    """The shop's template filled in for this order and its buyer."""
    customer = crm.get_customer(session, shop_id=order.shop_id, customer_id=order.customer_id)
    first_line = session.scalar(
        select(OrderLine.title)
        .where(OrderLine.order_id == order.id)
        .order_by(OrderLine.id)
        .limit(1)
    )
    values = {
        "customer_name": crm.salutation(customer),
        "customer_surname": customer.name[:1],
        "product": first_line or order.order_no,
        "order_no": order.order_no,
        "total": f"{order.total:.2f}",
        "coupon_hint": settings.coupon_hint,
        "shop_name": shop.name,
    }
    return render_template(settings.reminder_template, values).strip()


# --- the app's sender ---------------------------------------------------------------------


async def watch(unit_of_work: Callable[[], UnitOfWork], *, every: float = SEND_EVERY) -> None:
    """Run :func:`send_due_reminders` every ``every`` seconds until cancelled (the app
    starts it in every process; the claim keeps each reminder to one of them)."""
    while True:
        await asyncio.sleep(every)
        try:
            await to_thread.run_sync(_round, unit_of_work)
        except Exception:
            log.warning("the payment reminder sender failed", exc_info=True)


# A round sends batches of this many, one transaction each, while batches come back full,
# up to the cap: a sale's backlog drains in one round instead of 100 every 30 s.
BATCH = 100
MAX_BATCHES_PER_ROUND = 50


def _round(unit_of_work: Callable[[], UnitOfWork]) -> None:
    total = 0
    for _ in range(MAX_BATCHES_PER_ROUND):
        with unit_of_work() as uow:
            sent = send_due_reminders(uow, limit=BATCH)
        total += sent
        if sent < BATCH:
            break
    if total:
        log.info("payment reminders sent", extra={"count": total})
