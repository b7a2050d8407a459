"""A conversation's messages as the coach's turns (private notes and cards left out: the
buyer never read the one, and the other is the shop's data, not an agent's words)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.coach.engine import Role, Turn
from kefu.conversations.models import Message, SenderType

_ROLES: dict[SenderType, Role] = {
    SenderType.CUSTOMER: "buyer",
    SenderType.AGENT: "agent",
    SenderType.BOT: "bot",
    SenderType.SYSTEM: "system",
}
# The live check reads this many of the newest messages: enough for the complaint the
# reply answers and the agent's earlier replies, bounded so a long chat stays fast.
LIVE_WINDOW = 40


def turn_of(message: Message) -> Turn:
    return Turn(
        role=_ROLES[SenderType(message.sender_type)],
        text=message.body or "",
        at=message.created_at,
        agent_id=message.sender_agent_id,
        message_id=message.id,
        seq=message.seq,
    )


def turns_of(
    session: Session, *, shop_id: int, conversation_id: int, newest: int | None = None
) -> list[Turn]:
    """The conversation's turns, oldest first (only the ``newest`` ones when given).
    The caller has checked the conversation belongs to the shop."""
    query = select(Message).where(
        Message.shop_id == shop_id,
        Message.conversation_id == conversation_id,
        Message.is_private.is_(False),
    )
    if newest is not None:
        rows = list(session.scalars(query.order_by(Message.seq.desc()).limit(newest)))[::-1]
    else:
        rows = list(session.scalars(query.order_by(Message.seq)))
    return [turn_of(message) for message in rows if message.body and not message.card]
