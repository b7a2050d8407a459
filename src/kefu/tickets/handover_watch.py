"""The handover job (run by the app every minute in each process): writes the report of
every shift that just ended without one, and flags the items nobody acknowledged in time.

Two processes run it at once. Reports are unique per (shift, period_end): the second
writer's insert fails and it moves on (:func:`kefu.tickets.handover.hand_over` turns that
into a Conflict). Flagging first *claims* the report with a conditional UPDATE
(``flagged_at`` NULL → now) in the same transaction as the notifications, so the
supervisors are told once.
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

from kefu.errors import Conflict
from kefu.shops.models import Shop, Team
from kefu.tickets import notifications
from kefu.tickets.escalation import duty_manager
from kefu.tickets.events import HandoverFlagged
from kefu.tickets.handover import HANDOVER_WINDOW, hand_over
from kefu.tickets.models import Handover, HandoverItem, NotificationKind, Shift
from kefu.tickets.shift_times import ended_between
from kefu.uow import UnitOfWork

log = logging.getLogger(__name__)

WATCH_EVERY: Final = 60.0  # seconds between rounds
BATCH: Final = 200  # reports flagged per round at most (the rest wait a minute)


def write_due_handovers(uow_factory: Callable[[], UnitOfWork], *, now: datetime) -> int:
    """Write the report of every active shift's occurrence that ended in the last
    :data:`~kefu.tickets.handover.HANDOVER_WINDOW` without one (actor: the system), each
    in a transaction of its own. Returns how many this call wrote."""
    due: list[tuple[int, int, datetime]] = []
    with uow_factory() as uow:
        session = uow.session
        rows = session.execute(
            select(Shift, Shop.timezone)
            .join(Shop, Shop.id == Shift.shop_id)
            .where(Shift.is_active.is_(True))
            .order_by(Shift.shop_id, Shift.id)
        ).all()
        if not rows:
            return 0
        written = {
            (row[0], row[1])
            for row in session.execute(
                select(Handover.shift_id, Handover.period_end).where(
                    Handover.shift_id.in_([shift.id for shift, _ in rows]),
                    Handover.period_end > now - HANDOVER_WINDOW,
                )
            )
        }
        for shift, zone in rows:
            for occurrence in ended_between(
                [shift], ZoneInfo(zone), after=now - HANDOVER_WINDOW, until=now
            ):
                # An occurrence over before the shift existed was never worked as this shift.
                if occurrence.end <= shift.created_at:
                    continue
                if (shift.id, occurrence.end) not in written:
                    due.append((shift.shop_id, shift.id, occurrence.end))
    count = 0
    for shop_id, shift_id, period_end in due:
        with uow_factory() as uow:
            try:
                hand_over(uow, shop_id=shop_id, shift_id=shift_id, period_end=period_end)
                count += 1
            except Conflict:
                uow.rollback()  # another process wrote it first (or the shift was retired)
            except Exception:
                uow.rollback()
                log.exception(
                    "a handover report could not be written", extra={"shift_id": shift_id}
                )
    return count


def flag_overdue(uow_factory: Callable[[], UnitOfWork], *, now: datetime) -> int:
    """Flag the items of every report not acknowledged by its ``ack_due_at``, telling the
    supervisors and the duty manager once per report. Returns how many items were flagged."""
    with uow_factory() as uow:
        due = list(
            uow.session.scalars(
                select(Handover.id)
                .where(
                    Handover.flagged_at.is_(None),
                    Handover.acknowledged_at.is_(None),
                    Handover.ack_due_at <= now,
                )
                .order_by(Handover.ack_due_at, Handover.id)
                .limit(BATCH)
            )
        )
    flagged = 0
    for handover_id in due:
        with uow_factory() as uow:
            try:
                flagged += _flag_one(uow, handover_id=handover_id, now=now)
                uow.commit()
            except Exception:
                uow.rollback()
                log.exception("a handover could not be flagged", extra={"handover_id": handover_id})
    return flagged


def _flag_one(uow: UnitOfWork, *, handover_id: int, now: datetime) -> int:
    session = uow.session
    claim = session.execute(
        update(Handover)
        .where(
            Handover.id == handover_id,
            Handover.flagged_at.is_(None),
            Handover.acknowledged_at.is_(None),
        )
        .values(flagged_at=now)
        .execution_options(synchronize_session=False)
    )
    if not cast(CursorResult[Any], claim).rowcount:
        return 0  # another process has it, or it was acknowledged meanwhile
    handover = session.get_one(Handover, handover_id, populate_existing=True)
    # Read under the claim's lock: an acknowledgement that committed first is seen here.
    items = list(
        session.scalars(
            select(HandoverItem)
            .where(HandoverItem.handover_id == handover.id, HandoverItem.acknowledged_at.is_(None))
            .order_by(HandoverItem.id)
        )
    )
    if not items:
        return 0
    for item in items:
        item.flagged_at = now
    shift = session.get_one(Shift, handover.shift_id)
    team = session.get(Team, handover.team_id)
    people = notifications.supervisors_of(session, shop_id=handover.shop_id)
    manager = _duty_manager_of(uow, handover=handover, now=now)
    if manager is not None:
        people.append(manager)
    team_name = team.name if team is not None else ""
    notifications.notify(
        uow,
        shop_id=handover.shop_id,
        agent_ids=list(dict.fromkeys(people)),
        kind=NotificationKind.HANDOVER_FLAGGED,
        text={
            "zh-CN": f"{team_name}{shift.name}的交班有 {len(items)} 项超时未确认",
            "en": f"{len(items)} item(s) of the {team_name}{shift.name} handover were not "
            "acknowledged in time",
        },
        link=f"/handovers/{handover.id}",
        handover_id=handover.id,
    )
    uow.collect(
        HandoverFlagged(
            shop_id=handover.shop_id,
            handover_id=handover.id,
            item_ids=tuple(item.id for item in items),
        )
    )
    return len(items)


def _duty_manager_of(uow: UnitOfWork, *, handover: Handover, now: datetime) -> int | None:
    """The incoming shift's duty manager, else whoever is the duty manager now."""
    if handover.next_shift_id is not None:
        incoming = uow.session.get(Shift, handover.next_shift_id)
        if incoming is not None and incoming.duty_manager_id is not None:
            return incoming.duty_manager_id
    return duty_manager(uow.session, shop_id=handover.shop_id, at=now, team_id=handover.team_id)


# --- the app's job -----------------------------------------------------------------------------


async def watch(unit_of_work: Callable[[], UnitOfWork], *, every: float = WATCH_EVERY) -> None:
    """Run a round every ``every`` seconds until cancelled (the app starts it in every
    process; the unique report and the claim keep each to one of them)."""
    while True:
        await asyncio.sleep(every)
        try:
            await to_thread.run_sync(run_round, unit_of_work)
        except Exception:
            log.warning("the handover job failed", exc_info=True)


def run_round(unit_of_work: Callable[[], UnitOfWork]) -> tuple[int, int]:
    """One round: reports written, items flagged."""
    with unit_of_work() as uow:
        now = uow.clock.now()
    written = write_due_handovers(unit_of_work, now=now)
    flagged = flag_overdue(unit_of_work, now=now)
    if written or flagged:
        log.info("handovers", extra={"written": written, "flagged": flagged})
    return written, flagged
