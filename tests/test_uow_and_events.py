"""Unit of work and event bus: events go out only after commit, and never for rolled-back work."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, func, select

from kefu.crm import service as crm
from kefu.crm.events import CustomerCreated
from kefu.crm.models import Customer
from kefu.db import make_session_factory
from kefu.errors import Conflict, Invalid
from kefu.events import Event, EventBus
from kefu.shops import service as shops
from kefu.shops.events import ShopCreated
from kefu.shops.models import Shop
from kefu.uow import UnitOfWork
from tests.factories import make_shop

UowFactory = Callable[[], UnitOfWork]


def _count_customers(db: Engine) -> int:
    with make_session_factory(db)() as session:
        return session.scalar(select(func.count(Customer.id))) or 0


def test_subscriber_runs_after_commit_and_sees_the_row_from_a_new_session(
    uow_factory: UowFactory, bus: EventBus, db: Engine
) -> None:
    seen: list[tuple[str, str | None]] = []

    def on_shop_created(event: ShopCreated) -> None:
        # A fresh session: only committed data is visible here.
        with make_session_factory(db)() as session:
            shop = session.get(Shop, event.shop_id)
            seen.append((event.slug, shop.name if shop else None))

    bus.subscribe(ShopCreated, on_shop_created)
    make_shop(uow_factory, "mianli", name="棉里旗舰店")
    assert seen == [("mianli", "棉里旗舰店")]


def test_nothing_is_dispatched_before_commit(
    uow_factory: UowFactory, bus: EventBus, db: Engine
) -> None:
    shop = make_shop(uow_factory, "mianli")
    visible_at_dispatch: list[int] = []
    bus.subscribe(CustomerCreated, lambda _e: visible_at_dispatch.append(_count_customers(db)))
    with bus.capture() as events, uow_factory() as uow:
        customer = crm.create_customer(uow, shop_id=shop.id, name="王芳", commit=False)
        assert events == []
        assert visible_at_dispatch == []
        uow.commit()
        assert events == [CustomerCreated(shop_id=shop.id, customer_id=customer.id)]
    assert visible_at_dispatch == [1]


def test_leaving_without_commit_rolls_back_rows_and_drops_events(
    uow_factory: UowFactory, bus: EventBus, db: Engine
) -> None:
    shop = make_shop(uow_factory, "mianli")
    handled: list[Event] = []
    bus.subscribe(Event, handled.append)
    with bus.capture() as events:
        with uow_factory() as uow:
            crm.create_customer(uow, shop_id=shop.id, name="王芳", commit=False)
            crm.create_customer(uow, shop_id=shop.id, name="李娜", commit=False)
        # The same bus later dispatching other work must not carry the dropped events along.
        with uow_factory() as uow:
            kept = crm.create_customer(uow, shop_id=shop.id, name="张伟")
    assert events == [CustomerCreated(shop_id=shop.id, customer_id=kept.id)]
    assert handled == events
    assert _count_customers(db) == 1


def _two_customers_the_second_refused(uow_factory: UowFactory, shop_id: int) -> None:
    with uow_factory() as uow:
        crm.create_customer(uow, shop_id=shop_id, name="王芳", commit=False)
        crm.create_customer(uow, shop_id=shop_id, vip_level=99)  # refused half-way


def test_an_exception_inside_the_block_rolls_back_and_propagates(
    uow_factory: UowFactory, bus: EventBus, db: Engine
) -> None:
    shop = make_shop(uow_factory, "mianli")
    with bus.capture() as events, pytest.raises(Invalid, match="VIP level"):
        _two_customers_the_second_refused(uow_factory, shop.id)
    assert events == []
    assert _count_customers(db) == 0


def test_explicit_rollback_drops_collected_events(
    uow_factory: UowFactory, bus: EventBus, db: Engine
) -> None:
    shop = make_shop(uow_factory, "mianli")
    with bus.capture() as events, uow_factory() as uow:
        crm.create_customer(uow, shop_id=shop.id, name="王芳", commit=False)
        uow.rollback()
        uow.commit()  # nothing left to commit or announce
    assert events == []
    assert _count_customers(db) == 0


def test_committing_twice_does_not_announce_twice(uow_factory: UowFactory, bus: EventBus) -> None:
    shop = make_shop(uow_factory, "mianli")
    with bus.capture() as events, uow_factory() as uow:
        crm.create_customer(uow, shop_id=shop.id, name="王芳")
        uow.commit()
    assert len(events) == 1


def test_a_failing_subscriber_is_logged_and_the_others_still_run(
    uow_factory: UowFactory, bus: EventBus, db: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[str] = []

    def broken(_event: ShopCreated) -> None:
        calls.append("broken")
        raise RuntimeError("notification service down")

    bus.subscribe(ShopCreated, lambda _e: calls.append("first"))
    bus.subscribe(ShopCreated, broken)
    bus.subscribe(ShopCreated, lambda _e: calls.append("last"))

    with caplog.at_level(logging.ERROR, logger="kefu.events"):
        shop = make_shop(uow_factory, "mianli")  # does not raise

    assert calls == ["first", "broken", "last"]
    failures = [r for r in caplog.records if r.name == "kefu.events"]
    assert len(failures) == 1
    record = failures[0]
    assert record.getMessage() == "event handler failed"
    assert record.event == "ShopCreated"  # type: ignore[attr-defined]
    assert "broken" in record.handler  # type: ignore[attr-defined]
    assert record.exc_info is not None
    assert "notification service down" in str(record.exc_info[1])
    # The change the subscribers react to is durable regardless.
    with make_session_factory(db)() as session:
        assert session.get(Shop, shop.id) is not None


def test_a_failing_subscriber_does_not_stop_later_events(
    uow_factory: UowFactory, bus: EventBus, caplog: pytest.LogCaptureFixture
) -> None:
    shop = make_shop(uow_factory, "mianli")
    received: list[int] = []

    def flaky(event: CustomerCreated) -> None:
        received.append(event.customer_id)
        if len(received) == 1:
            raise ValueError("first one fails")

    bus.subscribe(CustomerCreated, flaky)
    with caplog.at_level(logging.ERROR, logger="kefu.events"), uow_factory() as uow:
        first = crm.create_customer(uow, shop_id=shop.id, name="王芳", commit=False)
        second = crm.create_customer(uow, shop_id=shop.id, name="李娜", commit=False)
        uow.commit()
    assert received == [first.id, second.id]


def test_subscribing_to_the_base_event_receives_every_event(
    uow_factory: UowFactory, bus: EventBus
) -> None:
    everything: list[Event] = []
    only_shops: list[Event] = []
    bus.subscribe(Event, everything.append)
    bus.subscribe(ShopCreated, only_shops.append)
    shop = make_shop(uow_factory, "mianli")
    with uow_factory() as uow:
        customer = crm.create_customer(uow, shop_id=shop.id, name="王芳")
    assert everything == [
        ShopCreated(shop_id=shop.id, slug="mianli"),
        CustomerCreated(shop_id=shop.id, customer_id=customer.id),
    ]
    assert only_shops == [ShopCreated(shop_id=shop.id, slug="mianli")]


def test_capture_records_in_order_and_stops_after_the_block(
    uow_factory: UowFactory, bus: EventBus
) -> None:
    with bus.capture() as events:
        shop = make_shop(uow_factory, "mianli")
        with uow_factory() as uow:
            a = crm.create_customer(uow, shop_id=shop.id, name="王芳")
            b = crm.create_customer(uow, shop_id=shop.id, name="李娜")
    expected = [
        ShopCreated(shop_id=shop.id, slug="mianli"),
        CustomerCreated(shop_id=shop.id, customer_id=a.id),
        CustomerCreated(shop_id=shop.id, customer_id=b.id),
    ]
    assert events == expected
    make_shop(uow_factory, "other")
    assert events == expected


def test_nested_captures_both_record_and_the_inner_one_stops_first(
    uow_factory: UowFactory, bus: EventBus
) -> None:
    with bus.capture() as outer:
        make_shop(uow_factory, "first")
        with bus.capture() as inner:
            make_shop(uow_factory, "second")
        make_shop(uow_factory, "third")
    assert [e.slug for e in inner] == ["second"]  # type: ignore[attr-defined]
    assert [e.slug for e in outer] == ["first", "second", "third"]  # type: ignore[attr-defined]


def test_nested_captures_that_recorded_the_same_events(
    uow_factory: UowFactory, bus: EventBus
) -> None:
    with bus.capture() as outer:
        with bus.capture() as inner:
            make_shop(uow_factory, "first")
        make_shop(uow_factory, "second")
    assert [e.slug for e in inner] == ["first"]  # type: ignore[attr-defined]
    assert [e.slug for e in outer] == ["first", "second"]  # type: ignore[attr-defined]


def test_capture_stops_even_when_the_block_raises(uow_factory: UowFactory, bus: EventBus) -> None:
    with pytest.raises(RuntimeError), bus.capture() as events:
        raise RuntimeError("boom")
    make_shop(uow_factory, "mianli")
    assert events == []


def test_session_outside_the_with_block_raises(uow_factory: UowFactory) -> None:
    uow = uow_factory()
    with pytest.raises(RuntimeError, match="outside its 'with' block"):
        _ = uow.session
    with uow:
        assert uow.session is not None
    with pytest.raises(RuntimeError, match="outside its 'with' block"):
        _ = uow.session
    with pytest.raises(RuntimeError):
        uow.commit()


def test_a_unit_of_work_can_be_used_again_after_it_closed(
    uow_factory: UowFactory, bus: EventBus, db: Engine
) -> None:
    shop = make_shop(uow_factory, "mianli")
    uow = uow_factory()
    with uow:
        crm.create_customer(uow, shop_id=shop.id, name="不要", commit=False)
    with bus.capture() as events, uow:
        kept = crm.create_customer(uow, shop_id=shop.id, name="王芳")
    assert events == [CustomerCreated(shop_id=shop.id, customer_id=kept.id)]
    assert _count_customers(db) == 1


def test_objects_returned_by_a_committed_call_stay_readable_after_the_block(
    uow_factory: UowFactory,
) -> None:
    shop = make_shop(uow_factory, "mianli")
    with uow_factory() as uow:
        customer = crm.create_customer(uow, shop_id=shop.id, name="王芳")
    assert customer.name == "王芳"


def test_objects_stay_readable_when_the_block_read_more_after_committing(
    uow_factory: UowFactory,
) -> None:
    shop = make_shop(uow_factory, "mianli")
    with uow_factory() as uow:
        customer = crm.create_customer(uow, shop_id=shop.id, name="王芳")
        crm.count_customers(uow.session, shop_id=shop.id)  # e.g. a page shows the new total
    assert customer.name == "王芳"


def test_a_refused_service_call_writes_nothing_and_says_nothing(
    uow_factory: UowFactory, bus: EventBus, db: Engine
) -> None:
    make_shop(uow_factory, "mianli")
    with bus.capture() as events, pytest.raises(Conflict, match="already exists"):
        make_shop(uow_factory, "mianli")
    assert events == []
    with make_session_factory(db)() as session:
        assert len(shops.list_shops(session)) == 1


def test_after_dispatch_hooks_run_once_per_commit_after_every_subscriber() -> None:
    """A subscriber that gathers a batch (realtime's conversation frames) acts once, after
    every event of the commit was delivered."""
    bus = EventBus()
    seen: list[str] = []
    bus.subscribe(Event, lambda event: seen.append(f"event {event.shop_id}"))
    bus.after_dispatch(lambda: seen.append("after"))
    bus.dispatch([Event(shop_id=1), Event(shop_id=2)])
    bus.dispatch([])  # nothing committed, nothing to do
    assert seen == ["event 1", "event 2", "after"]
