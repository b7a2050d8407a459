"""催付: an unpaid order's buyer gets one gentle reminder at the right time, never in quiet
hours, never twice, never once the order is paid or closed. The clock moves; nobody sleeps."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from kefu.clock import FrozenClock
from kefu.conversations import service as conversations
from kefu.conversations.models import ConversationStatus, SenderType
from kefu.db import make_engine, make_session_factory
from kefu.errors import Invalid, NotFound
from kefu.events import EventBus
from kefu.sales import service as sales
from kefu.sales.events import (
    PaymentReminderCancelled,
    PaymentReminderRecovered,
    PaymentReminderSent,
)
from kefu.sales.models import ReminderStatus
from kefu.sales.settings import quiet_until, settings_of
from kefu.uow import UnitOfWork
from tests.factories import UowFactory
from tests.sales.reminder_shop import PRODUCT, ReminderShop, card_of, make_reminder_shop

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def shop(uow_factory: UowFactory, bus: EventBus, db: Engine, clock: FrozenClock) -> ReminderShop:
    return make_reminder_shop(uow_factory, bus, db, clock)


def at(clock: FrozenClock, local: str) -> datetime:
    """Set the clock to a Shanghai wall time such as "2026-11-23 22:30"."""
    moment = datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)
    clock.set(moment)
    return moment


def test_an_unpaid_order_gets_exactly_one_reminder_thirty_minutes_later(
    shop: ReminderShop, clock: FrozenClock, bus: EventBus
) -> None:
    shop.order("A1001")
    buyer = shop.buyer_id()
    conversation_id = shop.chat(buyer)
    placed = clock.now()

    clock.set(placed + timedelta(minutes=29))
    assert shop.tick() == 0
    assert shop.shop_lines(conversation_id) == []

    clock.set(placed + timedelta(minutes=30))
    with bus.capture() as events:
        assert shop.tick() == 1
    [line, card_line] = shop.shop_lines(conversation_id)  # the words, then the order's card
    assert PRODUCT in line.body and "还没有付款" in line.body and line.card == ""
    assert "优惠券" in line.body  # the shop's coupon/VIP hint
    assert line.sender_type is SenderType.BOT and line.sender_name == "mianli 旗舰店"
    card = card_of(card_line)
    assert (card["type"], card["order_no"], card["status"]) == ("order", "A1001", "unpaid")
    assert card_line.sender_type is SenderType.BOT and "A1001" in card_line.body
    assert [type(e) for e in events if isinstance(e, PaymentReminderSent)] == [PaymentReminderSent]

    for minutes in (31, 60, 24 * 60):  # later rounds never send it again
        clock.set(placed + timedelta(minutes=minutes))
        assert shop.tick() == 0
    assert len(shop.shop_lines(conversation_id)) == 2  # the words and the card
    reminder = shop.reminder("A1001")
    assert reminder is not None
    assert reminder.status is ReminderStatus.SENT
    assert reminder.sent_at == placed + timedelta(minutes=30)
    assert reminder.conversation_id == conversation_id


def test_an_order_paid_before_its_time_gets_no_reminder(
    shop: ReminderShop, clock: FrozenClock, bus: EventBus
) -> None:
    shop.order("A1002")
    conversation_id = shop.chat(shop.buyer_id())
    clock.advance(timedelta(minutes=12))
    with bus.capture() as events:
        shop.pay("A1002")
    assert [(e.status, e.reason) for e in events if isinstance(e, PaymentReminderCancelled)] == [
        ("cancelled", "paid")
    ]
    clock.advance(timedelta(hours=1))
    assert shop.tick() == 0
    assert shop.shop_lines(conversation_id) == []
    reminder = shop.reminder("A1002")
    assert reminder is not None and (reminder.status, reminder.reason) == (
        ReminderStatus.CANCELLED,
        "paid",
    )


def test_a_closed_order_gets_no_reminder(shop: ReminderShop, clock: FrozenClock) -> None:
    shop.order("A1003")
    conversation_id = shop.chat(shop.buyer_id())
    clock.advance(timedelta(minutes=5))
    shop.move("A1003", "closed", closed_at=clock.now())
    clock.advance(timedelta(hours=1))
    assert shop.tick() == 0
    assert shop.shop_lines(conversation_id) == []
    reminder = shop.reminder("A1003")
    assert reminder is not None and (reminder.status, reminder.reason) == (
        ReminderStatus.CANCELLED,
        "closed",
    )


def test_an_order_placed_late_at_night_is_reminded_at_eight_the_next_morning(
    shop: ReminderShop, clock: FrozenClock
) -> None:
    at(clock, "2026-11-23 22:30")
    shop.order("N2230")
    conversation_id = shop.chat(shop.buyer_id())
    reminder = shop.reminder("N2230")
    assert reminder is not None
    assert reminder.due_at == datetime(2026, 11, 24, 8, 0, tzinfo=SHANGHAI)

    for local in ("2026-11-23 23:00", "2026-11-24 03:00", "2026-11-24 07:59"):
        at(clock, local)
        assert shop.tick() == 0
    at(clock, "2026-11-24 08:00")
    assert shop.tick() == 1
    [line, _card] = shop.shop_lines(conversation_id)
    assert line.created_at == datetime(2026, 11, 24, 8, 0, tzinfo=SHANGHAI)


def test_quiet_hours_may_cross_midnight(shop: ReminderShop, clock: FrozenClock) -> None:
    shop.settings(quiet_start="21:00", quiet_end="09:30", reminder_delay_minutes=60)
    at(clock, "2026-11-24 00:10")  # after midnight, inside 21:00–09:30
    shop.order("M0010")
    at(clock, "2026-11-24 19:50")  # before the quiet hours: due 20:50, outside them
    shop.order("E1950", buyer="buyer-2", name="李雷")
    at(clock, "2026-11-24 20:30")  # due 21:30, inside: the next morning
    shop.order("E2030", buyer="buyer-3", name="韩梅梅")
    due = {no: shop.reminder(no) for no in ("M0010", "E1950", "E2030")}
    assert {no: r.due_at.astimezone(SHANGHAI) for no, r in due.items() if r} == {
        "M0010": datetime(2026, 11, 24, 9, 30, tzinfo=SHANGHAI),
        "E1950": datetime(2026, 11, 24, 20, 50, tzinfo=SHANGHAI),
        "E2030": datetime(2026, 11, 25, 9, 30, tzinfo=SHANGHAI),
    }


@pytest.mark.parametrize(
    ("start", "end", "local", "until"),
    [
        ("22:00", "08:00", "2026-11-23 21:59", None),
        ("22:00", "08:00", "2026-11-23 22:00", "2026-11-24 08:00"),
        ("22:00", "08:00", "2026-11-24 07:59", "2026-11-24 08:00"),
        ("22:00", "08:00", "2026-11-24 08:00", None),
        ("12:00", "14:00", "2026-11-24 13:00", "2026-11-24 14:00"),  # not crossing midnight
        ("12:00", "14:00", "2026-11-24 14:00", None),
        ("00:00", "00:00", "2026-11-24 03:00", None),  # the same start and end: none
    ],
)
def test_quiet_hours_end_on_the_shop_clock(
    uow_factory: UowFactory, shop: ReminderShop, start: str, end: str, local: str, until: str | None
) -> None:
    shop.settings(quiet_start=start, quiet_end=end)
    moment = datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)
    with uow_factory() as uow:
        settings = settings_of(uow.session, shop_id=shop.shop_id)
    found = quiet_until(settings, moment=moment, timezone="Asia/Shanghai")
    expected = (
        None
        if until is None
        else datetime.strptime(until, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)
    )
    assert found == expected


def test_quiet_hours_set_after_scheduling_hold_the_reminder_until_morning(
    shop: ReminderShop, clock: FrozenClock
) -> None:
    at(clock, "2026-11-23 18:00")
    shop.order("Q1800")
    conversation_id = shop.chat(shop.buyer_id())
    shop.settings(quiet_start="18:15", quiet_end="09:00")  # the reminder was due at 18:30
    at(clock, "2026-11-23 18:30")
    assert shop.tick() == 0
    reminder = shop.reminder("Q1800")
    assert reminder is not None and reminder.status is ReminderStatus.PENDING
    assert reminder.due_at == datetime(2026, 11, 24, 9, 0, tzinfo=SHANGHAI)
    at(clock, "2026-11-24 09:00")
    assert shop.tick() == 1
    assert len(shop.shop_lines(conversation_id)) == 2  # the words and the card


def test_the_sender_catches_an_order_whose_event_was_missed(
    shop: ReminderShop, db: Engine, clock: FrozenClock
) -> None:
    # The order is committed on a bus with no subscriber: the process "stopped" before it.
    deaf = make_session_factory(db)
    shop.order("S0001", uow=lambda: UnitOfWork(deaf, EventBus(), clock))
    assert shop.reminder("S0001") is None
    conversation_id = shop.chat(shop.buyer_id())
    clock.advance(timedelta(minutes=30))
    assert shop.tick() == 1
    assert len(shop.shop_lines(conversation_id)) == 2  # the words and the card
    clock.advance(timedelta(minutes=30))
    assert shop.tick() == 0


def test_a_payment_whose_event_was_missed_still_cancels_and_still_counts(
    shop: ReminderShop, db: Engine, clock: FrozenClock
) -> None:
    shop.order("P1")
    shop.order("P2", buyer="buyer-2", name="李雷")
    shop.chat(shop.buyer_id("buyer-2"))
    clock.advance(timedelta(minutes=30))
    assert shop.tick() == 1  # P2's buyer has a conversation; P1's has none (skipped)
    clock.advance(timedelta(minutes=10))
    # Both are paid, but the sales subscribers never hear of it.
    deaf_bus, real_bus = EventBus(), shop.bus
    shop.bus = deaf_bus
    factory = make_session_factory(db)
    shop.uow = lambda: UnitOfWork(factory, deaf_bus, clock)
    shop.pay("P2")
    shop.uow = lambda: UnitOfWork(factory, real_bus, clock)
    assert shop.reminder("P2").paid_at is None  # type: ignore[union-attr]
    shop.tick()
    p2 = shop.reminder("P2")
    assert p2 is not None and p2.paid_amount == Decimal("148.90")


def test_reminders_survive_a_restart(
    shop: ReminderShop, database_url: str, clock: FrozenClock
) -> None:
    shop.order("R0001")
    conversation_id = shop.chat(shop.buyer_id())
    clock.advance(timedelta(minutes=45))
    # A new process: its own engine, bus and units of work, nothing in memory from before.
    engine = make_engine(database_url)
    try:
        with UnitOfWork(make_session_factory(engine), EventBus(), clock) as uow:
            assert sales.send_due_reminders(uow) == 1
    finally:
        engine.dispose()
    assert len(shop.shop_lines(conversation_id)) == 2  # the words and the card


def test_the_template_fills_in_its_variables(shop: ReminderShop, clock: FrozenClock) -> None:
    shop.settings(
        reminder_template=(
            "{customer_name}您好,{shop_name}提醒:订单{order_no}(¥{total})里的「{product}」"
            "还没有付款哦。{coupon_hint} —— {customer_surname}"
        ),
        coupon_hint="今天付款送运费险。",
    )
    shop.order("T0001")
    conversation_id = shop.chat(shop.buyer_id())
    clock.advance(timedelta(minutes=30))
    shop.tick()
    [line, _card] = shop.shop_lines(conversation_id)
    assert line.body == (
        "王芳您好,mianli 旗舰店提醒:订单T0001(¥148.90)里的「纯棉家居服女长袖两件套」"
        "还没有付款哦。今天付款送运费险。 —— 王"
    )


@pytest.mark.parametrize(
    ("template", "named"),
    [
        ("亲,{discount}元优惠马上到期", "{discount}"),
        ("{product.__class__}", "{product.__class__}"),
        ("{0}", "{0}"),
        ("{}", "{}"),
        ("{product!r}", "{product!r}"),
        ("{total:>10}", "{total:>10}"),
    ],
)
def test_a_template_with_an_unknown_variable_is_refused_with_its_name(
    shop: ReminderShop, uow_factory: UowFactory, template: str, named: str
) -> None:
    with uow_factory() as uow, pytest.raises(Invalid) as caught:
        sales.update_settings(uow, shop_id=shop.shop_id, reminder_template=template)
    assert caught.value.field == "reminder_template"
    assert named in caught.value.message
    with uow_factory() as uow:
        assert "{discount}" not in settings_of(uow.session, shop_id=shop.shop_id).reminder_template


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reminder_template": "记得付款哦 {"}, "reminder_template"),
        ({"reminder_template": "   "}, "reminder_template"),
        ({"reminder_template": "长" * 501}, "reminder_template"),
        ({"reminder_delay_minutes": 4}, "reminder_delay_minutes"),
        ({"reminder_delay_minutes": 1441}, "reminder_delay_minutes"),
        ({"quiet_start": "24:00"}, "quiet_start"),
        ({"quiet_end": "8点"}, "quiet_end"),
        ({"conversion_window_days": 0}, "conversion_window_days"),
        ({"conversion_window_days": 31}, "conversion_window_days"),
        ({"coupon_hint": "券" * 201}, "coupon_hint"),
    ],
)
def test_bad_settings_are_refused(
    shop: ReminderShop, uow_factory: UowFactory, changes: dict[str, object], field: str
) -> None:
    with uow_factory() as uow, pytest.raises(Invalid) as caught:
        sales.update_settings(uow, shop_id=shop.shop_id, **changes)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_a_buyer_who_never_chatted_is_not_reminded(shop: ReminderShop, clock: FrozenClock) -> None:
    shop.order("C0001")
    clock.advance(timedelta(minutes=30))
    assert shop.tick() == 0
    reminder = shop.reminder("C0001")
    assert reminder is not None
    assert (reminder.status, reminder.reason) == (ReminderStatus.SKIPPED, "no_channel")


def test_reminders_switched_off_are_skipped_when_due(
    shop: ReminderShop, clock: FrozenClock, bus: EventBus
) -> None:
    shop.order("D0001")
    conversation_id = shop.chat(shop.buyer_id())
    shop.settings(reminders_enabled=False)
    clock.advance(timedelta(minutes=30))
    with bus.capture() as events:
        assert shop.tick() == 0
    assert shop.shop_lines(conversation_id) == []
    assert [(e.status, e.reason) for e in events if isinstance(e, PaymentReminderCancelled)] == [
        ("skipped", "disabled")
    ]
    shop.settings(reminders_enabled=True)
    clock.advance(timedelta(minutes=30))
    assert shop.tick() == 0  # switching back on does not bring old ones back


def test_an_old_order_reported_late_is_not_reminded(shop: ReminderShop, clock: FrozenClock) -> None:
    shop.order("H0001", at=clock.now() - timedelta(days=3))  # an import of last week's orders
    shop.chat(shop.buyer_id())
    assert shop.reminder("H0001") is None
    clock.advance(timedelta(minutes=5))
    assert shop.tick() == 0
    assert shop.reminder("H0001") is None


def test_the_reminder_reaches_a_closed_conversation_which_stays_closed(
    shop: ReminderShop, clock: FrozenClock
) -> None:
    shop.order("K0001")
    conversation_id = shop.chat(shop.buyer_id())
    with shop.uow() as uow:
        conversations.close_conversation(
            uow,
            shop_id=shop.shop_id,
            conversation_id=conversation_id,
            closed_by_agent_id=shop.staff.owner.id,
        )
    clock.advance(timedelta(minutes=30))
    assert shop.tick() == 1
    assert len(shop.shop_lines(conversation_id)) == 2  # the words and the card
    with make_session_factory(shop.db)() as session:
        conversation = conversations.get_conversation(
            session, shop_id=shop.shop_id, conversation_id=conversation_id
        )
        assert conversation.status is ConversationStatus.CLOSED


def test_paid_after_the_reminder_shows_as_recovered_revenue(
    shop: ReminderShop, clock: FrozenClock, bus: EventBus, uow_factory: UowFactory
) -> None:
    start = clock.now()
    shop.order("V0001")
    shop.order("V0002", buyer="buyer-2", name="李雷")
    shop.order("V0003", buyer="buyer-3", name="韩梅梅")
    for buyer in ("buyer-1", "buyer-2"):
        shop.chat(shop.buyer_id(buyer))
    clock.advance(timedelta(minutes=30))
    assert shop.tick() == 2  # V0003's buyer never chatted: skipped
    clock.advance(timedelta(minutes=20))
    with bus.capture() as events:
        shop.pay("V0001")
    assert [e.amount for e in events if isinstance(e, PaymentReminderRecovered)] == [
        Decimal("148.90")
    ]
    shop.order("V0004", buyer="buyer-4", name="张三")  # still waiting
    with uow_factory() as uow:
        report = sales.reminder_report(
            uow.session, shop_id=shop.shop_id, since=start, until=clock.now()
        )
    assert (report.sent, report.paid_after_reminder, report.paid_rate) == (2, 1, 0.5)
    assert report.recovered_revenue == Decimal("148.90")
    assert (report.pending, report.skipped, report.cancelled) == (1, 1, 0)
    with uow_factory() as uow:
        rows = sales.list_reminders(uow.session, shop_id=shop.shop_id)
    assert [(r.order_no, r.status.value, r.customer_name) for r in rows] == [
        ("V0004", "pending", "张三"),
        ("V0003", "skipped", "韩梅梅"),
        ("V0002", "sent", "李雷"),
        ("V0001", "sent", "王芳"),
    ]
    assert rows[-1].paid_amount == Decimal("148.90")


def test_another_shops_orders_are_not_in_the_report(
    shop: ReminderShop, uow_factory: UowFactory, bus: EventBus, db: Engine, clock: FrozenClock
) -> None:
    other = make_reminder_shop(uow_factory, bus, db, clock, slug="other")
    other.order("O0001")
    other.chat(other.buyer_id())
    clock.advance(timedelta(minutes=30))
    assert shop.tick() == 1
    with uow_factory() as uow:
        report = sales.reminder_report(
            uow.session,
            shop_id=shop.shop_id,
            since=clock.now() - timedelta(days=1),
            until=clock.now() + timedelta(seconds=1),
        )
        rows = sales.list_reminders(uow.session, shop_id=shop.shop_id)
    assert (report.sent, rows) == (0, [])


def test_settings_default_until_saved(shop: ReminderShop, uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        settings = settings_of(uow.session, shop_id=shop.shop_id)
    assert (
        settings.reminders_enabled,
        settings.reminder_delay_minutes,
        settings.quiet_start,
        settings.quiet_end,
        settings.conversion_window_days,
    ) == (True, 30, "22:00", "08:00", 3)
    assert "{product}" in settings.reminder_template


def test_a_buyer_an_agent_already_reminded_by_hand_gets_no_second_nudge(
    shop: ReminderShop, clock: FrozenClock
) -> None:
    order = shop.order("A1077")
    conversation_id = shop.chat(shop.buyer_id())
    clock.advance(timedelta(minutes=10))
    with shop.uow() as uow:
        noted = sales.note_reminded_by_hand(uow, shop_id=shop.shop_id, order_id=order.id)
    assert (noted.status, noted.reason) == (ReminderStatus.SKIPPED, "by_hand")
    clock.advance(timedelta(hours=1))
    assert shop.tick() == 0
    assert shop.shop_lines(conversation_id) == []
    with shop.uow() as uow, pytest.raises(NotFound):
        sales.note_reminded_by_hand(uow, shop_id=shop.shop_id + 999, order_id=order.id)
