"""In the server the bot answers on its own thread: storing a buyer's line never waits
for it, turns stay in order, and a line it never got to still reaches people."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from kefu.bot import reception, subscribers, watchdog
from kefu.clock import FrozenClock
from kefu.events import EventBus
from tests.bot.conftest import FAQ, BotShop
from tests.factories import UowFactory, make_shop_with_staff


@pytest.fixture
def worker(uow_factory: UowFactory) -> Iterator[subscribers.BotWorker]:
    worker = subscribers.BotWorker(uow_factory, capacity=2)
    yield worker
    worker.stop()


@pytest.fixture
def threaded_shop(
    uow_factory: UowFactory,
    bus: EventBus,
    db: Engine,
    clock: FrozenClock,
    worker: subscribers.BotWorker,
) -> BotShop:
    staff = make_shop_with_staff(uow_factory, "threaded")
    subscribers.install(bus, uow_factory, worker=worker)
    shop = BotShop(staff=staff, uow=uow_factory, db=db, clock=clock, entry_ids=[])
    shop.entry_ids = [shop.add_entry(questions, answer) for questions, answer in FAQ]
    shop.set_bot(enabled=True)
    return shop


def test_storing_a_line_does_not_wait_for_the_bot(
    threaded_shop: BotShop, worker: subscribers.BotWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    real_respond = reception.respond

    def slow_respond(*args: Any, **kwargs: Any) -> None:
        assert release.wait(10), "the test never released the bot"
        real_respond(*args, **kwargs)

    monkeypatch.setattr(reception, "respond", slow_respond)
    buyer = threaded_shop.buyer()
    conversation_id = threaded_shop.say(buyer, "你们发什么快递")
    threaded_shop.say(buyer, "多久发货")
    assert threaded_shop.bot_lines(conversation_id) == []  # stored; the bot is still thinking
    release.set()
    worker.join()
    lines = threaded_shop.bot_lines(conversation_id)
    assert lines[1].startswith("亲,默认发中通快递")  # answered in the order asked
    assert lines[2] == "王女士您好,付款后48小时内发货。"


def test_a_line_the_bot_never_got_to_reaches_people_through_the_watchdog(
    threaded_shop: BotShop, worker: subscribers.BotWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    monkeypatch.setattr(reception, "respond", lambda *_a, **_k: release.wait(10))
    first = threaded_shop.say(threaded_shop.buyer("甲"), "在吗")
    # The queue holds two: with the worker busy, at least one of these does not fit.
    others = [threaded_shop.say(threaded_shop.buyer(f"乙{n}"), "在吗") for n in range(3)]
    release.set()
    worker.join()
    threaded_shop.clock.advance(timedelta(minutes=2))
    with threaded_shop.uow() as uow:
        handed = watchdog.rescue_stalled(uow)
    assert handed == 4  # the fake bot answered nobody: every buyer goes to people
    for conversation_id in [first, *others]:
        assert not threaded_shop.conversation(conversation_id).with_bot
