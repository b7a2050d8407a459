"""Shift helpers for the shift, handover and escalation tests: moments in Shanghai time
and a 售后 team with a day and an evening shift.

The tests' clock starts on Monday 2026-11-23 10:00 in Shanghai (02:00 UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from kefu.tickets import shifts
from kefu.tickets.models import Shift
from tests.factories import UowFactory
from tests.tickets.conftest import TicketStaff

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(day: int, clock: str, *, month: int = 11) -> datetime:
    """A moment of 2026 in Shanghai time (23 = Monday 23 November)."""
    hours, minutes = clock.split(":")
    return datetime(2026, month, day, int(hours), int(minutes), tzinfo=SHANGHAI)


def make_shift(uow_factory: UowFactory, staff: TicketStaff, **options: Any) -> Shift:
    """A 售后 shift through the real service (09:00–18:00 every day, no members unless
    ``options`` say otherwise)."""
    values: dict[str, Any] = {
        "team_id": staff.teams["aftersale"],
        "name": "白班",
        "start_time": "09:00",
        "end_time": "18:00",
    }
    values.update(options)
    with uow_factory() as uow:
        return shifts.create_shift(uow, shop_id=staff.shop_id, **values)


@dataclass
class DayAndEvening:
    """售后: 白班 09:00–18:00 (小刘, duty manager 主管) and 晚班 18:00–24:00 (小张), daily."""

    day: Shift
    evening: Shift


def day_and_evening(uow_factory: UowFactory, staff: TicketStaff) -> DayAndEvening:
    day = make_shift(
        uow_factory, staff, member_ids=[staff.aftersale.id], duty_manager_id=staff.supervisor.id
    )
    evening = make_shift(
        uow_factory, staff, name="晚班", start_time="18:00", end_time="24:00",
        member_ids=[staff.aftersale2.id], duty_manager_id=staff.owner.id,
    )  # fmt: skip
    return DayAndEvening(day=day, evening=evening)
