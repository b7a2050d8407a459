"""Which buyer messages the bot treats as a question about their order: the phrasings it
must never miss (in traditional characters and with common typos too), and the pre-sale
and policy questions it must leave to the knowledge base."""

from __future__ import annotations

import pytest

from kefu.bot.order_questions import question_of
from kefu.bot.service import Route
from kefu.nlp.analyzer import default_analyzer
from kefu.nlp.entities import extract
from kefu.nlp.intents import DEFAULT_ROUTES, Action


def _question(text: str, awaiting: Action | None = None) -> Action | None:
    reading = default_analyzer().classify(text)
    default = DEFAULT_ROUTES[reading.intent]
    named = next((e for e in extract(text) if e.kind == "order_no"), None)
    return question_of(reading, Route(default.team, default.action), named, awaiting)


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("我的快递到哪了", Action.ORDER_STATUS),
        ("我的快遞到哪了", Action.ORDER_STATUS),
        ("快递到那了", Action.ORDER_STATUS),
        ("宝贝到哪了?", Action.ORDER_STATUS),
        ("什么时候发货", Action.SHIPPING_TIME),
        ("什麼時候發貨", Action.SHIPPING_TIME),
        ("什么时侯发货", Action.SHIPPING_TIME),
        ("能改地址吗", Action.ADDRESS_CHANGE),
        ("能改地址嗎", Action.ADDRESS_CHANGE),
        ("能改地只吗", Action.ADDRESS_CHANGE),
        ("地址填错了能改吗", Action.ADDRESS_CHANGE),
        ("我要取消订单", Action.CANCEL_ORDER),
        ("我要退款", Action.REFUND_REQUEST),
        ("我要退欵", Action.REFUND_REQUEST),
        ("我要退货", Action.RETURN_REQUEST),
        ("我要退貨", Action.RETURN_REQUEST),
        ("我要换货", Action.EXCHANGE_REQUEST),
        ("我要換貨", Action.EXCHANGE_REQUEST),
        ("优惠券用不了", Action.COUPON_PROBLEM),
        ("優惠券用不了", Action.COUPON_PROBLEM),
        ("优惠卷不能用", Action.COUPON_PROBLEM),
        ("退款到哪了", Action.REFUND_STATUS),
        ("E2026112300001", Action.ORDER_STATUS),
    ],
)
def test_order_questions_are_recognised(text: str, action: Action) -> None:
    assert _question(text) is action


@pytest.mark.parametrize(
    "text",
    [
        "你们发货到哪些地方",
        "你们快递在哪里发",
        "你们发什么快递",
        "能发顺丰吗",
        "怎么退货",
        "七天无理由退货吗",
        "我不想退款了",
        "好的那不改地址了",
        "不用改地址了",
        "我的快递现在地址改了吗?",
        "地址没错",
        "能便宜点吗",
        "你好",
    ],
)
def test_pre_sale_and_policy_questions_are_left_to_the_knowledge_base(text: str) -> None:
    assert _question(text) is None


def test_the_number_the_bot_asked_for_answers_the_question_it_asked() -> None:
    assert _question("E2026112300001", awaiting=Action.ADDRESS_CHANGE) is Action.ADDRESS_CHANGE
    # A new question wins over the old one.
    assert _question("E2026112300001 快递到哪了", awaiting=Action.ADDRESS_CHANGE) is (
        Action.ORDER_STATUS
    )
