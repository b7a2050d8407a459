"""Questions about the buyer's own order, answered from the order itself.

Which messages are about an order is :mod:`kefu.bot.order_questions`; what the bot says,
:mod:`kefu.bot.order_answers`. The order is the one named in the message (only if it is
this buyer's: any other number is "not found", whoever's it is), else the buyer's most
relevant order, else the bot asks which one, or for the number, and answers the buyer's
next message that gives it.

The bot never decides a refund, return or exchange: it registers the request as an
after-sales case and hands the buyer to 售后, where a person decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from kefu.bot import order_answers as answers
from kefu.bot.events import BotAnsweredOrder
from kefu.bot.models import BotConversationState
from kefu.bot.order_answers import Known, OrderOutcome
from kefu.bot.order_questions import action_named, question_of
from kefu.bot.service import Route
from kefu.commerce import service as commerce
from kefu.commerce.models import Order, OrderStatus
from kefu.conversations.models import Conversation
from kefu.errors import Conflict, Invalid, NotFound
from kefu.nlp.analyzer import Reading
from kefu.nlp.entities import Entity, extract
from kefu.nlp.intents import Action
from kefu.sales import service as sales
from kefu.sales.models import CaseKind
from kefu.shops.models import Shop
from kefu.uow import UnitOfWork

# Which of the buyer's orders each question is most likely about, tier by tier: the
# first tier with orders in it wins (several: the buyer is asked which); ``None`` means
# the latest order, whatever its state.
_ANY = None
_BEFORE_SHIPPING = frozenset({OrderStatus.UNPAID, OrderStatus.PAID})
_CHANGE_TIERS = (_BEFORE_SHIPPING, frozenset({OrderStatus.SHIPPED}), _ANY)
_REQUEST_TIERS = (
    frozenset({OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED}),
    _ANY,
)
_TIERS: dict[Action, tuple[frozenset[OrderStatus] | None, ...]] = {
    Action.ORDER_STATUS: (frozenset({OrderStatus.PAID, OrderStatus.SHIPPED}), _ANY),
    Action.SHIPPING_TIME: (
        frozenset({OrderStatus.PAID}),
        frozenset({OrderStatus.UNPAID}),
        frozenset({OrderStatus.SHIPPED}),
    ),
    Action.COUPON_PROBLEM: (_BEFORE_SHIPPING,),
    Action.ADDRESS_CHANGE: _CHANGE_TIERS,
    Action.CANCEL_ORDER: _CHANGE_TIERS,
    Action.ORDER_CHANGE: _CHANGE_TIERS,
    Action.DELAY_SHIPPING: _CHANGE_TIERS,
    Action.REFUND_REQUEST: _REQUEST_TIERS,
    Action.RETURN_REQUEST: _REQUEST_TIERS,
    Action.EXCHANGE_REQUEST: _REQUEST_TIERS,
}
# A delivered order older than this is not what a buyer's "我要退货" is about.
RECENT_DELIVERY = timedelta(days=30)
MAX_CHOICES = 3
# The team for each question when the shop's intent table does not say (a phrasing the
# model did not recognise); refunds, returns and exchanges always go to 售后.
AFTERSALE = "aftersale"
_TEAMS = {
    Action.ORDER_STATUS: "shipping",
    Action.SHIPPING_TIME: "shipping",
    Action.ADDRESS_CHANGE: "shipping",
    Action.DELAY_SHIPPING: "shipping",
    Action.CANCEL_ORDER: AFTERSALE,
    Action.ORDER_CHANGE: "presale",
    Action.REFUND_STATUS: AFTERSALE,
    Action.COUPON_PROBLEM: "promotion",
}
_CHANGES = frozenset(
    {Action.ADDRESS_CHANGE, Action.CANCEL_ORDER, Action.ORDER_CHANGE, Action.DELAY_SHIPPING}
)
_REQUESTS = frozenset({Action.REFUND_REQUEST, Action.RETURN_REQUEST, Action.EXCHANGE_REQUEST})
_PICK = re.compile(r"^\s*第?([123一二三])(?:个|条|单)?\s*$")
_PICK_INDEX = {"1": 0, "一": 0, "2": 1, "二": 1, "3": 2, "三": 2}
_OFFERED = "o:"  # BotConversationState.choices holding order ids, not FAQ entries
MAX_REASON = 1000


@dataclass(frozen=True)
class _Asked:
    """Who asks, in which shop, and when."""

    session: Session
    shop_id: int
    customer_id: int
    conversation_id: int
    zone: ZoneInfo
    now: datetime
    promise_hours: int
    route: Route
    reading: Reading

    def team(self, action: Action) -> str:
        return self.route.team if self.route.action == action.value else _TEAMS[action]


def respond(
    uow: UnitOfWork,
    *,
    shop: Shop,
    conversation: Conversation,
    state: BotConversationState,
    reading: Reading,
    route: Route,
    order_pattern: re.Pattern[str] | None,
) -> OrderOutcome | None:
    """The bot's answer if the message is about an order, else None (and nothing changed
    but a list of orders offered, which any other answer makes stale)."""
    session = uow.session
    now = uow.clock.now()
    zone = ZoneInfo(shop.timezone)
    offered = _offered(state)
    if offered:
        state.choices = ""
    awaiting = action_named(state.awaiting_order_for)
    named = next(
        (
            entity
            for entity in extract(
                reading.normalized.original, now=now.astimezone(zone), order_pattern=order_pattern
            )
            if entity.kind == "order_no"
        ),
        None,
    )
    picked = _picked(reading, offered) if awaiting is not None and named is None else None
    action = awaiting if picked is not None else question_of(reading, route, named, awaiting)
    if action is None:
        return None
    state.awaiting_order_for = ""
    asked = _Asked(
        session=session,
        shop_id=shop.id,
        customer_id=conversation.customer_id,
        conversation_id=conversation.id,
        zone=zone,
        now=now,
        promise_hours=commerce.ships_within_hours(session, shop_id=shop.id),
        route=route,
        reading=reading,
    )
    if named is not None or picked is not None:
        order = (
            _own_by_number(asked, named) if named is not None else _own_by_id(asked, picked or 0)
        )
        if order is None:
            state.awaiting_order_for = action.value
            return _missed(asked, state, action, named.text if named is not None else "")
        if action is Action.REFUND_STATUS:
            return _refund_status(asked, order)
        return _answer(uow, asked, action, _known(asked, [order])[0])
    if action is Action.REFUND_STATUS:
        return _refund_status(asked, None)
    orders = commerce.list_orders_of_customer(
        session, shop_id=shop.id, customer_id=conversation.customer_id
    )
    candidates = _candidates(action, orders, now=now)
    if action is Action.COUPON_PROBLEM:
        found = answers.coupon(_known(asked, candidates[:1])[0]) if candidates else None
        # No coupon on the order: the knowledge base may explain, else 推广 looks at it.
        return found or OrderOutcome(
            handoff_team=asked.team(action), reason="intent", kb_first=True
        )
    if len(candidates) == 1:
        return _answer(uow, asked, action, _known(asked, candidates)[0])
    state.awaiting_order_for = action.value
    if candidates:
        shown = candidates[:MAX_CHOICES]
        state.choices = _OFFERED + ",".join(str(order.id) for order in shown)
        return answers.choose(_known(asked, shown))
    if action is Action.SHIPPING_TIME:
        # Often asked before buying: the shop's own answer, if it has one, comes first.
        outcome = answers.ask_for_number(promise_hours=asked.promise_hours)
        outcome.kb_first = True
        return outcome
    return answers.ask_for_number()


def _offered(state: BotConversationState) -> list[int]:
    if not state.choices.startswith(_OFFERED):
        return []
    return [int(part) for part in state.choices.removeprefix(_OFFERED).split(",") if part]


def _picked(reading: Reading, offered: list[int]) -> int | None:
    match = _PICK.match(reading.normalized.text)
    if match is None:
        return None
    index = _PICK_INDEX[match.group(1)]
    return offered[index] if index < len(offered) else None


def _own_by_number(asked: _Asked, named: Entity) -> Order | None:
    for number in dict.fromkeys((str(named.value), named.text.strip())):
        order = commerce.find_order(asked.session, shop_id=asked.shop_id, order_no=number)
        if order is not None:
            return order if order.customer_id == asked.customer_id else None
    return None


def _own_by_id(asked: _Asked, order_id: int) -> Order | None:
    try:
        order = commerce.get_order(asked.session, shop_id=asked.shop_id, order_id=order_id)
    except NotFound:
        return None
    return order if order.customer_id == asked.customer_id else None


def _missed(asked: _Asked, state: BotConversationState, action: Action, typed: str) -> OrderOutcome:
    outcome = answers.not_found(typed)
    state.unanswered_turns += 1
    if state.unanswered_turns >= 2:  # as with any question it could not answer twice
        outcome.handoff_team, outcome.reason = asked.team(action), "unanswered"
    return outcome


def _candidates(action: Action, orders: list[Order], *, now: datetime) -> list[Order]:
    for tier in _TIERS[action]:
        if tier is _ANY:
            return orders[:1]
        found = [
            order
            for order in orders
            if order.status in tier
            and not (
                order.status is OrderStatus.DELIVERED
                and order.delivered_at is not None
                and order.delivered_at < now - RECENT_DELIVERY
            )
        ]
        if found:
            return found
    return []


def _known(asked: _Asked, orders: list[Order]) -> list[Known]:
    lines = commerce.order_lines(
        asked.session, shop_id=asked.shop_id, order_ids=[order.id for order in orders]
    )
    return [
        Known(
            order=order,
            item=answers.item_of(lines[order.id]),
            promise_hours=asked.promise_hours,
            zone=asked.zone,
            now=asked.now,
        )
        for order in orders
    ]


def _answer(uow: UnitOfWork, asked: _Asked, action: Action, known: Known) -> OrderOutcome:
    outcome = _answer_from_state(uow, asked, action, known)
    if not outcome.kb_first:  # answered from the order (a person may still take over)
        uow.collect(
            BotAnsweredOrder(
                shop_id=asked.shop_id, conversation_id=asked.conversation_id,
                order_id=known.order.id, action=action.value, intent=asked.reading.intent,
            )
        )  # fmt: skip
    return outcome


def _answer_from_state(
    uow: UnitOfWork, asked: _Asked, action: Action, known: Known
) -> OrderOutcome:
    if action in _REQUESTS:
        return _request(uow, asked, action, known)
    if action in _CHANGES:
        return answers.change(known, action, team=asked.team(action))
    if action is Action.COUPON_PROBLEM:
        return answers.coupon(known) or OrderOutcome(
            handoff_team=asked.team(action), reason="intent", summary=known.summary(), kb_first=True
        )
    return answers.status(known, shipping_team=asked.team(Action.SHIPPING_TIME))


def _request(uow: UnitOfWork, asked: _Asked, action: Action, known: Known) -> OrderOutcome:
    """Register a refund, return or exchange as a case for a person to decide."""
    order = known.order
    sent = order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED)
    if action is Action.EXCHANGE_REQUEST and order.status in _BEFORE_SHIPPING:
        # Nothing to send back yet: changing the order itself is the exchange.
        return answers.change(known, Action.ORDER_CHANGE, team=asked.team(Action.ORDER_CHANGE))
    if action is Action.EXCHANGE_REQUEST:
        kind = CaseKind.EXCHANGE
    else:
        kind = CaseKind.RETURN if action is Action.RETURN_REQUEST and sent else CaseKind.REFUND
    try:
        case = sales.open_case(
            uow,
            shop_id=asked.shop_id,
            order_id=order.id,
            kind=kind,
            reason=asked.reading.normalized.original.strip()[:MAX_REASON],
            conversation_id=asked.conversation_id,
            commit=False,
        )
    except Conflict as exc:
        return answers.case_exists(known, kind, exc.params.get("case_id"), team=AFTERSALE)
    except Invalid:
        return answers.case_refused(known, kind, team=AFTERSALE)
    return answers.case_opened(known, case, team=AFTERSALE)


def _refund_status(asked: _Asked, order: Order | None) -> OrderOutcome:
    """The buyer's after-sales case in words; without one, a person looks into it."""
    session = asked.session
    cases = sales.list_cases(
        session,
        shop_id=asked.shop_id,
        customer_id=asked.customer_id,
        order_id=order.id if order is not None else None,
        limit=1,
    )
    if cases:
        case = cases[0]
        if order is None:
            order = commerce.get_order(session, shop_id=asked.shop_id, order_id=case.order_id)
        return answers.case_progress(_known(asked, [order])[0], case)
    if order is not None and order.status in (OrderStatus.REFUNDING, OrderStatus.REFUNDED):
        return answers.status(_known(asked, [order])[0], shipping_team=_TEAMS[Action.SHIPPING_TIME])
    summary = _known(asked, [order])[0].summary() if order is not None else ""
    team = asked.team(Action.REFUND_STATUS)
    return OrderOutcome(handoff_team=team, reason="intent", summary=summary)
