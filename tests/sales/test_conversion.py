"""询单转化: a conversation that reaches 售前 is an inquiry, credited to the 售前 agent who
has it; the buyer paying within the window (3 days by default) converts their latest
inquiry. The clock moves; nothing sleeps. Subscribers are wired as the app wires them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from kefu.bot import service as bot
from kefu.bot.schemas import BotSettingsIn
from kefu.clock import FrozenClock
from kefu.commerce.models import OrderStatus
from kefu.conversations import service as conversations
from kefu.conversations.models import Channel
from kefu.db import make_session_factory
from kefu.errors import Invalid
from kefu.events import EventBus
from kefu.sales import conversion_sweep
from kefu.sales import service as sales
from kefu.sales import subscribers as sales_subscribers
from kefu.sales.events import InquiryConverted
from kefu.sales.settings import update_settings
from kefu.uow import UnitOfWork
from tests.factories import UowFactory
from tests.sales.conversion_floor import PRICE, Floor, make_floor

DAY = timedelta(days=1)


@pytest.fixture
def floor(uow_factory: UowFactory, bus: EventBus, clock: FrozenClock, db: Engine) -> Floor:
    sales_subscribers.install(bus, uow_factory)
    return make_floor(uow_factory, bus, clock, db)


def test_a_presale_chat_paid_two_days_later_converts_credited_to_its_agent_and_team(
    floor: Floor,
) -> None:
    floor.online(floor.staff.agent)
    buyer = floor.buyer()
    started = floor.clock.now()
    conversation = floor.chat(buyer)
    floor.reply(conversation, floor.staff.agent, "这款有现货,M码合适")
    floor.clock.advance(2 * DAY)
    with floor.bus.capture() as events:
        order = floor.pay(buyer, quantity=2)

    inquiry = floor.inquiry(conversation)
    assert inquiry is not None
    assert inquiry.started_at == started
    assert inquiry.agent_id == floor.staff.agent.id
    assert inquiry.team_id == floor.team_id("presale")
    assert (inquiry.order_id, inquiry.converted_at, inquiry.amount) == (
        order.id,
        order.paid_at,
        2 * PRICE,
    )
    converted = [e for e in events if isinstance(e, InquiryConverted)]
    assert converted == [
        InquiryConverted(
            shop_id=floor.shop_id,
            inquiry_id=inquiry.id,
            conversation_id=conversation,
            customer_id=buyer,
            order_id=order.id,
            agent_id=floor.staff.agent.id,
            team_id=floor.team_id("presale"),
            amount=2 * PRICE,
            converted_at=floor.clock.now(),
        )
    ]


def test_a_payment_after_the_window_or_before_the_inquiry_converts_nothing(
    floor: Floor,
) -> None:
    floor.online(floor.staff.agent)
    late, early = floor.buyer("迟到的买家"), floor.buyer("先付款的买家")
    floor.chat(late)
    paid_first = floor.pay(early)  # paid, then asks (e.g. where is my parcel)
    floor.clock.advance(timedelta(hours=1))
    floor.chat(early)
    floor.clock.advance(4 * DAY)
    floor.pay(late)
    floor.report_status(paid_first.id, OrderStatus.SHIPPED)  # reported again: still not
    assert [(i.customer_id, i.order_id) for i in floor.inquiries()] == [
        (late, None),
        (early, None),
    ]


def test_the_window_is_the_shops_setting(floor: Floor) -> None:
    with floor.uow() as uow:
        update_settings(uow, shop_id=floor.shop_id, conversion_window_days=5)
    buyer = floor.buyer()
    conversation = floor.chat(buyer)
    floor.clock.advance(4 * DAY)
    order = floor.pay(buyer)
    inquiry = floor.inquiry(conversation)
    assert inquiry is not None and inquiry.order_id == order.id


def test_an_unpaid_order_converts_when_it_is_reported_paid(floor: Floor) -> None:
    buyer = floor.buyer()
    conversation = floor.chat(buyer)
    order = floor.order_unpaid(buyer)
    inquiry = floor.inquiry(conversation)
    assert inquiry is not None and inquiry.order_id is None
    floor.clock.advance(timedelta(hours=5))
    floor.report_status(order.id, OrderStatus.PAID)
    inquiry = floor.inquiry(conversation)
    assert inquiry is not None
    assert (inquiry.order_id, inquiry.converted_at) == (order.id, floor.clock.now())
    with floor.bus.capture() as events:
        floor.report_status(order.id, OrderStatus.SHIPPED)  # the same payment, again
    assert not [e for e in events if isinstance(e, InquiryConverted)]


def test_an_aftersale_conversation_is_no_inquiry(floor: Floor) -> None:
    floor.online(floor.aftersale)
    buyer = floor.buyer()
    conversation = floor.chat(buyer, team="aftersale")
    floor.reply(conversation, floor.aftersale, "亲,退货地址发您")
    floor.pay(buyer)
    assert floor.inquiries() == []


def test_two_inquiries_and_one_order_convert_only_the_latest(floor: Floor) -> None:
    buyer = floor.buyer()
    first = floor.chat(buyer, channel=Channel.WIDGET)
    floor.clock.advance(DAY)
    second = floor.chat(buyer, channel=Channel.WECHAT)
    floor.clock.advance(DAY / 2)
    order = floor.pay(buyer)
    converted = {i.conversation_id: i.order_id for i in floor.inquiries()}
    assert converted == {first: None, second: order.id}


def test_conversations_reaching_presale_later_count_once_and_credit_follows_presale(
    floor: Floor,
) -> None:
    floor.online(floor.aftersale)
    buyer = floor.buyer()
    conversation = floor.chat(buyer, team="aftersale")
    assert floor.inquiries() == []
    floor.clock.advance(timedelta(minutes=30))
    floor.transfer(conversation, team="presale")  # nobody of 售前 online: it waits
    inquiry = floor.inquiry(conversation)
    assert inquiry is not None and inquiry.agent_id is None
    assert inquiry.started_at == floor.clock.now()
    floor.transfer(conversation, agent=floor.staff.agent)
    floor.transfer(conversation, agent=floor.seller)  # a colleague of 售前 takes over
    floor.transfer(conversation, team="aftersale")  # back to 售后: 售前's credit stays
    floor.transfer(conversation, team="presale")  # and again to 售前: still one inquiry
    [inquiry] = floor.inquiries()
    assert (inquiry.conversation_id, inquiry.agent_id) == (conversation, floor.seller.id)


def test_an_agent_answering_from_the_queue_is_credited(floor: Floor) -> None:
    buyer = floor.buyer()
    conversation = floor.chat(buyer)  # nobody online: it waits in 售前's queue
    floor.reply(conversation, floor.staff.supervisor, "亲,我来帮您看看")
    floor.reply(conversation, floor.seller, "还有别的问题吗")  # the first one keeps it
    inquiry = floor.inquiry(conversation)
    assert inquiry is not None and inquiry.agent_id == floor.staff.supervisor.id


def test_the_bot_handing_over_to_presale_makes_an_inquiry(floor: Floor) -> None:
    with floor.uow() as uow:
        bot.update_settings(uow, shop_id=floor.shop_id, changes=BotSettingsIn(enabled=True))
    floor.online(floor.seller)
    asks, complains = floor.buyer("问尺码的"), floor.buyer("要退货的")
    for buyer, team in ((asks, "presale"), (complains, "aftersale")):
        conversation = floor.chat(buyer)  # with the bot: no team yet, no inquiry
        assert floor.inquiry(conversation) is None
        with floor.uow() as uow:
            conversations.hand_off(
                uow, shop_id=floor.shop_id, conversation_id=conversation, team_code=team, note=""
            )
    assert [(i.customer_id, i.agent_id) for i in floor.inquiries()] == [(asks, floor.seller.id)]


def test_a_converted_inquirys_credit_is_frozen(floor: Floor) -> None:
    floor.online(floor.staff.agent)
    buyer = floor.buyer()
    conversation = floor.chat(buyer)
    floor.pay(buyer)
    floor.transfer(conversation, agent=floor.seller)
    inquiry = floor.inquiry(conversation)
    assert inquiry is not None and inquiry.agent_id == floor.staff.agent.id


def test_reconciling_catches_up_on_what_the_subscribers_missed(
    uow_factory: UowFactory, bus: EventBus, clock: FrozenClock, db: Engine
) -> None:
    # No subscribers: as if the process stopped after each commit, before reacting to it.
    floor = make_floor(uow_factory, bus, clock, db)
    floor.online(floor.staff.agent)
    start = clock.now()
    buyer, other = floor.buyer(), floor.buyer("只问不买")
    conversation = floor.chat(buyer)
    floor.chat(other)
    floor.chat(floor.buyer("售后买家"), team="aftersale")  # no inquiry
    clock.advance(DAY)
    order = floor.pay(buyer)
    floor.pay(other)
    assert floor.inquiries() == []
    with uow_factory() as uow:
        done = sales.reconcile_conversions(uow, shop_id=floor.shop_id, since=start)
    assert (done.recorded, done.converted) == (2, 2)
    inquiry = floor.inquiry(conversation)
    assert inquiry is not None
    assert (inquiry.started_at, inquiry.agent_id, inquiry.order_id) == (
        start,
        floor.staff.agent.id,
        order.id,
    )
    with bus.capture() as events, uow_factory() as uow:
        again = sales.reconcile_conversions(uow, shop_id=floor.shop_id, since=start)
    assert (again.recorded, again.converted, events) == (0, 0, [])
    # The server's sweep does the same for every shop, over the recent past: nothing new.
    conversion_sweep.sweep(uow_factory)
    assert [i.order_id is not None for i in floor.inquiries()] == [True, True]


def test_the_sweep_converts_a_payment_whose_reaction_was_lost(
    uow_factory: UowFactory, bus: EventBus, clock: FrozenClock, db: Engine
) -> None:
    floor = make_floor(uow_factory, bus, clock, db)
    sales_subscribers.install(bus, uow_factory)
    buyer = floor.buyer()
    conversation = floor.chat(buyer)  # recorded by the subscribers
    clock.advance(DAY)
    sessions = make_session_factory(db)
    floor.uow = lambda: UnitOfWork(sessions, EventBus(), clock)  # the reaction is lost
    order = floor.pay(buyer)
    floor.uow = uow_factory
    inquiry = floor.inquiry(conversation)
    assert inquiry is not None and inquiry.order_id is None
    clock.advance(timedelta(minutes=10))
    conversion_sweep.sweep(uow_factory)
    inquiry = floor.inquiry(conversation)
    assert inquiry is not None and inquiry.order_id == order.id


def test_rates_per_agent_and_per_team_count_inquiries_started_in_the_period(
    floor: Floor,
) -> None:
    presale = floor.team_id("presale")
    start = floor.clock.now()
    floor.online(floor.staff.agent)
    mei = [floor.buyer(f"买家{n}") for n in range(3)]
    for buyer in mei:
        floor.chat(buyer)  # 小美 has all three
    floor.offline(floor.staff.agent)
    floor.online(floor.seller)
    jie = floor.buyer("阿杰的买家")
    floor.chat(jie)
    floor.offline(floor.seller)
    floor.chat(floor.buyer("没人接待"))  # waits; nobody answers it
    floor.clock.advance(DAY)
    floor.pay(mei[0], quantity=2)
    floor.pay(mei[1])
    floor.pay(jie)
    with floor.uow() as uow:
        by_agent = sales.conversion_rates(
            uow.session, shop_id=floor.shop_id, since=start, until=floor.clock.now(), by="agent"
        )
        by_team = sales.conversion_rates(
            uow.session, shop_id=floor.shop_id, since=start, until=floor.clock.now(), by="team"
        )
        mine = sales.conversion_rates(
            uow.session,
            shop_id=floor.shop_id,
            since=start,
            until=floor.clock.now(),
            by="agent",
            agent_id=floor.seller.id,
        )
        later = sales.conversion_rates(
            uow.session,
            shop_id=floor.shop_id,
            since=start + timedelta(seconds=1),
            until=floor.clock.now(),
            by="agent",
        )
    rows = [(r.key, r.name, r.inquiries, r.converted, r.rate, r.amount) for r in by_agent.rows]
    assert rows == [
        (floor.staff.agent.id, "小美", 3, 2, 0.6667, 3 * PRICE),
        (floor.seller.id, "阿杰", 1, 1, 1.0, PRICE),
        (None, "", 1, 0, 0.0, Decimal("0.00")),
    ]
    assert by_agent.total is not None
    assert (by_agent.total.inquiries, by_agent.total.converted, by_agent.total.rate) == (5, 3, 0.6)
    assert by_agent.total.amount == 4 * PRICE
    assert by_agent.window_days == 3
    assert [(r.key, r.name, r.inquiries, r.converted) for r in by_team.rows] == [
        (presale, "售前", 5, 3)
    ]
    assert [(r.key, r.inquiries) for r in mine.rows] == [(floor.seller.id, 1)]
    assert mine.total is None
    assert later.rows == [] and later.total is not None and later.total.rate is None


def test_another_shops_inquiries_are_not_counted(
    floor: Floor, uow_factory: UowFactory, bus: EventBus, clock: FrozenClock, db: Engine
) -> None:
    other = make_floor(uow_factory, bus, clock, db, slug="other")
    start = clock.now()
    buyer = other.buyer()
    other.chat(buyer)
    other.pay(buyer)
    assert len(other.inquiries()) == 1
    with floor.uow() as uow:
        report = sales.conversion_rates(
            uow.session, shop_id=floor.shop_id, since=start, until=start + DAY, by="team"
        )
    assert report.rows == []
    assert report.total is not None and report.total.inquiries == 0


@pytest.mark.parametrize(
    ("by", "shift", "field"), [("customer", 1, "by"), ("agent", 0, "until"), ("team", -1, "until")]
)
def test_a_bad_period_or_grouping_is_refused(floor: Floor, by: str, shift: int, field: str) -> None:
    now = floor.clock.now()
    with floor.uow() as uow, pytest.raises(Invalid) as caught:
        sales.conversion_rates(
            uow.session, shop_id=floor.shop_id, since=now, until=now + shift * DAY, by=by
        )
    assert caught.value.field == field


def _buyer_writes(floor: Floor, buyer: int, body: str) -> int:
    with floor.uow() as uow:
        return conversations.receive_customer_message(
            uow, shop_id=floor.shop_id, customer_id=buyer, channel=Channel.WIDGET,
            client_msg_id=f"{floor.clock.now().timestamp()}", body=body,
        ).conversation_id  # fmt: skip


def test_a_buyer_back_in_the_same_chat_after_the_window_is_a_new_inquiry(floor: Floor) -> None:
    floor.online(floor.staff.agent)
    buyer = floor.buyer()
    conversation = _buyer_writes(floor, buyer, "这款卫衣有M码吗")
    floor.reply(conversation, floor.staff.agent)
    floor.clock.advance(DAY)
    assert _buyer_writes(floor, buyer, "还有一个问题") == conversation
    assert len(floor.inquiries()) == 1  # a day later, the same inquiry
    with floor.uow() as uow:
        conversations.close_conversation(
            uow, shop_id=floor.shop_id, conversation_id=conversation,
            closed_by_agent_id=floor.staff.agent.id,
        )  # fmt: skip
    floor.clock.advance(10 * DAY)  # the buyer comes back to the same chat much later
    returned_at = floor.clock.now()
    assert _buyer_writes(floor, buyer, "这款卫衣还有L码吗") == conversation
    floor.clock.advance(DAY)
    order = floor.pay(buyer)
    first, second = sorted(floor.inquiries(), key=lambda i: i.started_at)
    assert first.order_id is None  # its window ran out long ago
    assert (second.started_at, second.order_id) == (returned_at, order.id)
