"""The chat widget's side of a conversation: who the buyer is, and what they see."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.channels.visitors import (
    Identity,
    InvalidVisitorToken,
    issue_visitor_token,
    verify_identity,
    verify_visitor_token,
)
from kefu.commerce.models import Order
from kefu.conversations import service as conversations
from kefu.conversations.models import Channel, Conversation, ConversationStatus, Message
from kefu.crm import service as crm
from kefu.crm.models import Customer
from kefu.errors import Conflict, NotFound
from kefu.shops import service as shops
from kefu.shops.models import Shop
from kefu.uow import UnitOfWork

HISTORY_ON_OPEN = 50


@dataclass(frozen=True)
class Visitor:
    shop_id: int
    customer_id: int


@dataclass(frozen=True)
class WidgetSession:
    shop: Shop
    customer: Customer
    visitor_token: str
    conversation: Conversation | None
    messages: list[Message]


def visitor_from_token(uow: UnitOfWork, *, secret: str, token: str) -> Visitor:
    """The buyer a token names, if the token is ours and the customer still exists."""
    claims = verify_visitor_token(secret=secret, token=token, now=uow.clock.now())
    try:
        crm.get_customer(uow.session, shop_id=claims.shop_id, customer_id=claims.customer_id)
    except NotFound:
        raise InvalidVisitorToken(
            "this visitor no longer exists; start a new session",
            key="errors.invalid_visitor_token",
        ) from None
    return Visitor(shop_id=claims.shop_id, customer_id=claims.customer_id)


def start_session(
    uow: UnitOfWork,
    *,
    secret: str,
    shop_slug: str,
    visitor_token: str | None,
    identity: str | None,
    signature: str | None,
) -> WidgetSession:
    """Start or resume the widget for a buyer.

    A signed identity wins (the shop's site knows who is logged in); else a valid visitor
    token resumes; else a new anonymous visitor is created. A token of another shop, or a
    tampered one, is refused (401) — the widget then starts afresh without it.
    """
    session = uow.session
    shop = shops.get_shop_by_slug(session, slug=shop_slug)
    now = uow.clock.now()
    customer: Customer | None = None
    if identity:
        who = verify_identity(
            secret=secret, shop_id=shop.id, identity=identity, signature=signature or "", now=now
        )
        customer = _identified_customer(uow, shop_id=shop.id, who=who)
    elif visitor_token:
        visitor = visitor_from_token(uow, secret=secret, token=visitor_token)
        if visitor.shop_id != shop.id:
            raise InvalidVisitorToken(
                "this visitor token belongs to another shop", key="errors.invalid_visitor_token"
            )
        customer = crm.get_customer(session, shop_id=shop.id, customer_id=visitor.customer_id)
    else:
        customer = crm.create_customer(uow, shop_id=shop.id, commit=False)
    uow.commit()
    conversation = conversations.latest_conversation(
        session, shop_id=shop.id, customer_id=customer.id, channel=Channel.WIDGET
    )
    messages = (
        conversations.latest_messages(
            session,
            shop_id=shop.id,
            conversation_id=conversation.id,
            limit=HISTORY_ON_OPEN,
            include_private=False,
        )
        if conversation is not None
        else []
    )
    # Issued afresh each time, so a buyer who comes back within a year keeps their
    # history for another year.
    token = issue_visitor_token(secret=secret, shop_id=shop.id, customer_id=customer.id, now=now)
    return WidgetSession(
        shop=shop,
        customer=customer,
        visitor_token=token,
        conversation=conversation,
        messages=messages,
    )


def _identified_customer(uow: UnitOfWork, *, shop_id: int, who: Identity) -> Customer:
    """The shop's customer with this external id, created on their first chat. Two first
    chats at once (two tabs) both try to create it: the loser finds the winner's row."""
    query = select(Customer).where(
        Customer.shop_id == shop_id, Customer.external_id == who.external_id
    )
    customer = uow.session.scalar(query)
    if customer is not None:
        return customer
    try:
        customer = crm.create_customer(
            uow,
            shop_id=shop_id,
            external_id=who.external_id,
            name=who.name,
            phone=who.phone,
        )
    except (IntegrityError, Conflict):
        uow.rollback()
        customer = uow.session.scalar(query)
        if customer is None:
            raise
    return customer


def buyer_conversation(session: Session, *, visitor: Visitor) -> Conversation | None:
    return conversations.latest_conversation(
        session, shop_id=visitor.shop_id, customer_id=visitor.customer_id, channel=Channel.WIDGET
    )


@dataclass(frozen=True)
class PreviewBuyer:
    """A buyer the owner may open the chat as, to see what that buyer would see."""

    external_id: str
    name: str
    order_no: str
    order_status: str


# One buyer per kind of order, in this order: what owners most want to try the bot with.
_PREVIEW_STATUSES = ("shipped", "paid", "unpaid", "delivered", "refunding")


def preview_buyers(session: Session, *, shop_id: int) -> list[PreviewBuyer]:
    """Buyers known to the shop's system (with an external id) and not in an open chat, one
    per order status, each by their latest order: the owner's "chat as this buyer" links on
    the widget page."""
    found: list[PreviewBuyer] = []
    seen: set[int] = set()
    for status in _PREVIEW_STATUSES:
        row = session.execute(
            select(Customer, Order.order_no)
            .join(Order, Order.customer_id == Customer.id)
            .where(
                Customer.shop_id == shop_id,
                Customer.external_id.is_not(None),
                Order.shop_id == shop_id,
                Order.status == status,
                Customer.id.not_in(seen) if seen else true(),
                # Not a buyer a colleague is talking with right now: the preview should
                # meet the bot (or the team's queue), not step into a person's chat.
                Customer.id.not_in(
                    select(Conversation.customer_id).where(
                        Conversation.shop_id == shop_id,
                        Conversation.status == ConversationStatus.OPEN,
                    )
                ),
            )
            .order_by(Order.created_at.desc(), Order.id.desc())
            .limit(1)
        ).first()
        if row is None:
            continue
        customer, order_no = row
        seen.add(customer.id)
        found.append(
            PreviewBuyer(
                external_id=customer.external_id or "",
                name=customer.name or customer.nickname,
                order_no=order_no,
                order_status=status,
            )
        )
    return found
