"""Reading a conversation's messages: catch-up after a sequence number, the newest page,
their attachments, and a message by its client id."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.conversations.messages import MAX_PAGE_SIZE, get_conversation
from kefu.conversations.models import Attachment, Message


def list_messages(
    session: Session,
    *,
    shop_id: int,
    conversation_id: int,
    after_seq: int = 0,
    include_private: bool = True,
    limit: int = MAX_PAGE_SIZE,
) -> list[Message]:
    """Messages after a sequence number, oldest first: what a reconnecting client missed."""
    get_conversation(session, shop_id=shop_id, conversation_id=conversation_id)
    query = select(Message).where(
        Message.shop_id == shop_id,
        Message.conversation_id == conversation_id,
        Message.seq > after_seq,
    )
    if not include_private:
        query = query.where(Message.is_private.is_(False))
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    return list(session.scalars(query.order_by(Message.seq).limit(limit)))


def latest_messages(
    session: Session, *, shop_id: int, conversation_id: int, limit: int, include_private: bool
) -> list[Message]:
    """The newest messages, oldest first (what a page shows when it opens)."""
    query = select(Message).where(
        Message.shop_id == shop_id, Message.conversation_id == conversation_id
    )
    if not include_private:
        query = query.where(Message.is_private.is_(False))
    newest = list(session.scalars(query.order_by(Message.seq.desc()).limit(limit)))
    return newest[::-1]


def attachments_of(session: Session, messages: list[Message]) -> dict[int, Attachment]:
    ids = {m.attachment_id for m in messages if m.attachment_id is not None}
    if not ids:
        return {}
    return {a.id: a for a in session.scalars(select(Attachment).where(Attachment.id.in_(ids)))}


def find_by_client_id(
    session: Session, *, conversation_id: int, client_msg_id: str
) -> Message | None:
    return session.scalar(
        select(Message).where(
            Message.conversation_id == conversation_id, Message.client_msg_id == client_msg_id
        )
    )
