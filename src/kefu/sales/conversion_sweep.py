"""Nothing is missed for long: the subscribers record inquiries and conversions after
other domains' commits, and a process that stops in between loses that reaction. Every
few minutes the server recomputes the recent past of every shop
(:func:`reconcile_recent`, idempotent), so the report is right
within minutes without doing this work on every read. Two processes running it at once
is harmless: each payment is locked while it converts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from anyio import to_thread
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from kefu.commerce.models import Order
from kefu.conversations.models import Conversation, Message, SenderType
from kefu.sales.conversion import (
    conversion_window,
    convert_locked,
    ensure_inquiry,
    presale_team_id,
)
from kefu.sales.models import Inquiry
from kefu.shops.models import Shop
from kefu.uow import UnitOfWork

log = logging.getLogger(__name__)

CHECK_EVERY = 600.0  # seconds


async def watch(unit_of_work: Callable[[], UnitOfWork], *, every: float = CHECK_EVERY) -> None:
    """Run :func:`sweep` every ``every`` seconds until cancelled."""
    while True:
        await asyncio.sleep(every)
        try:
            await to_thread.run_sync(sweep, unit_of_work)
        except Exception:
            log.warning("the conversion sweep failed", exc_info=True)


def sweep(unit_of_work: Callable[[], UnitOfWork]) -> None:
    with unit_of_work() as uow:
        done = reconcile_recent(uow)
    if done.recorded or done.converted:
        log.info(
            "conversion sweep caught up",
            extra={"recorded": done.recorded, "converted": done.converted},
        )


# --- catching up --------------------------------------------------------------------------


@dataclass(frozen=True)
class Reconciled:
    recorded: int  # inquiries the subscribers had missed
    converted: int  # payments credited now


def reconcile_conversions(uow: UnitOfWork, *, shop_id: int, since: datetime) -> Reconciled:
    """Recompute what the subscribers should have written since ``since``: an inquiry for
    every conversation of 售前 opened since then that has none (``started_at`` its
    opening, credited to its agent, else the first agent who answered), then every payment
    since then that converts an inquiry and was not counted. Running it again changes
    nothing. Commits after each write, so a concurrent subscriber waits for little.

    A conversation that left 售前 before its inquiry was recorded is not found again: the
    conversation keeps only the team it is in now.
    """
    session = uow.session
    recorded = 0
    presale = presale_team_id(session, shop_id=shop_id)
    if presale is not None:
        missing = session.scalars(
            select(Conversation)
            .where(
                Conversation.shop_id == shop_id,
                Conversation.team_id == presale,
                Conversation.created_at >= since,
                ~exists().where(Inquiry.conversation_id == Conversation.id),
            )
            .order_by(Conversation.id)
        ).all()
        for conversation in missing:
            agent_id = conversation.assignee_id or _first_agent(session, conversation.id)
            ensure_inquiry(
                uow,
                shop_id=shop_id,
                conversation_id=conversation.id,
                team_id=presale,
                agent_id=agent_id,
                started_at=conversation.created_at,
            )
            uow.commit()
            recorded += 1
    window = conversion_window(session, shop_id=shop_id)
    # Only orders an inquiry of their buyer may take (most payments follow none); the
    # exact window is checked per order (date arithmetic in SQL differs by backend).
    orders = session.scalars(
        select(Order.id)
        .where(
            Order.shop_id == shop_id,
            Order.paid_at.is_not(None),
            Order.paid_at >= since,
            ~exists().where(Inquiry.order_id == Order.id),
            exists().where(
                Inquiry.shop_id == shop_id,
                Inquiry.customer_id == Order.customer_id,
                Inquiry.order_id.is_(None),
                Inquiry.started_at <= Order.paid_at,
                Inquiry.started_at >= since - window,
            ),
        )
        .order_by(Order.paid_at, Order.id)
    ).all()
    converted = 0
    for order_id in orders:
        if convert_locked(uow, shop_id=shop_id, order_id=order_id, window=window):
            converted += 1
        uow.commit()
    return Reconciled(recorded=recorded, converted=converted)


def _first_agent(session: Session, conversation_id: int) -> int | None:
    return session.scalar(
        select(Message.sender_agent_id)
        .where(
            Message.conversation_id == conversation_id,
            Message.sender_type == SenderType.AGENT,
            Message.is_private.is_(False),
        )
        .order_by(Message.seq)
        .limit(1)
    )


def reconcile_recent(uow: UnitOfWork, *, slack: timedelta = timedelta(days=1)) -> Reconciled:
    """:func:`reconcile_conversions` for every shop, over its window and ``slack`` more
    (a payment can only convert an inquiry that started within the window before it)."""
    session = uow.session
    recorded = converted = 0
    now = uow.clock.now()
    for shop_id in session.scalars(select(Shop.id).order_by(Shop.id)).all():
        since = now - conversion_window(session, shop_id=shop_id) - slack
        done = reconcile_conversions(uow, shop_id=shop_id, since=since)
        recorded += done.recorded
        converted += done.converted
    return Reconciled(recorded=recorded, converted=converted)
