"""What a ticket's SLA clocks show, for the lists, the pages, the API and the handover: the
latest target of each metric with its time left, counted on the time basis it runs on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.tickets.calendar import ROUND_THE_CLOCK, TimeBasis, WorkCalendar, calendar_of
from kefu.tickets.models import SlaMetric, SlaState, SlaTarget

# Worst first: what a ticket shows when it has several clocks.
STATE_ORDER: Final = ("breached", "warning", "ok", "paused", "met", "none")


class Bases:
    """The time bases of one shop, the calendar read once and only if needed."""

    def __init__(self, session: Session, shop_id: int) -> None:
        self._session, self._shop_id = session, shop_id
        self._calendar: WorkCalendar | None = None

    def of(self, business_hours: bool) -> TimeBasis:
        if not business_hours:
            return ROUND_THE_CLOCK
        if self._calendar is None:
            self._calendar = calendar_of(self._session, shop_id=self._shop_id)
        return self._calendar


# --- what the pages and lists show --------------------------------------------------------


@dataclass(frozen=True)
class SlaClock:
    """One clock of a ticket as people see it. ``minutes_left`` is counted in the target's
    own time (working minutes when ``business_hours``), negative once overdue; None when
    met. A paused clock shows what was left when it stopped."""

    metric: SlaMetric
    state: str  # ok | warning | breached | paused | met
    due_at: datetime | None
    minutes_left: int | None
    breached: bool
    business_hours: bool = True
    met_at: datetime | None = None
    target_minutes: int = 0


def clocks_of(
    session: Session, *, shop_id: int, ticket_ids: Sequence[int], now: datetime
) -> dict[int, list[SlaClock]]:
    """The clocks of each ticket (the latest target per metric; cancelled ones don't show),
    in the order first response, next response, resolution."""
    if not ticket_ids:
        return {}
    rows = session.scalars(
        select(SlaTarget)
        .where(
            SlaTarget.shop_id == shop_id,
            SlaTarget.ticket_id.in_(list(ticket_ids)),
            SlaTarget.state != SlaState.CANCELLED,
        )
        .order_by(SlaTarget.id)
    )
    latest: dict[tuple[int, SlaMetric], SlaTarget] = {}
    for target in rows:
        latest[(target.ticket_id, target.metric)] = target
    bases = Bases(session, shop_id)
    order = list(SlaMetric)
    found: dict[int, list[SlaClock]] = {}
    for (ticket_id, _metric), target in sorted(
        latest.items(), key=lambda item: (item[0][0], order.index(item[0][1]))
    ):
        found.setdefault(ticket_id, []).append(_clock(bases, target, now))
    return found


def _clock(bases: Bases, target: SlaTarget, now: datetime) -> SlaClock:
    breached = target.breached_at is not None
    if target.state is SlaState.MET:
        # Met late counts as breached even if the watcher never got to record it.
        breached = breached or (target.met_at is not None and target.met_at > target.due_at)
        state, due, left = "met", target.due_at, None
    elif target.state is SlaState.PAUSED:
        # Breached before it stopped: it stays breached (as the ticket lists filter it).
        state, due, left = "breached" if breached else "paused", None, target.remaining_minutes
    else:
        breached = breached or now >= target.due_at
        state = "breached" if breached else "warning" if now >= target.warn_at else "ok"
        due = target.due_at
        left = bases.of(target.business_hours).minutes_between(now, target.due_at)
    return SlaClock(
        metric=target.metric,
        state=state,
        due_at=due,
        minutes_left=left,
        breached=breached,
        business_hours=target.business_hours,
        met_at=target.met_at,
        target_minutes=target.target_minutes,
    )


def sla_state_of(clocks: Sequence[SlaClock]) -> str:
    """The ticket's worst clock: breached > warning > ok > paused > met > none."""
    states = {c.state for c in clocks}
    return next((s for s in STATE_ORDER if s in states), "none")
