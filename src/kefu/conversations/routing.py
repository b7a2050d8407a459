"""Who answers a conversation: its team, then an online agent of that team with room.

Round robin among the team's online agents (least recently assigned first), each up to
their capacity of open conversations. When nobody has room the conversation waits in the
team's queue (urgent first, then oldest first), and :func:`drain_team` hands it out as
soon as someone frees up. Every function runs inside the caller's unit of work and takes
the team's lock, so two processes routing at once never overfill an agent.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.accounts import presence
from kefu.accounts import service as accounts
from kefu.accounts.models import Agent
from kefu.conversations.events import ConversationAssigned
from kefu.conversations.models import Conversation, ConversationStatus
from kefu.shops import service as shops
from kefu.uow import UnitOfWork


def open_counts(
    session: Session,
    *,
    shop_id: int,
    agent_ids: Iterable[int],
    excluding: int | None = None,
) -> dict[int, int]:
    """Open conversations per agent (``excluding`` one: the conversation being routed)."""
    ids = list(agent_ids)
    if not ids:
        return {}
    query = select(Conversation.assignee_id, func.count(Conversation.id)).where(
        Conversation.shop_id == shop_id,
        Conversation.status == ConversationStatus.OPEN,
        Conversation.assignee_id.in_(ids),
    )
    if excluding is not None:
        query = query.where(Conversation.id != excluding)
    rows = session.execute(query.group_by(Conversation.assignee_id))
    counts = dict.fromkeys(ids, 0)
    counts.update({agent_id: count for agent_id, count in rows if agent_id is not None})
    return counts


def _agents_with_room(
    session: Session,
    *,
    shop_id: int,
    team_id: int,
    now: datetime,
    routing: int | None = None,
) -> tuple[list[Agent], dict[int, int]]:
    """Online members of the team below their capacity, and everyone's open count.

    ``routing``: the conversation being placed does not count against anyone's room (a
    reopened one still names the agent it had, who must not be "full" of it)."""
    members = accounts.team_members(session, shop_id=shop_id).get(team_id, [])
    online = presence.available_agents(session, shop_id=shop_id, agent_ids=members, now=now)
    load = open_counts(
        session, shop_id=shop_id, agent_ids=[a.id for a in online], excluding=routing
    )
    return [agent for agent in online if load[agent.id] < agent.capacity], load


def _next_in_turn(agents: list[Agent], load: dict[int, int], now: datetime) -> Agent | None:
    """Round robin: the agent assigned least recently; on a tie, the least loaded."""
    with_room = [a for a in agents if load[a.id] < a.capacity]
    if not with_room:
        return None
    return min(
        with_room,
        key=lambda a: (a.last_assigned_at is not None, a.last_assigned_at or now, load[a.id], a.id),
    )


def assign(
    uow: UnitOfWork,
    conversation: Conversation,
    *,
    agent: Agent | None,
    reason: str,
    by_agent_id: int | None,
    team_id: int | None = None,
) -> None:
    """Give the conversation to an agent (or, with None, put it in the team's queue)."""
    now = uow.clock.now()
    previous_team_id, previous_assignee_id = conversation.team_id, conversation.assignee_id
    if team_id is not None:
        conversation.team_id = team_id
    # A person or a team has it now: the bot stops answering.
    conversation.with_bot = False
    conversation.assignee_id = agent.id if agent is not None else None
    if agent is not None:
        agent.last_assigned_at = now
        conversation.assigned_at = now
        conversation.waiting_since = None
    elif previous_assignee_id is not None or conversation.waiting_since is None:
        conversation.waiting_since = now
    if agent is None and previous_assignee_id is None and conversation.team_id == previous_team_id:
        return  # it was waiting in this queue and still is: nothing changed hands
    uow.collect(
        ConversationAssigned(
            shop_id=conversation.shop_id,
            conversation_id=conversation.id,
            customer_id=conversation.customer_id,
            team_id=conversation.team_id,
            assignee_id=conversation.assignee_id,
            previous_team_id=previous_team_id,
            previous_assignee_id=previous_assignee_id,
            by_agent_id=by_agent_id,
            reason=reason,
        )
    )


def route(
    uow: UnitOfWork,
    conversation: Conversation,
    *,
    prefer_agent_id: int | None = None,
    reason: str = "routed",
    by_agent_id: int | None = None,
) -> None:
    """Assign to an agent of the conversation's team with room, or queue it.

    ``prefer_agent_id``: a buyer who comes back gets the agent they had, if that agent is
    online with room.
    """
    if conversation.team_id is None:
        return
    session = uow.session
    shops.lock_team(session, shop_id=conversation.shop_id, team_id=conversation.team_id)
    now = uow.clock.now()
    candidates, load = _agents_with_room(
        session,
        shop_id=conversation.shop_id,
        team_id=conversation.team_id,
        now=now,
        routing=conversation.id,
    )
    preferred = [a for a in candidates if a.id == prefer_agent_id]
    chosen = preferred[0] if preferred else _next_in_turn(candidates, load, now)
    assign(uow, conversation, agent=chosen, reason=reason, by_agent_id=by_agent_id)


def queued(session: Session, *, shop_id: int, team_id: int, limit: int) -> list[Conversation]:
    """The team's queue: urgent ones first, then oldest first."""
    query = (
        select(Conversation)
        .where(
            Conversation.shop_id == shop_id,
            Conversation.team_id == team_id,
            Conversation.status == ConversationStatus.OPEN,
            Conversation.assignee_id.is_(None),
        )
        .order_by(
            Conversation.priority.desc(),
            Conversation.waiting_since.asc().nulls_last(),
            Conversation.id,
        )
        .limit(limit)
    )
    return list(session.scalars(query))


def drain_team(uow: UnitOfWork, *, shop_id: int, team_id: int) -> int:
    """Hand queued conversations to agents with room, oldest first. Returns how many."""
    session = uow.session
    shops.lock_team(session, shop_id=shop_id, team_id=team_id)
    now = uow.clock.now()
    agents, load = _agents_with_room(session, shop_id=shop_id, team_id=team_id, now=now)
    if not agents:
        return 0
    room = sum(agent.capacity - load[agent.id] for agent in agents)
    handed = 0
    for conversation in queued(session, shop_id=shop_id, team_id=team_id, limit=room):
        agent = _next_in_turn(agents, load, now)
        if agent is None:
            break
        assign(uow, conversation, agent=agent, reason="routed", by_agent_id=None)
        load[agent.id] += 1
        handed += 1
    return handed


def drain_teams_of(uow: UnitOfWork, *, shop_id: int, agent_id: int) -> int:
    """An agent freed up or came online: serve the queues of every team they are in."""
    team_ids = accounts.team_ids_of(uow.session, shop_id=shop_id, agent_id=agent_id)
    return sum(drain_team(uow, shop_id=shop_id, team_id=team_id) for team_id in team_ids)
