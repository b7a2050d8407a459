"""The realtime machinery on its own: the hub's fan-out and audiences, a slow client's
outbox, the group-commit message writer, and token buckets on an injected clock.

Async tests run their own event loop with ``asyncio.run``. ``settle()`` yields to the loop
once so callbacks scheduled with ``call_soon_threadsafe`` run: a yield, never a wait.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, func, select

from kefu.conversations import service as conversations
from kefu.conversations.events import MessageReceived
from kefu.conversations.models import Channel, Message
from kefu.crm import service as crm
from kefu.errors import Invalid
from kefu.events import EventBus
from kefu.realtime.hub import (
    OUTBOX_LIMIT,
    Audience,
    Connection,
    Hub,
    audience_of,
    buyer_channel,
    shop_channel,
)
from kefu.realtime.ratelimit import Limits, TokenBucket
from kefu.realtime.writer import MessageWriter
from kefu.uow import UnitOfWork
from tests.factories import make_shop

T = TypeVar("T")

UowFactory = Callable[[], UnitOfWork]


def run_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """asyncio.run on a thread of its own: Playwright's sync API (the browser tests, earlier
    in the same session) keeps an event loop running on the main thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def settle() -> None:
    await asyncio.sleep(0)


class Socket:
    """Stands in for a websocket: records what was written to it."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send_text(self, data: str) -> None:
        self.sent.append(data)


def queued(connection: Connection) -> list[str | None]:
    items = []
    while not connection.queue.empty():
        items.append(connection.queue.get_nowait())
    return items


# --- hub --------------------------------------------------------------------------------


def test_a_frame_reaches_the_connections_on_its_channel_only() -> None:
    async def run() -> tuple[list[str | None], list[str | None], list[str | None]]:
        hub = Hub()
        await hub.start()
        shop1 = Connection(Socket(), channels=(shop_channel(1),))
        shop2 = Connection(Socket(), channels=(shop_channel(2),))
        buyer = Connection(Socket(), channels=(buyer_channel(1, 7),))
        for connection in (shop1, shop2, buyer):
            hub.add(connection)
        hub.publish(shop_channel(1), {"type": "presence", "agent_id": 3})
        hub.publish(buyer_channel(1, 7), {"type": "typing", "name": "小美"})
        await settle()
        await hub.stop()
        return queued(shop1), queued(shop2), queued(buyer)

    shop1, shop2, buyer = run_loop(run())
    assert shop1[0] == '{"type":"presence","agent_id":3}'
    assert shop2 == [None]  # nothing but the close at stop()
    assert buyer[0] == '{"type":"typing","name":"小美"}'  # UTF-8 as is, compact


def test_audiences_decide_which_desks_hear_a_frame() -> None:
    presale, aftersale, me = 11, 12, 5

    def desk_of(team_ids: set[int], agent_id: int) -> Callable[[Audience | None], bool]:
        def accepts(audience: Audience | None) -> bool:
            if audience is None:
                return True
            return agent_id in audience.agent_ids or bool(audience.team_ids & team_ids)

        return accepts

    async def run() -> dict[str, list[str | None]]:
        hub = Hub()
        await hub.start()
        desks = {
            "presale": Connection(
                Socket(), channels=(shop_channel(1),), accepts=desk_of({presale}, 4)
            ),
            "aftersale": Connection(
                Socket(), channels=(shop_channel(1),), accepts=desk_of({aftersale}, me)
            ),
            "everyone": Connection(Socket(), channels=(shop_channel(1),)),
        }
        for connection in desks.values():
            hub.add(connection)
        hub.publish(
            shop_channel(1), {"n": 1}, audience=audience_of(team_ids=[presale], agent_ids=[])
        )
        hub.publish(
            shop_channel(1), {"n": 2}, audience=audience_of(team_ids=[None], agent_ids=[me])
        )
        hub.publish(shop_channel(1), {"n": 3})
        await settle()
        return {name: queued(c) for name, c in desks.items()}

    got = run_loop(run())
    assert got["presale"] == ['{"n":1}', '{"n":3}']
    assert got["aftersale"] == ['{"n":2}', '{"n":3}']
    assert got["everyone"] == ['{"n":1}', '{"n":2}', '{"n":3}']


def test_publishing_from_another_thread_is_delivered_on_the_loop() -> None:
    async def run() -> list[str | None]:
        hub = Hub()
        await hub.start()
        connection = Connection(Socket(), channels=(shop_channel(1),))
        hub.add(connection)
        worker = threading.Thread(target=hub.publish, args=(shop_channel(1), {"from": "thread"}))
        worker.start()
        worker.join()
        await settle()
        return queued(connection)

    assert run_loop(run()) == ['{"from":"thread"}']


def test_a_removed_connection_hears_nothing_and_publishing_never_raises() -> None:
    async def run() -> list[str | None]:
        hub = Hub()
        await hub.start()
        connection = Connection(Socket(), channels=(shop_channel(1), buyer_channel(1, 2)))
        hub.add(connection)
        hub.remove(connection)
        hub.publish(shop_channel(1), {"n": 1})
        hub.publish("nobody:listens", {"n": 2})
        await settle()
        assert hub.connections(shop_channel(1)) == []
        return queued(connection)

    assert run_loop(run()) == []
    Hub().publish(shop_channel(1), {"n": 3})  # not started: dropped quietly


def test_the_pump_writes_frames_in_order_until_closed() -> None:
    async def run() -> list[str]:
        socket = Socket()
        connection = Connection(socket, channels=())
        for n in range(3):
            connection.send({"n": n})
        connection.close()
        connection.send({"n": "after close"})
        await connection.pump()
        return socket.sent

    assert run_loop(run()) == ['{"n":0}', '{"n":1}', '{"n":2}']


def test_a_slow_client_past_the_outbox_limit_is_overflowed_and_cut_off() -> None:
    async def run() -> tuple[Connection, list[str]]:
        socket = Socket()
        connection = Connection(socket, channels=())
        for n in range(OUTBOX_LIMIT + 10):
            connection.send({"n": n})
        await connection.pump()  # returns at the close marker
        return connection, socket.sent

    connection, sent = run_loop(run())
    assert connection.overflowed
    # Everything that fitted is still written in order, nothing after the overflow.
    assert len(sent) == OUTBOX_LIMIT
    assert sent[-1] == f'{{"n":{OUTBOX_LIMIT - 1}}}'


def test_an_audience_survives_the_relay_encoding() -> None:
    audience = audience_of(team_ids=[3, None, 1], agent_ids=[9])
    assert Audience.from_json(audience.to_json()) == audience
    assert Audience.from_json(None) is None


# --- message writer ---------------------------------------------------------------------


@pytest.fixture
def buyers(uow_factory: UowFactory) -> tuple[int, list[int]]:
    shop = make_shop(uow_factory, "writer")
    with uow_factory() as uow:
        ids = [crm.create_customer(uow, shop_id=shop.id, commit=False).id for _ in range(5)]
        uow.commit()
    return shop.id, ids


def _receive(shop_id: int, customer_id: int, client_msg_id: str, body: str) -> Any:
    def job(uow: UnitOfWork) -> int:
        message = conversations.receive_customer_message(
            uow,
            shop_id=shop_id,
            customer_id=customer_id,
            channel=Channel.WIDGET,
            client_msg_id=client_msg_id,
            body=body,
            commit=False,
        )
        return message.seq

    return job


class CountingUow:
    """A unit-of-work factory that counts commits (how many transactions a batch took)."""

    def __init__(self, factory: UowFactory) -> None:
        self.factory = factory
        self.commits = 0

    def __call__(self) -> UnitOfWork:
        uow = self.factory()
        original = uow.commit

        def commit() -> None:
            original()
            self.commits += 1

        uow.commit = commit  # type: ignore[method-assign]
        return uow


def _messages(db: Engine) -> list[tuple[str, str]]:
    with db.connect() as connection:
        rows = connection.execute(select(Message.client_msg_id, Message.body).order_by(Message.id))
        return [(r[0], r[1]) for r in rows]


def test_messages_waiting_together_are_stored_in_one_commit(
    uow_factory: UowFactory, db: Engine, bus: EventBus, buyers: tuple[int, list[int]]
) -> None:
    shop_id, customers = buyers
    counting = CountingUow(uow_factory)

    async def run() -> list[Any]:
        writer = MessageWriter(counting)
        await writer.start()
        try:
            return await asyncio.gather(
                *(writer.submit(_receive(shop_id, c, "c-1", f"买家{c}")) for c in customers)
            )
        finally:
            await writer.stop()

    with bus.capture() as events:
        results = run_loop(run())
    assert results == [1] * len(customers)
    assert counting.commits == 1
    assert sorted(_messages(db)) == sorted(("c-1", f"买家{c}") for c in customers)
    # Each message is announced once, after the commit.
    assert sum(isinstance(e, MessageReceived) for e in events) == len(customers)


def test_a_failing_job_in_a_batch_gets_its_own_error_and_the_others_are_stored(
    uow_factory: UowFactory, db: Engine, bus: EventBus, buyers: tuple[int, list[int]]
) -> None:
    shop_id, customers = buyers
    counting = CountingUow(uow_factory)
    jobs = [
        _receive(shop_id, customers[0], "c-1", "第一位"),
        _receive(shop_id, customers[1], "c-1", " "),  # empty: refused
        _receive(shop_id, customers[2], "c-1", "第三位"),
    ]

    async def run() -> list[Any]:
        writer = MessageWriter(counting)
        await writer.start()
        try:
            return await asyncio.gather(*(writer.submit(j) for j in jobs), return_exceptions=True)
        finally:
            await writer.stop()

    with bus.capture() as events:
        first, second, third = run_loop(run())
    assert (first, third) == (1, 1)
    assert isinstance(second, Invalid)
    assert second.field == "body"
    assert _messages(db) == [("c-1", "第一位"), ("c-1", "第三位")]
    # The rolled-back batch announced nothing; each survivor exactly once.
    assert [e.message.body for e in events if isinstance(e, MessageReceived)] == [
        "第一位",
        "第三位",
    ]
    assert counting.commits == 2  # the batch was rolled back, the two good ones retried alone


def test_a_retried_message_in_the_same_batch_is_stored_once(
    uow_factory: UowFactory, db: Engine, buyers: tuple[int, list[int]]
) -> None:
    shop_id, customers = buyers

    async def run() -> list[Any]:
        writer = MessageWriter(uow_factory)
        await writer.start()
        try:
            job = _receive(shop_id, customers[0], "c-1", "同一条")
            return await asyncio.gather(writer.submit(job), writer.submit(job))
        finally:
            await writer.stop()

    assert run_loop(run()) == [1, 1]
    assert _messages(db) == [("c-1", "同一条")]


def test_a_writer_that_is_not_started_writes_each_job_on_its_own(
    uow_factory: UowFactory, db: Engine, buyers: tuple[int, list[int]]
) -> None:
    shop_id, customers = buyers

    async def run() -> Any:
        return await MessageWriter(uow_factory).submit(_receive(shop_id, customers[0], "c-1", "hi"))

    assert run_loop(run()) == 1
    assert _messages(db) == [("c-1", "hi")]


def test_a_database_failure_reaches_every_sender(
    uow_factory: UowFactory, db: Engine, buyers: tuple[int, list[int]]
) -> None:
    def broken() -> UnitOfWork:
        raise ConnectionError("database is down")

    async def run() -> list[Any]:
        writer = MessageWriter(broken)
        await writer.start()
        try:
            shop_id, customers = buyers
            return await asyncio.gather(
                *(writer.submit(_receive(shop_id, c, "c-1", "hi")) for c in customers[:3]),
                return_exceptions=True,
            )
        finally:
            await writer.stop()

    outcomes = run_loop(run())
    assert all(isinstance(o, ConnectionError) for o in outcomes)
    with db.connect() as connection:
        assert connection.scalar(select(func.count(Message.id))) == 0


# --- rate limits --------------------------------------------------------------------------


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_a_burst_then_says_how_long_to_wait() -> None:
    clock = FakeMonotonic()
    bucket = TokenBucket(capacity=3, per_second=1.0, monotonic=clock)
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take() == pytest.approx(1.0)
    assert bucket.take() == pytest.approx(1.0)  # asking again costs nothing
    clock.now += 0.5
    assert bucket.take() == pytest.approx(0.5)
    clock.now += 0.5
    assert bucket.take() == 0.0
    assert bucket.take() == pytest.approx(1.0)


def test_a_bucket_refills_at_its_rate_up_to_its_capacity() -> None:
    clock = FakeMonotonic()
    bucket = TokenBucket(capacity=2, per_second=4.0, monotonic=clock)
    bucket.take()
    bucket.take()
    clock.now += 3600  # an hour idle: still only a burst of 2
    assert [bucket.take() for _ in range(3)][:2] == [0.0, 0.0]
    assert bucket.take() == pytest.approx(0.25)


def test_limits_keep_a_bucket_per_key_and_round_waits_up_to_whole_seconds() -> None:
    clock = FakeMonotonic()
    limits = Limits(capacity=2, per_second=0.4, monotonic=clock)
    assert [limits.retry_after("buyer:1:1") for _ in range(2)] == [0, 0]
    assert limits.retry_after("buyer:1:1") == 3  # 1 token at 0.4/s: 2.5 s, said as 3
    assert limits.retry_after("buyer:1:2") == 0  # someone else
    clock.now += 2.5
    assert limits.retry_after("buyer:1:1") == 0


def test_limits_forget_buckets_past_their_bound() -> None:
    clock = FakeMonotonic()
    limits = Limits(capacity=1, per_second=0.01, max_keys=2, monotonic=clock)
    assert limits.retry_after("a") == 0
    assert limits.retry_after("a") > 0
    limits.retry_after("b")
    limits.retry_after("c")  # over the bound: everyone starts afresh
    assert limits.retry_after("a") == 0
