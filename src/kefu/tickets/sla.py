"""SLA clocks of tickets: first response, next response and resolution targets, counted in
the shop's working hours (``calendar.py``) or around the clock, per the policy that
applies (``sla_policies.py``, re-exported here); what the clocks show is read in
``sla_clocks.py`` (re-exported too).

The hooks below are called by the ticket services inside their own transactions (they
never commit): a ticket opened starts its clocks, a reply meets the response targets,
the buyer writing again after an answer starts a next response, waiting for the buyer
(pending_buyer) stops the clocks with the working minutes that were left, and leaving it
starts them again from that moment, so the wait is not counted. ``sla_watch.py`` warns
before and records breaches after the deadlines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.tickets.calendar import TimeBasis
from kefu.tickets.models import (
    SlaMetric,
    SlaPolicy,
    SlaState,
    SlaTarget,
    Ticket,
    TicketStatus,
)
from kefu.tickets.sla_clocks import Bases, SlaClock, clocks_of, sla_state_of
from kefu.tickets.sla_policies import (
    DEFAULT_POLICIES,
    create_policy,
    delete_policy,
    ensure_policies,
    get_policy,
    list_policies,
    policy_for,
    update_policy,
)
from kefu.uow import UnitOfWork

__all__ = [
    "DEFAULT_POLICIES",
    "SlaClock",
    "clocks_of",
    "create_policy",
    "delete_policy",
    "ensure_policies",
    "get_policy",
    "list_policies",
    "policy_for",
    "reapply_policy",
    "requester_wrote",
    "sla_state_of",
    "start_targets",
    "status_changed",
    "ticket_replied",
    "update_policy",
]

LIVE: Final = (SlaState.ACTIVE, SlaState.PAUSED)


def warn_moment(basis: TimeBasis, *, start: datetime, due: datetime, before: int) -> datetime:
    """``before`` counted minutes before ``due``, never before ``start``; 0: no warning
    (the moment is the deadline itself, when a warning no longer fires)."""
    if before <= 0:
        return due
    return max(start, basis.add(due, -before))


def _minutes_of(policy: SlaPolicy, metric: SlaMetric) -> int | None:
    return {
        SlaMetric.FIRST_RESPONSE: policy.first_response_minutes,
        SlaMetric.NEXT_RESPONSE: policy.next_response_minutes,
        SlaMetric.RESOLUTION: policy.resolution_minutes,
    }[metric]


def _targets(session: Session, ticket: Ticket) -> list[SlaTarget]:
    query = (
        select(SlaTarget)
        .where(SlaTarget.shop_id == ticket.shop_id, SlaTarget.ticket_id == ticket.id)
        .order_by(SlaTarget.id)
    )
    return list(session.scalars(query))


def _live(targets: Iterable[SlaTarget]) -> list[SlaTarget]:
    return [t for t in targets if t.state in LIVE]


def _policy(uow: UnitOfWork, ticket: Ticket) -> SlaPolicy | None:
    ensure_policies(uow, shop_id=ticket.shop_id)
    return policy_for(
        uow.session, shop_id=ticket.shop_id, ticket_type=ticket.type, priority=ticket.priority
    )


def _start(
    uow: UnitOfWork,
    bases: Bases,
    *,
    ticket: Ticket,
    policy: SlaPolicy,
    metric: SlaMetric,
    minutes: int,
    start: datetime,
    now: datetime,
) -> SlaTarget:
    """A new clock of ``minutes`` from ``start``; standing still while the ticket waits for
    the buyer, with what is left of it at ``now``."""
    basis = bases.of(policy.business_hours)
    due = basis.add(start, minutes)
    target = SlaTarget(
        shop_id=ticket.shop_id,
        ticket_id=ticket.id,
        policy_id=policy.id,
        metric=metric,
        state=SlaState.ACTIVE,
        business_hours=policy.business_hours,
        target_minutes=minutes,
        started_at=start,
        due_at=due,
        warn_at=warn_moment(basis, start=start, due=due, before=policy.warn_before_minutes),
    )
    if ticket.status is TicketStatus.PENDING_BUYER:
        target.state, target.paused_at = SlaState.PAUSED, now
        target.remaining_minutes = basis.minutes_between(now, due)
    uow.session.add(target)
    return target


# --- the hooks (called inside the ticket services' transactions) --------------------------


def start_targets(uow: UnitOfWork, *, ticket: Ticket) -> None:
    """A new ticket: its first response and resolution clocks, from its creation."""
    policy = _policy(uow, ticket)
    if policy is None:
        return
    now = uow.clock.now()
    start = ticket.created_at or now
    bases = Bases(uow.session, ticket.shop_id)
    for metric in (SlaMetric.FIRST_RESPONSE, SlaMetric.RESOLUTION):
        minutes = _minutes_of(policy, metric)
        if minutes is not None:
            _start(
                uow, bases, ticket=ticket, policy=policy, metric=metric,
                minutes=minutes, start=start, now=now,
            )  # fmt: skip
    uow.session.flush()


def reapply_policy(uow: UnitOfWork, *, ticket: Ticket) -> None:
    """The type or priority changed: running clocks take the new policy's targets, keeping
    the working minutes already used (an urgent ticket may thus be overdue at once), a
    target the new policy lacks stops, and one it adds starts from the ticket's opening."""
    session = uow.session
    policy = _policy(uow, ticket)
    now = uow.clock.now()
    bases = Bases(session, ticket.shop_id)
    targets = _targets(session, ticket)
    live = {t.metric: t for t in _live(targets)}
    for metric in SlaMetric:
        minutes = _minutes_of(policy, metric) if policy is not None else None
        target = live.get(metric)
        if target is not None:
            if minutes is None or policy is None:
                target.state, target.remaining_minutes = SlaState.CANCELLED, None
            else:
                _retarget(bases, target, policy=policy, minutes=minutes, now=now)
        elif minutes is not None and policy is not None and _still_owed(ticket, metric, targets):
            _start(
                uow, bases, ticket=ticket, policy=policy, metric=metric,
                minutes=minutes, start=ticket.created_at, now=now,
            )  # fmt: skip
    session.flush()


def _still_owed(ticket: Ticket, metric: SlaMetric, targets: Sequence[SlaTarget]) -> bool:
    if ticket.status in (TicketStatus.SOLVED, TicketStatus.CLOSED):
        return False
    if metric is SlaMetric.FIRST_RESPONSE:
        return not _replied(ticket, targets)
    # A next response starts only when the buyer writes again after an answer.
    return metric is SlaMetric.RESOLUTION


def _replied(ticket: Ticket, targets: Sequence[SlaTarget]) -> bool:
    return ticket.first_replied_at is not None or any(
        t.metric is SlaMetric.FIRST_RESPONSE and t.state is SlaState.MET for t in targets
    )


def _retarget(
    bases: Bases, target: SlaTarget, *, policy: SlaPolicy, minutes: int, now: datetime
) -> None:
    old, new = bases.of(target.business_hours), bases.of(policy.business_hours)
    if target.state is SlaState.PAUSED:
        used = target.target_minutes - (target.remaining_minutes or 0)
    else:
        used = target.target_minutes - old.minutes_between(now, target.due_at)
    left = minutes - used
    target.policy_id, target.target_minutes = policy.id, minutes
    target.business_hours = policy.business_hours
    # While paused, due and warn say where they would be if the clock ran again now (the
    # resume keeps the warning's distance from the deadline).
    target.due_at = new.add(now, left)
    target.warn_at = warn_moment(
        new, start=min(now, target.due_at), due=target.due_at, before=policy.warn_before_minutes
    )
    if target.state is SlaState.PAUSED:
        target.remaining_minutes = left
    if target.warn_at > now:
        target.warned_at = None  # the new deadline is far enough to be warned of again


def ticket_replied(uow: UnitOfWork, *, ticket: Ticket, at: datetime) -> None:
    """An answer to the requester meets the first (or next) response target."""
    for target in _live(_targets(uow.session, ticket)):
        if target.metric in (SlaMetric.FIRST_RESPONSE, SlaMetric.NEXT_RESPONSE):
            _meet(target, at)
    uow.session.flush()


def requester_wrote(uow: UnitOfWork, *, ticket: Ticket, at: datetime) -> None:
    """The requester wrote: after an answer, a next response is owed (one at a time; none
    while the first response is still running)."""
    if ticket.status in (TicketStatus.SOLVED, TicketStatus.CLOSED):
        return
    targets = _targets(uow.session, ticket)
    running = {t.metric for t in _live(targets)}
    if running & {SlaMetric.FIRST_RESPONSE, SlaMetric.NEXT_RESPONSE}:
        return
    if not _replied(ticket, targets):
        return
    policy = _policy(uow, ticket)
    minutes = policy.next_response_minutes if policy is not None else None
    if policy is None or minutes is None:
        return
    _start(
        uow, Bases(uow.session, ticket.shop_id), ticket=ticket, policy=policy,
        metric=SlaMetric.NEXT_RESPONSE, minutes=minutes, start=at, now=at,
    )  # fmt: skip
    uow.session.flush()


def status_changed(
    uow: UnitOfWork, *, ticket: Ticket, old: TicketStatus, new: TicketStatus, at: datetime
) -> None:
    """Waiting for the buyer stops the clocks, leaving it restarts them; solving meets the
    resolution (what else runs no longer applies); closing (or merging) cancels what
    still runs; reopening a solved ticket starts a new resolution target."""
    if old is new:
        return
    session = uow.session
    bases = Bases(session, ticket.shop_id)
    live = _live(_targets(session, ticket))
    if new in (TicketStatus.SOLVED, TicketStatus.CLOSED):
        for target in live:
            if new is TicketStatus.SOLVED and target.metric is SlaMetric.RESOLUTION:
                _meet(target, at)
            else:
                target.state, target.remaining_minutes = SlaState.CANCELLED, None
    elif old is TicketStatus.SOLVED:
        policy = _policy(uow, ticket)
        minutes = policy.resolution_minutes if policy is not None else None
        if policy is not None and minutes is not None:
            _start(
                uow, bases, ticket=ticket, policy=policy, metric=SlaMetric.RESOLUTION,
                minutes=minutes, start=at, now=at,
            )  # fmt: skip
    elif new is TicketStatus.PENDING_BUYER:
        for target in live:
            if target.state is SlaState.ACTIVE:
                _pause(bases.of(target.business_hours), target, at)
    elif old is TicketStatus.PENDING_BUYER:
        for target in live:
            if target.state is SlaState.PAUSED:
                _resume(bases.of(target.business_hours), target, at)
    session.flush()


def _meet(target: SlaTarget, at: datetime) -> None:
    target.state, target.met_at = SlaState.MET, at
    target.remaining_minutes, target.paused_at = None, None


def _pause(basis: TimeBasis, target: SlaTarget, at: datetime) -> None:
    target.state, target.paused_at = SlaState.PAUSED, at
    # Negative when already overdue: it stays overdue by as much when it runs again.
    target.remaining_minutes = basis.minutes_between(at, target.due_at)


def _resume(basis: TimeBasis, target: SlaTarget, at: datetime) -> None:
    gap = max(0, basis.minutes_between(target.warn_at, target.due_at))
    target.due_at = basis.add(at, target.remaining_minutes or 0)
    target.warn_at = warn_moment(basis, start=min(at, target.due_at), due=target.due_at, before=gap)
    if target.warn_at > at:
        target.warned_at = None
    target.state, target.remaining_minutes, target.paused_at = SlaState.ACTIVE, None, None
