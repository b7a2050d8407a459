"""One change to many tickets at once (批量操作), all or nothing.

Each ticket goes through the same functions as a single change (assign, update, change
status) with ``commit=False``, so its history rows, SLA moves, buyer notices, notifications
and events are exactly those of doing it by hand — and all of them commit together. The
first ticket that refuses the change is named by its number, and nothing at all is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select

from kefu.db import MAX_ID
from kefu.errors import DomainError, Invalid
from kefu.tickets import checks
from kefu.tickets.assignment import assign_ticket
from kefu.tickets.checks import KEEP, _Keep
from kefu.tickets.lifecycle import tags_of, update_ticket
from kefu.tickets.models import Ticket, TicketPriority, TicketStatus
from kefu.tickets.statuses import change_status
from kefu.uow import UnitOfWork

MAX_BULK: Final = 200


@dataclass(frozen=True)
class BulkChange:
    """What to change; the defaults leave a field alone (None clears team or assignee)."""

    status: TicketStatus | None = None
    priority: TicketPriority | None = None
    team_id: int | _Keep | None = KEEP
    assignee_id: int | _Keep | None = KEEP
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()


def bulk_update(
    uow: UnitOfWork,
    *,
    shop_id: int,
    ticket_ids: Sequence[int],
    change: BulkChange,
    actor_agent_id: int | None,
    actor: str = "agent",
    commit: bool = True,
) -> int:
    """Apply ``change`` to every ticket (at most 200), in the order of their numbers; returns
    how many tickets actually changed. A refusal names the ticket (Invalid, Conflict … with
    key ``errors.tickets.bulk_refused``, its number and the reason) and, as the unit of work
    is not committed, leaves every ticket as it was."""
    session = uow.session
    checks.actor(session, shop_id=shop_id, actor_agent_id=actor_agent_id, actor=actor)
    wanted = _ids(ticket_ids)
    status = checks.choice(TicketStatus, change.status, "status") if change.status else None
    priority = (
        checks.choice(TicketPriority, change.priority, "priority") if change.priority else None
    )
    adding = checks.tags(change.add_tags)
    removing = {tag.casefold() for tag in checks.tags(change.remove_tags)}
    assigning = not (isinstance(change.team_id, _Keep) and isinstance(change.assignee_id, _Keep))
    if not (status or priority or adding or removing or assigning):
        raise Invalid(
            "choose what to change", field="status", key="errors.tickets.nothing_to_change"
        )
    query = select(Ticket.id, Ticket.number).where(Ticket.shop_id == shop_id, Ticket.id.in_(wanted))
    found: dict[int, int] = dict(session.execute(query).all())
    for ticket_id in wanted:
        if ticket_id not in found:
            # Another shop's ticket reads like one that does not exist.
            raise Invalid(
                f"no ticket with id {ticket_id} in this shop; nothing was changed",
                field="ticket_ids",
                key="errors.tickets.bulk_unknown",
                id=ticket_id,
            )

    changed = 0
    # Lowest number first: the refusal names the earliest ticket, and two bulk changes
    # over the same tickets take their locks in the same order.
    for ticket_id in sorted(wanted, key=found.__getitem__):
        try:
            before = _state(uow, shop_id=shop_id, ticket_id=ticket_id)
            if assigning:
                assign_ticket(
                    uow, shop_id=shop_id, ticket_id=ticket_id, actor_agent_id=actor_agent_id,
                    team_id=change.team_id, assignee_id=change.assignee_id, actor=actor,
                    commit=False,
                )  # fmt: skip
            tags = _tags_after(before[4], adding, removing)
            if priority is not None or tags != before[4]:
                update_ticket(
                    uow, shop_id=shop_id, ticket_id=ticket_id, actor_agent_id=actor_agent_id,
                    actor=actor, priority=priority, tags=tags if tags != before[4] else None,
                    commit=False,
                )  # fmt: skip
            if status is not None:
                change_status(
                    uow, shop_id=shop_id, ticket_id=ticket_id, status=status,
                    actor_agent_id=actor_agent_id, actor=actor, commit=False,
                )  # fmt: skip
            changed += _state(uow, shop_id=shop_id, ticket_id=ticket_id) != before
        except DomainError as exc:
            raise _refused(exc, number=found[ticket_id]) from exc
    if commit:
        uow.commit()
    return changed


def _ids(ticket_ids: Sequence[int]) -> list[int]:
    if isinstance(ticket_ids, str | bytes):
        raise Invalid("ticket_ids must be a list of ids", field="ticket_ids")
    wanted = list(dict.fromkeys(ticket_ids))
    if not wanted:
        raise Invalid(
            "tick the tickets to change", field="ticket_ids", key="errors.tickets.none_ticked"
        )
    if len(wanted) > MAX_BULK:
        raise Invalid(
            f"at most {MAX_BULK} tickets at once (got {len(wanted)})",
            field="ticket_ids",
            key="errors.tickets.too_many_bulk",
            limit=MAX_BULK,
            count=len(wanted),
        )
    for ticket_id in wanted:
        if not _is_id(ticket_id):
            raise Invalid(
                f"no ticket with id {ticket_id!r} in this shop; nothing was changed",
                field="ticket_ids",
                key="errors.tickets.bulk_unknown",
                id=str(ticket_id)[:20],
            )
    return wanted


def _state(
    uow: UnitOfWork, *, shop_id: int, ticket_id: int
) -> tuple[str, str, int | None, int | None, list[str]]:
    ticket = checks.get_ticket(uow.session, shop_id=shop_id, ticket_id=ticket_id)
    return (
        ticket.status.value,
        ticket.priority.value,
        ticket.team_id,
        ticket.assignee_id,
        tags_of(uow.session, ticket=ticket),
    )


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def _tags_after(current: list[str], adding: list[str], removing: set[str]) -> list[str]:
    kept = [tag for tag in current if tag.casefold() not in removing]
    known = {tag.casefold() for tag in kept}
    return kept + [tag for tag in adding if tag.casefold() not in known]


def _refused(exc: DomainError, *, number: int) -> DomainError:
    """The same kind of error (so the same HTTP status), naming the ticket. ``reason_key``
    and its parameters let a caller word the reason in the reader's language."""
    message = f"ticket #{number}: {exc.message}; no ticket was changed"
    params = {
        "number": number,
        "reason": exc.message,
        "reason_key": exc.key or "",
        "reason_params": dict(exc.params),
    }
    if isinstance(exc, Invalid):
        return Invalid(message, field=exc.field, key="errors.tickets.bulk_refused", **params)
    return type(exc)(message, key="errors.tickets.bulk_refused", **params)
