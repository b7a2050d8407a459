"""Two worker processes run the reminder sender at the same moment: every reminder still
goes out exactly once (each sender has its own connection, as two processes would)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from kefu.clock import FrozenClock
from kefu.db import make_session_factory
from kefu.events import EventBus
from kefu.sales import service as sales
from kefu.sales.events import PaymentReminderSent
from kefu.uow import UnitOfWork
from tests.factories import UowFactory
from tests.sales.reminder_shop import ReminderShop, make_reminder_shop

BUYERS = 8


@pytest.fixture
def shop(uow_factory: UowFactory, bus: EventBus, db: Engine, clock: FrozenClock) -> ReminderShop:
    return make_reminder_shop(uow_factory, bus, db, clock)


def test_two_senders_at_once_send_each_reminder_once(
    shop: ReminderShop, db: Engine, clock: FrozenClock
) -> None:
    conversations = []
    for n in range(BUYERS):
        shop.order(f"W{n:04d}", buyer=f"buyer-{n}", name=f"买家{n}")
        conversations.append(shop.chat(shop.buyer_id(f"buyer-{n}")))
    clock.advance(timedelta(minutes=30))

    start = threading.Barrier(2)
    sent: list[int] = []
    announced: list[PaymentReminderSent] = []
    failures: list[BaseException] = []

    def worker() -> None:
        bus = EventBus()  # each process has its own bus
        bus.subscribe(PaymentReminderSent, announced.append)
        factory = make_session_factory(db)
        try:
            with UnitOfWork(factory, bus, clock) as uow:
                start.wait()
                sent.append(sales.send_due_reminders(uow))
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert sum(sent) == BUYERS
    assert sorted(e.conversation_id for e in announced) == sorted(conversations)
    for conversation_id in conversations:
        assert len(shop.shop_lines(conversation_id)) == 2  # the words and the card
