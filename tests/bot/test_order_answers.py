"""The bot answers questions about the buyer's own order from the order's real state:
where it is, when it ships, whether the address can still change; it registers refund,
return and exchange requests for a person to decide, and never shows anyone else's order."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from kefu.bot.events import BotAnsweredOrder
from kefu.commerce import service as commerce
from kefu.commerce.models import OrderStatus
from kefu.crm import service as crm
from kefu.db import make_session_factory
from kefu.events import EventBus
from kefu.kb import service as kb
from kefu.sales import service as sales
from kefu.sales.models import AfterSalesCase, CaseKind, CaseStatus
from kefu.shops import service as shops
from tests.bot.conftest import BotShop
from tests.factories import make_shop

HOODIE = "加绒卫衣"


def _catalogue(shop: BotShop, shop_id: int) -> None:
    with shop.uow() as uow:
        for sku, title in (("HOODIE", HOODIE), ("PANTS", "摇粒绒睡裤")):
            commerce.create_product(
                uow,
                shop_id=shop_id,
                sku=sku,
                title=title,
                category="",
                price=Decimal("199.00"),
                variants=[commerce.VariantSpec(sku=f"{sku}-BK-XL", size="XL", colour="黑色")],
            )


@pytest.fixture
def shop(bot_shop: BotShop) -> BotShop:
    _catalogue(bot_shop, bot_shop.shop_id)
    return bot_shop


def _order(
    shop: BotShop,
    customer_id: int,
    order_no: str,
    status: OrderStatus,
    *,
    sku: str = "HOODIE-BK-XL",
    hours_ago: float = 30,
    coupon: str | None = None,
    shop_id: int | None = None,
) -> int:
    """An order as the shop's system reports it, placed ``hours_ago`` and moved along."""
    now = shop.clock.now()
    created = now - timedelta(hours=hours_ago)
    paid = created + timedelta(minutes=5) if status is not OrderStatus.UNPAID else None
    if status is OrderStatus.CLOSED:
        paid = None
    shipped = (
        created + timedelta(hours=20)
        if status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED)
        else None
    )
    delivered = created + timedelta(hours=28) if status is OrderStatus.DELIVERED else None
    with shop.uow() as uow:
        order = commerce.create_order(
            uow,
            shop_id=shop_id or shop.shop_id,
            order_no=order_no,
            customer_id=customer_id,
            lines=[commerce.OrderLineSpec(sku=sku)],
            status=status,
            created_at=created,
            paid_at=paid,
            shipped_at=shipped,
            delivered_at=delivered,
            closed_at=created + timedelta(hours=1) if status is OrderStatus.CLOSED else None,
            courier="中通快递" if shipped else None,
            tracking_no=f"75{order_no[1:]}" if shipped else None,
            coupon_code=coupon,
            discount=Decimal("20.00") if coupon else Decimal(0),
            ship_to_name="王芳",
            ship_to_phone="13800138000",
            ship_to_address="上海市浦东新区世纪大道100号",
        )
        return order.id


def _team(shop: BotShop, conversation_id: int) -> str | None:
    conversation = shop.conversation(conversation_id)
    if conversation.team_id is None:
        return None
    with shop.uow() as uow:
        return shops.get_team(uow.session, shop_id=shop.shop_id, team_id=conversation.team_id).code


def _notes(shop: BotShop, conversation_id: int) -> list[str]:
    return [m.agent_note for m in shop.messages(conversation_id) if m.sender_type.value == "bot"]


def test_a_shipped_order_is_tracked_with_its_courier_and_tracking_number(shop: BotShop) -> None:
    buyer = shop.buyer()
    _order(shop, buyer, "E2026112200001", OrderStatus.SHIPPED)
    conversation_id = shop.say(buyer, "我的快递到哪了")
    answer = shop.bot_lines(conversation_id)[-1]
    # Placed 30 hours before 10:00 on the 23rd (Shanghai), shipped 20 hours later.
    assert answer.startswith(
        "您的订单 E2026112200001 已于 11月23日 00:00 由中通快递发出,运单号 752026112200001"
    )
    assert "已发货 中通快递" in _notes(shop, conversation_id)[-1]
    assert shop.conversation(conversation_id).with_bot  # answered: nobody needs to step in


@pytest.mark.parametrize("ask", ["快遞到哪了", "快递到那了", "包裹到哪了?", "查一下物流"])
def test_variants_traditional_characters_and_typos_are_understood(shop: BotShop, ask: str) -> None:
    buyer = shop.buyer()
    _order(shop, buyer, "E2026112200002", OrderStatus.SHIPPED)
    conversation_id = shop.say(buyer, ask)
    assert "由中通快递发出,运单号 752026112200002" in shop.bot_lines(conversation_id)[-1]


def test_a_paid_order_gets_the_shops_promise_in_shop_time(shop: BotShop) -> None:
    buyer = shop.buyer()
    # Paid at 07:05 on the 23rd, Shanghai time (23:05 on the 22nd in UTC).
    _order(shop, buyer, "E2026112300003", OrderStatus.PAID, hours_ago=3)
    conversation_id = shop.say(buyer, "什么时候发货")
    answer = shop.bot_lines(conversation_id)[-1]
    assert "已付款,我们承诺付款后 48 小时内发货,预计 11月25日 07:05 前发出" in answer

    with shop.uow() as uow:
        commerce.update_commerce_settings(uow, shop_id=shop.shop_id, ships_within_hours=24)
    shop.say(buyer, "我的快递到哪了")
    assert (
        "承诺付款后 24 小时内发货,预计 11月24日 07:05 前发出" in shop.bot_lines(conversation_id)[-1]
    )
    assert shop.conversation(conversation_id).with_bot


def test_a_broken_promise_is_apologised_for_and_goes_to_shipping(shop: BotShop) -> None:
    buyer = shop.buyer()
    _order(shop, buyer, "E2026112000004", OrderStatus.PAID, hours_ago=60)
    conversation_id = shop.say(buyer, "什么时候发货啊")
    assert any("非常抱歉,您的订单 E2026112000004 已超过承诺的发货时间" in line
               for line in shop.bot_lines(conversation_id))  # fmt: skip
    assert _team(shop, conversation_id) == "shipping"
    assert "E2026112000004" in shop.conversation(conversation_id).handoff_note


def test_an_unpaid_order_gets_a_gentle_nudge(shop: BotShop) -> None:
    buyer = shop.buyer()
    _order(shop, buyer, "E2026112300005", OrderStatus.UNPAID, hours_ago=1)
    conversation_id = shop.say(buyer, "快递到哪了")
    answer = shop.bot_lines(conversation_id)[-1]
    assert answer.startswith("您的订单 E2026112300005 还没有付款哦")
    assert "48 小时内为您发货" in answer


def test_without_orders_it_asks_for_the_number_and_answers_the_next_message(
    shop: BotShop,
) -> None:
    buyer = shop.buyer()
    conversation_id = shop.say(buyer, "我的快递到哪了")
    assert "请把订单号发给我" in shop.bot_lines(conversation_id)[-1]
    # The shop's system reports the order a moment later; the buyer copies its number.
    _order(shop, buyer, "E2026112200006", OrderStatus.SHIPPED)
    shop.say(buyer, "E2026112200006")
    assert (
        "E2026112200006 已于 11月23日 00:00 由中通快递发出,运单号 752026112200006"
        in (shop.bot_lines(conversation_id)[-1])
    )


def test_the_number_asked_for_answers_the_question_that_was_asked(shop: BotShop) -> None:
    buyer = shop.buyer()
    conversation_id = shop.say(buyer, "能改地址吗")
    assert "请把订单号发给我" in shop.bot_lines(conversation_id)[-1]
    _order(shop, buyer, "E2026112300007", OrderStatus.PAID, hours_ago=2)
    shop.say(buyer, "订单号是 e2026112300007")
    assert _team(shop, conversation_id) == "shipping"
    assert "E2026112300007" in shop.conversation(conversation_id).handoff_note


def test_another_buyers_or_another_shops_order_is_not_found_and_nothing_leaks(
    shop: BotShop,
) -> None:
    other = shop.buyer("李雷", "M")
    _order(shop, other, "E2026112200008", OrderStatus.SHIPPED)
    elsewhere = make_shop(shop.uow, "othershop")
    _catalogue(shop, elsewhere.id)
    with shop.uow() as uow:
        stranger = crm.create_customer(uow, shop_id=elsewhere.id, nickname="张三", name="张三").id
    _order(shop, stranger, "E2026112200009", OrderStatus.SHIPPED, shop_id=elsewhere.id)

    buyer = shop.buyer()
    conversation_id = shop.say(buyer, "E2026112200008 到哪了")
    shop.say(buyer, "那 E2026112200009 呢,快递到哪了")
    lines = shop.bot_lines(conversation_id)
    not_found = "没有查到这个订单号,请核对一下。您可以在“我的订单”里复制订单号发给我~"
    assert lines.count(not_found) == 2
    # Two numbers it could not find: a person helps the buyer from here.
    conversation = shop.conversation(conversation_id)
    assert not conversation.with_bot and conversation.handoff_note.startswith("机器人两次未能回答")
    shown = "\n".join([*lines, *_notes(shop, conversation_id), conversation.handoff_note])
    for secret in ("中通", "7520261122", "李雷", "张三", "浦东", "已发货", HOODIE):
        assert secret not in shown


def test_with_several_orders_it_asks_which_and_a_number_picks_one(shop: BotShop) -> None:
    buyer = shop.buyer()
    _order(shop, buyer, "E2026112100010", OrderStatus.SHIPPED, hours_ago=50, sku="PANTS-BK-XL")
    _order(shop, buyer, "E2026112200011", OrderStatus.SHIPPED, hours_ago=30)
    conversation_id = shop.say(buyer, "我的快递到哪了")
    question = shop.bot_lines(conversation_id)[-1].splitlines()
    assert question[0].startswith("您最近有 2 个订单,请问是哪一个呢")
    assert question[1] == f"1. E2026112200011 {HOODIE} 黑色 XL(已发货)"  # the latest first
    assert question[2] == "2. E2026112100010 摇粒绒睡裤 黑色 XL(已发货)"
    shop.say(buyer, "2")
    assert "E2026112100010 已于" in shop.bot_lines(conversation_id)[-1]
    assert "运单号 752026112100010" in shop.bot_lines(conversation_id)[-1]

    # Naming the number works as well as picking it from the list.
    shop.say(buyer, "快递到哪了", client_msg_id="again")
    shop.say(buyer, "E2026112200011")
    assert "运单号 752026112200011" in shop.bot_lines(conversation_id)[-1]


def test_an_address_change_before_shipping_goes_to_a_person_with_the_order(
    shop: BotShop,
) -> None:
    shop.agent_online()
    buyer = shop.buyer()
    _order(shop, buyer, "E2026112300012", OrderStatus.PAID, hours_ago=2)
    conversation_id = shop.say(buyer, "能改地址嗎")
    lines = shop.bot_lines(conversation_id)
    assert any("可以为您修改收货地址,已转给同事确认" in line for line in lines)
    conversation = shop.conversation(conversation_id)
    assert not conversation.with_bot and _team(shop, conversation_id) == "shipping"
    assert conversation.handoff_note.startswith("需要人工办理 · 订单 E2026112300012(已付款,待发货")


def test_after_shipping_an_address_change_is_explained_not_handed_off(shop: BotShop) -> None:
    buyer = shop.buyer()
    _order(shop, buyer, "E2026112200013", OrderStatus.SHIPPED)
    conversation_id = shop.say(buyer, "能改地址吗")
    answer = shop.bot_lines(conversation_id)[-1]
    assert "由中通快递发出,运单号 752026112200013,已经无法修改收货地址了" in answer
    assert "联系中通快递修改派送地址" in answer
    assert shop.conversation(conversation_id).with_bot


def test_a_cancellation_before_shipping_is_confirmed_by_a_person(shop: BotShop) -> None:
    buyer = shop.buyer()
    _order(shop, buyer, "E2026112300014", OrderStatus.UNPAID, hours_ago=1)
    conversation_id = shop.say(buyer, "我要取消订单")
    assert any("可以为您取消订单" in line for line in shop.bot_lines(conversation_id))
    assert not shop.conversation(conversation_id).with_bot


def _cases(shop: BotShop) -> list[AfterSalesCase]:
    with make_session_factory(shop.db)() as session:
        return list(session.scalars(select(AfterSalesCase).order_by(AfterSalesCase.id)))


def test_a_refund_request_becomes_a_case_for_a_person_to_decide(shop: BotShop) -> None:
    buyer = shop.buyer()
    order_id = _order(shop, buyer, "E2026112200015", OrderStatus.DELIVERED)
    conversation_id = shop.say(buyer, "我要退款")
    [case] = _cases(shop)
    assert (case.order_id, case.kind, case.status) == (order_id, CaseKind.REFUND, CaseStatus.OPEN)
    assert case.opened_by_agent_id is None and case.decided_by_agent_id is None
    assert case.conversation_id == conversation_id and case.reason == "我要退款"
    conversation = shop.conversation(conversation_id)
    assert not conversation.with_bot and _team(shop, conversation_id) == "aftersale"
    assert (
        "E2026112200015" in conversation.handoff_note and f"#{case.id}" in conversation.handoff_note
    )
    said = "\n".join(m.body for m in shop.messages(conversation_id))
    assert "已为您登记退款申请" in said
    for decision in ("已同意", "退款成功", "已退款", "原路退回"):
        assert decision not in said  # the bot promises nothing: a person decides
    with shop.uow() as uow:
        order = commerce.get_order(uow.session, shop_id=shop.shop_id, order_id=order_id)
        assert order.status is OrderStatus.DELIVERED


@pytest.mark.parametrize(
    ("ask", "kind"), [("我要退貨", CaseKind.RETURN), ("我要換貨", CaseKind.EXCHANGE)]
)
def test_returns_and_exchanges_in_traditional_characters_become_cases(
    shop: BotShop, ask: str, kind: CaseKind
) -> None:
    buyer = shop.buyer()
    _order(shop, buyer, "E2026112200016", OrderStatus.DELIVERED)
    conversation_id = shop.say(buyer, ask)
    [case] = _cases(shop)
    assert (case.kind, case.status) == (kind, CaseStatus.OPEN)
    assert _team(shop, conversation_id) == "aftersale"


def test_a_question_about_the_return_policy_opens_no_case(shop: BotShop) -> None:
    buyer = shop.buyer()
    _order(shop, buyer, "E2026112200017", OrderStatus.DELIVERED)
    shop.say(buyer, "怎么退货")
    shop.say(buyer, "我不想退款了", client_msg_id="no")
    assert _cases(shop) == []


def test_an_unpaid_order_needs_no_refund_and_an_open_case_is_not_opened_twice(
    shop: BotShop,
) -> None:
    buyer = shop.buyer()
    _order(shop, buyer, "E2026112300018", OrderStatus.UNPAID, hours_ago=1)
    conversation_id = shop.say(buyer, "我要退款")
    assert "还没有付款,不需要申请退款" in shop.bot_lines(conversation_id)[-1]
    assert _cases(shop) == [] and shop.conversation(conversation_id).with_bot

    other = shop.buyer("李雷", "M")
    order_id = _order(shop, other, "E2026112200019", OrderStatus.DELIVERED)
    with shop.uow() as uow:
        sales.open_case(
            uow, shop_id=shop.shop_id, order_id=order_id, kind=CaseKind.REFUND,
            reason="买家电话里说要退款", opened_by_agent_id=shop.staff.agent.id,
        )  # fmt: skip
    asked = shop.say(other, "我要退款")
    assert len(_cases(shop)) == 1
    assert any("已经有一个退款申请在处理中" in line for line in shop.bot_lines(asked))
    assert _team(shop, asked) == "aftersale"


def test_the_refund_status_is_told_from_the_case(shop: BotShop) -> None:
    buyer = shop.buyer()
    order_id = _order(shop, buyer, "E2026112200020", OrderStatus.DELIVERED)
    with shop.uow() as uow:
        case = sales.open_case(
            uow, shop_id=shop.shop_id, order_id=order_id, kind=CaseKind.REFUND,
            reason="尺码不合适", opened_by_agent_id=shop.staff.agent.id,
        )  # fmt: skip
    conversation_id = shop.say(buyer, "退款到哪了")
    answer = shop.bot_lines(conversation_id)[-1]
    assert f"退款申请(售后单 #{case.id})已提交,正在等待售后同事审核" in answer


def test_a_coupon_on_the_order_is_named_and_otherwise_promotion_takes_over(
    shop: BotShop,
) -> None:
    buyer = shop.buyer()
    _order(shop, buyer, "E2026112300021", OrderStatus.UNPAID, hours_ago=1, coupon="DOUBLE11-20")
    conversation_id = shop.say(buyer, "优惠券用不了")
    assert "已使用优惠券 DOUBLE11-20,优惠 ¥20.00" in shop.bot_lines(conversation_id)[-1]

    plain = shop.say(shop.buyer("李雷", "M"), "優惠卷用不了")
    assert _team(shop, plain) == "promotion"


def test_pre_sale_shipping_questions_still_get_the_knowledge_base_answer(shop: BotShop) -> None:
    conversation_id = shop.say(shop.buyer(), "多久能发货")
    assert shop.bot_lines(conversation_id)[-1] == "王女士您好,付款后48小时内发货。"


def test_without_an_answer_in_the_knowledge_base_the_promise_is_given_and_a_number_asked(
    shop: BotShop,
) -> None:
    with shop.uow() as uow:
        for entry_id in shop.entry_ids[1:3]:  # the shop's two shipping-time entries
            kb.delete_entry(uow, shop_id=shop.shop_id, entry_id=entry_id)
    buyer = shop.buyer()
    conversation_id = shop.say(buyer, "什么时候发货")
    assert shop.bot_lines(conversation_id)[-1].startswith(
        "我们承诺付款后 48 小时内发货。如果您已经下单,可以把订单号发给我"
    )
    _order(shop, buyer, "E2026112300022", OrderStatus.PAID, hours_ago=3)
    shop.say(buyer, "E2026112300022")
    assert "预计 11月25日 07:05 前发出" in shop.bot_lines(conversation_id)[-1]


def test_each_answer_from_an_order_is_announced_for_the_analytics(
    shop: BotShop, bus: EventBus
) -> None:
    buyer = shop.buyer()
    shipped = _order(shop, buyer, "E2026112200007", OrderStatus.SHIPPED)
    with bus.capture() as events:
        conversation_id = shop.say(buyer, "我的快递到哪了")
        shop.say(buyer, "你好")  # not about an order: nothing more announced
    answered = [e for e in events if isinstance(e, BotAnsweredOrder)]
    assert [(e.conversation_id, e.order_id, e.action) for e in answered] == [
        (conversation_id, shipped, "order_status")
    ]
