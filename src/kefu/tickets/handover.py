"""Shift handover (交班): at the end of a shift, a report of every open conversation and
ticket of its people — with the last note and the deadline — for the next shift to
acknowledge (seed 002: 「认真填写交班日记，向下一班交清未完成和待解决的问题」).

A report belongs to one occurrence of a shift (unique per shift and end moment). An agent
may hand over early with a note (交班日记); otherwise the app writes it at the shift's end
(:mod:`kefu.tickets.handover_watch`). The items are frozen when written: the report says
what the outgoing shift left, not what happened after.

A second report for the same occurrence is refused (Conflict naming the first), with one
exception: an agent's note for a report the app already wrote without one is added to it
(an agent late with the 交班日记 must not lose it, and the items stay as frozen at the end).
Reads (the list and one report) are in :mod:`kefu.tickets.handover_reads`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.accounts.models import Agent, Role
from kefu.errors import Conflict, Invalid, NotFound, PermissionDenied
from kefu.shops.models import Team
from kefu.tickets import checks, notifications
from kefu.tickets.events import HandoverAcknowledged, HandoverCreated
from kefu.tickets.handover_items import collect_items
from kefu.tickets.models import Handover, HandoverItem, NotificationKind, Shift
from kefu.tickets.shift_times import Occurrence, ending_at, latest_ended
from kefu.tickets.shifts import (
    current_occurrence,
    get_shift,
    incoming_occurrence,
    members_of,
    shop_zone,
)
from kefu.uow import UnitOfWork
from kefu.validation import clean_text

# The app writes the reports of occurrences that ended this recently (a server down over
# the shift's end catches up when it is back); an agent handing over just after the end
# names the occurrence that ended within it.
HANDOVER_WINDOW: Final = timedelta(hours=6)
MAX_NOTE_LENGTH: Final = 2000


def hand_over(
    uow: UnitOfWork,
    *,
    shop_id: int,
    shift_id: int,
    period_end: datetime | None = None,
    note: str = "",
    actor_agent_id: int | None = None,
    commit: bool = True,
) -> Handover:
    """Write the handover report of the shift's occurrence ending at ``period_end``
    (default: the one on now, handed over early, else the one that just ended).

    ``actor_agent_id`` None is the app at the shift's end. A person must be on the shift,
    its duty manager or a supervisor. The incoming shift's people and duty manager are told.
    """
    session = uow.session
    now = uow.clock.now()
    shift = get_shift(session, shop_id=shop_id, shift_id=shift_id)
    if not shift.is_active:
        raise Conflict(
            f"the shift {shift.name} is retired: it hands nothing over",
            key="errors.tickets.handover.shift_retired",
            shift=shift.name,
        )
    members = members_of(session, shop_id=shop_id, shift_ids=[shift.id])[shift.id]
    if actor_agent_id is not None:
        _may_hand_over(
            session, shop_id=shop_id, shift=shift, members=members, agent_id=actor_agent_id
        )
    text = _note(note)
    occurrence = _occurrence(session, shift=shift, period_end=period_end, now=now)

    existing = _existing(session, shift_id=shift.id, period_end=occurrence.end)
    if existing is not None:
        return _add_late_note(
            uow, existing, shift=shift, note=text, agent_id=actor_agent_id, commit=commit
        )

    incoming = incoming_occurrence(session, outgoing=occurrence)
    handover = Handover(
        shop_id=shop_id,
        shift_id=shift.id,
        team_id=shift.team_id,
        next_shift_id=incoming.shift.id if incoming is not None else None,
        period_start=occurrence.start,
        period_end=occurrence.end,
        note=text,
        created_by_agent_id=actor_agent_id,
        created_at=now,
        ack_due_at=max(occurrence.end, now) + timedelta(minutes=shift.ack_within_minutes),
    )
    try:
        # Two writers at once (an agent's button and the job, or two app processes): the
        # unique (shift, period_end) lets one insert; the other is told which report won.
        with session.begin_nested():
            session.add(handover)
            session.flush()
    except IntegrityError:
        won = _existing(session, shift_id=shift.id, period_end=occurrence.end)
        if won is None:  # pragma: no cover - the constraint only fails for an existing row
            raise
        raise _exists(shift, won) from None
    items = collect_items(session, shop_id=shop_id, handover=handover, agent_ids=members, now=now)
    session.add_all(items)
    session.flush()
    _tell_incoming(
        uow,
        handover=handover,
        shift=shift,
        incoming=incoming,
        items=len(items),
        actor=actor_agent_id,
    )
    uow.collect(
        HandoverCreated(
            shop_id=shop_id,
            handover_id=handover.id,
            shift_id=shift.id,
            team_id=shift.team_id,
            item_count=len(items),
        )
    )
    if commit:
        uow.commit()
    return handover


def acknowledge(
    uow: UnitOfWork,
    *,
    shop_id: int,
    handover_id: int,
    agent_id: int,
    item_ids: Sequence[int] | None = None,
    commit: bool = True,
) -> Handover:
    """The incoming shift takes over items (``None``: every item not yet acknowledged).

    Members of the incoming shift, its duty manager and supervisors acknowledge; anyone
    else is refused. Items already acknowledged stay as they were (who and when first).
    """
    session = uow.session
    agent = checks.active_agent(session, shop_id=shop_id, agent_id=agent_id, field="agent_id")
    handover = lock_handover(session, shop_id=shop_id, handover_id=handover_id)
    if not may_acknowledge(session, handover=handover, agent=agent):
        incoming = session.get(Shift, handover.next_shift_id) if handover.next_shift_id else None
        raise PermissionDenied(
            f"{agent.display_name} is not on the incoming shift"
            + (f" {incoming.name}" if incoming else "")
            + ": its members, its duty manager or a supervisor acknowledge the handover",
            key="errors.tickets.handover.not_incoming",
            name=agent.display_name,
            shift=incoming.name if incoming else "—",
        )
    items = list(
        session.scalars(
            select(HandoverItem)
            .where(HandoverItem.shop_id == shop_id, HandoverItem.handover_id == handover.id)
            .order_by(HandoverItem.id)
        )
    )
    chosen = items if item_ids is None else _chosen(items, item_ids)
    now = uow.clock.now()
    newly = [item for item in chosen if item.acknowledged_at is None]
    for item in newly:
        item.acknowledged_at, item.acknowledged_by_id = now, agent.id
    complete = all(item.acknowledged_at is not None for item in items)
    completes_now = complete and handover.acknowledged_at is None
    if completes_now:
        handover.acknowledged_at, handover.acknowledged_by_id = now, agent.id
    if newly or completes_now:
        uow.collect(
            HandoverAcknowledged(
                shop_id=shop_id,
                handover_id=handover.id,
                agent_id=agent.id,
                item_ids=tuple(item.id for item in newly),
                complete=complete,
            )
        )
    session.flush()
    if commit:
        uow.commit()
    return handover


# --- who may -----------------------------------------------------------------------------------


def may_acknowledge(session: Session, *, handover: Handover, agent: Agent) -> bool:
    if agent.role in (Role.SUPERVISOR, Role.OWNER):
        return True
    if handover.next_shift_id is None:
        return False
    incoming = session.get(Shift, handover.next_shift_id)
    if incoming is None:
        return False
    if incoming.duty_manager_id == agent.id:
        return True
    members = members_of(session, shop_id=handover.shop_id, shift_ids=[incoming.id])[incoming.id]
    return agent.id in members


def _may_hand_over(
    session: Session, *, shop_id: int, shift: Shift, members: Sequence[int], agent_id: int
) -> None:
    agent = checks.active_agent(session, shop_id=shop_id, agent_id=agent_id, field="actor_agent_id")
    if agent.id in members or agent.id == shift.duty_manager_id:
        return
    if agent.role in (Role.SUPERVISOR, Role.OWNER):
        return
    raise PermissionDenied(
        f"{agent.display_name} is not on the shift {shift.name}: its members hand it over",
        key="errors.tickets.handover.not_on_shift",
        name=agent.display_name,
        shift=shift.name,
    )


# --- the report --------------------------------------------------------------------------------


def lock_handover(session: Session, *, shop_id: int, handover_id: int) -> Handover:
    """The report, locked for this transaction (a no-op UPDATE, as for tickets): two
    people acknowledging at once take turns, so "all acknowledged" is seen once."""
    result = (
        session.execute(
            update(Handover)
            .where(Handover.shop_id == shop_id, Handover.id == handover_id)
            .values(shift_id=Handover.shift_id)
            .execution_options(synchronize_session=False)
        )
        if checks._is_id(handover_id)
        else None
    )
    if result is None or not getattr(result, "rowcount", 0):
        raise NotFound("handover report not found", key="errors.tickets.handover.not_found")
    handover = session.get(Handover, handover_id, populate_existing=True)
    assert handover is not None  # just updated under lock
    return handover


def _occurrence(
    session: Session, *, shift: Shift, period_end: datetime | None, now: datetime
) -> Occurrence:
    if period_end is None:
        found = current_occurrence(session, shift=shift, at=now) or latest_ended(
            shift, shop_zone(session, shop_id=shift.shop_id), at=now, within=HANDOVER_WINDOW
        )
        if found is None:
            raise Invalid(
                f"the shift {shift.name} is not on now and did not just end: "
                "name the end of the occurrence to hand over",
                field="period_end",
                key="errors.tickets.handover.shift_not_on",
                shift=shift.name,
            )
        return found
    if period_end.tzinfo is None:
        raise Invalid("period_end needs a time zone", field="period_end")
    found = ending_at(shift, shop_zone(session, shop_id=shift.shop_id), period_end)
    if found is None:
        raise Invalid(
            f"the shift {shift.name} does not end at that moment",
            field="period_end",
            key="errors.tickets.handover.not_a_shift_end",
            shift=shift.name,
        )
    if found.start > now:
        raise Invalid(
            f"that occurrence of the shift {shift.name} has not started yet",
            field="period_end",
            key="errors.tickets.handover.not_started",
            shift=shift.name,
        )
    return found


def _existing(session: Session, *, shift_id: int, period_end: datetime) -> Handover | None:
    return session.scalar(
        select(Handover).where(Handover.shift_id == shift_id, Handover.period_end == period_end)
    )


def _exists(shift: Shift, existing: Handover) -> Conflict:
    return Conflict(
        f"the shift {shift.name} has already handed over this occurrence (report #{existing.id})",
        key="errors.tickets.handover.exists",
        shift=shift.name,
        handover_id=existing.id,
    )


def _add_late_note(
    uow: UnitOfWork,
    existing: Handover,
    *,
    shift: Shift,
    note: str,
    agent_id: int | None,
    commit: bool,
) -> Handover:
    """See the module's docstring: the app's report takes an agent's note it lacks."""
    if agent_id is None or not note or existing.created_by_agent_id is not None or existing.note:
        raise _exists(shift, existing)
    existing.note = note
    uow.session.flush()
    if commit:
        uow.commit()
    return existing


def _note(value: str) -> str:
    if len(value) > MAX_NOTE_LENGTH:
        raise Invalid(
            f"the handover note is {len(value)} characters; the limit is {MAX_NOTE_LENGTH}",
            field="note",
            key="errors.tickets.handover.note_too_long",
            limit=MAX_NOTE_LENGTH,
        )
    return clean_text(value, field="note", max_length=MAX_NOTE_LENGTH, multiline=True)


# --- telling the incoming shift -----------------------------------------------------------------


def _tell_incoming(
    uow: UnitOfWork,
    *,
    handover: Handover,
    shift: Shift,
    incoming: Occurrence | None,
    items: int,
    actor: int | None,
) -> None:
    session = uow.session
    people: list[int] = []
    if incoming is not None:
        people = members_of(session, shop_id=shift.shop_id, shift_ids=[incoming.shift.id])[
            incoming.shift.id
        ]
        if incoming.shift.duty_manager_id is not None:
            people.append(incoming.shift.duty_manager_id)
    if not people:  # nobody takes over (or the next shift has nobody): the supervisors must know
        people = notifications.supervisors_of(session, shop_id=shift.shop_id)
    people = [p for p in dict.fromkeys(people) if p != actor]
    if not people or (items == 0 and not handover.note):
        return  # nothing handed over and nothing said: not worth anybody's attention
    team = session.get(Team, shift.team_id)
    # 「售后早班」: two teams may both have an 早班.
    name = f"{team.name if team is not None else ''}{shift.name}"
    notifications.notify(
        uow,
        shop_id=shift.shop_id,
        agent_ids=people,
        kind=NotificationKind.HANDOVER,
        text={
            "zh-CN": f"{name}交班：{items} 项待确认",
            "en": f"{name} handed over: {items} item(s) to acknowledge",
        },
        link=f"/handovers/{handover.id}",
        handover_id=handover.id,
    )


def _chosen(items: Sequence[HandoverItem], item_ids: Sequence[int]) -> list[HandoverItem]:
    by_id = {item.id: item for item in items}
    chosen: list[HandoverItem] = []
    for item_id in dict.fromkeys(item_ids):
        item = by_id.get(item_id) if isinstance(item_id, int) else None
        if item is None:
            raise Invalid(
                f"item #{item_id} is not in this handover report",
                field="item_ids",
                key="errors.tickets.handover.item_not_found",
                item_id=str(item_id)[:12],
            )
        chosen.append(item)
    return chosen
