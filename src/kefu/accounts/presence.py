"""Agent presence on the desk: online (takes new conversations), away, offline.

An agent's *choice* is stored with the time a desk of theirs last said it is connected.
What others see is the choice while that heartbeat is fresh, offline otherwise: a closed
laptop or a crashed process turns into offline by itself, on every server process alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.accounts.events import AgentPresenceChanged
from kefu.accounts.models import Agent, Presence
from kefu.accounts.service import get_agent
from kefu.errors import Invalid
from kefu.uow import UnitOfWork

# Desks send a heartbeat every HEARTBEAT; one missed beat is forgiven.
HEARTBEAT = timedelta(seconds=20)
PRESENCE_GRACE = timedelta(seconds=60)
MAX_CAPACITY = 50


def effective_presence(agent: Agent, *, now: datetime) -> Presence:
    if not agent.is_active or agent.presence_seen_at is None:
        return Presence.OFFLINE
    if now - agent.presence_seen_at > PRESENCE_GRACE:
        return Presence.OFFLINE
    return agent.presence


def fresh_since(now: datetime) -> datetime:
    """Heartbeats at or after this instant count as connected."""
    return now - PRESENCE_GRACE


def set_presence(
    uow: UnitOfWork, *, shop_id: int, agent_id: int, presence: Presence, commit: bool = True
) -> Agent:
    """The agent's own choice. Choosing offline also forgets the heartbeat."""
    agent = get_agent(uow.session, shop_id=shop_id, agent_id=agent_id)
    now = uow.clock.now()
    before = effective_presence(agent, now=now)
    agent.presence = presence
    if presence is Presence.OFFLINE:
        agent.presence_seen_at = None
    elif agent.presence_seen_at is None:
        # Choosing online/away from the desk means a desk is there.
        agent.presence_seen_at = now
    _emit_if_changed(uow, agent, before=before, now=now)
    if commit:
        uow.commit()
    return agent


def desk_connected(uow: UnitOfWork, *, shop_id: int, agent_id: int, commit: bool = True) -> Agent:
    """A desk opened: the agent is back with the presence they chose (offline → online)."""
    agent = get_agent(uow.session, shop_id=shop_id, agent_id=agent_id)
    now = uow.clock.now()
    before = effective_presence(agent, now=now)
    if agent.presence is Presence.OFFLINE:
        agent.presence = Presence.ONLINE
    agent.presence_seen_at = now
    _emit_if_changed(uow, agent, before=before, now=now)
    if commit:
        uow.commit()
    return agent


def desk_disconnected(
    uow: UnitOfWork, *, shop_id: int, agent_id: int, commit: bool = True
) -> Agent:
    """This process's last desk of the agent closed. If a desk on another process is still
    open, its next heartbeat brings the agent back within HEARTBEAT."""
    agent = get_agent(uow.session, shop_id=shop_id, agent_id=agent_id)
    now = uow.clock.now()
    before = effective_presence(agent, now=now)
    agent.presence_seen_at = None
    _emit_if_changed(uow, agent, before=before, now=now)
    if commit:
        uow.commit()
    return agent


def heartbeat(uow: UnitOfWork, *, agent_ids: Sequence[int], commit: bool = True) -> list[Agent]:
    """Desks still connected on this process. Returns the agents this brought back (their
    heartbeat had gone stale, or their desk closed on another process): they are
    announced, and the caller serves their queues."""
    if not agent_ids:
        return []
    now = uow.clock.now()
    agents = list(uow.session.scalars(select(Agent).where(Agent.id.in_(list(agent_ids)))))
    returned = []
    for agent in agents:
        before = effective_presence(agent, now=now)
        agent.presence_seen_at = now
        if before is Presence.OFFLINE and effective_presence(agent, now=now) is not before:
            returned.append(agent)
        _emit_if_changed(uow, agent, before=before, now=now)
    if commit:
        uow.commit()
    return returned


def set_capacity(
    uow: UnitOfWork, *, shop_id: int, agent_id: int, capacity: int, commit: bool = True
) -> Agent:
    if not 0 <= capacity <= MAX_CAPACITY:
        raise Invalid(f"capacity must be 0–{MAX_CAPACITY}", field="capacity")
    agent = get_agent(uow.session, shop_id=shop_id, agent_id=agent_id)
    agent.capacity = capacity
    if commit:
        uow.commit()
    return agent


def available_agents(
    session: Session, *, shop_id: int, agent_ids: Sequence[int], now: datetime
) -> list[Agent]:
    """Of these agents, the ones online now, least recently assigned first (round robin)."""
    if not agent_ids:
        return []
    query = (
        select(Agent)
        .where(
            Agent.shop_id == shop_id,
            Agent.id.in_(list(agent_ids)),
            Agent.is_active.is_(True),
            Agent.presence == Presence.ONLINE,
            Agent.presence_seen_at >= fresh_since(now),
        )
        .order_by(Agent.last_assigned_at.asc().nulls_first(), Agent.id)
    )
    return list(session.scalars(query))


def _emit_if_changed(uow: UnitOfWork, agent: Agent, *, before: Presence, now: datetime) -> None:
    after = effective_presence(agent, now=now)
    if after is not before:
        uow.collect(
            AgentPresenceChanged(shop_id=agent.shop_id, agent_id=agent.id, presence=after.value)
        )
