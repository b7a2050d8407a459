"""The demo shop: what someone trying Kefu finds in it, and that one seed gives one shop."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from kefu.accounts import service as accounts
from kefu.accounts.auth import LoginPolicy, login
from kefu.accounts.models import Agent
from kefu.clock import FrozenClock
from kefu.commerce.events import OrderCreated, ProductCreated
from kefu.commerce.models import Order, OrderLine, OrderStatus, Product, ProductVariant
from kefu.conversations.events import MessageReceived
from kefu.conversations.models import Conversation, ConversationStatus, Message, SenderType
from kefu.crm.models import Customer
from kefu.demo import (
    DEMO_LOGINS,
    DEMO_PASSWORD,
    DEMO_SHOP_SLUG,
    DemoSummary,
    demo_exists,
    seed_demo_shop,
)
from kefu.demo import seed as seed_module
from kefu.demo.orders import TRACKING_FORMATS
from kefu.errors import Conflict
from kefu.events import EventBus
from kefu.sales import service as sales
from kefu.sales.models import AfterSalesCase, CaseStatus, PaymentReminder
from kefu.shops import service as shops
from kefu.uow import UnitOfWork

UowFactory = Callable[[], UnitOfWork]
POLICY = LoginPolicy(
    max_failures=5, window=timedelta(minutes=15), session_lifetime=timedelta(hours=12)
)
SHIPPED_LIKE = (
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.REFUNDING,
    OrderStatus.REFUNDED,
)


@pytest.fixture
def demo(uow_factory: UowFactory, bus: EventBus) -> tuple[DemoSummary, list[Any]]:
    with bus.capture() as events:
        summary = seed_demo_shop(uow_factory)
    return summary, events


def _rows(uow_factory: UowFactory, model: type[Any], shop_id: int) -> list[Any]:
    with uow_factory() as uow:
        query = select(model).where(model.shop_id == shop_id).order_by(model.id)
        return list(uow.session.scalars(query))


def test_demo_shop_has_catalogue_buyers_and_orders_in_every_status(
    uow_factory: UowFactory, clock: FrozenClock, demo: tuple[DemoSummary, list[Any]]
) -> None:
    summary, events = demo
    products = _rows(uow_factory, Product, summary.shop_id)
    variants = _rows(uow_factory, ProductVariant, summary.shop_id)
    customers = _rows(uow_factory, Customer, summary.shop_id)
    orders = _rows(uow_factory, Order, summary.shop_id)

    assert 45 <= len(products) == summary.products <= 60
    assert {"家居服", "睡衣", "T恤", "卫衣", "羽绒服", "床品", "毛巾", "拖鞋"} <= {
        p.category for p in products
    }
    assert any("新品" in p.tags for p in products) and any("爆款" in p.tags for p in products)
    assert 1 <= sum(not p.on_sale for p in products) <= 5
    assert any(v.stock == 0 for v in variants) and all(v.stock >= 0 for v in variants)
    assert {"M", "均码", "160/84A", "1.8m床"} <= {v.size for v in variants}

    assert len(customers) == summary.customers == 200
    assert all(re.fullmatch(r"tb_\d{10}", c.external_id) for c in customers)
    assert all(2 <= len(c.name) <= 3 for c in customers)
    assert all(c.phone is None or re.fullmatch(r"1[3-9]\d{9}", c.phone) for c in customers)
    assert {c.gender for c in customers} == {"M", "F", None}
    assert {c.vip_level for c in customers} == set(range(6))

    assert len(orders) == 500
    counts = {status.value: sum(o.status is status for o in orders) for status in OrderStatus}
    assert summary.orders == counts
    assert all(counts.values())
    assert len({o.order_no for o in orders}) == 500
    assert all(re.fullmatch(r"\d{19}", o.order_no) for o in orders)
    now = clock.now()
    assert all(now - timedelta(days=62) <= o.created_at <= now for o in orders)
    assert any(now - o.created_at < timedelta(hours=2) for o in orders if o.status == "unpaid")
    assert any(o.coupon_code for o in orders)
    assert all(o.total == o.items_total - o.discount + o.shipping_fee >= 0 for o in orders)
    for order in orders:
        if order.status in SHIPPED_LIKE and order.shipped_at is not None:
            prefixes, length = TRACKING_FORMATS[order.courier]
            pattern = f"({'|'.join(prefixes)})\\d{{{length}}}"
            assert re.fullmatch(pattern, order.tracking_no), (order.courier, order.tracking_no)
        if order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
            assert order.courier and order.tracking_no and order.shipped_at
        assert order.ship_to_address.count(" ") >= 3  # 省 市 区 street

    lines = _rows(uow_factory, OrderLine, summary.shop_id)
    per_order = {o.id: sum(1 for li in lines if li.order_id == o.id) for o in orders}
    assert set(per_order.values()) == {1, 2, 3}

    # Everything went through the services, so subscribers heard of it after the commits.
    assert sum(isinstance(e, ProductCreated) for e in events) == len(products)
    assert sum(isinstance(e, OrderCreated) for e in events) == 500


def test_every_demo_login_can_sign_in(
    uow_factory: UowFactory, demo: tuple[DemoSummary, list[Any]]
) -> None:
    assert {login.email for login in DEMO_LOGINS} >= {
        "owner@demo.kefu",
        "lead@demo.kefu",
        "presale@demo.kefu",
        "presale2@demo.kefu",
        "aftersale@demo.kefu",
        "complaints@demo.kefu",
        "promotion@demo.kefu",
        "shipping@demo.kefu",
    }
    for demo_login in DEMO_LOGINS:
        with uow_factory() as uow:
            result = login(
                uow,
                shop_slug=DEMO_SHOP_SLUG,
                email=demo_login.email,
                password=DEMO_PASSWORD,
                client_address="127.0.0.1",
                user_agent="test",
                policy=POLICY,
            )
        assert result.principal.role.value == demo_login.role
        assert result.principal.name == demo_login.name
    assert demo[0].agents == len(DEMO_LOGINS)


def test_every_team_is_staffed_and_owner_and_lead_see_all_teams(
    uow_factory: UowFactory, demo: tuple[DemoSummary, list[Any]]
) -> None:
    shop_id = demo[0].shop_id
    with uow_factory() as uow:
        teams = shops.list_teams(uow.session, shop_id=shop_id)
        members = accounts.team_members(uow.session, shop_id=shop_id)
        agents = {a.email: a.id for a in accounts.list_agents(uow.session, shop_id=shop_id)}
    assert {t.code for t in teams} == {
        "presale",
        "aftersale",
        "complaints",
        "promotion",
        "shipping",
    }
    names = {t.id: t.name for t in teams}
    for team in teams:
        assert agents["owner@demo.kefu"] in members[team.id]
        assert agents["lead@demo.kefu"] in members[team.id]
        assert len(members[team.id]) >= 3  # someone besides the owner and the lead
    for demo_login in DEMO_LOGINS:
        mine = [names[t] for t, ids in members.items() if agents[demo_login.email] in ids]
        expected = sorted(names.values()) if demo_login.team == "—" else [demo_login.team]
        assert sorted(mine) == expected


_CASE_NUMBER = re.compile(r"(?<=case-)\d+|(?<=#)\d+")


def _content(uow_factory: UowFactory, slug: str) -> dict[str, Any]:
    with uow_factory() as uow:
        shop = shops.get_shop_by_slug(uow.session, slug=slug)
    products = _rows(uow_factory, Product, shop.id)
    variants = _rows(uow_factory, ProductVariant, shop.id)
    customers = _rows(uow_factory, Customer, shop.id)
    orders = _rows(uow_factory, Order, shop.id)
    messages = _rows(uow_factory, Message, shop.id)
    return {
        "products": [(p.sku, p.title, p.price, p.created_at) for p in products],
        "stock": [(v.sku, v.stock) for v in variants],
        "customers": [(c.name, c.nickname, c.phone, c.external_id, c.vip_level) for c in customers],
        "orders": sorted((o.order_no, o.status.value, o.total, o.created_at) for o in orders),
        # After-sales case numbers are database ids, shared by every shop: not the seed's.
        "messages": sorted(
            (_CASE_NUMBER.sub("#N", m.client_msg_id), _CASE_NUMBER.sub("#N", m.body), m.created_at)
            for m in messages
        ),
    }


def test_same_seed_gives_the_same_shop_and_another_seed_another(
    uow_factory: UowFactory,
) -> None:
    seed_demo_shop(uow_factory, slug="demo")
    seed_demo_shop(uow_factory, slug="demo-two")
    seed_demo_shop(uow_factory, slug="demo-three", seed=7)
    first, second, other = (_content(uow_factory, s) for s in ("demo", "demo-two", "demo-three"))
    assert first == second
    assert first["customers"] != other["customers"]
    assert {o[0] for o in first["orders"]}.isdisjoint({o[0] for o in other["orders"]})
    assert first["messages"] != other["messages"]
    # The catalogue is the shop's own; only stock and listing dates vary with the seed.
    assert [p[:3] for p in first["products"]] == [p[:3] for p in other["products"]]


def test_demo_exists_once_seeded_and_is_not_seeded_twice(
    uow_factory: UowFactory, db: Engine
) -> None:
    with uow_factory() as uow:
        assert not demo_exists(uow.session)
    seed_demo_shop(uow_factory)
    with uow_factory() as uow:
        assert demo_exists(uow.session)
        assert not demo_exists(uow.session, slug="demo-two")
    with pytest.raises(Conflict):
        seed_demo_shop(uow_factory)


def test_conversations_read_like_real_service(
    uow_factory: UowFactory, clock: FrozenClock, demo: tuple[DemoSummary, list[Any]]
) -> None:
    summary, events = demo
    shop_id = summary.shop_id
    conversations = _rows(uow_factory, Conversation, shop_id)
    messages = _rows(uow_factory, Message, shop_id)
    orders = {o.order_no: o for o in _rows(uow_factory, Order, shop_id)}
    agents = {a.id: a for a in _rows(uow_factory, Agent, shop_id)}
    with uow_factory() as uow:
        teams = {t.id: t.code for t in shops.list_teams(uow.session, shop_id=shop_id)}
    assert 35 <= len(conversations) == summary.conversations <= 45
    open_ = [c for c in conversations if c.status is ConversationStatus.OPEN]
    assert 3 <= len(open_) <= len(conversations) // 2
    assert len({teams[c.team_id] for c in open_}) >= 4  # waiting in several queues
    assert len({teams[c.team_id] for c in conversations}) == 5
    buyer_messages = sum(m.sender_type is SenderType.CUSTOMER for m in messages)
    assert sum(isinstance(e, MessageReceived) for e in events) == buyer_messages

    now = clock.now()
    for conversation in conversations:
        thread = [m for m in messages if m.conversation_id == conversation.id]
        thread.sort(key=lambda m: m.seq)
        assert [m.seq for m in thread] == list(range(1, len(thread) + 1))
        assert conversation.last_seq == len(thread) >= 1
        times = [m.created_at for m in thread]
        assert times == sorted(times) and times[-1] <= now
        assert conversation.created_at == times[0]
        assert conversation.last_message_at == times[-1]
        kinds = [m.sender_type for m in thread]
        # The buyer starts, except when the shop reminds them to pay.
        assert kinds[0] is SenderType.CUSTOMER or conversation.subject == "催付"
        # Buyer and shop take turns: nobody writes more than three in a row, and a buyer
        # who is answered is answered within two minutes (seed 000: don't make them wait).
        sides = "".join("B" if kind is SenderType.CUSTOMER else "S" for kind in kinds)
        assert "BBBB" not in sides and "SSSS" not in sides, sides
        for before, after in itertools.pairwise(thread):
            if before.sender_type is SenderType.CUSTOMER and after.sender_type in (
                SenderType.AGENT,
                SenderType.BOT,
            ):
                assert after.created_at - before.created_at <= timedelta(minutes=2)
        for message in thread:
            if message.sender_type is SenderType.AGENT:
                agent = agents[message.sender_agent_id]
                assert teams[conversation.team_id] in _team_codes(uow_factory, shop_id, agent)
            # An order number quoted belongs to this buyer.
            for number in re.findall(r"\d{19}", message.body):
                assert orders[number].customer_id == conversation.customer_id
        if conversation.status is ConversationStatus.OPEN:
            assert conversation.closed_at is None
            assert kinds[-1] is SenderType.CUSTOMER  # waiting for the shop's answer
            assert now - times[-1] < timedelta(hours=1)
        else:
            assert times[-1] <= conversation.closed_at <= now


def _team_codes(uow_factory: UowFactory, shop_id: int, agent: Agent) -> set[str]:
    with uow_factory() as uow:
        ids = accounts.team_ids_of(uow.session, shop_id=shop_id, agent_id=agent.id)
        return {shops.get_team(uow.session, shop_id=shop_id, team_id=i).code for i in ids}


def test_complaints_are_handled_the_way_the_playbook_says(
    uow_factory: UowFactory, demo: tuple[DemoSummary, list[Any]]
) -> None:
    shop_id = demo[0].shop_id
    conversations = _rows(uow_factory, Conversation, shop_id)
    messages = _rows(uow_factory, Message, shop_id)
    with uow_factory() as uow:
        complaints = shops.get_team_by_code(uow.session, shop_id=shop_id, code="complaints")
    handled = [
        c
        for c in conversations
        if c.team_id == complaints.id and c.status is ConversationStatus.CLOSED
    ]
    assert len(handled) >= 2
    for conversation in handled:
        replies = [
            m.body
            for m in sorted(messages, key=lambda m: m.seq)
            if m.conversation_id == conversation.id
            and m.sender_type is SenderType.AGENT
            and not m.is_private
        ]
        assert "抱歉" in replies[0]  # apologise first
        assert "订单号" in replies[0]  # then ask for the order number
        assert any(("退款" in r or "补发" in r or "换" in r) for r in replies[1:])  # a remedy
        for reply in replies:  # never blame the courier
            assert not re.search(r"(快递|物流)(公司)?(弄|摔|压|的问题|的责任)", reply)


def test_a_failure_half_way_leaves_no_half_built_shop(
    uow_factory: Callable[[], UnitOfWork], bus: EventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full while writing orders")

    monkeypatch.setattr(seed_module, "_create_orders", crash)
    with bus.capture() as events, pytest.raises(RuntimeError):
        seed_demo_shop(uow_factory)
    with uow_factory() as uow:
        assert not demo_exists(uow.session)
        assert shops.count_shops(uow.session) == 0
        assert uow.session.scalars(select(Customer)).first() is None
    assert events == []  # nothing was committed, so nothing was announced
    monkeypatch.undo()
    # And the operator can simply run it again.
    assert seed_demo_shop(uow_factory).customers == 200


def test_the_demo_shows_sales_work_in_progress(
    uow_factory: UowFactory, demo: tuple[DemoSummary, list[Any]], clock: FrozenClock
) -> None:
    """The 售后 page, the 催付 page and the 询单转化 page have something to show at once."""
    shop_id = demo[0].shop_id
    cases = _rows(uow_factory, AfterSalesCase, shop_id)
    assert {c.status for c in cases} >= {CaseStatus.OPEN, CaseStatus.APPROVED}
    assert all(c.decided_by_agent_id is not None for c in cases if c.status is CaseStatus.APPROVED)
    by_hand = [r for r in _rows(uow_factory, PaymentReminder, shop_id) if r.reason == "by_hand"]
    assert by_hand  # the buyers an agent reminded in a scripted 催付 chat get no second nudge
    with uow_factory() as uow:
        report = sales.conversion_rates(
            uow.session, shop_id=shop_id, since=clock.now() - timedelta(days=90),
            until=clock.now(), by="agent",
        )  # fmt: skip
    assert report.total is not None
    assert report.total.inquiries > 0 and 0 < report.total.converted <= report.total.inquiries
    credited = [row for row in report.rows if row.key is not None]
    assert credited and all(row.name for row in credited)  # to named agents of 售前
