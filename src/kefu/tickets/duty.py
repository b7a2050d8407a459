"""Who the duty manager (值班经理) is at a moment: the person escalations go to and who
hears of handover items nobody acknowledged (seed 002: 「上交值班经理」)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.accounts.models import Agent, Role
from kefu.tickets import shifts
from kefu.tickets.settings import read_settings


def duty_manager(
    session: Session, *, shop_id: int, at: datetime, team_id: int | None = None
) -> int | None:
    """Who answers escalations at ``at``: the duty manager of a shift on then (the one of
    ``team_id``'s shift first, when the question came from that team's chat), else the
    shop's standing duty manager (ticket settings), else the first active supervisor, else
    the owner. Only active people; None if the shop has nobody left to ask."""
    active = _active_ids(session, shop_id=shop_id)
    on_now = [o.shift for o in shifts.shifts_on(session, shop_id=shop_id, at=at)]
    on_now.sort(key=lambda shift: shift.team_id != team_id)  # stable: the team's first
    for shift in on_now:
        if shift.duty_manager_id in active:
            return shift.duty_manager_id
    settings = read_settings(session, shop_id=shop_id)
    if settings is not None and settings.duty_manager_id in active:
        return settings.duty_manager_id
    for role in (Role.SUPERVISOR, Role.OWNER):
        found = session.scalar(
            select(Agent.id)
            .where(Agent.shop_id == shop_id, Agent.role == role, Agent.is_active.is_(True))
            .order_by(Agent.id)
            .limit(1)
        )
        if found is not None:
            return found
    return None


def _active_ids(session: Session, *, shop_id: int) -> set[int]:
    return set(
        session.scalars(select(Agent.id).where(Agent.shop_id == shop_id, Agent.is_active.is_(True)))
    )
