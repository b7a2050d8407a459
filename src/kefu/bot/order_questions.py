"""Whether a buyer's message is a question about their order, and which one.

A message is about an order when its intent has an order action (tracking, shipping time,
address change, cancellation, refund, return, exchange, coupon …) and the model is sure
of it, or when it is one of a few phrasings the bot must never miss ("快递到哪了",
"我要退款" …, in any script: the text is normalised first), or when it carries an order
number (the answer to the bot's "which order?").
"""

from __future__ import annotations

import re

from kefu.bot.service import Route
from kefu.nlp.analyzer import Reading
from kefu.nlp.entities import Entity
from kefu.nlp.intents import Action

ORDER_CONFIDENCE = 0.6  # as sure as the bot must be of an intent before acting on it
ORDER_ACTIONS = frozenset(
    {
        Action.ORDER_STATUS,
        Action.SHIPPING_TIME,
        Action.ADDRESS_CHANGE,
        Action.CANCEL_ORDER,
        Action.ORDER_CHANGE,
        Action.DELAY_SHIPPING,
        Action.REFUND_REQUEST,
        Action.REFUND_STATUS,
        Action.RETURN_REQUEST,
        Action.EXCHANGE_REQUEST,
        Action.COUPON_PROBLEM,
    }
)
# Intents filed under an order action that ask about the shop's rules (the knowledge base
# answers those), report something a person must look into, or ask for nothing at all.
_NOT_A_REQUEST = frozenset(
    {
        "买家咨询退换货规则",
        "买家咨询退换货地址",
        "买家咨询退换货运费由谁承担",
        "买家咨询退换货支持快递",
        "买家咨询退货退款原因选什么",
        "买家咨询是否可以拒收",
        "买家咨询换货发货时间",
        "买家表示具体时间寄回去",
        "买家表示商品已经寄回去了",
        "买家表示收件信息不需要修改了",
        "买家确认地址是否修改成功",
        "买家要求核对订单信息",
        "买家要求退运费",
        "买家表示商家发错货了",
        "买家表示商家发错地址",
    }
)
# "要/想/申请/帮我 …", but not "不要 …" / "不想 …".
_WANTS = r"(?<!不)(?:要|想|申请|帮我)(?:申请)?"
# Phrasings that must work whatever the model makes of them (on normalised text:
# simplified, lower case), first match wins. Narrow on purpose: each names the request.
_PHRASES: tuple[tuple[re.Pattern[str], Action], ...] = tuple(
    (re.compile(pattern), action)
    for pattern, action in (
        (r"退款.{0,3}(?:到哪|在哪|进度|到账|什么时候到|多久到)", Action.REFUND_STATUS),
        # "到哪了" (but not "发货到哪些地方", where the shop ships to) …
        (r"(?:快递|包裹|物流|(?<!发)货|订单|宝贝)(?:现在)?到(?:哪|那)", Action.ORDER_STATUS),
        # … and "我的快递在哪" (but not "你们快递在哪里发", where it ships from).
        (r"我的(?:快递|包裹|订单)(?:现在)?在(?:哪|那)", Action.ORDER_STATUS),
        (r"查(?:一下|下)?(?:物流|快递)", Action.ORDER_STATUS),
        (r"(?:什么|啥|几)时[候侯]?(?:能|可以|会|才)?发货", Action.SHIPPING_TIME),
        # Not "不改地址了" (the buyer changed their mind) nor "地址改了吗" (asking whether
        # a change went through: a person checks that).
        (
            r"(?<![不别])(?:改|修改|更改|换)(?:一下|个)?(?:收货|收件)?地[址只](?!了)"
            r"|地[址只](?:填|写|选)错"
            r"|地[址只](?:能|可以|可不可以|要|想|帮我)?(?:修)?改(?![了好过])",
            Action.ADDRESS_CHANGE,
        ),
        (
            r"取消(?:一下|这个|这笔|我的|掉)?订单|订单(?:能|可以|可不可以|帮我)?取消",
            Action.CANCEL_ORDER,
        ),
        (_WANTS + r"(?:退货|退款退货|退货退款)", Action.RETURN_REQUEST),
        (_WANTS + r"(?:退[款欵]|退钱)", Action.REFUND_REQUEST),
        (_WANTS + r"(?:换货|换(?:个|一个|一下)?(?:尺码|码|颜色|大小|款))", Action.EXCHANGE_REQUEST),
        (
            r"[券卷].{0,4}(?:用不了|不能用|无法使用|用不上|没法用|使用不了|不可用)",
            Action.COUPON_PROBLEM,
        ),
    )
)


# The buyer withdraws a request: "不改地址了", "不用退了", "别取消".
_CHANGED_MIND = re.compile(r"(?:不|别|不用|不要|不想|不需要)(?:再)?(?:修改|更改|改|取消|退|换)")


def question_of(
    reading: Reading, route: Route, named: Entity | None, awaiting: Action | None
) -> Action | None:
    """The order question the message asks (``named``: the order number in it, if any;
    ``awaiting``: the question the bot asked the number for), or None."""
    text = reading.normalized.text
    for pattern, action in _PHRASES:
        if pattern.search(text):
            return action
    if named is not None and awaiting is not None:
        return awaiting  # the number the bot asked for
    if _CHANGED_MIND.search(text):
        return None  # "不改地址了", "不用退了": nothing to do (the model reads the verb only)
    sure = reading.confidence >= ORDER_CONFIDENCE
    chosen = action_named(route.action)
    if sure and chosen in ORDER_ACTIONS and reading.intent not in _NOT_A_REQUEST:
        return chosen
    if named is not None and not (sure and chosen is not None):
        return Action.ORDER_STATUS  # a bare order number: where it is
    return None


def action_named(value: str | None) -> Action | None:
    try:
        return Action(value) if value else None
    except ValueError:  # an action name from an older version
        return None
