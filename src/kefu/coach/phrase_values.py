"""The buyer's variables in canned phrases and rule suggestions: {customer_surname}
{customer_title} {order_no} {product} {shop}.

"{customer_surname}{customer_title}您好" must always read well: 王女士 when the buyer's
gender is known (seed 002: address buyers by surname and title), else 亲 — never an empty
"您好" or a bare surname. An unknown ``{name}`` is refused when a phrase or a suggestion is
saved, so a typo never reaches a buyer as literal braces.
"""

from __future__ import annotations

import re
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.bot import service as bot
from kefu.commerce import service as commerce
from kefu.commerce.models import Order
from kefu.conversations import service as conversations
from kefu.conversations.models import Message, SenderType
from kefu.crm import service as crm
from kefu.errors import Invalid
from kefu.nlp.entities import extract
from kefu.shops import service as shops

VARIABLES: Final = ("customer_surname", "customer_title", "order_no", "product", "shop")
_PLACEHOLDER = re.compile(r"\{([^{}\n]{0,40})\}")
# The buyer's newest lines that are searched for an order number: the order being talked
# about is named recently; a long chat's opening lines are not worth extracting again.
BUYER_LINES: Final = 30


def check_variables(text: str, *, field: str) -> str:
    """``text`` if every ``{name}`` in it is a known variable, else an Invalid naming it."""
    for match in _PLACEHOLDER.finditer(text):
        name = match.group(1)
        if name not in VARIABLES:
            known = " ".join("{" + v + "}" for v in VARIABLES)
            raise Invalid(
                f"unknown variable {{{name}}}; the variables are {known}",
                field=field, key="coach.error.unknown_variable", name=name, known=known,
            )  # fmt: skip
    return text


def render(text: str, values: dict[str, str]) -> str:
    """The text with each known ``{variable}`` replaced (anything else left as it is)."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        return values[name] if name in values else match.group(0)

    return _PLACEHOLDER.sub(fill, text)


def example_values(shop_name: str) -> dict[str, str]:
    """What the phrase page's preview fills in: a buyer whose details are all known."""
    return {
        "customer_surname": "王",
        "customer_title": "女士",
        "order_no": "DD20261123001",
        "product": "羊毛双面呢大衣",
        "shop": shop_name,
    }


def variables_for(session: Session, *, shop_id: int, conversation_id: int | None) -> dict[str, str]:
    """The values for a conversation's buyer (the caller has checked the agent may see
    it); without a conversation only the shop's name is known. The order is the buyer's
    own that they named most recently, else their latest."""
    shop = shops.get_shop(session, shop_id=shop_id)
    values = {"customer_surname": "", "customer_title": "亲", "order_no": "", "product": ""}
    values["shop"] = shop.name
    if conversation_id is None:
        return values
    conversation = conversations.get_conversation(
        session, shop_id=shop_id, conversation_id=conversation_id
    )
    customer = crm.get_customer(session, shop_id=shop_id, customer_id=conversation.customer_id)
    title = crm.title_of(customer)
    if title is not None:
        values["customer_surname"] = customer.name[0]
        values["customer_title"] = title
    order = _named_order(
        session, shop_id=shop_id, conversation_id=conversation_id,
        customer_id=customer.id, zone=ZoneInfo(shop.timezone),
    )  # fmt: skip
    if order is None:
        latest = commerce.list_orders_of_customer(
            session, shop_id=shop_id, customer_id=customer.id, limit=1
        )
        order = latest[0] if latest else None
    if order is not None:
        values["order_no"] = order.order_no
        lines = commerce.order_lines(session, shop_id=shop_id, order_ids=[order.id])[order.id]
        values["product"] = lines[0].title if lines else ""
    return values


def _named_order(
    session: Session, *, shop_id: int, conversation_id: int, customer_id: int, zone: ZoneInfo
) -> Order | None:
    """The buyer's own order they named most recently. A number that is no order of
    theirs is left out: a courier's tracking number looks like one, and another buyer's
    order is none of this buyer's business."""
    lines = session.scalars(
        select(Message)
        .where(
            Message.shop_id == shop_id,
            Message.conversation_id == conversation_id,
            Message.sender_type == SenderType.CUSTOMER,
            Message.is_private.is_(False),
        )
        .order_by(Message.seq.desc())
        .limit(BUYER_LINES)
    )
    pattern = bot.order_pattern_of(bot.settings_of(session, shop_id=shop_id))
    named: list[str] = []  # newest first
    for message in lines:
        if not message.body:
            continue
        at = message.created_at.astimezone(zone)
        for entity in reversed(extract(message.body, now=at, order_pattern=pattern)):
            number = str(entity.value).strip()
            if entity.kind == "order_no" and number and len(number) <= 40:
                named.append(number)
    if not named:
        return None
    # One query for every number named, however many: the live check runs on each pause.
    orders = {
        order.order_no: order
        for order in session.scalars(
            select(Order).where(
                Order.shop_id == shop_id,
                Order.customer_id == customer_id,
                Order.order_no.in_(set(named)),
            )
        )
    }
    return next((orders[number] for number in named if number in orders), None)
