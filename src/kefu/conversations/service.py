"""Conversations and messages: the one place messages are written.

Buyers' messages come in through :func:`receive_message`; agents and the bot answer
through :func:`send_reply`. Both are idempotent on the client's message id, so a client
that retries after a lost acknowledgement never creates a duplicate.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.conversations.events import (
    ConversationClosed,
    ConversationStarted,
    MessageReceived,
    ReplySent,
)
from kefu.conversations.models import (
    Channel,
    Conversation,
    ConversationStatus,
    Message,
    SenderType,
)
from kefu.crm import service as crm
from kefu.errors import Conflict, Invalid, NotFound
from kefu.shops import service as shops
from kefu.uow import UnitOfWork
from kefu.validation import clean_text

MAX_MESSAGE_LENGTH = 5000
MAX_CLIENT_MSG_ID_LENGTH = 64
MAX_PAGE_SIZE = 200


def start_conversation(
    uow: UnitOfWork,
    *,
    shop_id: int,
    customer_id: int,
    channel: Channel,
    team_code: str = shops.DEFAULT_TEAM_CODE,
    subject: str = "",
    commit: bool = True,
) -> Conversation:
    session = uow.session
    crm.get_customer(session, shop_id=shop_id, customer_id=customer_id)
    team = shops.get_team_by_code(session, shop_id=shop_id, code=team_code)
    now = uow.clock.now()
    conversation = Conversation(
        shop_id=shop_id,
        customer_id=customer_id,
        channel=channel,
        status=ConversationStatus.OPEN,
        team_id=team.id,
        subject=subject[:200],
        last_seq=0,
        created_at=now,
        last_message_at=now,
    )
    session.add(conversation)
    session.flush()
    uow.collect(
        ConversationStarted(
            shop_id=shop_id,
            conversation_id=conversation.id,
            customer_id=customer_id,
            team_id=team.id,
            channel=channel.value,
        )
    )
    if commit:
        uow.commit()
    return conversation


def _check_body(body: str) -> str:
    if not body.strip():
        raise Invalid("message is empty", field="body")
    clean_text(body, field="body", max_length=len(body), multiline=True, strip=False)
    if len(body) > MAX_MESSAGE_LENGTH:
        raise Invalid(
            f"message is {len(body)} characters; the limit is {MAX_MESSAGE_LENGTH}",
            field="body",
        )
    return body


def _check_client_msg_id(client_msg_id: str) -> str:
    if not 1 <= len(client_msg_id) <= MAX_CLIENT_MSG_ID_LENGTH:
        raise Invalid(
            f"client message id must be 1–{MAX_CLIENT_MSG_ID_LENGTH} characters",
            field="client_msg_id",
        )
    return client_msg_id


def _append(
    uow: UnitOfWork,
    *,
    shop_id: int,
    conversation_id: int,
    client_msg_id: str,
    body: str,
    sender_type: SenderType,
    sender_agent_id: int | None,
    is_private: bool,
) -> tuple[Message, bool]:
    """Store a message once. Returns (message, created); a retry returns the stored one."""
    session = uow.session
    client_msg_id = _check_client_msg_id(client_msg_id)
    body = _check_body(body)
    # Lock the conversation row so two writers cannot take the same sequence number.
    conversation = session.scalar(
        select(Conversation)
        .where(Conversation.shop_id == shop_id, Conversation.id == conversation_id)
        .with_for_update()
    )
    if conversation is None:
        raise NotFound("conversation not found")
    existing = session.scalar(
        select(Message).where(
            Message.conversation_id == conversation_id, Message.client_msg_id == client_msg_id
        )
    )
    if existing is not None:
        if existing.body != body or existing.sender_type != sender_type:
            raise Conflict("this client message id was already used for a different message")
        return existing, False
    now = uow.clock.now()
    conversation.last_seq += 1
    conversation.last_message_at = now
    message = Message(
        shop_id=shop_id,
        conversation_id=conversation_id,
        seq=conversation.last_seq,
        client_msg_id=client_msg_id,
        sender_type=sender_type,
        sender_agent_id=sender_agent_id,
        body=body,
        is_private=is_private,
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message, True


def receive_message(
    uow: UnitOfWork,
    *,
    shop_id: int,
    conversation_id: int,
    client_msg_id: str,
    body: str,
    commit: bool = True,
) -> Message:
    """A buyer's message. Reopens a closed conversation: the buyer came back."""
    message, created = _append(
        uow,
        shop_id=shop_id,
        conversation_id=conversation_id,
        client_msg_id=client_msg_id,
        body=body,
        sender_type=SenderType.CUSTOMER,
        sender_agent_id=None,
        is_private=False,
    )
    if created:
        conversation = get_conversation(
            uow.session, shop_id=shop_id, conversation_id=conversation_id
        )
        if conversation.status is ConversationStatus.CLOSED:
            conversation.status = ConversationStatus.OPEN
            conversation.closed_at = None
        uow.collect(
            MessageReceived(
                shop_id=shop_id,
                conversation_id=conversation_id,
                message_id=message.id,
                seq=message.seq,
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
    is_private: bool = False,
    commit: bool = True,
) -> Message:
    """An agent's or the bot's message (or a private note). Same path for both, same events."""
    if sender_type is SenderType.CUSTOMER:
        raise Invalid("buyers' messages go through receive_message", field="sender_type")
    if sender_type is SenderType.AGENT and sender_agent_id is None:
        raise Invalid("an agent reply needs the agent", field="sender_agent_id")
    message, created = _append(
        uow,
        shop_id=shop_id,
        conversation_id=conversation_id,
        client_msg_id=client_msg_id,
        body=body,
        sender_type=sender_type,
        sender_agent_id=sender_agent_id,
        is_private=is_private,
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
            )
        )
    if commit:
        uow.commit()
    return message


def close_conversation(
    uow: UnitOfWork,
    *,
    shop_id: int,
    conversation_id: int,
    closed_by_agent_id: int | None,
    commit: bool = True,
) -> Conversation:
    conversation = get_conversation(uow.session, shop_id=shop_id, conversation_id=conversation_id)
    if conversation.status is not ConversationStatus.CLOSED:
        conversation.status = ConversationStatus.CLOSED
        conversation.closed_at = uow.clock.now()
        uow.collect(
            ConversationClosed(
                shop_id=shop_id,
                conversation_id=conversation.id,
                closed_by_agent_id=closed_by_agent_id,
            )
        )
    if commit:
        uow.commit()
    return conversation


def get_conversation(session: Session, *, shop_id: int, conversation_id: int) -> Conversation:
    conversation = session.scalar(
        select(Conversation).where(
            Conversation.shop_id == shop_id, Conversation.id == conversation_id
        )
    )
    if conversation is None:
        raise NotFound("conversation not found")
    return conversation


def list_conversations(
    session: Session,
    *,
    shop_id: int,
    status: ConversationStatus | None = None,
    team_ids: Sequence[int] | None = None,
    customer_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Conversation]:
    query = select(Conversation).where(Conversation.shop_id == shop_id)
    if status is not None:
        query = query.where(Conversation.status == status)
    if team_ids is not None:
        query = query.where(Conversation.team_id.in_(team_ids))
    if customer_id is not None:
        query = query.where(Conversation.customer_id == customer_id)
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    query = query.order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
    return list(session.scalars(query.limit(limit).offset(max(0, offset))))


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


def count_open_by_team(session: Session, *, shop_id: int) -> dict[int | None, int]:
    rows = session.execute(
        select(Conversation.team_id, func.count(Conversation.id))
        .where(Conversation.shop_id == shop_id, Conversation.status == ConversationStatus.OPEN)
        .group_by(Conversation.team_id)
    )
    return {team_id: count for team_id, count in rows}  # noqa: C416 (Row, not tuple)


def count_conversations(session: Session, *, shop_id: int) -> dict[ConversationStatus, int]:
    rows = session.execute(
        select(Conversation.status, func.count(Conversation.id))
        .where(Conversation.shop_id == shop_id)
        .group_by(Conversation.status)
    )
    counts = dict.fromkeys(ConversationStatus, 0)
    counts.update({status: count for status, count in rows})  # noqa: C416
    return counts
