"""How well the shop kept its SLAs in a period, per team and metric, and which deadlines it
missed (for ``/tickets/sla-report`` and ``/api/v1/tickets/sla/report``).

A target belongs to the period its deadline falls in. It was *met in time* when answered
or solved by its deadline; *breached* when the watcher recorded a breach, or when it was
met after its deadline before the watcher noticed; *running* otherwise (its deadline is
still ahead, or its ticket waits for the buyer). Cancelled targets (a closed or merged
ticket, a type change that dropped the target) count only if they had breached. The
rate is met in time out of those decided (met in time + breached).

A breach counts for the team that had the ticket when it breached; anything else for
the ticket's team now.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from kefu.accounts.models import Agent
from kefu.errors import Invalid
from kefu.shops.models import Team
from kefu.tickets.models import SlaMetric, SlaState, SlaTarget, Ticket

MAX_BREACHES: Final = 200
_METRICS: Final = list(SlaMetric)


@dataclass(frozen=True)
class BreachRow:
    """One team's figures for one metric (team None: tickets without a team)."""

    team_id: int | None
    team_name: str
    metric: SlaMetric
    due: int
    met_in_time: int
    breached: int
    running: int

    @property
    def rate(self) -> float | None:
        decided = self.met_in_time + self.breached
        return self.met_in_time / decided if decided else None


@dataclass(frozen=True)
class Breach:
    target_id: int
    ticket_id: int
    number: int
    title: str
    metric: SlaMetric
    due_at: datetime
    breached_at: datetime | None  # None: met late before the watcher recorded it
    met_at: datetime | None
    team_name: str
    assignee_name: str


def _late() -> ColumnElement[bool]:
    return or_(
        SlaTarget.breached_at.is_not(None),
        and_(SlaTarget.state == SlaState.MET, SlaTarget.met_at > SlaTarget.due_at),
    )


def _holder(at_breach: Any, now: Any) -> Any:
    """Who had it when it breached; for anything else, the ticket's holder now."""
    return case((SlaTarget.breached_at.is_not(None), at_breach), else_=now)


def _in_period(shop_id: int, since: datetime, until: datetime) -> ColumnElement[bool]:
    return and_(
        SlaTarget.shop_id == shop_id,
        SlaTarget.due_at >= since,
        SlaTarget.due_at < until,
        or_(SlaTarget.state != SlaState.CANCELLED, SlaTarget.breached_at.is_not(None)),
    )


def _check_period(since: datetime, until: datetime) -> None:
    if since.tzinfo is None or until.tzinfo is None:
        raise ValueError("the report's period needs aware datetimes")
    if until <= since:
        raise Invalid(
            "the period's end must be after its start",
            field="until",
            key="errors.tickets.sla.period",
        )


def breach_report(
    session: Session, *, shop_id: int, since: datetime, until: datetime
) -> list[BreachRow]:
    """Per team and metric, the targets due in ``[since, until)``: how many were met in
    time, breached, still running. Teams in the shop's order, tickets without a team last."""
    _check_period(since, until)
    late = _late()
    in_time = and_(SlaTarget.state == SlaState.MET, SlaTarget.met_at <= SlaTarget.due_at)
    team_id = _holder(SlaTarget.breach_team_id, Ticket.team_id).label("team_id")
    counted = (
        select(
            team_id,
            SlaTarget.metric,
            func.count(SlaTarget.id),
            func.sum(case((and_(in_time, ~late), 1), else_=0)),
            func.sum(case((late, 1), else_=0)),
        )
        .join(Ticket, and_(Ticket.id == SlaTarget.ticket_id, Ticket.shop_id == shop_id))
        .where(_in_period(shop_id, since, until))
        .group_by(team_id, SlaTarget.metric)
    )
    teams = {team.id: team for team in session.scalars(select(Team).where(Team.shop_id == shop_id))}
    rows = []
    for team, metric, due, met, breached in session.execute(counted):
        known = teams.get(team) if team is not None else None
        rows.append(
            BreachRow(
                team_id=known.id if known else None,
                team_name=known.name if known else "",
                metric=SlaMetric(metric),
                due=int(due),
                met_in_time=int(met or 0),
                breached=int(breached or 0),
                running=int(due) - int(met or 0) - int(breached or 0),
            )
        )
    return sorted(
        rows,
        key=lambda r: (
            r.team_id is None,
            teams[r.team_id].sort_order if r.team_id in teams else 0,
            r.team_id or 0,
            _METRICS.index(r.metric),
        ),
    )


def totals(rows: Sequence[BreachRow]) -> list[BreachRow]:
    """The whole shop per metric (team None, name empty)."""
    found: dict[SlaMetric, BreachRow] = {}
    for row in rows:
        before = found.get(row.metric)
        found[row.metric] = BreachRow(
            team_id=None,
            team_name="",
            metric=row.metric,
            due=row.due + (before.due if before else 0),
            met_in_time=row.met_in_time + (before.met_in_time if before else 0),
            breached=row.breached + (before.breached if before else 0),
            running=row.running + (before.running if before else 0),
        )
    return [found[m] for m in _METRICS if m in found]


def list_breaches(
    session: Session,
    *,
    shop_id: int,
    since: datetime,
    until: datetime,
    limit: int = MAX_BREACHES,
) -> list[Breach]:
    """The missed deadlines of the period, latest first, with who had the ticket."""
    _check_period(since, until)
    holder_team = aliased(Team)
    holder = aliased(Agent)
    query = (
        select(SlaTarget, Ticket.number, Ticket.title, holder_team.name, holder.display_name)
        .join(Ticket, and_(Ticket.id == SlaTarget.ticket_id, Ticket.shop_id == shop_id))
        .outerjoin(
            holder_team,
            and_(
                holder_team.shop_id == shop_id,
                holder_team.id == _holder(SlaTarget.breach_team_id, Ticket.team_id),
            ),
        )
        .outerjoin(
            holder,
            and_(
                holder.shop_id == shop_id,
                holder.id == _holder(SlaTarget.breach_assignee_id, Ticket.assignee_id),
            ),
        )
        .where(_in_period(shop_id, since, until), _late())
        .order_by(SlaTarget.due_at.desc(), SlaTarget.id.desc())
        .limit(max(1, min(limit, MAX_BREACHES)))
    )
    return [
        Breach(
            target_id=target.id,
            ticket_id=target.ticket_id,
            number=number,
            title=title,
            metric=target.metric,
            due_at=target.due_at,
            breached_at=target.breached_at,
            met_at=target.met_at,
            team_name=team_name or "",
            assignee_name=assignee_name or "",
        )
        for target, number, title, team_name, assignee_name in session.execute(query)
    ]
