"""The handover job: at a shift's end the report is written by itself (the evening shift's
open ticket listed for the next morning), items left unacknowledged are flagged to the
supervisors once, and two processes running the job never write two reports."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select

from kefu.clock import FrozenClock
from kefu.db import make_session_factory
from kefu.events import EventBus
from kefu.tickets import handover, handover_watch, sla
from kefu.tickets.events import HandoverFlagged
from kefu.tickets.models import (
    Handover,
    HandoverItem,
    HandoverItemKind,
    Notification,
    NotificationKind,
)
from kefu.uow import UnitOfWork
from tests.factories import UowFactory
from tests.tickets.conftest import BuyerChat, TicketStaff, make_ticket
from tests.tickets.shiftkit import local, make_shift


def _reports(db: Engine) -> list[Handover]:
    with make_session_factory(db)() as session:
        return list(session.scalars(select(Handover).order_by(Handover.period_end, Handover.id)))


def _items(db: Engine, handover_id: int) -> list[HandoverItem]:
    with make_session_factory(db)() as session:
        return list(
            session.scalars(
                select(HandoverItem)
                .where(HandoverItem.handover_id == handover_id)
                .order_by(HandoverItem.id)
            )
        )


def _told(db: Engine, kind: NotificationKind) -> list[tuple[int, str]]:
    with make_session_factory(db)() as session:
        return [
            (n.agent_id, n.text)
            for n in session.scalars(
                select(Notification).where(Notification.kind == kind).order_by(Notification.id)
            )
        ]


def test_the_evening_handover_lists_the_complaint_for_the_next_shift(
    uow_factory: UowFactory, db: Engine, clock: FrozenClock, staff: TicketStaff,
    buyer_chat: BuyerChat,
) -> None:  # fmt: skip
    """Done when: 小刘 works the evening shift (18:00–24:00) and has the 售后 ticket made
    from 王芳's complaint chat; at midnight the report is written by itself and lists it,
    with its SLA deadline, for the morning shift (小张), who is told."""
    evening = make_shift(
        uow_factory, staff, name="晚班", start_time="18:00", end_time="24:00",
        member_ids=[staff.aftersale.id], duty_manager_id=staff.supervisor.id,
    )  # fmt: skip
    morning = make_shift(
        uow_factory, staff, name="早班", start_time="08:00", end_time="18:00",
        member_ids=[staff.aftersale2.id], duty_manager_id=staff.owner.id,
    )  # fmt: skip
    clock.set(local(23, "19:00"))
    ticket = make_ticket(
        uow_factory, staff, title="羊绒大衣破洞投诉", team_id=staff.teams["aftersale"],
        assignee_id=staff.aftersale.id, conversation_ids=[buyer_chat.conversation_id],
    )  # fmt: skip

    # Before the evening's end only the morning shift's report (at 18:00) is due.
    clock.set(local(23, "23:59"))
    assert handover_watch.write_due_handovers(uow_factory, now=clock.now()) == 1
    assert [r.shift_id for r in _reports(db)] == [morning.id]
    clock.set(local(24, "00:01"))
    assert handover_watch.write_due_handovers(uow_factory, now=clock.now()) == 1
    # The next round finds it written.
    assert handover_watch.write_due_handovers(uow_factory, now=clock.now()) == 0

    report = _reports(db)[-1]
    assert (report.shift_id, report.next_shift_id) == (evening.id, morning.id)
    assert (report.period_start, report.period_end) == (local(23, "18:00"), local(24, "00:00"))
    assert report.created_by_agent_id is None  # the app wrote it
    with uow_factory() as uow:
        [resolution] = [
            c.due_at
            for c in sla.clocks_of(
                uow.session, shop_id=staff.shop_id, ticket_ids=[ticket.id], now=clock.now()
            )[ticket.id]
            if c.metric.value == "resolution"
        ]
    items = _items(db, report.id)
    [listed] = [i for i in items if i.kind is HandoverItemKind.TICKET]
    assert (listed.ticket_id, listed.title) == (ticket.id, "#1001 羊绒大衣破洞投诉")
    assert listed.deadline is not None and listed.deadline <= resolution
    assert [i.conversation_id for i in items if i.kind is HandoverItemKind.CONVERSATION] == [
        buyer_chat.conversation_id
    ]
    assert _told(db, NotificationKind.HANDOVER) == [
        (staff.aftersale2.id, "售后晚班交班：2 项待确认"),
        (staff.owner.id, "售后晚班交班：2 项待确认"),
    ]


def test_items_nobody_acknowledged_in_time_are_flagged_once(
    uow_factory: UowFactory, db: Engine, bus: EventBus, clock: FrozenClock,
    staff: TicketStaff, buyer_chat: BuyerChat,
) -> None:  # fmt: skip
    day = make_shift(uow_factory, staff, member_ids=[staff.aftersale.id], ack_within_minutes=20)
    make_shift(
        uow_factory, staff, name="晚班", start_time="18:00", end_time="24:00",
        member_ids=[staff.aftersale2.id], duty_manager_id=staff.owner.id,
    )  # fmt: skip
    make_ticket(
        uow_factory, staff, team_id=staff.teams["aftersale"], assignee_id=staff.aftersale.id
    )
    clock.set(local(23, "18:00"))
    handover_watch.write_due_handovers(uow_factory, now=clock.now())
    [report] = _reports(db)
    assert report.shift_id == day.id
    first = _items(db, report.id)[0]
    with uow_factory() as uow:
        handover.acknowledge(
            uow, shop_id=staff.shop_id, handover_id=report.id, agent_id=staff.aftersale2.id,
            item_ids=[first.id],
        )  # fmt: skip

    clock.set(local(23, "18:19"))
    assert handover_watch.flag_overdue(uow_factory, now=clock.now()) == 0
    clock.set(local(23, "18:20"))
    with bus.capture() as events:
        assert handover_watch.flag_overdue(uow_factory, now=clock.now()) == 1
    assert handover_watch.flag_overdue(uow_factory, now=clock.now() + timedelta(hours=1)) == 0

    flagged = {i.id: i.flagged_at for i in _items(db, report.id)}
    assert flagged[first.id] is None  # acknowledged in time: never flagged
    assert [at for item_id, at in flagged.items() if item_id != first.id] == [local(23, "18:20")]
    # The supervisors (and owner) and the incoming duty manager, once each.
    assert _told(db, NotificationKind.HANDOVER_FLAGGED) == [
        (staff.supervisor.id, "售后白班的交班有 1 项超时未确认"),
        (staff.owner.id, "售后白班的交班有 1 项超时未确认"),
    ]
    assert [len(e.item_ids) for e in events if isinstance(e, HandoverFlagged)] == [1]


def test_a_fully_acknowledged_handover_is_never_flagged(
    uow_factory: UowFactory, db: Engine, clock: FrozenClock, staff: TicketStaff,
    buyer_chat: BuyerChat,
) -> None:  # fmt: skip
    make_shift(uow_factory, staff, member_ids=[staff.aftersale.id])
    clock.set(local(23, "18:00"))
    handover_watch.write_due_handovers(uow_factory, now=clock.now())
    [report] = _reports(db)
    with uow_factory() as uow:
        handover.acknowledge(
            uow, shop_id=staff.shop_id, handover_id=report.id, agent_id=staff.supervisor.id
        )
    clock.set(local(24, "12:00"))
    assert handover_watch.flag_overdue(uow_factory, now=clock.now()) == 0
    assert _told(db, NotificationKind.HANDOVER_FLAGGED) == []


def test_the_night_shift_across_midnight_hands_over_in_the_morning(
    uow_factory: UowFactory, db: Engine, clock: FrozenClock, staff: TicketStaff,
    buyer_chat: BuyerChat,
) -> None:  # fmt: skip
    night = make_shift(
        uow_factory, staff, name="夜班", start_time="22:00", end_time="06:00",
        member_ids=[staff.aftersale.id],
    )  # fmt: skip
    clock.set(local(24, "03:00"))
    assert handover_watch.write_due_handovers(uow_factory, now=clock.now()) == 0
    clock.set(local(24, "06:00"))
    assert handover_watch.write_due_handovers(uow_factory, now=clock.now()) == 1
    [report] = _reports(db)
    assert report.shift_id == night.id
    assert (report.period_start, report.period_end) == (local(23, "22:00"), local(24, "06:00"))
    # Its only shift: tonight's occurrence takes over.
    assert report.next_shift_id == night.id
    assert [i.conversation_id for i in _items(db, report.id)] == [buyer_chat.conversation_id]


def test_the_job_catches_up_six_hours_and_no_further(
    uow_factory: UowFactory, db: Engine, clock: FrozenClock, staff: TicketStaff
) -> None:
    """A server down over the end writes the report when it is back (within 6 hours); an
    occurrence over before the shift was created is never written."""
    clock.set(local(23, "08:00"))
    make_shift(uow_factory, staff, name="早班", start_time="01:00", end_time="07:00")  # ended
    day = make_shift(uow_factory, staff)
    clock.set(local(23, "23:59"))
    assert handover_watch.write_due_handovers(uow_factory, now=clock.now()) == 1
    assert [r.shift_id for r in _reports(db)] == [day.id]
    clock.set(local(25, "01:00"))
    # 24 Nov's day shift ended at 18:00, seven hours ago: too late for a report.
    assert handover_watch.write_due_handovers(uow_factory, now=clock.now()) == 0


def test_a_round_of_the_app_job_writes_and_flags(
    uow_factory: UowFactory, db: Engine, clock: FrozenClock, staff: TicketStaff,
    buyer_chat: BuyerChat,
) -> None:  # fmt: skip
    make_shift(uow_factory, staff, member_ids=[staff.aftersale.id])
    clock.set(local(23, "18:00"))
    assert handover_watch.run_round(uow_factory) == (1, 0)
    clock.set(local(23, "18:30"))
    assert handover_watch.run_round(uow_factory) == (0, 1)


def _race(
    db: Engine, clock: FrozenClock, job: Callable[[Callable[[], UnitOfWork]], int]
) -> list[int]:
    """Run ``job`` in two threads at once, each with its own connection and bus (two app
    processes); the counts each returned."""
    start = threading.Barrier(2)
    counts: list[int] = []
    failures: list[BaseException] = []

    def worker() -> None:
        factory = make_session_factory(db)
        bus = EventBus()
        try:
            start.wait()
            counts.append(job(lambda: UnitOfWork(factory, bus, clock)))
        except BaseException as exc:  # reported in the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    return counts


@pytest.mark.parametrize("shift_count", [6])
def test_two_processes_write_each_report_once_and_flag_once(
    uow_factory: UowFactory, db: Engine, clock: FrozenClock, staff: TicketStaff,
    buyer_chat: BuyerChat, shift_count: int,
) -> None:  # fmt: skip
    for n in range(shift_count):
        make_shift(
            uow_factory, staff, name=f"白班{n}", member_ids=[staff.aftersale.id],
            duty_manager_id=staff.owner.id,
        )  # fmt: skip
    clock.set(local(23, "18:00"))
    written = _race(db, clock, lambda f: handover_watch.write_due_handovers(f, now=clock.now()))
    assert sum(written) == shift_count
    reports = _reports(db)
    assert len(reports) == shift_count
    with make_session_factory(db)() as session:
        assert session.scalar(select(func.count(HandoverItem.id))) == shift_count

    clock.set(local(23, "18:30"))
    flagged = _race(db, clock, lambda f: handover_watch.flag_overdue(f, now=clock.now()))
    assert sum(flagged) == shift_count
    told = _told(db, NotificationKind.HANDOVER_FLAGGED)
    # Each report told its people once: the supervisor and the owner per report.
    assert sorted(told) == sorted(
        [(staff.supervisor.id, f"售后白班{n}的交班有 1 项超时未确认") for n in range(shift_count)]
        + [(staff.owner.id, f"售后白班{n}的交班有 1 项超时未确认") for n in range(shift_count)]
    )
