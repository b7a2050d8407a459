"""Nothing falls through: a buyer whose message the bot never answered (the process
stopped between storing the message and answering it, or the bot was switched off while
it was receiving them) is handed to people after a minute."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta

from anyio import to_thread
from sqlalchemy import select

from kefu.bot.events import BotHandedOff
from kefu.conversations import service as conversations
from kefu.conversations.models import Conversation, ConversationStatus, Message, SenderType
from kefu.shops import service as shops
from kefu.uow import UnitOfWork

log = logging.getLogger(__name__)

STALLED_AFTER = timedelta(minutes=1)
CHECK_EVERY = 20.0  # seconds
NOTE = "机器人未能及时回复,已转人工"


def rescue_stalled(uow: UnitOfWork, *, limit: int = 200) -> int:
    """Hand on every conversation still with the bot whose last line is the buyer's and
    older than a minute. Returns how many."""
    session = uow.session
    cutoff = uow.clock.now() - STALLED_AFTER
    last_sender = (
        select(Message.sender_type)
        .where(Message.conversation_id == Conversation.id)
        .order_by(Message.seq.desc())
        .limit(1)
        .correlate(Conversation)
        .scalar_subquery()
    )
    stalled = session.execute(
        select(Conversation.shop_id, Conversation.id)
        .where(
            Conversation.with_bot.is_(True),
            Conversation.status == ConversationStatus.OPEN,
            Conversation.last_message_at < cutoff,
            last_sender == SenderType.CUSTOMER,
        )
        .order_by(Conversation.last_message_at)
        .limit(limit)
    ).all()
    for shop_id, conversation_id in stalled:
        conversations.hand_off(
            uow,
            shop_id=shop_id,
            conversation_id=conversation_id,
            team_code=shops.DEFAULT_TEAM_CODE,
            note=NOTE,
            commit=False,
        )
        uow.collect(
            BotHandedOff(
                shop_id=shop_id,
                conversation_id=conversation_id,
                team_code=shops.DEFAULT_TEAM_CODE,
                reason="stalled",
                priority=0,
            )
        )
    uow.commit()
    return len(stalled)


async def watch(unit_of_work: Callable[[], UnitOfWork], *, every: float = CHECK_EVERY) -> None:
    """Run :func:`rescue_stalled` every ``every`` seconds until cancelled."""
    while True:
        await asyncio.sleep(every)
        try:
            await to_thread.run_sync(_rescue, unit_of_work)
        except Exception:
            log.warning("the bot's watchdog failed", exc_info=True)


def _rescue(unit_of_work: Callable[[], UnitOfWork]) -> None:
    with unit_of_work() as uow:
        handed = rescue_stalled(uow)
    if handed:
        log.info("handed stalled bot conversations to people", extra={"count": handed})
