"""SLA clocks of tickets (placeholder hooks; helper C replaces this module)."""

from __future__ import annotations

from datetime import datetime

from kefu.tickets.models import Ticket, TicketStatus
from kefu.uow import UnitOfWork


def start_targets(uow: UnitOfWork, *, ticket: Ticket) -> None:
    return None


def reapply_policy(uow: UnitOfWork, *, ticket: Ticket) -> None:
    return None


def ticket_replied(uow: UnitOfWork, *, ticket: Ticket, at: datetime) -> None:
    return None


def requester_wrote(uow: UnitOfWork, *, ticket: Ticket, at: datetime) -> None:
    return None


def status_changed(
    uow: UnitOfWork, *, ticket: Ticket, old: TicketStatus, new: TicketStatus, at: datetime
) -> None:
    return None
