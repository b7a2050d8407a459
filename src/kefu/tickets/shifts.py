"""Shifts (班次) of a team: 早班 08:00–16:00, 夜班 22:00–06:00 …, in the shop's time, on
chosen weekdays, with their members and a duty manager (值班经理).

Members must be active agents of the shop in the shift's team (they hand over that team's
conversations and tickets); the duty manager must be a supervisor or the owner (they answer
escalations and are told of unacknowledged handovers). When a shift is on is worked out in
:mod:`kefu.tickets.shift_times`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.accounts.models import Agent
from kefu.errors import Invalid, NotFound
from kefu.shops import service as shops
from kefu.shops.models import Team
from kefu.tickets import checks, shift_checks, shift_times
from kefu.tickets.checks import KEEP, _Keep
from kefu.tickets.models import Handover, Shift, ShiftMember
from kefu.tickets.shift_times import Occurrence
from kefu.uow import UnitOfWork

ALL_WEEKDAYS: Final = shift_checks.ALL_WEEKDAYS


@dataclass(frozen=True)
class ShiftView:
    """A shift as pages and the API show it: names instead of ids."""

    shift: Shift
    team_name: str
    members: list[tuple[int, str]]  # (agent id, display name)
    duty_manager_name: str


# --- reading -------------------------------------------------------------------------------


def get_shift(session: Session, *, shop_id: int, shift_id: int) -> Shift:
    shift = (
        session.scalar(select(Shift).where(Shift.shop_id == shop_id, Shift.id == shift_id))
        if checks._is_id(shift_id)
        else None
    )
    if shift is None:
        raise NotFound("shift not found", key="errors.tickets.shift.not_found")
    return shift


def list_shifts(
    session: Session, *, shop_id: int, team_id: int | None = None, active_only: bool = False
) -> list[Shift]:
    """Active shifts first, then by team and start time."""
    query = select(Shift).where(Shift.shop_id == shop_id)
    if team_id is not None:
        query = query.where(Shift.team_id == team_id)
    if active_only:
        query = query.where(Shift.is_active.is_(True))
    query = query.order_by(Shift.is_active.desc(), Shift.team_id, Shift.start_time, Shift.id)
    return list(session.scalars(query))


def members_of(session: Session, *, shop_id: int, shift_ids: Sequence[int]) -> dict[int, list[int]]:
    """Each shift's member agent ids (in the order they were added)."""
    found: dict[int, list[int]] = {shift_id: [] for shift_id in shift_ids}
    if not shift_ids:
        return found
    rows = session.execute(
        select(ShiftMember.shift_id, ShiftMember.agent_id)
        .where(ShiftMember.shop_id == shop_id, ShiftMember.shift_id.in_(list(shift_ids)))
        .order_by(ShiftMember.id)
    )
    for shift_id, agent_id in rows:
        found[shift_id].append(agent_id)
    return found


def shift_views(session: Session, *, shop_id: int, shifts: Sequence[Shift]) -> list[ShiftView]:
    members = members_of(session, shop_id=shop_id, shift_ids=[s.id for s in shifts])
    agent_ids = {a for ids in members.values() for a in ids} | {
        s.duty_manager_id for s in shifts if s.duty_manager_id is not None
    }
    names = {
        row[0]: row[1]
        for row in session.execute(
            select(Agent.id, Agent.display_name).where(
                Agent.shop_id == shop_id, Agent.id.in_(agent_ids)
            )
        )
    }
    teams = {t.id: t.name for t in shops.list_teams(session, shop_id=shop_id)}
    return [
        ShiftView(
            shift=s,
            team_name=teams.get(s.team_id, ""),
            members=[(a, names.get(a, f"#{a}")) for a in members[s.id]],
            duty_manager_name=names.get(s.duty_manager_id, "") if s.duty_manager_id else "",
        )
        for s in shifts
    ]


def shop_zone(session: Session, *, shop_id: int) -> ZoneInfo:
    return ZoneInfo(shops.get_shop(session, shop_id=shop_id).timezone)


def shifts_on(session: Session, *, shop_id: int, at: datetime) -> list[Occurrence]:
    """The occurrences of the shop's active shifts covering ``at`` (a night shift that
    started yesterday included), earliest start first. Each is a ``(shift, start, end)``
    tuple of UTC moments."""
    shifts = list_shifts(session, shop_id=shop_id, active_only=True)
    if not shifts:
        return []
    return shift_times.covering(shifts, shop_zone(session, shop_id=shop_id), at)


def current_occurrence(session: Session, *, shift: Shift, at: datetime) -> Occurrence | None:
    """The occurrence of ``shift`` on at ``at``, if it is on."""
    found = shift_times.covering([shift], shop_zone(session, shop_id=shift.shop_id), at)
    return found[0] if found else None


def incoming_occurrence(session: Session, *, outgoing: Occurrence) -> Occurrence | None:
    """Who takes over when ``outgoing`` ends: the team's next occurrence (see
    :func:`kefu.tickets.shift_times.next_after`)."""
    shift = outgoing.shift
    team_shifts = list_shifts(
        session, shop_id=shift.shop_id, team_id=shift.team_id, active_only=True
    )
    if shift not in team_shifts:
        team_shifts.append(shift)
    zone = shop_zone(session, shop_id=shift.shop_id)
    return shift_times.next_after(team_shifts, zone, outgoing)


# --- writing -------------------------------------------------------------------------------


def create_shift(
    uow: UnitOfWork,
    *,
    shop_id: int,
    team_id: int,
    name: str,
    start_time: str,
    end_time: str,
    weekdays: str = ALL_WEEKDAYS,
    member_ids: Sequence[int] = (),
    duty_manager_id: int | None = None,
    ack_within_minutes: int = 30,
    commit: bool = True,
) -> Shift:
    """A new shift of a team. Every input is checked before anything is written."""
    session = uow.session
    team = shift_checks.team(session, shop_id=shop_id, team_id=team_id)
    clean_name = shift_checks.name(name)
    start, end = shift_checks.times(start_time, end_time)
    days = shift_checks.weekdays(weekdays)
    members = shift_checks.members(session, shop_id=shop_id, team=team, member_ids=member_ids)
    if duty_manager_id is not None:
        shift_checks.duty_manager(session, shop_id=shop_id, agent_id=duty_manager_id)
    ack = shift_checks.ack_minutes(ack_within_minutes)
    shift_checks.name_free(session, shop_id=shop_id, team=team, name=clean_name, shift_id=None)
    shift = Shift(
        shop_id=shop_id,
        team_id=team.id,
        name=clean_name,
        start_time=start,
        end_time=end,
        weekdays=days,
        duty_manager_id=duty_manager_id,
        ack_within_minutes=ack,
        is_active=True,
        created_at=uow.clock.now(),
    )
    _flush_named(uow, shift, team=team)
    for agent_id in members:
        session.add(ShiftMember(shop_id=shop_id, shift_id=shift.id, agent_id=agent_id))
    session.flush()
    if commit:
        uow.commit()
    return shift


def update_shift(
    uow: UnitOfWork,
    *,
    shop_id: int,
    shift_id: int,
    name: str | None = None,
    start_time: str | None = None,
    end_time: str | None = None,
    weekdays: str | None = None,
    member_ids: Sequence[int] | None = None,
    duty_manager_id: int | _Keep | None = KEEP,
    ack_within_minutes: int | None = None,
    is_active: bool | None = None,
    commit: bool = True,
) -> Shift:
    """Change what is given (None / KEEP = unchanged; ``duty_manager_id=None`` clears it).
    ``member_ids`` replaces the members. The team of a shift does not change: make a new
    shift in the other team (its handover reports belong to this team)."""
    session = uow.session
    shift = get_shift(session, shop_id=shop_id, shift_id=shift_id)
    team = shift_checks.team(session, shop_id=shop_id, team_id=shift.team_id)
    clean_name = shift_checks.name(name) if name is not None else None
    start, end = shift_checks.times(
        start_time if start_time is not None else shift.start_time,
        end_time if end_time is not None else shift.end_time,
    )
    days = shift_checks.weekdays(weekdays) if weekdays is not None else None
    members = (
        shift_checks.members(session, shop_id=shop_id, team=team, member_ids=member_ids)
        if member_ids is not None
        else None
    )
    if not isinstance(duty_manager_id, _Keep) and duty_manager_id is not None:
        shift_checks.duty_manager(session, shop_id=shop_id, agent_id=duty_manager_id)
    ack = shift_checks.ack_minutes(ack_within_minutes) if ack_within_minutes is not None else None
    if is_active is not None and not isinstance(is_active, bool):
        raise Invalid("is_active must be true or false", field="is_active")
    if clean_name is not None and clean_name != shift.name:
        shift_checks.name_free(
            session, shop_id=shop_id, team=team, name=clean_name, shift_id=shift.id
        )
        shift.name = clean_name
    shift.start_time, shift.end_time = start, end
    if days is not None:
        shift.weekdays = days
    if not isinstance(duty_manager_id, _Keep):
        shift.duty_manager_id = duty_manager_id
    if ack is not None:
        shift.ack_within_minutes = ack
    if is_active is not None:
        shift.is_active = is_active
    if members is not None:
        session.execute(
            delete(ShiftMember).where(
                ShiftMember.shop_id == shop_id, ShiftMember.shift_id == shift.id
            )
        )
        for agent_id in members:
            session.add(ShiftMember(shop_id=shop_id, shift_id=shift.id, agent_id=agent_id))
    _flush_named(uow, shift, team=team)
    if commit:
        uow.commit()
    return shift


def delete_shift(uow: UnitOfWork, *, shop_id: int, shift_id: int, commit: bool = True) -> bool:
    """Remove a shift. One that has handover reports is retired instead (made inactive:
    no more reports, escalations or handovers to it) so its reports stay readable.
    Returns True when the shift was removed, False when it was retired."""
    session = uow.session
    shift = get_shift(session, shop_id=shop_id, shift_id=shift_id)
    has_reports = session.scalar(
        select(
            exists().where(
                Handover.shop_id == shop_id,
                (Handover.shift_id == shift.id) | (Handover.next_shift_id == shift.id),
            )
        )
    )
    if has_reports:
        shift.is_active = False
    else:
        session.delete(shift)
    session.flush()
    if commit:
        uow.commit()
    return not has_reports


# --- helpers -------------------------------------------------------------------------------


def _flush_named(uow: UnitOfWork, shift: Shift, *, team: Team) -> None:
    """Write the shift; two people naming a shift alike at once: the second is told."""
    try:
        with uow.session.begin_nested():
            uow.session.add(shift)
            uow.session.flush()
    except IntegrityError as exc:
        raise shift_checks.name_taken(shift.name, team) from exc
