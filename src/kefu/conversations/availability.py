"""Who is there to answer: agents coming online, going away, changing capacity, leaving.
Each change serves the queues it frees room for, in the same unit of work."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from kefu.accounts import presence
from kefu.accounts import service as accounts
from kefu.accounts.models import Agent, Presence
from kefu.conversations import routing
from kefu.conversations.models import Conversation, ConversationStatus
from kefu.uow import UnitOfWork


def set_agent_presence(
    uow: UnitOfWork, *, shop_id: int, agent_id: int, status: Presence, commit: bool = True
) -> Agent:
    """An agent chose online / away / offline; coming online serves their teams' queues."""
    agent = presence.set_presence(
        uow, shop_id=shop_id, agent_id=agent_id, presence=status, commit=False
    )
    if status is Presence.ONLINE:
        uow.session.flush()
        routing.drain_teams_of(uow, shop_id=shop_id, agent_id=agent_id)
    if commit:
        uow.commit()
    return agent


def desk_connected(uow: UnitOfWork, *, shop_id: int, agent_id: int) -> Agent:
    agent = presence.desk_connected(uow, shop_id=shop_id, agent_id=agent_id, commit=False)
    uow.session.flush()
    routing.drain_teams_of(uow, shop_id=shop_id, agent_id=agent_id)
    uow.commit()
    return agent


def release_agent(uow: UnitOfWork, *, shop_id: int, agent_id: int) -> int:
    """A deactivated agent's open conversations go back to their teams and are routed
    again (oldest first). Returns how many. Nothing happens for an active agent."""
    agent = accounts.get_agent(uow.session, shop_id=shop_id, agent_id=agent_id)
    if agent.is_active:
        return 0
    theirs = list(
        uow.session.scalars(
            select(Conversation)
            .where(
                Conversation.shop_id == shop_id,
                Conversation.assignee_id == agent_id,
                Conversation.status == ConversationStatus.OPEN,
            )
            .order_by(Conversation.last_message_at)
        )
    )
    for conversation in theirs:
        routing.assign(uow, conversation, agent=None, reason="released", by_agent_id=None)
        routing.route(uow, conversation)
    uow.commit()
    return len(theirs)


def desks_alive(uow: UnitOfWork, *, agent_ids: Sequence[int]) -> None:
    """The heartbeat of this process's open desks; agents it brings back get their queues."""
    returned = presence.heartbeat(uow, agent_ids=agent_ids, commit=False)
    uow.session.flush()
    for agent in returned:
        if agent.presence is Presence.ONLINE:
            routing.drain_teams_of(uow, shop_id=agent.shop_id, agent_id=agent.id)
    uow.commit()


def set_agent_capacity(
    uow: UnitOfWork, *, shop_id: int, agent_id: int, capacity: int, commit: bool = True
) -> Agent:
    agent = presence.set_capacity(
        uow, shop_id=shop_id, agent_id=agent_id, capacity=capacity, commit=False
    )
    uow.session.flush()
    routing.drain_teams_of(uow, shop_id=shop_id, agent_id=agent_id)
    if commit:
        uow.commit()
    return agent
