"""Where a ticket stands: new → open ⇄ pending_buyer / pending_internal → solved → closed.

Any status that is not closed may move to any other, except:
- closed is final: nothing moves it again (a follow-up ticket is opened, or it is merged);
- from solved the only moves are closed, or :func:`reopen_ticket` back to open — a solved
  ticket moved back by accident would silently restart the buyer's wait, so reopening is an
  explicit act with its own history row.
"""

from __future__ import annotations

from typing import Final

from kefu.errors import Conflict
from kefu.tickets import checks, notices, sla
from kefu.tickets.history import record_change, touched
from kefu.tickets.models import Ticket, TicketStatus
from kefu.uow import UnitOfWork
from kefu.validation import clean_text

MAX_REASON_LENGTH: Final = 500


def change_status(
    uow: UnitOfWork,
    *,
    shop_id: int,
    ticket_id: int,
    status: TicketStatus,
    actor_agent_id: int | None,
    actor: str = "agent",
    tell_buyer: bool = True,
    commit: bool = True,
) -> Ticket:
    """Move the ticket (rules above); the SLA clocks follow, and the buyer is told when the
    move matters to them (:func:`kefu.tickets.notices.notice_for_status`)."""
    session = uow.session
    new = checks.choice(TicketStatus, status, "status")
    checks.actor(session, shop_id=shop_id, actor_agent_id=actor_agent_id, actor=actor)
    ticket = checks.lock_ticket(session, shop_id=shop_id, ticket_id=ticket_id)
    old = ticket.status
    if new is old:
        # Asked twice (a double click, a retry): already so, nothing to record.
        if commit:
            uow.commit()
        return ticket
    checks.not_closed(ticket)
    if old is TicketStatus.SOLVED and new is not TicketStatus.CLOSED:
        raise Conflict(
            f"ticket #{ticket.number} is solved: reopen it first, or close it",
            key="errors.tickets.reopen_first",
            number=ticket.number,
        )
    _move(uow, ticket, new, actor_agent_id=actor_agent_id, actor=actor)
    notice = notices.notice_for_status(old, new)
    if tell_buyer and notice is not None:
        notices.tell_buyer(uow, ticket=ticket, notice=notice)
    touched(uow, ticket=ticket, changed=["status"], actor_agent_id=actor_agent_id)
    if commit:
        uow.commit()
    return ticket


def reopen_ticket(
    uow: UnitOfWork,
    *,
    shop_id: int,
    ticket_id: int,
    actor_agent_id: int | None,
    actor: str = "agent",
    reason: str = "",
    commit: bool = True,
) -> Ticket:
    """A solved ticket is open again (the buyer says it is not fixed): the resolution clock
    starts over. A closed ticket cannot be reopened."""
    session = uow.session
    reason = clean_text(reason, field="reason", max_length=MAX_REASON_LENGTH, multiline=True)
    checks.actor(session, shop_id=shop_id, actor_agent_id=actor_agent_id, actor=actor)
    ticket = checks.lock_ticket(session, shop_id=shop_id, ticket_id=ticket_id)
    checks.not_closed(ticket)
    if ticket.status is not TicketStatus.SOLVED:
        raise Conflict(
            f"ticket #{ticket.number} is not solved, so there is nothing to reopen",
            key="errors.tickets.not_solved",
            number=ticket.number,
        )
    _move(uow, ticket, TicketStatus.OPEN, actor_agent_id=actor_agent_id, actor=actor)
    record_change(
        uow, ticket=ticket, field="reopened", new=reason,
        actor_agent_id=actor_agent_id, actor=actor,
    )  # fmt: skip
    touched(uow, ticket=ticket, changed=["status"], actor_agent_id=actor_agent_id)
    if commit:
        uow.commit()
    return ticket


def _move(
    uow: UnitOfWork, ticket: Ticket, new: TicketStatus, *, actor_agent_id: int | None, actor: str
) -> None:
    old = ticket.status
    now = uow.clock.now()
    record_change(
        uow, ticket=ticket, field="status", old=old.value, new=new.value,
        actor_agent_id=actor_agent_id, actor=actor,
    )  # fmt: skip
    ticket.status = new
    if new is TicketStatus.SOLVED:
        ticket.solved_at = now
    elif new is TicketStatus.CLOSED:
        ticket.closed_at = now
    elif old is TicketStatus.SOLVED:
        ticket.solved_at = None
    sla.status_changed(uow, ticket=ticket, old=old, new=new, at=now)
