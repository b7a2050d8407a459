"""The SLA watcher as the 售后 agent and the supervisor live it: warned once before the
deadline in shop time, told once when it passes, the breach recorded for the reports with
who had the ticket — and never twice, even with two workers at the same moment.

The test clock starts on Monday 2026-11-23 at 10:00 in Shanghai; a 售后 ticket's first
response is due at 14:00 (four working hours) and warned of from 13:30."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select, update

from kefu.accounts import service as accounts
from kefu.accounts.models import Agent, Role
from kefu.clock import FrozenClock
from kefu.db import make_session_factory
from kefu.events import EventBus
from kefu.tickets import service as tickets
from kefu.tickets import sla_watch
from kefu.tickets.comments import add_comment
from kefu.tickets.events import NotificationCreated, SlaBreached, SlaWarning
from kefu.tickets.models import (
    CommentKind,
    Notification,
    NotificationKind,
    SlaMetric,
    SlaTarget,
    Ticket,
    TicketChange,
    TicketStatus,
)
from kefu.uow import UnitOfWork
from tests.factories import UowFactory, make_agent
from tests.tickets.conftest import TicketStaff, history_fields, make_ticket

SHANGHAI = ZoneInfo("Asia/Shanghai")


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


def notes(db: Engine, kind: NotificationKind | None = None) -> list[tuple[int, str]]:
    """(agent id, text) of the SLA notifications (of one kind), oldest first."""
    kinds = [kind] if kind else [NotificationKind.SLA_WARNING, NotificationKind.SLA_BREACH]
    with make_session_factory(db)() as session:
        query = select(Notification).where(Notification.kind.in_(kinds)).order_by(Notification.id)
        return [(n.agent_id, n.text) for n in session.scalars(query)]


def first_response(db: Engine, ticket: Ticket) -> SlaTarget:
    with make_session_factory(db)() as session:
        return session.scalars(
            select(SlaTarget).where(
                SlaTarget.ticket_id == ticket.id, SlaTarget.metric == SlaMetric.FIRST_RESPONSE
            )
        ).one()


def check(uow_factory: UowFactory) -> tuple[int, int]:
    with uow_factory() as uow:
        return sla_watch.check_deadlines(uow)


@pytest.fixture
def assigned(uow_factory: UowFactory, staff: TicketStaff) -> Ticket:
    return make_ticket(
        uow_factory, staff, team_id=staff.teams["aftersale"], assignee_id=staff.aftersale.id
    )


def test_the_assignee_and_the_supervisors_are_warned_once_then_told_of_the_breach(
    uow_factory: UowFactory, staff: TicketStaff, assigned: Ticket, clock: FrozenClock,
    bus: EventBus, db: Engine,
) -> None:  # fmt: skip
    clock.set(sh(2026, 11, 23, 13, 29))
    assert check(uow_factory) == (0, 0)
    clock.set(sh(2026, 11, 23, 13, 30))
    with bus.capture() as events:
        assert check(uow_factory) == (1, 0)
    text = "工单 #1001「大衣袖子破洞」的首次响应将在 30 分钟后超时（截止 14:00）"
    # The assignee, the supervisor (also the duty manager: told once), the owner.
    assert notes(db) == [
        (staff.aftersale.id, text), (staff.supervisor.id, text), (staff.owner.id, text)
    ]  # fmt: skip
    [warning] = [e for e in events if isinstance(e, SlaWarning)]
    assert warning.ticket_id == assigned.id and warning.metric == "first_response"
    assert warning.due_at == sh(2026, 11, 23, 14, 0)
    assert set(warning.notified_agent_ids) == {
        staff.aftersale.id, staff.supervisor.id, staff.owner.id
    }  # fmt: skip
    assert sum(isinstance(e, NotificationCreated) for e in events) == 3

    clock.set(sh(2026, 11, 23, 13, 45))
    assert check(uow_factory) == (0, 0)  # once
    clock.set(sh(2026, 11, 23, 14, 0))
    with bus.capture() as events:
        assert check(uow_factory) == (0, 1)
    breach = "工单 #1001「大衣袖子破洞」的首次响应已超时（截止 14:00）"
    assert notes(db, NotificationKind.SLA_BREACH) == [
        (staff.aftersale.id, breach), (staff.supervisor.id, breach), (staff.owner.id, breach)
    ]  # fmt: skip
    [breached] = [e for e in events if isinstance(e, SlaBreached)]
    assert (breached.team_id, breached.assignee_id) == (
        staff.teams["aftersale"], staff.aftersale.id
    )  # fmt: skip
    target = first_response(db, assigned)
    assert target.breached_at == sh(2026, 11, 23, 14, 0)
    assert (target.breach_team_id, target.breach_assignee_id) == (
        staff.teams["aftersale"], staff.aftersale.id
    )  # fmt: skip
    clock.advance(timedelta(hours=1))
    assert check(uow_factory) == (0, 0)
    assert [h for h in history_fields(db, assigned.id) if h[0] == "sla"] == [
        ("sla", "first_response", "warning"), ("sla", "first_response", "breached")
    ]  # fmt: skip


def test_an_unassigned_ticket_warns_its_team(
    uow_factory: UowFactory, staff: TicketStaff, clock: FrozenClock, db: Engine
) -> None:
    make_ticket(uow_factory, staff, team_id=staff.teams["aftersale"])
    clock.set(sh(2026, 11, 23, 13, 40))
    assert check(uow_factory) == (1, 0)
    told = {agent_id for agent_id, _ in notes(db)}
    assert told == {staff.aftersale.id, staff.aftersale2.id, staff.supervisor.id, staff.owner.id}
    assert "将在 20 分钟后超时" in notes(db)[0][1]


def test_the_duty_manager_of_the_shift_on_now_is_told_too(
    uow_factory: UowFactory, staff: TicketStaff, assigned: Ticket, clock: FrozenClock,
    db: Engine,
) -> None:  # fmt: skip
    manager = make_agent(
        uow_factory, staff.shop, email="zhiban@tkt.test", role=Role.SUPERVISOR, name="值班经理",
        team_codes=("aftersale",),
    )  # fmt: skip
    with uow_factory() as uow:
        tickets.create_shift(
            uow, shop_id=staff.shop_id, team_id=staff.teams["aftersale"], name="白班",
            start_time="08:00", end_time="20:00", member_ids=[staff.aftersale.id],
            duty_manager_id=manager.id,
        )  # fmt: skip
    with uow_factory() as uow:
        # No longer a supervisor: told as the shift's duty manager, not as a supervisor.
        accounts.update_agent(
            uow, shop_id=staff.shop_id, agent_id=manager.id, acting_agent_id=staff.owner.id,
            role=Role.AGENT,
        )  # fmt: skip
    clock.set(sh(2026, 11, 23, 13, 30))
    assert check(uow_factory) == (1, 0)
    assert [a for a, _ in notes(db)] == [
        staff.aftersale.id, staff.supervisor.id, staff.owner.id, manager.id
    ]  # fmt: skip


def test_an_agent_reading_english_is_told_in_english(
    uow_factory: UowFactory, staff: TicketStaff, assigned: Ticket, clock: FrozenClock,
    db: Engine,
) -> None:  # fmt: skip
    with uow_factory() as uow:
        accounts.update_agent(
            uow, shop_id=staff.shop_id, agent_id=staff.aftersale.id, acting_agent_id=None,
            locale="en",
        )  # fmt: skip
    clock.set(sh(2026, 11, 23, 11, 50))  # long before: due at 14:00 after 2 h 10 min
    with uow_factory() as uow:
        sla_watch.check_deadlines(uow, now=sh(2026, 11, 23, 13, 50))
    [(_, text)] = [n for n in notes(db) if n[0] == staff.aftersale.id]
    assert text == "Ticket #1001 “大衣袖子破洞”: first response due in 10 minutes (by 14:00)"


def test_a_deadline_tomorrow_shows_its_date(
    uow_factory: UowFactory, staff: TicketStaff, clock: FrozenClock, db: Engine
) -> None:
    clock.set(sh(2026, 11, 23, 14, 20))  # due 09:20 tomorrow, warned at 17:50 today
    make_ticket(
        uow_factory, staff, assignee_id=staff.aftersale.id, team_id=staff.teams["aftersale"]
    )
    clock.set(sh(2026, 11, 23, 17, 50))
    assert check(uow_factory) == (1, 0)
    # 30 working minutes: ten this evening, twenty tomorrow morning.
    assert notes(db)[0][1].endswith("将在 30 分钟后超时（截止 11-24 09:20）")


def test_met_and_paused_clocks_are_never_warned(
    uow_factory: UowFactory, staff: TicketStaff, assigned: Ticket, clock: FrozenClock,
    db: Engine,
) -> None:  # fmt: skip
    with uow_factory() as uow:
        add_comment(
            uow, shop_id=staff.shop_id, ticket_id=assigned.id, kind=CommentKind.REPLY,
            body="您好，已登记", author_agent_id=staff.aftersale.id,
        )  # fmt: skip
    paused = make_ticket(uow_factory, staff, team_id=staff.teams["aftersale"], title="等买家照片")
    with uow_factory() as uow:
        tickets.change_status(
            uow, shop_id=staff.shop_id, ticket_id=paused.id, status=TicketStatus.PENDING_BUYER,
            actor_agent_id=staff.aftersale.id, tell_buyer=False,
        )  # fmt: skip
    clock.set(sh(2026, 11, 25, 10, 0))  # two days on: both first responses long past
    assert check(uow_factory) == (0, 0)
    assert notes(db) == []
    # The buyer answers: the paused clock runs again with its four hours.
    with uow_factory() as uow:
        tickets.change_status(
            uow, shop_id=staff.shop_id, ticket_id=paused.id, status=TicketStatus.OPEN,
            actor_agent_id=staff.aftersale.id, tell_buyer=False,
        )  # fmt: skip
    clock.set(sh(2026, 11, 25, 13, 30))
    assert check(uow_factory) == (1, 0)


def test_a_deadline_found_already_passed_is_a_breach_not_a_warning(
    uow_factory: UowFactory, staff: TicketStaff, assigned: Ticket, clock: FrozenClock,
    db: Engine,
) -> None:  # fmt: skip
    clock.set(sh(2026, 11, 23, 15, 0))  # the app was down over the warning and the deadline
    assert check(uow_factory) == (0, 1)
    assert set(_kinds(db)) == {NotificationKind.SLA_BREACH}
    target = first_response(db, assigned)
    assert target.warned_at is None and target.breached_at == sh(2026, 11, 23, 15, 0)


def _kinds(db: Engine) -> list[NotificationKind]:
    with make_session_factory(db)() as session:
        query = select(Notification.kind).where(Notification.kind != NotificationKind.ASSIGNED)
        return list(session.scalars(query))


def test_an_inactive_assignee_is_skipped_and_the_supervisors_still_hear(
    uow_factory: UowFactory, staff: TicketStaff, assigned: Ticket, clock: FrozenClock,
    db: Engine,
) -> None:  # fmt: skip
    with make_session_factory(db)() as session:
        session.execute(update(Agent).where(Agent.id == staff.aftersale.id).values(is_active=False))
        session.commit()
    clock.set(sh(2026, 11, 23, 14, 1))
    assert check(uow_factory) == (0, 1)
    assert {a for a, _ in notes(db)} == {staff.supervisor.id, staff.owner.id}


def test_one_failing_deadline_does_not_stop_the_others(
    uow_factory: UowFactory, staff: TicketStaff, clock: FrozenClock, db: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    first = make_ticket(uow_factory, staff, assignee_id=staff.aftersale.id, title="一")
    make_ticket(uow_factory, staff, assignee_id=staff.aftersale.id, title="二")
    real = sla_watch._tell

    def tell(uow: UnitOfWork, ticket: Ticket, *args: object) -> tuple[int, ...]:
        if ticket.id == first.id:
            raise RuntimeError("notification store down")
        return real(uow, ticket, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(sla_watch, "_tell", tell)
    clock.set(sh(2026, 11, 23, 13, 30))
    assert check(uow_factory) == (1, 0)
    # Nothing of the failed one was kept: it is tried again next round.
    assert first_response(db, first).warned_at is None
    monkeypatch.setattr(sla_watch, "_tell", real)
    assert check(uow_factory) == (1, 0)


def test_the_apps_round_drains_a_backlog(
    uow_factory: UowFactory, staff: TicketStaff, clock: FrozenClock, db: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    for n in range(5):
        make_ticket(uow_factory, staff, assignee_id=staff.aftersale.id, title=f"工单{n}")
    monkeypatch.setattr(sla_watch, "BATCH", 2)
    clock.set(sh(2026, 11, 23, 14, 5))
    sla_watch._round(uow_factory)
    assert all(first_response_breached(db))


def first_response_breached(db: Engine) -> list[bool]:
    with make_session_factory(db)() as session:
        rows = session.scalars(
            select(SlaTarget).where(SlaTarget.metric == SlaMetric.FIRST_RESPONSE)
        )
        return [t.breached_at is not None for t in rows]


# --- two workers at the same moment ---------------------------------------------------------

TICKETS = 6


Job = Callable[[UnitOfWork], tuple[int, int]]


def _race(db: Engine, clock: FrozenClock, job: Job) -> list[tuple[int, int]]:
    start = threading.Barrier(2)
    results: list[tuple[int, int]] = []
    failures: list[BaseException] = []

    def worker() -> None:
        factory = make_session_factory(db)
        try:
            with UnitOfWork(factory, EventBus(), clock) as uow:  # each process has its own bus
                start.wait()
                results.append(job(uow))
        except BaseException as exc:  # reported in the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    return results


def test_two_workers_at_once_warn_and_breach_each_deadline_once(
    uow_factory: UowFactory, staff: TicketStaff, clock: FrozenClock, db: Engine
) -> None:
    for n in range(TICKETS):
        make_ticket(
            uow_factory, staff, assignee_id=staff.aftersale.id, team_id=staff.teams["aftersale"],
            title=f"并发{n}",
        )  # fmt: skip
    clock.set(sh(2026, 11, 23, 13, 45))
    results = _race(db, clock, lambda uow: sla_watch.check_deadlines(uow))
    assert sum(w for w, _ in results) == TICKETS
    clock.set(sh(2026, 11, 23, 14, 30))
    results = _race(db, clock, lambda uow: sla_watch.check_deadlines(uow))
    assert sum(b for _, b in results) == TICKETS
    # Three people per deadline (assignee, supervisor, owner), each told once of each.
    assert len(notes(db, NotificationKind.SLA_WARNING)) == 3 * TICKETS
    assert len(notes(db, NotificationKind.SLA_BREACH)) == 3 * TICKETS
    with make_session_factory(db)() as session:
        sla_rows = session.scalar(
            select(func.count(TicketChange.id)).where(TicketChange.field == "sla")
        )
    assert sla_rows == 2 * TICKETS
