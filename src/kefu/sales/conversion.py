"""询单转化: which conversations were pre-sale inquiries, and which of them the buyer
followed with a paid order.

The rules, as a shop owner would have them explained:

* **An inquiry** is a conversation that reached 售前 (the team with code ``presale``): it
  started there, the bot handed it there, or someone transferred it there. It counts
  once, from the moment it first reached 售前 (``started_at``); moving on to another team
  later does not undo it, and a conversation that never was in 售前 (售后, 投诉 …) is none.
  A buyer keeps one conversation per channel, so one who comes back to it after the
  window (weeks later, a new purchase in mind) starts a new inquiry there; coming back
  within the window is the same inquiry.
* **Who is credited**: the person of 售前 who has the conversation: the agent it was
  routed, taken or transferred to while in 售前, or, while nobody was assigned, the first
  agent who answered in it. A hand-over inside 售前 moves the credit to the colleague who
  took over, because they are the one the buyer talked to last before paying; a transfer
  out of 售前 (to 售后, say) does not, and a converted inquiry's credit is frozen.
* **Converted**: the buyer paid an order (its ``paid_at``, the shop's time of payment)
  no earlier than the inquiry started and within the shop's window after it
  (``SalesSettings.conversion_window_days``, 3 days by default). The payment goes to the
  buyer's latest unconverted inquiry in that window; an order converts one inquiry at
  most and an inquiry converts once. An order paid before the inquiry started was not
  led by it. A later refund does not undo a conversion: the inquiry did lead to a payment.

Inquiries and conversions are written by subscribers after other domains' commits
(:mod:`kefu.sales.subscribers`). A process that stops between a commit and its
subscribers misses one, so :mod:`kefu.sales.conversion_sweep` recomputes a period from
the conversations and paid orders (idempotent) every few minutes rather than on every
read of the report, which then stays a plain read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, exists, select, update
from sqlalchemy.orm import Session

from kefu.commerce.models import Order
from kefu.conversations import service as conversations
from kefu.errors import NotFound
from kefu.sales.events import InquiryConverted
from kefu.sales.models import Inquiry
from kefu.sales.settings import settings_of
from kefu.shops.models import Team
from kefu.uow import UnitOfWork

PRESALE_TEAM_CODE = "presale"


def conversion_window(session: Session, *, shop_id: int) -> timedelta:
    """How long after an inquiry a payment still counts (the shop's setting, 3 days unless
    it changed it)."""
    return timedelta(days=settings_of(session, shop_id=shop_id).conversion_window_days)


def presale_team_id(session: Session, *, shop_id: int) -> int | None:
    """The shop's 售前 team, or None if the shop has none."""
    return session.scalar(
        select(Team.id).where(Team.shop_id == shop_id, Team.code == PRESALE_TEAM_CODE)
    )


def inquiry_of(session: Session, *, shop_id: int, conversation_id: int) -> Inquiry | None:
    """The conversation's latest inquiry (a returning buyer may have started several)."""
    return session.scalar(
        select(Inquiry)
        .where(Inquiry.shop_id == shop_id, Inquiry.conversation_id == conversation_id)
        .order_by(Inquiry.started_at.desc(), Inquiry.id.desc())
        .limit(1)
    )


# --- recording inquiries ------------------------------------------------------------------


def note_presale(
    uow: UnitOfWork,
    *,
    shop_id: int,
    conversation_id: int,
    team_id: int | None,
    assignee_id: int | None,
    commit: bool = True,
) -> Inquiry | None:
    """The conversation is now in ``team_id`` with ``assignee_id`` (None: waiting in the
    team's queue). In 售前 it is an inquiry (recorded the first time) and the agent who has
    it is credited. Elsewhere nothing changes. Returns the inquiry, if any."""
    session = uow.session
    if team_id is None or team_id != presale_team_id(session, shop_id=shop_id):
        return None
    inquiry = ensure_inquiry(
        uow,
        shop_id=shop_id,
        conversation_id=conversation_id,
        team_id=team_id,
        agent_id=assignee_id,
        started_at=uow.clock.now(),
    )
    if inquiry.converted_at is None and assignee_id is not None:
        inquiry.agent_id = assignee_id
    if commit:
        uow.commit()
    return inquiry


def note_agent_reply(
    uow: UnitOfWork,
    *,
    shop_id: int,
    conversation_id: int,
    team_id: int | None,
    agent_id: int,
    commit: bool = True,
) -> Inquiry | None:
    """An agent answered the buyer in a conversation of ``team_id``: in 售前, an inquiry
    nobody is credited for yet becomes theirs (someone answered from the queue)."""
    session = uow.session
    if team_id is None or team_id != presale_team_id(session, shop_id=shop_id):
        return None
    inquiry = ensure_inquiry(
        uow,
        shop_id=shop_id,
        conversation_id=conversation_id,
        team_id=team_id,
        agent_id=agent_id,
        started_at=uow.clock.now(),
    )
    if inquiry.converted_at is None and inquiry.agent_id is None:
        inquiry.agent_id = agent_id
    if commit:
        uow.commit()
    return inquiry


def ensure_inquiry(
    uow: UnitOfWork,
    *,
    shop_id: int,
    conversation_id: int,
    team_id: int,
    agent_id: int | None,
    started_at: datetime,
) -> Inquiry:
    """The conversation's current inquiry, recorded now if it has none: one that started
    within the conversion window counts (the same visit, or a return a day later); a buyer
    who comes back to the conversation after the window starts a new inquiry."""
    session = uow.session
    # The conversation's row lock: two reactions to the same moment (started, assigned)
    # cannot both find no inquiry and both record one.
    conversation = conversations.lock_conversation(
        session, shop_id=shop_id, conversation_id=conversation_id
    )
    found = inquiry_of(session, shop_id=shop_id, conversation_id=conversation_id)
    window = conversion_window(session, shop_id=shop_id)
    if found is not None and found.started_at >= started_at - window:
        return found
    inquiry = Inquiry(
        shop_id=shop_id,
        conversation_id=conversation_id,
        customer_id=conversation.customer_id,
        team_id=team_id,
        agent_id=agent_id,
        started_at=started_at,
    )
    session.add(inquiry)
    session.flush()
    return inquiry


# --- converting ---------------------------------------------------------------------------


def _candidates(
    shop_id: int, customer_id: int, paid_at: datetime, window: timedelta
) -> tuple[Any, ...]:
    """Where-clauses: the buyer's unconverted inquiries a payment at ``paid_at`` may convert."""
    return (
        Inquiry.shop_id == shop_id,
        Inquiry.customer_id == customer_id,
        Inquiry.order_id.is_(None),
        Inquiry.started_at <= paid_at,
        Inquiry.started_at >= paid_at - window,
    )


def convert_order(
    uow: UnitOfWork, *, shop_id: int, order_id: int, commit: bool = True
) -> Inquiry | None:
    """The order may have been paid: credit it to the buyer's latest unconverted inquiry
    that started no later than the payment and within the window before it. Idempotent:
    an order that already converted one, or is unpaid, changes nothing. Returns the
    inquiry it converted now, if any."""
    session = uow.session
    order = session.get(Order, order_id)
    if order is None or order.shop_id != shop_id:
        raise NotFound("order not found")
    window = conversion_window(session, shop_id=shop_id)
    if order.paid_at is None or not _worth_a_look(session, order, window):
        return None  # the common case (no inquiry before it): read only, nothing locked
    converted = convert_locked(uow, shop_id=shop_id, order_id=order_id, window=window)
    if commit:
        uow.commit()
    return converted


def convert_orders(
    uow: UnitOfWork, *, shop_id: int, order_ids: Sequence[int], commit: bool = True
) -> int:
    """:func:`convert_order` for a batch of orders: one query finds those with an inquiry
    worth a look (most payments have none), and only those are converted one by one.
    Returns how many inquiries converted."""
    if not order_ids:
        return 0
    session = uow.session
    worth = session.scalars(
        select(Order.id)
        .where(
            Order.shop_id == shop_id,
            Order.id.in_(list(order_ids)),
            Order.paid_at.is_not(None),
            exists().where(
                Inquiry.shop_id == shop_id,
                Inquiry.customer_id == Order.customer_id,
                Inquiry.order_id.is_(None),
                Inquiry.started_at <= Order.paid_at,
            ),
            ~exists().where(Inquiry.order_id == Order.id),
        )
        .order_by(Order.paid_at, Order.id)
    ).all()
    converted = 0
    for order_id in worth:  # the window is checked per order by convert_order
        if convert_order(uow, shop_id=shop_id, order_id=order_id, commit=False) is not None:
            converted += 1
    if commit:
        uow.commit()
    return converted


def _worth_a_look(session: Session, order: Order, window: timedelta) -> bool:
    assert order.paid_at is not None
    if session.scalar(select(Inquiry.id).where(Inquiry.order_id == order.id).limit(1)):
        return False  # already converted one
    return bool(
        session.scalar(
            select(Inquiry.id)
            .where(*_candidates(order.shop_id, order.customer_id, order.paid_at, window))
            .limit(1)
        )
    )


def convert_locked(
    uow: UnitOfWork, *, shop_id: int, order_id: int, window: timedelta
) -> Inquiry | None:
    session = uow.session
    # The order's row first (a no-op UPDATE: the row lock on PostgreSQL, the write lock on
    # SQLite), so two reports of the same payment cannot each convert an inquiry.
    session.execute(
        update(Order)
        .where(Order.shop_id == shop_id, Order.id == order_id)
        .values(updated_at=Order.updated_at)
        .execution_options(synchronize_session=False)
    )
    order = session.get(Order, order_id, populate_existing=True)
    if order is None or order.shop_id != shop_id or order.paid_at is None:
        return None
    if session.scalar(select(Inquiry.id).where(Inquiry.order_id == order_id).limit(1)):
        return None
    paid_at = order.paid_at
    candidates = session.scalars(
        select(Inquiry.id)
        .where(*_candidates(shop_id, order.customer_id, paid_at, window))
        .order_by(Inquiry.started_at.desc(), Inquiry.id.desc())
    ).all()
    for inquiry_id in candidates:
        # Only if still unconverted: another order of the buyer may have taken it meanwhile.
        taken = cast(
            CursorResult[Any],
            session.execute(
                update(Inquiry)
                .where(Inquiry.id == inquiry_id, Inquiry.order_id.is_(None))
                .values(order_id=order_id, converted_at=paid_at, amount=order.total)
                .execution_options(synchronize_session=False)
            ),
        )
        if taken.rowcount != 1:
            continue
        inquiry = session.get(Inquiry, inquiry_id, populate_existing=True)
        assert inquiry is not None
        uow.collect(
            InquiryConverted(
                shop_id=shop_id,
                inquiry_id=inquiry.id,
                conversation_id=inquiry.conversation_id,
                customer_id=inquiry.customer_id,
                order_id=order_id,
                agent_id=inquiry.agent_id,
                team_id=inquiry.team_id,
                amount=order.total,
                converted_at=paid_at,
            )
        )
        return inquiry
    return None
