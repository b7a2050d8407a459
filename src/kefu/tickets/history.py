"""A ticket's history (操作记录): one row per changed field, written in the same transaction
as the change, so the history cannot miss one and a refused change leaves none.

Old and new values are stored as readable text at the time of the change — team and agent
names, not ids — so the history still reads right after a team is renamed or an agent
leaves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.accounts.models import Agent
from kefu.shops.models import Team
from kefu.tickets.checks import get_ticket
from kefu.tickets.events import TicketUpdated
from kefu.tickets.models import Ticket, TicketChange
from kefu.uow import UnitOfWork

# Long texts (a description) are kept whole in the ticket; the history keeps enough to see
# what changed without doubling the table's size.
MAX_VALUE_LENGTH: Final = 2000
# Who did it when no member of staff did.
ACTOR_NAMES: Final = {"bot": "机器人", "system": "系统", "api": "API"}


@dataclass(frozen=True)
class HistoryRow:
    id: int
    actor: str  # agent | bot | system | api
    actor_agent_id: int | None
    actor_name: str
    field: str
    old: str
    new: str
    at: datetime


def record_change(
    uow: UnitOfWork,
    *,
    ticket: Ticket,
    field: str,
    old: str = "",
    new: str = "",
    actor_agent_id: int | None,
    actor: str = "agent",
) -> None:
    uow.session.add(
        TicketChange(
            shop_id=ticket.shop_id,
            ticket_id=ticket.id,
            actor_agent_id=actor_agent_id,
            actor=actor[:20],
            field=field[:40],
            old_value=_short(old),
            new_value=_short(new),
            created_at=uow.clock.now(),
        )
    )


def history_of(session: Session, *, shop_id: int, ticket_id: int) -> list[HistoryRow]:
    """Oldest first, as it happened."""
    get_ticket(session, shop_id=shop_id, ticket_id=ticket_id)
    rows = session.execute(
        select(TicketChange, Agent.display_name)
        .outerjoin(Agent, Agent.id == TicketChange.actor_agent_id)
        .where(TicketChange.shop_id == shop_id, TicketChange.ticket_id == ticket_id)
        .order_by(TicketChange.id)
    ).all()
    return [
        HistoryRow(
            id=change.id,
            actor=change.actor,
            actor_agent_id=change.actor_agent_id,
            actor_name=name or ACTOR_NAMES.get(change.actor, ""),
            field=change.field,
            old=change.old_value,
            new=change.new_value,
            at=change.created_at,
        )
        for change, name in rows
    ]


def team_name(session: Session, team_id: int | None) -> str:
    if team_id is None:
        return ""
    team = session.get(Team, team_id)
    return team.name if team is not None else f"#{team_id}"


def agent_name(session: Session, agent_id: int | None) -> str:
    if agent_id is None:
        return ""
    agent = session.get(Agent, agent_id)
    return agent.display_name if agent is not None else f"#{agent_id}"


def touched(
    uow: UnitOfWork, *, ticket: Ticket, changed: Sequence[str], actor_agent_id: int | None
) -> None:
    """The ticket changed: stamp it and say so (after commit) with its state now."""
    if not changed:
        return
    ticket.updated_at = uow.clock.now()
    uow.collect(
        TicketUpdated(
            shop_id=ticket.shop_id,
            ticket_id=ticket.id,
            number=ticket.number,
            changed=tuple(dict.fromkeys(changed)),
            status=ticket.status.value,
            team_id=ticket.team_id,
            assignee_id=ticket.assignee_id,
            actor_agent_id=actor_agent_id,
        )
    )


def _short(value: str) -> str:
    return value if len(value) <= MAX_VALUE_LENGTH else value[: MAX_VALUE_LENGTH - 1] + "…"
