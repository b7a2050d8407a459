"""Messages: the one place they are written, once per client id, numbered without gaps.

Buyers' messages come in through :func:`receive_message`; agents, the bot and the system
write through :func:`send_reply`. Both are idempotent on the client's message id, so a
client that retries after a lost acknowledgement never creates a duplicate.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from kefu.accounts import service as accounts
from kefu.conversations import routing
from kefu.conversations.events import (
    ConversationRef,
    ConversationReopened,
    MessageReceived,
    ReplySent,
)
from kefu.conversations.models import (
    Attachment,
    Conversation,
    ConversationStatus,
    Message,
    SenderType,
)
from kefu.conversations.snapshots import attachment_of, ref, snapshot
from kefu.errors import Conflict, Invalid, NotFound
from kefu.shops import service as shops
from kefu.uow import UnitOfWork
from kefu.validation import clean_text

MAX_MESSAGE_LENGTH = 5000
MAX_CLIENT_MSG_ID_LENGTH = 64
MAX_PAGE_SIZE = 200


def get_conversation(session: Session, *, shop_id: int, conversation_id: int) -> Conversation:
    conversation = session.scalar(
        select(Conversation).where(
            Conversation.shop_id == shop_id, Conversation.id == conversation_id
        )
    )
    if conversation is None:
        raise NotFound("conversation not found")
    return conversation


def lock_conversation(session: Session, *, shop_id: int, conversation_id: int) -> Conversation:
    """The conversation, locked for this transaction and freshly read.

    A no-op UPDATE takes the row lock on PostgreSQL and the write lock on SQLite (where
    SELECT … FOR UPDATE locks nothing), so two writers never take the same sequence number.
    """
    result = session.execute(
        update(Conversation)
        .where(Conversation.shop_id == shop_id, Conversation.id == conversation_id)
        .values(last_seq=Conversation.last_seq)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 1) == 0:
        raise NotFound("conversation not found")
    conversation = session.get(Conversation, conversation_id, populate_existing=True)
    assert conversation is not None  # just updated under lock
    return conversation


def check_body(body: str, *, allow_empty: bool = False) -> str:
    if not body.strip() and not allow_empty:
        raise Invalid("message is empty", field="body")
    if len(body) > MAX_MESSAGE_LENGTH:
        raise Invalid(
            f"message is {len(body)} characters; the limit is {MAX_MESSAGE_LENGTH}",
            field="body",
            key="errors.message_too_long",
            length=len(body),
            limit=MAX_MESSAGE_LENGTH,
        )
    clean_text(body, field="body", max_length=len(body), multiline=True, strip=False)
    return body


def _check_client_msg_id(client_msg_id: str) -> str:
    if not 1 <= len(client_msg_id) <= MAX_CLIENT_MSG_ID_LENGTH or not client_msg_id.isprintable():
        raise Invalid(
            f"client message id must be 1–{MAX_CLIENT_MSG_ID_LENGTH} printable characters",
            field="client_msg_id",
        )
    return client_msg_id


def _attachment_for(
    session: Session,
    *,
    shop_id: int,
    attachment_id: int | None,
    customer_id: int | None,
) -> Attachment | None:
    if attachment_id is None:
        return None
    attachment = session.scalar(
        select(Attachment).where(Attachment.shop_id == shop_id, Attachment.id == attachment_id)
    )
    # A buyer may send only their own uploads (ids are guessable); agents share the shop's.
    if attachment is None:
        raise NotFound("attachment not found")
    if customer_id is not None and attachment.customer_id != customer_id:
        raise NotFound("attachment not found")
    if customer_id is None and attachment.agent_id is None:
        raise NotFound("attachment not found")
    return attachment


def _take_seq(
    session: Session, *, shop_id: int, conversation_id: int, now: datetime, step: int = 1
) -> ConversationRef:
    """Move the conversation's sequence number by ``step`` in one statement, which also
    takes its row lock (PostgreSQL) or the write lock (SQLite) until commit."""
    conversations = cast(Table, Conversation.__table__)
    table = conversations.c
    # Core, not the ORM: this runs for every message, and nothing needs loading. Core does
    # not autoflush, so changes made earlier in this unit of work go out first.
    session.flush()
    row = (
        session.connection()
        .execute(
            update(conversations)
            .where(table.shop_id == shop_id, table.id == conversation_id)
            .values(last_seq=table.last_seq + step, last_message_at=now)
            .returning(
                table.last_seq, table.customer_id, table.team_id, table.assignee_id, table.status
            )
        )
        .one_or_none()
    )
    if row is None:
        raise NotFound("conversation not found")
    loaded = session.identity_map.get(session.identity_key(Conversation, conversation_id))
    if loaded is not None:  # a copy loaded earlier in this transaction is now stale
        session.expire(loaded, ["last_seq", "last_message_at"])
    last_seq, customer_id, team_id, assignee_id, status = row
    return ConversationRef(
        conversation_id=conversation_id,
        customer_id=customer_id,
        team_id=team_id,
        assignee_id=assignee_id,
        status=ConversationStatus(status).value,
        last_seq=last_seq,
    )


def append(
    uow: UnitOfWork,
    *,
    shop_id: int,
    conversation_id: int,
    client_msg_id: str,
    body: str,
    sender_type: SenderType,
    sender_agent_id: int | None = None,
    sender_name: str = "",
    is_private: bool = False,
    attachment_id: int | None = None,
    agent_note: str = "",
    card: str = "",
) -> tuple[Message, ConversationRef, bool]:
    """Store a message once. Returns (message, where the conversation stood, created); a
    retry returns the stored message and created=False. Collects no event: the callers say
    what it was.

    Three statements on the usual path: take the next sequence number (which locks the
    conversation), look for the client id under that lock, insert. A retry gives the number
    back; it is the rare case.
    """
    session = uow.session
    client_msg_id = _check_client_msg_id(client_msg_id)
    body = check_body(body, allow_empty=attachment_id is not None or bool(card))
    now = uow.clock.now()
    where = _take_seq(session, shop_id=shop_id, conversation_id=conversation_id, now=now)
    # The usual answer is "not stored yet": ask for the id only, load the row if it is.
    existing_id = (
        session.connection()
        .execute(
            select(Message.__table__.c.id).where(
                Message.__table__.c.conversation_id == conversation_id,
                Message.__table__.c.client_msg_id == client_msg_id,
            )
        )
        .scalar()
    )
    existing = session.get(Message, existing_id) if existing_id is not None else None
    if existing is not None:
        if (
            existing.body != body
            or existing.sender_type != sender_type
            or existing.attachment_id != attachment_id
        ):
            raise Conflict("this client message id was already used for a different message")
        where = _take_seq(
            session, shop_id=shop_id, conversation_id=conversation_id, now=now, step=-1
        )
        return existing, where, False
    _attachment_for(
        session,
        shop_id=shop_id,
        attachment_id=attachment_id,
        customer_id=where.customer_id if sender_type is SenderType.CUSTOMER else None,
    )
    message = Message(
        shop_id=shop_id,
        conversation_id=conversation_id,
        seq=where.last_seq,
        client_msg_id=client_msg_id,
        sender_type=sender_type,
        sender_agent_id=sender_agent_id,
        sender_name=sender_name[:60],
        body=body,
        is_private=is_private,
        attachment_id=attachment_id,
        agent_note=agent_note[:300],
        card=card,
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message, where, True


def receive_message(
    uow: UnitOfWork,
    *,
    shop_id: int,
    conversation_id: int,
    client_msg_id: str,
    body: str,
    attachment_id: int | None = None,
    commit: bool = True,
) -> Message:
    """A buyer's message. A closed conversation opens again and is routed again."""
    message, where, created = append(
        uow,
        shop_id=shop_id,
        conversation_id=conversation_id,
        client_msg_id=client_msg_id,
        body=body,
        sender_type=SenderType.CUSTOMER,
        attachment_id=attachment_id,
    )
    if created:
        if where.status == ConversationStatus.CLOSED.value:
            # The buyer came back: open again, to the agent they had if that one has room.
            conversation = get_conversation(
                uow.session, shop_id=shop_id, conversation_id=conversation_id
            )
            reopen_if_closed(conversation)
            previous = conversation.assignee_id
            with_bot = shops.get_shop(uow.session, shop_id=shop_id).bot_enabled
            if with_bot:
                # The bot receives the returning buyer first, as it did the first time.
                conversation.with_bot, conversation.team_id = True, None
                conversation.assignee_id = conversation.waiting_since = None
                conversation.priority, conversation.handoff_note = 0, ""
            uow.collect(
                ConversationReopened(
                    shop_id=shop_id,
                    conversation_id=conversation.id,
                    customer_id=conversation.customer_id,
                    team_id=conversation.team_id,
                    assignee_id=previous,
                    by_agent_id=None,
                )
            )
            if not with_bot:
                routing.route(uow, conversation, prefer_agent_id=previous)
            where = ref(conversation, last_seq=where.last_seq)
        uow.collect(
            MessageReceived(
                shop_id=shop_id,
                conversation_id=conversation_id,
                message_id=message.id,
                seq=message.seq,
                message=snapshot(message, attachment_of(uow.session, message)),
                conversation=where,
            )
        )
    if commit:
        uow.commit()
    return message


def send_reply(
    uow: UnitOfWork,
    *,
    shop_id: int,
    conversation_id: int,
    client_msg_id: str,
    body: str,
    sender_type: SenderType,
    sender_agent_id: int | None,
    sender_name: str = "",
    is_private: bool = False,
    attachment_id: int | None = None,
    agent_note: str = "",
    card: str = "",
    commit: bool = True,
) -> Message:
    """An agent's, the bot's or the system's message (or a private note). ``agent_note``
    is shown to staff beside it, never to the buyer (why the bot said it); ``card`` is a
    product or order card made by :mod:`kefu.conversations.cards`."""
    if sender_type is SenderType.CUSTOMER:
        raise Invalid("buyers' messages go through receive_message", field="sender_type")
    if sender_type is SenderType.AGENT and sender_agent_id is None:
        raise Invalid("an agent reply needs the agent", field="sender_agent_id")
    if sender_type is SenderType.AGENT and not sender_name:
        sender_name = accounts.get_agent(
            uow.session, shop_id=shop_id, agent_id=sender_agent_id or 0
        ).display_name
    message, where, created = append(
        uow,
        shop_id=shop_id,
        conversation_id=conversation_id,
        client_msg_id=client_msg_id,
        body=body,
        sender_type=sender_type,
        sender_agent_id=sender_agent_id,
        sender_name=sender_name,
        is_private=is_private,
        attachment_id=attachment_id,
        agent_note=agent_note,
        card=card,
    )
    if created:
        uow.collect(
            ReplySent(
                shop_id=shop_id,
                conversation_id=conversation_id,
                message_id=message.id,
                seq=message.seq,
                sender_type=sender_type.value,
                sender_agent_id=sender_agent_id,
                is_private=is_private,
                message=snapshot(message, attachment_of(uow.session, message)),
                conversation=where,
            )
        )
    if commit:
        uow.commit()
    return message


def reopen_if_closed(conversation: Conversation) -> bool:
    if conversation.status is ConversationStatus.CLOSED:
        conversation.status = ConversationStatus.OPEN
        conversation.closed_at = None
        return True
    return False
