"""SLA clocks as the 售后 agent and the supervisor see them: the shop's default policies,
the most specific policy winning, first response met by a reply, the buyer writing again,
waiting for the buyer stopping the clock, solving, closing, reopening, a type or priority
change, calendar time; and the policies' own rules. The clock is moved, never slept on.

The test clock starts on Monday 2026-11-23 at 10:00 in Shanghai."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from kefu.clock import FrozenClock
from kefu.db import make_session_factory
from kefu.errors import Conflict, Invalid, NotFound
from kefu.tickets import service as tickets
from kefu.tickets import sla
from kefu.tickets.calendar import set_calendar_day
from kefu.tickets.comments import add_comment
from kefu.tickets.models import (
    CommentKind,
    DayKind,
    SlaMetric,
    SlaPolicy,
    SlaState,
    SlaTarget,
    Ticket,
    TicketPriority,
    TicketStatus,
    TicketType,
)
from kefu.tickets.sla import SlaClock
from tests.factories import UowFactory
from tests.tickets.conftest import BuyerChat, TicketStaff, make_ticket

SHANGHAI = ZoneInfo("Asia/Shanghai")
FIRST, NEXT, RESOLUTION = SlaMetric.FIRST_RESPONSE, SlaMetric.NEXT_RESPONSE, SlaMetric.RESOLUTION


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


def clocks(
    uow_factory: UowFactory, staff: TicketStaff, ticket: Ticket, now: datetime
) -> dict[SlaMetric, SlaClock]:
    with uow_factory() as uow:
        found = sla.clocks_of(uow.session, shop_id=staff.shop_id, ticket_ids=[ticket.id], now=now)
    return {c.metric: c for c in found.get(ticket.id, [])}


def targets(db: Engine, ticket: Ticket) -> list[SlaTarget]:
    with make_session_factory(db)() as session:
        return list(
            session.scalars(
                select(SlaTarget).where(SlaTarget.ticket_id == ticket.id).order_by(SlaTarget.id)
            )
        )


def status(uow_factory: UowFactory, staff: TicketStaff, ticket: Ticket, new: TicketStatus) -> None:
    with uow_factory() as uow:
        tickets.change_status(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, status=new,
            actor_agent_id=staff.aftersale.id, tell_buyer=False,
        )  # fmt: skip


def reply(
    uow_factory: UowFactory, staff: TicketStaff, ticket: Ticket, body: str = "已为您处理"
) -> None:
    with uow_factory() as uow:
        add_comment(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, kind=CommentKind.REPLY,
            body=body, author_agent_id=staff.aftersale.id,
        )  # fmt: skip


def buyer_writes(uow_factory: UowFactory, staff: TicketStaff, chat: BuyerChat) -> None:
    """The buyer writes again in the ticket's chat (what the app's subscriber calls)."""
    with uow_factory() as uow:
        tickets.buyer_wrote(uow, shop_id=staff.shop_id, conversation_id=chat.conversation_id)


# --- the defaults and the clock on the ticket ----------------------------------------------


def test_a_new_aftersale_ticket_gets_the_default_clocks_in_working_hours(
    uow_factory: UowFactory, staff: TicketStaff, clock: FrozenClock
) -> None:
    ticket = make_ticket(uow_factory, staff, team_id=staff.teams["aftersale"])
    with uow_factory() as uow:
        names = [p.name for p in sla.list_policies(uow.session, shop_id=staff.shop_id)]
    assert names == ["投诉·紧急", "投诉", "售后", "障碍申告", "升级", "默认"]
    now = clock.now()
    shown = clocks(uow_factory, staff, ticket, now)
    assert set(shown) == {FIRST, RESOLUTION}
    # 售后: answered within 4 working hours — 14:00 today.
    assert shown[FIRST].due_at == sh(2026, 11, 23, 14, 0)
    assert (shown[FIRST].state, shown[FIRST].minutes_left) == ("ok", 240)
    assert shown[FIRST].business_hours
    # Solved within 48 working hours: five days of nine hours and three more.
    assert shown[RESOLUTION].due_at == sh(2026, 11, 30, 13, 0)
    # Two hours and ten minutes left, in working time, at 11:50.
    at = sh(2026, 11, 23, 11, 50)
    assert clocks(uow_factory, staff, ticket, at)[FIRST].minutes_left == 130
    # From 13:30 the warning time (30 minutes before) has come.
    assert clocks(uow_factory, staff, ticket, sh(2026, 11, 23, 13, 35))[FIRST].state == "warning"
    late = clocks(uow_factory, staff, ticket, sh(2026, 11, 24, 9, 10))[FIRST]
    assert (late.state, late.minutes_left, late.breached) == ("breached", -250, True)


def test_an_urgent_complaint_after_hours_is_due_next_morning(
    uow_factory: UowFactory, staff: TicketStaff, clock: FrozenClock, db: Engine
) -> None:
    clock.set(sh(2026, 11, 23, 17, 50))
    ticket = make_ticket(
        uow_factory, staff, type=TicketType.COMPLAINT, priority=TicketPriority.URGENT,
        title="买家要投诉", team_id=staff.teams["complaints"],
    )  # fmt: skip
    shown = clocks(uow_factory, staff, ticket, clock.now())
    assert shown[FIRST].due_at == sh(2026, 11, 24, 9, 20)
    [first, _resolution] = targets(db, ticket)
    # Warned 10 working minutes before: 09:10 tomorrow.
    assert first.warn_at == sh(2026, 11, 24, 9, 10)


def test_a_reply_meets_the_first_response_and_the_buyer_writing_again_starts_the_next(
    uow_factory: UowFactory,
    staff: TicketStaff,
    buyer_chat: BuyerChat,
    clock: FrozenClock,
    db: Engine,
) -> None:
    ticket = make_ticket(
        uow_factory, staff, team_id=staff.teams["aftersale"], assignee_id=staff.aftersale.id,
        conversation_ids=[buyer_chat.conversation_id],
    )  # fmt: skip
    clock.advance(timedelta(minutes=50))
    reply(uow_factory, staff, ticket)
    shown = clocks(uow_factory, staff, ticket, clock.now())
    assert shown[FIRST].state == "met" and shown[FIRST].met_at == clock.now()
    assert not shown[FIRST].breached and shown[FIRST].minutes_left is None
    assert NEXT not in shown
    clock.advance(timedelta(minutes=10))
    buyer_writes(uow_factory, staff, buyer_chat)
    clock.advance(timedelta(minutes=1))
    buyer_writes(uow_factory, staff, buyer_chat)  # one next response at a time
    shown = clocks(uow_factory, staff, ticket, clock.now())
    assert shown[NEXT].due_at == sh(2026, 11, 23, 15, 0)
    assert [t.metric for t in targets(db, ticket)].count(NEXT) == 1
    clock.advance(timedelta(minutes=20))
    reply(uow_factory, staff, ticket, "退货地址已发您")
    assert clocks(uow_factory, staff, ticket, clock.now())[NEXT].state == "met"


def test_the_buyer_writing_before_any_answer_owes_no_next_response(
    uow_factory: UowFactory, staff: TicketStaff, buyer_chat: BuyerChat, clock: FrozenClock
) -> None:
    ticket = make_ticket(uow_factory, staff, conversation_ids=[buyer_chat.conversation_id])
    buyer_writes(uow_factory, staff, buyer_chat)
    assert NEXT not in clocks(uow_factory, staff, ticket, clock.now())


def test_waiting_for_the_buyer_stops_the_clock_and_the_wait_is_not_counted(
    uow_factory: UowFactory, staff: TicketStaff, clock: FrozenClock, db: Engine
) -> None:
    ticket = make_ticket(uow_factory, staff, assignee_id=None)
    clock.set(sh(2026, 11, 23, 11, 0))  # one working hour used of four
    status(uow_factory, staff, ticket, TicketStatus.PENDING_BUYER)
    clock.set(sh(2026, 11, 25, 10, 0))  # two days later the buyer answers
    shown = clocks(uow_factory, staff, ticket, clock.now())
    assert (shown[FIRST].state, shown[FIRST].minutes_left, shown[FIRST].due_at) == (
        "paused", 180, None,
    )  # fmt: skip
    status(uow_factory, staff, ticket, TicketStatus.OPEN)
    shown = clocks(uow_factory, staff, ticket, clock.now())
    assert shown[FIRST].state == "ok" and shown[FIRST].due_at == sh(2026, 11, 25, 13, 0)
    assert shown[RESOLUTION].due_at == sh(2026, 12, 2, 12, 0)  # moved by the same two days
    [first, _] = targets(db, ticket)
    assert first.warn_at == sh(2026, 11, 25, 12, 30) and first.warned_at is None


def test_a_clock_already_overdue_stays_overdue_through_a_pause(
    uow_factory: UowFactory, staff: TicketStaff, clock: FrozenClock
) -> None:
    ticket = make_ticket(uow_factory, staff)
    clock.set(sh(2026, 11, 23, 14, 30))  # 30 working minutes late
    status(uow_factory, staff, ticket, TicketStatus.PENDING_BUYER)
    clock.set(sh(2026, 11, 24, 10, 0))
    status(uow_factory, staff, ticket, TicketStatus.OPEN)
    first = clocks(uow_factory, staff, ticket, clock.now())[FIRST]
    assert first.state == "breached" and first.minutes_left == -30


def test_solving_meets_the_resolution_and_reopening_starts_a_new_one(
    uow_factory: UowFactory, staff: TicketStaff, clock: FrozenClock, db: Engine
) -> None:
    ticket = make_ticket(uow_factory, staff)
    clock.advance(timedelta(hours=2))
    status(uow_factory, staff, ticket, TicketStatus.SOLVED)
    shown = clocks(uow_factory, staff, ticket, clock.now())
    assert FIRST not in shown  # never answered, and no longer owed: cancelled
    assert shown[RESOLUTION].state == "met"
    assert sla.sla_state_of(list(shown.values())) == "met"
    clock.set(sh(2026, 11, 24, 17, 0))
    with uow_factory() as uow:
        tickets.reopen_ticket(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, actor_agent_id=staff.agent.id,
            reason="买家说还是坏的",
        )  # fmt: skip
    shown = clocks(uow_factory, staff, ticket, clock.now())
    assert shown[RESOLUTION].state == "ok"
    assert shown[RESOLUTION].due_at == sh(2026, 12, 2, 11, 0)  # 48 working hours from now
    assert [t.state for t in targets(db, ticket)] == [
        SlaState.CANCELLED, SlaState.MET, SlaState.ACTIVE,
    ]  # fmt: skip


def test_closing_cancels_what_still_runs(
    uow_factory: UowFactory, staff: TicketStaff, clock: FrozenClock, db: Engine
) -> None:
    ticket = make_ticket(uow_factory, staff)
    status(uow_factory, staff, ticket, TicketStatus.CLOSED)
    assert clocks(uow_factory, staff, ticket, clock.now()) == {}
    assert {t.state for t in targets(db, ticket)} == {SlaState.CANCELLED}


def test_raising_the_priority_keeps_the_minutes_used(
    uow_factory: UowFactory, staff: TicketStaff, clock: FrozenClock
) -> None:
    ticket = make_ticket(uow_factory, staff, type=TicketType.COMPLAINT, title="投诉")
    assert clocks(uow_factory, staff, ticket, clock.now())[FIRST].due_at == sh(2026, 11, 23, 12, 0)
    clock.advance(timedelta(minutes=20))
    with uow_factory() as uow:
        tickets.update_ticket(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, actor_agent_id=staff.supervisor.id,
            priority=TicketPriority.URGENT,
        )  # fmt: skip
    shown = clocks(uow_factory, staff, ticket, clock.now())
    # 20 of the urgent 30 minutes are used: due at 10:30, warned from 10:20 (now).
    assert shown[FIRST].due_at == sh(2026, 11, 23, 10, 30)
    assert shown[FIRST].state == "warning" and shown[FIRST].minutes_left == 10
    assert shown[RESOLUTION].due_at == sh(2026, 11, 23, 18, 0)  # 8 working hours from 10:00


def test_a_type_whose_policy_has_no_targets_stops_the_clocks(
    uow_factory: UowFactory, staff: TicketStaff, clock: FrozenClock, db: Engine
) -> None:
    with uow_factory() as uow:
        sla.create_policy(
            uow, shop_id=staff.shop_id, name="内部请求不计时", ticket_type=TicketType.INTERNAL
        )
    ticket = make_ticket(uow_factory, staff)
    with uow_factory() as uow:
        tickets.update_ticket(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, actor_agent_id=staff.agent.id,
            type=TicketType.INTERNAL,
        )  # fmt: skip
    assert clocks(uow_factory, staff, ticket, clock.now()) == {}
    other = make_ticket(uow_factory, staff, type=TicketType.INTERNAL, title="请发货组查单")
    assert targets(db, other) == []


def test_calendar_time_runs_through_the_night(
    uow_factory: UowFactory, staff: TicketStaff, clock: FrozenClock
) -> None:
    with uow_factory() as uow:
        sla.create_policy(
            uow, shop_id=staff.shop_id, name="障碍·紧急（全天）", ticket_type=TicketType.FAULT,
            priority=TicketPriority.URGENT, first_response_minutes=60, resolution_minutes=240,
            business_hours=False, warn_before_minutes=15,
        )  # fmt: skip
    clock.set(sh(2026, 11, 28, 23, 30))  # Saturday night
    ticket = make_ticket(
        uow_factory, staff, type=TicketType.FAULT, priority=TicketPriority.URGENT,
        title="付款失败",
    )  # fmt: skip
    shown = clocks(uow_factory, staff, ticket, clock.now())
    assert shown[FIRST].due_at == sh(2026, 11, 29, 0, 30)
    assert not shown[FIRST].business_hours
    assert shown[RESOLUTION].due_at == sh(2026, 11, 29, 3, 30)


def test_the_shops_own_day_and_chinese_holidays_move_deadlines(
    uow_factory: UowFactory, staff: TicketStaff, clock: FrozenClock
) -> None:
    clock.set(sh(2026, 2, 13, 17, 0))
    ticket = make_ticket(uow_factory, staff, type=TicketType.COMPLAINT, title="春节前投诉")
    assert clocks(uow_factory, staff, ticket, clock.now())[FIRST].due_at == sh(2026, 2, 14, 10, 0)
    with uow_factory() as uow:
        set_calendar_day(
            uow, shop_id=staff.shop_id, day=date(2026, 2, 14), kind=DayKind.HOLIDAY,
            name="不调休",
        )  # fmt: skip
    later = make_ticket(uow_factory, staff, type=TicketType.COMPLAINT, title="又一个投诉")
    assert clocks(uow_factory, staff, later, clock.now())[FIRST].due_at == sh(2026, 2, 24, 10, 0)


def test_worst_state_of_a_ticket() -> None:
    def c(state: str) -> SlaClock:
        return SlaClock(metric=FIRST, state=state, due_at=None, minutes_left=None, breached=False)

    assert sla.sla_state_of([]) == "none"
    assert sla.sla_state_of([c("met"), c("paused")]) == "paused"
    assert sla.sla_state_of([c("ok"), c("warning"), c("met")]) == "warning"
    assert sla.sla_state_of([c("warning"), c("breached")]) == "breached"


def test_clocks_of_another_shops_tickets_are_not_shown(
    uow_factory: UowFactory, staff: TicketStaff, clock: FrozenClock
) -> None:
    ticket = make_ticket(uow_factory, staff)
    with uow_factory() as uow:
        assert sla.clocks_of(uow.session, shop_id=staff.shop_id + 1000, ticket_ids=[ticket.id],
                             now=clock.now()) == {}  # fmt: skip


# --- policies ----------------------------------------------------------------------------


def test_the_most_specific_policy_wins(uow_factory: UowFactory, staff: TicketStaff) -> None:
    with uow_factory() as uow:
        sla.ensure_policies(uow, shop_id=staff.shop_id)
        sla.create_policy(
            uow, shop_id=staff.shop_id, name="所有紧急", priority=TicketPriority.URGENT,
            first_response_minutes=15, warn_before_minutes=5,
        )  # fmt: skip
    with uow_factory() as uow:
        session = uow.session

        def name(kind: TicketType, priority: TicketPriority) -> str:
            found = sla.policy_for(
                session, shop_id=staff.shop_id, ticket_type=kind, priority=priority
            )
            assert found is not None
            return found.name

        assert name(TicketType.COMPLAINT, TicketPriority.URGENT) == "投诉·紧急"
        assert name(TicketType.COMPLAINT, TicketPriority.LOW) == "投诉"
        assert name(TicketType.OTHER, TicketPriority.URGENT) == "所有紧急"
        assert name(TicketType.OTHER, TicketPriority.LOW) == "默认"


def test_policy_rules(uow_factory: UowFactory, staff: TicketStaff) -> None:
    shop_id = staff.shop_id
    with uow_factory() as uow:
        sla.ensure_policies(uow, shop_id=shop_id)
        uow.commit()
    cases: list[tuple[dict[str, object], type[Exception], str]] = [
        ({"name": " "}, Invalid, "errors.tickets.sla.name_required"),
        ({"first_response_minutes": 0}, Invalid, "errors.tickets.sla.minutes_range"),
        ({"resolution_minutes": 525_601}, Invalid, "errors.tickets.sla.minutes_range"),
        ({"first_response_minutes": 30, "warn_before_minutes": 30}, Invalid,
         "errors.tickets.sla.warn_too_late"),
        ({"ticket_type": TicketType.AFTERSALE}, Conflict, "errors.tickets.sla.duplicate_policy"),
        ({"ticket_type": "nonsense"}, Invalid, "errors.tickets.sla.choice"),
    ]  # fmt: skip
    for changes, error, key in cases:
        options: dict[str, object] = {"name": "新规则", "first_response_minutes": 60, **changes}
        with uow_factory() as uow, pytest.raises(error) as refused:
            sla.create_policy(uow, shop_id=shop_id, **options)  # type: ignore[arg-type]
        assert getattr(refused.value, "key", None) == key, (changes, refused.value)
    with uow_factory() as uow:
        assert len(sla.list_policies(uow.session, shop_id=shop_id)) == 6


def test_the_catch_all_stays_and_other_policies_go(
    uow_factory: UowFactory, staff: TicketStaff, clock: FrozenClock
) -> None:
    with uow_factory() as uow:
        sla.ensure_policies(uow, shop_id=staff.shop_id)
        uow.commit()
    with uow_factory() as uow:
        policies = {p.name: p for p in sla.list_policies(uow.session, shop_id=staff.shop_id)}
    catch_all, aftersale = policies["默认"], policies["售后"]
    with uow_factory() as uow, pytest.raises(Conflict) as refused:
        sla.delete_policy(uow, shop_id=staff.shop_id, policy_id=catch_all.id)
    assert refused.value.key == "errors.tickets.sla.catch_all_kept"
    with uow_factory() as uow, pytest.raises(Conflict):
        sla.update_policy(
            uow, shop_id=staff.shop_id, policy_id=catch_all.id, name="默认",
            ticket_type=TicketType.OTHER, priority=None, first_response_minutes=60,
            next_response_minutes=None, resolution_minutes=None, business_hours=True,
            warn_before_minutes=30,
        )  # fmt: skip
    # Edited to no targets at all: what nothing else matches has no clock.
    with uow_factory() as uow:
        sla.update_policy(
            uow, shop_id=staff.shop_id, policy_id=catch_all.id, name="其他不计时",
            ticket_type=None, priority=None, first_response_minutes=None,
            next_response_minutes=None, resolution_minutes=None, business_hours=True,
            warn_before_minutes=0,
        )  # fmt: skip
    ticket = make_ticket(uow_factory, staff)
    with uow_factory() as uow:
        sla.delete_policy(uow, shop_id=staff.shop_id, policy_id=aftersale.id)
    # The running clocks keep their deadlines; a new 售后 ticket now has none.
    assert clocks(uow_factory, staff, ticket, clock.now())[FIRST].due_at == sh(2026, 11, 23, 14, 0)
    later = make_ticket(uow_factory, staff)
    assert clocks(uow_factory, staff, later, clock.now()) == {}
    with uow_factory() as uow:
        count = len(sla.list_policies(uow.session, shop_id=staff.shop_id))
    assert count == 5  # not seeded again


def test_another_shops_policy_is_not_found(uow_factory: UowFactory, staff: TicketStaff) -> None:
    with uow_factory() as uow:
        sla.ensure_policies(uow, shop_id=staff.shop_id)
        uow.commit()
        policy_id = uow.session.scalars(select(SlaPolicy.id)).first()
    assert policy_id is not None
    with uow_factory() as uow, pytest.raises(NotFound):
        sla.delete_policy(uow, shop_id=staff.shop_id + 1000, policy_id=policy_id)
