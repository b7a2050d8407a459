"""The SLA watcher: every round (the app runs one every 30 s in each worker process) warns
of deadlines coming up and records deadlines passed.

Each warning and each breach first *claims* its target with a conditional UPDATE
(``… WHERE id = :id AND warned_at IS NULL``), as the first statement of its own
transaction, and writes the notifications, the ticket's history line and the event in that
same transaction. Two watchers racing for a target: one updates it, the other's UPDATE
waits for that commit and then matches nothing (PostgreSQL re-checks the row after the
lock; SQLite has one writer at a time). So each warning and breach fires once, whatever
the number of processes. A clock that was met, paused or cancelled is never warned.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final, cast
from zoneinfo import ZoneInfo

from anyio import to_thread
from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from kefu.accounts import service as accounts
from kefu.shops import service as shops
from kefu.tickets import notifications
from kefu.tickets.calendar import ROUND_THE_CLOCK, TimeBasis, calendar_of
from kefu.tickets.duty import duty_manager
from kefu.tickets.events import SlaBreached, SlaWarning
from kefu.tickets.history import record_change
from kefu.tickets.models import NotificationKind, SlaMetric, SlaState, SlaTarget, Ticket
from kefu.uow import UnitOfWork

log = logging.getLogger(__name__)

CHECK_EVERY: Final = 30.0  # seconds between rounds
BATCH: Final = 200
MAX_BATCHES_PER_ROUND: Final = 20
TITLE_IN_TEXT: Final = 30
METRIC_NAMES: Final = {
    SlaMetric.FIRST_RESPONSE: ("首次响应", "first response"),
    SlaMetric.NEXT_RESPONSE: ("再次响应", "next response"),
    SlaMetric.RESOLUTION: ("解决", "resolution"),
}


def check_deadlines(
    uow: UnitOfWork, *, now: datetime | None = None, limit: int = BATCH
) -> tuple[int, int]:
    """One round: warn of every running clock whose warning time has come (and whose
    deadline has not passed: then it is a breach, told once as such), and record every
    breach. Each in a transaction of its own, so one failure stops no other. Returns
    (warnings, breaches) this watcher fired."""
    now = now or uow.clock.now()
    session = uow.session
    running = (
        SlaTarget.state == SlaState.ACTIVE,
        SlaTarget.breached_at.is_(None),
    )
    to_warn = list(
        session.scalars(
            select(SlaTarget.id)
            .where(
                *running,
                SlaTarget.warned_at.is_(None),
                SlaTarget.warn_at <= now,
                SlaTarget.due_at > now,
            )
            .order_by(SlaTarget.warn_at, SlaTarget.id)
            .limit(limit)
        )
    )
    to_breach = list(
        session.scalars(
            select(SlaTarget.id)
            .where(*running, SlaTarget.due_at <= now)
            .order_by(SlaTarget.due_at, SlaTarget.id)
            .limit(limit)
        )
    )
    session.rollback()  # end the read, so each claim below starts its own transaction
    warned = breached = 0
    for target_id in to_warn:
        warned += _fire(uow, _warn_one, target_id, now)
    for target_id in to_breach:
        breached += _fire(uow, _breach_one, target_id, now)
    return warned, breached


def _fire(
    uow: UnitOfWork,
    action: Callable[[UnitOfWork, int, datetime], bool],
    target_id: int,
    now: datetime,
) -> int:
    try:
        fired = action(uow, target_id, now)
        uow.commit()
    except Exception:  # the row stays unclaimed: the next round tries again
        uow.rollback()
        log.exception("an SLA deadline could not be processed", extra={"id": target_id})
        return 0
    return int(fired)


def _claimed(session: Session, statement: Any) -> bool:
    result = session.execute(statement.execution_options(synchronize_session=False))
    return bool(cast(CursorResult[Any], result).rowcount)


def _warn_one(uow: UnitOfWork, target_id: int, now: datetime) -> bool:
    session = uow.session
    claim = (
        update(SlaTarget)
        .where(
            SlaTarget.id == target_id,
            SlaTarget.warned_at.is_(None),
            SlaTarget.breached_at.is_(None),
            SlaTarget.state == SlaState.ACTIVE,
            SlaTarget.warn_at <= now,
            SlaTarget.due_at > now,
        )
        .values(warned_at=now)
    )
    if not _claimed(session, claim):
        return False  # another watcher warned, or the clock was met or paused meanwhile
    target, ticket = _load(session, target_id)
    basis = _basis(session, target)
    zone = ZoneInfo(shops.get_shop(session, shop_id=ticket.shop_id).timezone)
    left = _duration(max(1, basis.minutes_between(now, target.due_at)))
    due = _shown(target.due_at, now, zone)
    zh, en = METRIC_NAMES[target.metric]
    name = f"#{ticket.number}「{_title(ticket)}」"
    text = {
        "zh-CN": f"工单 {name}的{zh}将在 {left[0]}后超时（截止 {due}）",
        "en": f"Ticket #{ticket.number} “{_title(ticket)}”: {en} due in {left[1]} (by {due})",
    }
    notified = _tell(uow, ticket, NotificationKind.SLA_WARNING, text, now)
    record_change(
        uow, ticket=ticket, field="sla", old=target.metric.value, new="warning",
        actor_agent_id=None, actor="system",
    )  # fmt: skip
    uow.collect(
        SlaWarning(
            shop_id=ticket.shop_id,
            ticket_id=ticket.id,
            target_id=target.id,
            metric=target.metric.value,
            due_at=target.due_at,
            notified_agent_ids=notified,
        )
    )
    return True


def _breach_one(uow: UnitOfWork, target_id: int, now: datetime) -> bool:
    session = uow.session
    # Who had the ticket at that moment, for the reports per team and agent.
    holder = select(Ticket).where(Ticket.id == SlaTarget.ticket_id)
    claim = (
        update(SlaTarget)
        .where(
            SlaTarget.id == target_id,
            SlaTarget.breached_at.is_(None),
            SlaTarget.state == SlaState.ACTIVE,
            SlaTarget.due_at <= now,
        )
        .values(
            breached_at=now,
            breach_team_id=holder.with_only_columns(Ticket.team_id).scalar_subquery(),
            breach_assignee_id=holder.with_only_columns(Ticket.assignee_id).scalar_subquery(),
        )
    )
    if not _claimed(session, claim):
        return False
    target, ticket = _load(session, target_id)
    zone = ZoneInfo(shops.get_shop(session, shop_id=ticket.shop_id).timezone)
    due = _shown(target.due_at, now, zone)
    zh, en = METRIC_NAMES[target.metric]
    text = {
        "zh-CN": f"工单 #{ticket.number}「{_title(ticket)}」的{zh}已超时（截止 {due}）",
        "en": f"Ticket #{ticket.number} “{_title(ticket)}”: {en} is overdue (was due {due})",
    }
    notified = _tell(uow, ticket, NotificationKind.SLA_BREACH, text, now)
    record_change(
        uow, ticket=ticket, field="sla", old=target.metric.value, new="breached",
        actor_agent_id=None, actor="system",
    )  # fmt: skip
    uow.collect(
        SlaBreached(
            shop_id=ticket.shop_id,
            ticket_id=ticket.id,
            target_id=target.id,
            metric=target.metric.value,
            due_at=target.due_at,
            team_id=target.breach_team_id,
            assignee_id=target.breach_assignee_id,
            notified_agent_ids=notified,
        )
    )
    return True


def _load(session: Session, target_id: int) -> tuple[SlaTarget, Ticket]:
    # Read again, not from this session's memory: the claim just changed the row.
    target = session.scalars(
        select(SlaTarget).where(SlaTarget.id == target_id).execution_options(populate_existing=True)
    ).one()
    ticket = session.scalars(
        select(Ticket)
        .where(Ticket.id == target.ticket_id, Ticket.shop_id == target.shop_id)
        .execution_options(populate_existing=True)
    ).one()
    return target, ticket


def _basis(session: Session, target: SlaTarget) -> TimeBasis:
    if not target.business_hours:
        return ROUND_THE_CLOCK
    return calendar_of(session, shop_id=target.shop_id)


def _tell(
    uow: UnitOfWork,
    ticket: Ticket,
    kind: NotificationKind,
    text: dict[str, str],
    now: datetime,
) -> tuple[int, ...]:
    """The assignee (or, with nobody assigned, the ticket's team), the supervisors and the
    duty manager on now."""
    session = uow.session
    people: list[int] = []
    if ticket.assignee_id is not None:
        people.append(ticket.assignee_id)
    elif ticket.team_id is not None:
        members = accounts.team_members(session, shop_id=ticket.shop_id)
        people += members.get(ticket.team_id, [])
    people += notifications.supervisors_of(session, shop_id=ticket.shop_id)
    manager = duty_manager(session, shop_id=ticket.shop_id, at=now, team_id=ticket.team_id)
    if manager is not None:
        people.append(manager)
    rows = notifications.notify(
        uow,
        shop_id=ticket.shop_id,
        agent_ids=people,
        kind=kind,
        text=text,
        link=f"/tickets/{ticket.id}",
        ticket_id=ticket.id,
    )
    return tuple(row.agent_id for row in rows)


def _title(ticket: Ticket) -> str:
    title = ticket.title
    return title if len(title) <= TITLE_IN_TEXT else title[: TITLE_IN_TEXT - 1] + "…"


def _shown(moment: datetime, now: datetime, zone: ZoneInfo) -> str:
    """The deadline on the shop's clock: 14:30 today, else with its date (02-14 10:00)."""
    local = moment.astimezone(zone)
    if local.date() == now.astimezone(zone).date():
        return local.strftime("%H:%M")
    return local.strftime("%m-%d %H:%M")


def _duration(minutes: int) -> tuple[str, str]:
    """(zh, en) wording of a span: 30 分钟 / 2 小时 10 分钟 / 3 小时."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} 分钟", f"{rest} minutes"
    if not rest:
        return f"{hours} 小时", f"{hours} h"
    return f"{hours} 小时 {rest} 分钟", f"{hours} h {rest} min"


# --- the app's watcher ----------------------------------------------------------------------


async def watch(unit_of_work: Callable[[], UnitOfWork], *, every: float = CHECK_EVERY) -> None:
    """Run :func:`check_deadlines` every ``every`` seconds until cancelled (the app starts
    it in every process; the claims keep each warning and breach to one of them)."""
    while True:
        await asyncio.sleep(every)
        try:
            await to_thread.run_sync(_round, unit_of_work)
        except Exception:
            log.warning("the SLA watcher failed", exc_info=True)


def _round(unit_of_work: Callable[[], UnitOfWork]) -> None:
    """Batches while they come back full, up to a cap: a backlog (the app was down over
    a weekend) drains in one round."""
    total = (0, 0)
    for _ in range(MAX_BATCHES_PER_ROUND):
        with unit_of_work() as uow:
            warned, breached = check_deadlines(uow, limit=BATCH)
        total = (total[0] + warned, total[1] + breached)
        if warned < BATCH and breached < BATCH:
            break
    if any(total):
        log.info("SLA deadlines", extra={"warned": total[0], "breached": total[1]})
