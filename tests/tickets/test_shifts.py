"""Shifts of a team (班次): their people, when they are on in shop time (a night shift
across midnight included) and who takes over when one ends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select

from kefu.accounts import service as accounts
from kefu.db import make_session_factory
from kefu.errors import Conflict, Invalid, NotFound
from kefu.tickets import handover, shifts
from kefu.tickets.checks import KEEP
from kefu.tickets.models import Shift, ShiftMember
from tests.factories import UowFactory
from tests.tickets.conftest import Elsewhere, TicketStaff
from tests.tickets.shiftkit import day_and_evening, local, make_shift

_ACK = "errors.tickets.shift.bad_ack_minutes"


def _count(db: Engine, model: type[Shift] | type[ShiftMember]) -> int:
    with make_session_factory(db)() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_shift_has_its_team_members_and_a_duty_manager(
    uow_factory: UowFactory, staff: TicketStaff
) -> None:
    made = make_shift(
        uow_factory, staff, name=" 早班 ", start_time="8:00", end_time="16:30", weekdays="54321",
        member_ids=[staff.aftersale.id, staff.aftersale2.id, staff.aftersale.id],
        duty_manager_id=staff.supervisor.id, ack_within_minutes=45,
    )  # fmt: skip
    with uow_factory() as uow:
        [view] = shifts.shift_views(
            uow.session,
            shop_id=staff.shop_id,
            shifts=shifts.list_shifts(uow.session, shop_id=staff.shop_id),
        )
    assert view.shift.id == made.id
    assert (view.shift.name, view.shift.start_time, view.shift.end_time) == (
        "早班",
        "08:00",
        "16:30",
    )
    assert view.shift.weekdays == "12345"
    assert (view.team_name, view.duty_manager_name) == ("售后", "主管")
    assert view.members == [(staff.aftersale.id, "小刘"), (staff.aftersale2.id, "小张")]
    assert view.shift.ack_within_minutes == 45


@pytest.mark.parametrize(
    ("options", "key", "field"),
    [
        ({"name": "  "}, "errors.tickets.shift.name_required", "name"),
        ({"name": "班" * 41}, "errors.tickets.shift.name_too_long", "name"),
        ({"start_time": "8点"}, "errors.tickets.shift.bad_time", "start_time"),
        ({"end_time": "25:00"}, "errors.tickets.shift.bad_time", "end_time"),
        ({"end_time": "09:00"}, "errors.tickets.shift.same_times", "end_time"),
        ({"weekdays": "周一"}, "errors.tickets.shift.bad_weekdays", "weekdays"),
        ({"weekdays": "08"}, "errors.tickets.shift.bad_weekdays", "weekdays"),
        ({"weekdays": ""}, "errors.tickets.shift.bad_weekdays", "weekdays"),
        ({"ack_within_minutes": 0}, _ACK, "ack_within_minutes"),
        ({"ack_within_minutes": 24 * 60 + 1}, _ACK, "ack_within_minutes"),
    ],
)  # fmt: skip
def test_bad_fields_are_refused_and_nothing_is_written(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff, options: dict[str, object],
    key: str, field: str,
) -> None:  # fmt: skip
    with pytest.raises(Invalid) as refused:
        make_shift(uow_factory, staff, member_ids=[staff.aftersale.id], **options)
    assert (refused.value.key, refused.value.field) == (key, field)
    assert _count(db, Shift) == 0
    assert _count(db, ShiftMember) == 0


def test_members_must_be_active_agents_of_the_team(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff, elsewhere: Elsewhere
) -> None:
    # 小美 works 售前, not 售后: named, with the team.
    with pytest.raises(Invalid) as refused:
        make_shift(uow_factory, staff, member_ids=[staff.aftersale.id, staff.agent.id])
    assert refused.value.key == "errors.tickets.shift.member_not_in_team"
    assert refused.value.params == {"name": "小美", "team": "售后"}
    assert "小美" in refused.value.message and "售后" in refused.value.message
    # Another shop's agent reads like nobody at all.
    with pytest.raises(Invalid) as refused:
        make_shift(uow_factory, staff, member_ids=[elsewhere.staff.agent.id])
    assert refused.value.key == "errors.tickets.agent_not_found"
    # A deactivated agent is not on any shift.
    with uow_factory() as uow:
        accounts.update_agent(
            uow, shop_id=staff.shop_id, agent_id=staff.aftersale2.id,
            acting_agent_id=staff.owner.id, is_active=False,
        )  # fmt: skip
    with pytest.raises(Invalid) as refused:
        make_shift(uow_factory, staff, member_ids=[staff.aftersale2.id])
    assert refused.value.key == "errors.tickets.agent_inactive"
    assert _count(db, Shift) == 0


def test_the_duty_manager_is_a_supervisor_or_the_owner(
    uow_factory: UowFactory, staff: TicketStaff
) -> None:
    with pytest.raises(Invalid) as refused:
        make_shift(uow_factory, staff, duty_manager_id=staff.aftersale.id)
    assert refused.value.key == "errors.tickets.shift.duty_manager_role"
    assert refused.value.params == {"name": "小刘"}
    assert make_shift(uow_factory, staff, duty_manager_id=staff.owner.id).duty_manager_id == (
        staff.owner.id
    )


def test_a_name_is_unique_in_its_team(uow_factory: UowFactory, staff: TicketStaff) -> None:
    make_shift(uow_factory, staff, name="早班")
    with pytest.raises(Conflict) as refused:
        make_shift(uow_factory, staff, name="早班", start_time="07:00", end_time="15:00")
    assert refused.value.key == "errors.tickets.shift.name_taken"
    assert refused.value.params == {"name": "早班", "team": "售后"}
    # Another team may use it.
    make_shift(uow_factory, staff, name="早班", team_id=staff.teams["complaints"])


def test_update_changes_what_is_given_and_replaces_the_members(
    uow_factory: UowFactory, staff: TicketStaff
) -> None:
    shift = make_shift(
        uow_factory, staff, member_ids=[staff.aftersale.id], duty_manager_id=staff.supervisor.id
    )
    with uow_factory() as uow:
        shifts.update_shift(
            uow, shop_id=staff.shop_id, shift_id=shift.id, end_time="17:30",
            member_ids=[staff.aftersale2.id], duty_manager_id=KEEP,
        )  # fmt: skip
    with uow_factory() as uow:
        [view] = shifts.shift_views(
            uow.session,
            shop_id=staff.shop_id,
            shifts=[shifts.get_shift(uow.session, shop_id=staff.shop_id, shift_id=shift.id)],
        )
    assert (view.shift.start_time, view.shift.end_time) == ("09:00", "17:30")
    assert view.members == [(staff.aftersale2.id, "小张")]
    assert view.duty_manager_name == "主管"
    with uow_factory() as uow:
        shifts.update_shift(uow, shop_id=staff.shop_id, shift_id=shift.id, duty_manager_id=None)
        assert (
            shifts.get_shift(uow.session, shop_id=staff.shop_id, shift_id=shift.id).duty_manager_id
            is None
        )


def test_another_shops_shift_is_not_found(
    uow_factory: UowFactory, staff: TicketStaff, elsewhere: Elsewhere
) -> None:
    shift = make_shift(uow_factory, staff)
    with uow_factory() as uow, pytest.raises(NotFound):
        shifts.update_shift(uow, shop_id=elsewhere.staff.shop.id, shift_id=shift.id, name="偷改")
    with uow_factory() as uow, pytest.raises(NotFound):
        shifts.delete_shift(uow, shop_id=elsewhere.staff.shop.id, shift_id=shift.id)
    with uow_factory() as uow:
        assert shifts.list_shifts(uow.session, shop_id=elsewhere.staff.shop.id) == []


def test_a_day_shift_is_on_during_its_hours_on_its_weekdays(
    uow_factory: UowFactory, staff: TicketStaff
) -> None:
    weekdays = make_shift(uow_factory, staff, weekdays="12345")
    with uow_factory() as uow:
        session = uow.session
        on = shifts.shifts_on(session, shop_id=staff.shop_id, at=local(23, "10:00"))  # Monday
        assert [(o.shift.id, o.start, o.end) for o in on] == [
            (weekdays.id, local(23, "09:00"), local(23, "18:00"))
        ]
        assert shifts.shifts_on(session, shop_id=staff.shop_id, at=local(23, "18:00")) == []
        assert shifts.shifts_on(session, shop_id=staff.shop_id, at=local(23, "08:59")) == []
        assert shifts.shifts_on(session, shop_id=staff.shop_id, at=local(28, "10:00")) == []  # Sat


def test_a_night_shift_across_midnight_is_on_the_next_morning(
    uow_factory: UowFactory, staff: TicketStaff
) -> None:
    """夜班 22:00–06:00 on Mondays only: Tuesday 03:00 is Monday's shift; Wednesday 03:00
    (Tuesday's would-be night) is nobody's."""
    night = make_shift(
        uow_factory, staff, name="夜班", start_time="22:00", end_time="06:00", weekdays="1"
    )
    with uow_factory() as uow:
        session = uow.session
        [on] = shifts.shifts_on(session, shop_id=staff.shop_id, at=local(24, "03:00"))
        assert (on.shift.id, on.start, on.end) == (night.id, local(23, "22:00"), local(24, "06:00"))
        assert shifts.shifts_on(session, shop_id=staff.shop_id, at=local(23, "03:00")) == []
        assert shifts.shifts_on(session, shop_id=staff.shop_id, at=local(25, "03:00")) == []
        assert shifts.shifts_on(session, shop_id=staff.shop_id, at=local(24, "06:00")) == []


def test_an_end_of_24_00_is_midnight(uow_factory: UowFactory, staff: TicketStaff) -> None:
    evening = make_shift(uow_factory, staff, name="晚班", start_time="18:00", end_time="24:00")
    assert evening.end_time == "00:00"
    with uow_factory() as uow:
        [on] = shifts.shifts_on(uow.session, shop_id=staff.shop_id, at=local(23, "23:59"))
    assert on.end == local(24, "00:00")


def test_the_incoming_shift_is_the_next_one_of_the_team(
    uow_factory: UowFactory, staff: TicketStaff
) -> None:
    both = day_and_evening(uow_factory, staff)
    make_shift(uow_factory, staff, name="投诉白班", team_id=staff.teams["complaints"],
               start_time="18:00", end_time="23:00")  # fmt: skip
    with uow_factory() as uow:
        session = uow.session
        day = shifts.current_occurrence(session, shift=both.day, at=local(23, "10:00"))
        assert day is not None
        incoming = shifts.incoming_occurrence(session, outgoing=day)
        # The team's own evening shift, not another team's shift starting at the same time.
        assert incoming is not None
        assert (incoming.shift.id, incoming.start) == (both.evening.id, local(23, "18:00"))
        evening = shifts.current_occurrence(session, shift=both.evening, at=local(23, "20:00"))
        assert evening is not None
        incoming = shifts.incoming_occurrence(session, outgoing=evening)
        assert incoming is not None
        assert (incoming.shift.id, incoming.start) == (both.day.id, local(24, "09:00"))


def test_an_overlapping_shift_already_on_takes_over(
    uow_factory: UowFactory, staff: TicketStaff
) -> None:
    """早班 08:00–17:00 and 晚班 16:00–24:00: at 17:00 the evening shift (on since 16:00)
    takes over, not tomorrow's 早班."""
    early = make_shift(uow_factory, staff, name="早班", start_time="08:00", end_time="17:00")
    late = make_shift(uow_factory, staff, name="晚班", start_time="16:00", end_time="24:00")
    with uow_factory() as uow:
        outgoing = shifts.current_occurrence(uow.session, shift=early, at=local(23, "12:00"))
        assert outgoing is not None
        incoming = shifts.incoming_occurrence(uow.session, outgoing=outgoing)
    assert incoming is not None
    assert (incoming.shift.id, incoming.start) == (late.id, local(23, "16:00"))


def test_a_team_with_one_shift_hands_over_to_its_next_day(
    uow_factory: UowFactory, staff: TicketStaff
) -> None:
    only = make_shift(uow_factory, staff, weekdays="135")  # Mon, Wed, Fri
    with uow_factory() as uow:
        outgoing = shifts.current_occurrence(uow.session, shift=only, at=local(23, "12:00"))
        assert outgoing is not None
        incoming = shifts.incoming_occurrence(uow.session, outgoing=outgoing)
    assert incoming is not None
    assert (incoming.shift.id, incoming.start) == (only.id, local(25, "09:00"))


def test_deleting_keeps_a_shift_with_reports_as_retired(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff
) -> None:
    both = day_and_evening(uow_factory, staff)
    spare = make_shift(uow_factory, staff, name="备用", start_time="12:00", end_time="13:00")
    with uow_factory() as uow:
        assert shifts.delete_shift(uow, shop_id=staff.shop_id, shift_id=spare.id) is True
    with uow_factory() as uow:
        handover.hand_over(
            uow, shop_id=staff.shop_id, shift_id=both.day.id, actor_agent_id=staff.aftersale.id
        )
    with uow_factory() as uow:
        assert shifts.delete_shift(uow, shop_id=staff.shop_id, shift_id=both.day.id) is False
    with uow_factory() as uow:
        kept = shifts.get_shift(uow.session, shop_id=staff.shop_id, shift_id=both.day.id)
        assert kept.is_active is False
        # A retired shift is on no more.
        assert [
            o.shift.id
            for o in shifts.shifts_on(uow.session, shop_id=staff.shop_id, at=local(23, "10:00"))
        ] == []
        assert [s.id for s in shifts.list_shifts(uow.session, shop_id=staff.shop_id)] == [
            both.evening.id,
            both.day.id,
        ]
    assert _count(db, Shift) == 2


def test_occurrences_are_in_the_shops_time_zone(
    uow_factory: UowFactory, staff: TicketStaff
) -> None:
    shift = make_shift(uow_factory, staff)
    with uow_factory() as uow:
        on = shifts.current_occurrence(uow.session, shift=shift, at=local(23, "09:00"))
    assert on is not None
    # 09:00 in Shanghai is 01:00 UTC.
    assert on.start.utcoffset() == timedelta(0)
    assert (on.start.hour, on.end.hour) == (1, 10)
