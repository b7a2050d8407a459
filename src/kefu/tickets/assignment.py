"""Who works a ticket: its team (the back-office group: 售后, 投诉 …) and, within it, one
person. The assignee must be an active agent of the shop and, when the ticket has a team, a
member of it — an agent of another team or shop is refused by name, and nothing changes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from kefu.accounts.models import Agent
from kefu.shops.models import Team
from kefu.tickets import checks, notifications, sla
from kefu.tickets.checks import KEEP, _Keep
from kefu.tickets.history import agent_name, record_change, team_name, touched
from kefu.tickets.models import NotificationKind, Ticket, TicketStatus
from kefu.uow import UnitOfWork

# How much of the title a notification quotes (it is a line in a list, not the ticket).
_TITLE_IN_NOTICE = 80


def assign_ticket(
    uow: UnitOfWork,
    *,
    shop_id: int,
    ticket_id: int,
    actor_agent_id: int | None,
    team_id: int | _Keep | None = KEEP,
    assignee_id: int | _Keep | None = KEEP,
    actor: str = "agent",
    commit: bool = True,
) -> Ticket:
    """Give the ticket to a team and/or a person (KEEP leaves either as it is; None clears).

    A new team without a named assignee drops an assignee who is not in it (they could not
    work it there). Assigning a person to a new ticket opens it. The new assignee is told,
    unless they took it themselves.
    """
    session = uow.session
    checks.actor(session, shop_id=shop_id, actor_agent_id=actor_agent_id, actor=actor)
    new_team: Team | None = None
    if not isinstance(team_id, _Keep) and team_id is not None:
        new_team = checks.team(session, shop_id=shop_id, team_id=team_id)
    named: Agent | None = None
    if not isinstance(assignee_id, _Keep) and assignee_id is not None:
        named = checks.active_agent(
            session, shop_id=shop_id, agent_id=assignee_id, field="assignee_id"
        )
    ticket = checks.lock_ticket(session, shop_id=shop_id, ticket_id=ticket_id)
    checks.not_closed(ticket)

    team_after = ticket.team_id if isinstance(team_id, _Keep) else team_id
    if isinstance(team_id, _Keep) and team_after is not None:
        new_team = checks.team(session, shop_id=shop_id, team_id=team_after)
    if isinstance(assignee_id, _Keep):
        assignee_after = ticket.assignee_id
        if (
            assignee_after is not None
            and new_team is not None
            and team_after != ticket.team_id
            and not _member(session, agent_id=assignee_after, team=new_team)
        ):
            assignee_after = None
    else:
        assignee_after = assignee_id
        if named is not None and new_team is not None:
            checks.in_team(session, agent=named, team=new_team)

    changed: list[str] = []
    if team_after != ticket.team_id:
        record_change(
            uow, ticket=ticket, field="team",
            old=team_name(session, ticket.team_id), new=team_name(session, team_after),
            actor_agent_id=actor_agent_id, actor=actor,
        )  # fmt: skip
        ticket.team_id = team_after
        changed.append("team")
    if assignee_after != ticket.assignee_id:
        record_change(
            uow, ticket=ticket, field="assignee",
            old=agent_name(session, ticket.assignee_id), new=agent_name(session, assignee_after),
            actor_agent_id=actor_agent_id, actor=actor,
        )  # fmt: skip
        ticket.assignee_id = assignee_after
        changed.append("assignee")
        if assignee_after is not None and ticket.status is TicketStatus.NEW:
            # Someone has it now: it is being worked on.
            record_change(
                uow, ticket=ticket, field="status",
                old=TicketStatus.NEW.value, new=TicketStatus.OPEN.value,
                actor_agent_id=actor_agent_id, actor=actor,
            )  # fmt: skip
            ticket.status = TicketStatus.OPEN
            changed.append("status")
            sla.status_changed(
                uow, ticket=ticket, old=TicketStatus.NEW, new=TicketStatus.OPEN,
                at=uow.clock.now(),
            )  # fmt: skip
        if assignee_after is not None and assignee_after != actor_agent_id:
            notify_assignee(uow, ticket=ticket, assignee_id=assignee_after)
    touched(uow, ticket=ticket, changed=changed, actor_agent_id=actor_agent_id)
    if commit:
        uow.commit()
    return ticket


def notify_assignee(uow: UnitOfWork, *, ticket: Ticket, assignee_id: int) -> None:
    title = ticket.title
    if len(title) > _TITLE_IN_NOTICE:
        title = title[: _TITLE_IN_NOTICE - 1] + "…"
    notifications.notify(
        uow,
        shop_id=ticket.shop_id,
        agent_ids=[assignee_id],
        kind=NotificationKind.ASSIGNED,
        text={
            "zh-CN": f"工单 #{ticket.number} 已指派给您：{title}",
            "en": f"Ticket #{ticket.number} was assigned to you: {title}",
        },
        link=f"/tickets/{ticket.id}",
        ticket_id=ticket.id,
    )


def _member(session: Session, *, agent_id: int, team: Team) -> bool:
    return checks.is_member(session, agent_id=agent_id, team=team)
