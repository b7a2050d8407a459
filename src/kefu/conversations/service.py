"""Conversations: opened by a buyer, routed to a team and an agent, transferred, closed.

Messages themselves are written in :mod:`kefu.conversations.messages` (re-exported here for
callers that only need "the conversations service"); routing in
:mod:`kefu.conversations.routing`; moving a conversation to another team or agent (and the
bot's hand-off) in :mod:`kefu.conversations.transfers`. Functions here compose them in one
unit of work.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from kefu.accounts import service as accounts
from kefu.conversations import routing
from kefu.conversations.availability import (
    desk_connected,
    desks_alive,
    release_agent,
    set_agent_capacity,
    set_agent_presence,
)
from kefu.conversations.cards import card_text, order_card, send_card
from kefu.conversations.events import (
    ConversationClosed,
    ConversationReopened,
    ConversationStarted,
)
from kefu.conversations.history import (
    attachments_of,
    find_by_client_id,
    latest_messages,
    list_messages,
)
from kefu.conversations.messages import (
    MAX_CLIENT_MSG_ID_LENGTH,
    MAX_MESSAGE_LENGTH,
    MAX_PAGE_SIZE,
    check_body,
    get_conversation,
    lock_conversation,
    receive_message,
    reopen_if_closed,
    send_reply,
)
from kefu.conversations.models import (
    Channel,
    Conversation,
    ConversationStatus,
    Message,
)
from kefu.conversations.receipts import update_receipts
from kefu.conversations.transfers import hand_off, transfer_conversation
from kefu.conversations.uploads import find_by_key, store_upload
from kefu.crm import service as crm
from kefu.errors import Conflict
from kefu.shops import service as shops
from kefu.uow import UnitOfWork

__all__ = [
    "MAX_CLIENT_MSG_ID_LENGTH",
    "MAX_MESSAGE_LENGTH",
    "MAX_PAGE_SIZE",
    "attachments_of",
    "card_text",
    "check_body",
    "close_conversation",
    "desk_connected",
    "desks_alive",
    "find_by_client_id",
    "find_by_key",
    "get_conversation",
    "hand_off",
    "latest_conversation",
    "latest_messages",
    "list_conversations",
    "list_messages",
    "lock_conversation",
    "order_card",
    "receive_customer_message",
    "receive_message",
    "release_agent",
    "reopen_conversation",
    "send_card",
    "send_reply",
    "set_agent_capacity",
    "set_agent_presence",
    "start_conversation",
    "store_upload",
    "transfer_conversation",
    "update_receipts",
]


def start_conversation(
    uow: UnitOfWork,
    *,
    shop_id: int,
    customer_id: int,
    channel: Channel,
    team_code: str = shops.DEFAULT_TEAM_CODE,
    subject: str = "",
    route: bool = True,
    commit: bool = True,
) -> Conversation:
    """Open a conversation in a team and (``route``) give it to an agent or the queue.

    When the shop's bot is on, a routed conversation goes to the bot first instead: no
    team yet, until the bot hands it on (:func:`hand_off`) or an agent takes it over.
    """
    session = uow.session
    crm.get_customer(session, shop_id=shop_id, customer_id=customer_id)
    team = shops.get_team_by_code(session, shop_id=shop_id, code=team_code)
    with_bot = route and shops.get_shop(session, shop_id=shop_id).bot_enabled
    now = uow.clock.now()
    conversation = Conversation(
        shop_id=shop_id,
        customer_id=customer_id,
        channel=channel,
        status=ConversationStatus.OPEN,
        team_id=None if with_bot else team.id,
        with_bot=with_bot,
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
            team_id=conversation.team_id,
            channel=channel.value,
        )
    )
    if route and not with_bot:
        routing.route(uow, conversation)
    if commit:
        uow.commit()
    return conversation


def latest_conversation(
    session: Session, *, shop_id: int, customer_id: int, channel: Channel | None = None
) -> Conversation | None:
    query = select(Conversation).where(
        Conversation.shop_id == shop_id, Conversation.customer_id == customer_id
    )
    if channel is not None:
        query = query.where(Conversation.channel == channel)
    return session.scalar(query.order_by(Conversation.id.desc()).limit(1))


def receive_customer_message(
    uow: UnitOfWork,
    *,
    shop_id: int,
    customer_id: int,
    channel: Channel,
    client_msg_id: str,
    body: str,
    attachment_id: int | None = None,
    commit: bool = True,
) -> Message:
    """A buyer wrote, from a channel that knows the buyer but not the conversation.

    Their latest conversation on the channel continues (a closed one opens again); a first
    message opens one. A retried message is found where it was stored.
    """
    session = uow.session
    conversation = latest_conversation(
        session, shop_id=shop_id, customer_id=customer_id, channel=channel
    )
    if conversation is None:
        conversation = start_conversation(
            uow, shop_id=shop_id, customer_id=customer_id, channel=channel, commit=False
        )
    message = receive_message(
        uow,
        shop_id=shop_id,
        conversation_id=conversation.id,
        client_msg_id=client_msg_id,
        body=body,
        attachment_id=attachment_id,
        commit=False,
    )
    if commit:
        uow.commit()
    return message


def _reopen(uow: UnitOfWork, conversation: Conversation, *, by_agent_id: int | None) -> None:
    conversation = lock_conversation(
        uow.session, shop_id=conversation.shop_id, conversation_id=conversation.id
    )
    if not reopen_if_closed(conversation):
        return
    previous = conversation.assignee_id
    uow.collect(
        ConversationReopened(
            shop_id=conversation.shop_id,
            conversation_id=conversation.id,
            customer_id=conversation.customer_id,
            team_id=conversation.team_id,
            assignee_id=previous,
            by_agent_id=by_agent_id,
        )
    )
    if by_agent_id is not None:
        agent = accounts.get_agent(uow.session, shop_id=conversation.shop_id, agent_id=by_agent_id)
        routing.assign(uow, conversation, agent=agent, reason="assigned", by_agent_id=by_agent_id)
    else:
        routing.route(uow, conversation, prefer_agent_id=previous)


def reopen_conversation(
    uow: UnitOfWork,
    *,
    shop_id: int,
    conversation_id: int,
    by_agent_id: int | None,
    commit: bool = True,
) -> Conversation:
    """An agent picks a closed conversation up again; it becomes theirs."""
    conversation = get_conversation(uow.session, shop_id=shop_id, conversation_id=conversation_id)
    if conversation.status is not ConversationStatus.CLOSED:
        raise Conflict("the conversation is open", key="errors.conversation_open")
    _reopen(uow, conversation, by_agent_id=by_agent_id)
    if commit:
        uow.commit()
    return conversation


def close_conversation(
    uow: UnitOfWork,
    *,
    shop_id: int,
    conversation_id: int,
    closed_by_agent_id: int | None,
    commit: bool = True,
) -> Conversation:
    """Close; the agent it belonged to has room again, so their teams' queues move."""
    conversation = lock_conversation(uow.session, shop_id=shop_id, conversation_id=conversation_id)
    if conversation.status is not ConversationStatus.CLOSED:
        conversation.status = ConversationStatus.CLOSED
        conversation.closed_at = uow.clock.now()
        conversation.waiting_since = None
        uow.collect(
            ConversationClosed(
                shop_id=shop_id,
                conversation_id=conversation.id,
                closed_by_agent_id=closed_by_agent_id,
                customer_id=conversation.customer_id,
                team_id=conversation.team_id,
                assignee_id=conversation.assignee_id,
            )
        )
        uow.session.flush()
        if conversation.assignee_id is not None:
            routing.drain_teams_of(uow, shop_id=shop_id, agent_id=conversation.assignee_id)
    if commit:
        uow.commit()
    return conversation


def list_conversations(
    session: Session,
    *,
    shop_id: int,
    status: ConversationStatus | None = None,
    team_ids: Sequence[int] | None = None,
    or_assigned_to: int | None = None,
    customer_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Conversation]:
    """Newest first. ``team_ids``: only those teams' (and, with ``or_assigned_to``, also
    the ones assigned to that agent: what an agent may see)."""
    query = select(Conversation).where(Conversation.shop_id == shop_id)
    if status is not None:
        query = query.where(Conversation.status == status)
    if team_ids is not None:
        visible: ColumnElement[bool] = Conversation.team_id.in_(list(team_ids))
        if or_assigned_to is not None:
            visible = or_(visible, Conversation.assignee_id == or_assigned_to)
        query = query.where(visible)
    if customer_id is not None:
        query = query.where(Conversation.customer_id == customer_id)
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    query = query.order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
    return list(session.scalars(query.limit(limit).offset(max(0, offset))))


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
