"""A batch of orders from the shop's system: its reminders and conversions are handled
once for the whole batch, so a bigger batch costs no more statements in the reactions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, event, func, select

from kefu.clock import FrozenClock
from kefu.commerce import ingest
from kefu.commerce.models import Order
from kefu.commerce.schemas import OrderIn, OrderLineSpec
from kefu.events import EventBus
from kefu.sales import reminder_sender
from kefu.sales.events import PaymentReminderCancelled
from kefu.sales.models import PaymentReminder, ReminderStatus
from tests.factories import UowFactory
from tests.sales.reminder_shop import ReminderShop, make_reminder_shop

BACKLOG = reminder_sender.BATCH * 2 + 30


@pytest.fixture
def shop(uow_factory: UowFactory, bus: EventBus, db: Engine, clock: FrozenClock) -> ReminderShop:
    return make_reminder_shop(uow_factory, bus, db, clock)


def _orders(
    prefix: str, count: int, *, created_at: datetime, paid_at: datetime | None = None
) -> list[OrderIn]:
    return [
        OrderIn(
            order_no=f"{prefix}{n:04d}",
            customer_external_id=f"{prefix}-buyer-{n}",
            customer_name="王芳",
            status="unpaid" if paid_at is None else "paid",
            created_at=created_at,
            paid_at=paid_at,
            lines=(OrderLineSpec(sku="PJ-001"),),
            ship_to_name="王芳",
            ship_to_phone="13800001111",
            ship_to_address="上海市徐汇区漕溪北路 1 号",
        )
        for n in range(count)
    ]


@contextmanager
def _statements_after_commit(db: Engine, shop: ReminderShop) -> Iterator[list[str]]:
    """Statements run by the reactions: those after the batch's own commit."""
    seen: list[str] = []
    committed = {"yes": False}

    def count(*args: object) -> None:
        if committed["yes"]:
            seen.append(str(args[2]))

    def on_commit(_connection: object) -> None:
        committed["yes"] = True

    event.listen(db, "before_cursor_execute", count)
    event.listen(db, "commit", on_commit)
    try:
        yield seen
    finally:
        event.remove(db, "before_cursor_execute", count)
        event.remove(db, "commit", on_commit)


def _upsert(shop: ReminderShop, items: list[OrderIn]) -> None:
    with shop.uow() as uow:
        ingest.upsert_orders(uow, shop_id=shop.shop_id, items=items)


def test_a_batch_schedules_and_cancels_every_reminder_at_a_fixed_cost(
    shop: ReminderShop, db: Engine, bus: EventBus
) -> None:
    placed = shop.clock.now()
    costs = {}
    for prefix, count in (("S", 5), ("L", 60)):
        with _statements_after_commit(db, shop) as seen:
            _upsert(shop, _orders(prefix, count, created_at=placed))
        costs[count] = len(seen)
    assert costs[60] == costs[5]  # not one transaction per order
    with shop.uow() as uow:
        pending = uow.session.scalar(
            select(func.count(PaymentReminder.id)).where(
                PaymentReminder.status == ReminderStatus.PENDING
            )
        )
    assert pending == 65  # every unpaid order has its one reminder
    paid_at = placed + timedelta(minutes=5)
    shop.clock.advance(timedelta(minutes=10))
    with bus.capture() as events, _statements_after_commit(db, shop) as seen:
        _upsert(shop, _orders("L", 60, created_at=placed, paid_at=paid_at))
    cancelled = [e for e in events if isinstance(e, PaymentReminderCancelled)]
    assert len(cancelled) == 60 and {e.reason for e in cancelled} == {"paid"}
    assert len(seen) < 20
    assert shop.tick() == 0  # ten minutes in: the small batch is not due yet
    shop.clock.advance(timedelta(minutes=30))
    assert shop.tick() == 0  # none of the five has a conversation: skipped, not sent


def test_one_round_of_the_sender_drains_a_backlog_bigger_than_a_batch(
    shop: ReminderShop, db: Engine
) -> None:
    placed = shop.clock.now()
    _upsert(shop, _orders("B", BACKLOG, created_at=placed))
    with shop.uow() as uow:
        buyers = uow.session.scalars(
            select(Order.customer_id).where(Order.shop_id == shop.shop_id)
        ).all()
    for buyer in buyers:
        shop.chat(buyer)
    shop.clock.advance(timedelta(minutes=31))
    reminder_sender._round(shop.uow)  # what the app runs every 30 s
    with shop.uow() as uow:
        sent = uow.session.scalar(
            select(func.count(PaymentReminder.id)).where(
                PaymentReminder.status == ReminderStatus.SENT
            )
        )
    assert sent == BACKLOG  # not 100 now and the rest in later rounds
