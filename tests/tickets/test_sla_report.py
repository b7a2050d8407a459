"""The SLA report as a supervisor reads it on Monday evening: per team and metric, how many
deadlines fell due, how many were kept, missed or still running, and which were missed
by whom. The test clock starts on Monday 2026-11-23 at 10:00 in Shanghai."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kefu.clock import FrozenClock
from kefu.errors import Invalid
from kefu.tickets import service as tickets
from kefu.tickets import sla, sla_report, sla_watch
from kefu.tickets.comments import add_comment
from kefu.tickets.models import CommentKind, SlaMetric, Ticket, TicketType
from tests.factories import UowFactory
from tests.tickets.conftest import TicketStaff, make_ticket

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 11, 23, tzinfo=SHANGHAI)
FIRST = SlaMetric.FIRST_RESPONSE


def at(hour: int, minute: int = 0) -> datetime:
    return MONDAY.replace(hour=hour, minute=minute)


def reply(uow_factory: UowFactory, staff: TicketStaff, ticket: Ticket, agent_id: int) -> None:
    with uow_factory() as uow:
        add_comment(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, kind=CommentKind.REPLY,
            body="您好，我们正在处理", author_agent_id=agent_id,
        )  # fmt: skip


@pytest.fixture
def monday(uow_factory: UowFactory, staff: TicketStaff, clock: FrozenClock) -> dict[str, Ticket]:
    """Four tickets opened at 10:00: one answered in time, one breached while 小刘 had it
    (then moved to 投诉), one answered late, one still running."""
    aftersale, complaints = staff.teams["aftersale"], staff.teams["complaints"]
    kept = make_ticket(uow_factory, staff, team_id=aftersale, assignee_id=staff.aftersale.id,
                       title="按时回复")  # fmt: skip
    missed = make_ticket(uow_factory, staff, team_id=aftersale, assignee_id=staff.aftersale.id,
                         title="超时未回")  # fmt: skip
    late = make_ticket(uow_factory, staff, type=TicketType.COMPLAINT, team_id=complaints,
                       assignee_id=staff.aftersale2.id, title="回复晚了")  # fmt: skip
    running = make_ticket(uow_factory, staff, type=TicketType.OTHER, title="还在计时")
    clock.set(at(11))
    reply(uow_factory, staff, kept, staff.aftersale.id)
    clock.set(at(12, 30))  # the complaint was due at 12:00; the watcher had not run
    reply(uow_factory, staff, late, staff.aftersale2.id)
    clock.set(at(14, 1))
    with uow_factory() as uow:
        assert sla_watch.check_deadlines(uow) == (0, 1)  # 售后's 14:00 deadline
    with uow_factory() as uow:
        tickets.assign_ticket(
            uow, shop_id=staff.shop_id, ticket_id=missed.id, actor_agent_id=staff.supervisor.id,
            team_id=complaints, assignee_id=None,
        )  # fmt: skip
    clock.set(at(15))
    return {"kept": kept, "missed": missed, "late": late, "running": running}


def test_figures_per_team_and_metric(
    uow_factory: UowFactory, staff: TicketStaff, monday: dict[str, Ticket]
) -> None:
    with uow_factory() as uow:
        rows = sla_report.breach_report(
            uow.session, shop_id=staff.shop_id, since=MONDAY, until=MONDAY + timedelta(days=1)
        )
    figures = [(r.team_name, r.metric, r.due, r.met_in_time, r.breached, r.running) for r in rows]
    assert figures == [
        ("售后", FIRST, 2, 1, 1, 0),  # the breach counts for 售后, who had it
        ("投诉", FIRST, 1, 0, 1, 0),
        ("", FIRST, 1, 0, 0, 1),  # no team: still running until 18:00
    ]
    assert [r.rate for r in rows] == [0.5, 0.0, None]
    [total] = sla_report.totals(rows)
    assert (total.due, total.met_in_time, total.breached, total.running) == (4, 1, 2, 1)
    assert total.rate == pytest.approx(1 / 3)


def test_the_list_of_missed_deadlines(
    uow_factory: UowFactory, staff: TicketStaff, monday: dict[str, Ticket]
) -> None:
    with uow_factory() as uow:
        found = sla_report.list_breaches(
            uow.session, shop_id=staff.shop_id, since=MONDAY, until=MONDAY + timedelta(days=1)
        )
    assert [(b.number, b.title, b.team_name, b.assignee_name) for b in found] == [
        (monday["missed"].number, "超时未回", "售后", "小刘"),
        (monday["late"].number, "回复晚了", "投诉", "小张"),
    ]
    missed, late = found
    assert missed.breached_at == at(14, 1) and missed.due_at == at(14)
    assert late.breached_at is None and late.met_at == at(12, 30)
    # The ticket page says so too: met, but late.
    with uow_factory() as uow:
        clocks = sla.clocks_of(
            uow.session, shop_id=staff.shop_id, ticket_ids=[monday["late"].id], now=at(15)
        )
    first = next(c for c in clocks[monday["late"].id] if c.metric is FIRST)
    assert (first.state, first.breached) == ("met", True)


def test_a_period_without_deadlines_and_other_shops(
    uow_factory: UowFactory, staff: TicketStaff, monday: dict[str, Ticket]
) -> None:
    with uow_factory() as uow:
        session = uow.session
        week_before = MONDAY - timedelta(days=7)
        assert (
            sla_report.breach_report(
                session, shop_id=staff.shop_id, since=week_before, until=MONDAY
            )
            == []
        )
        assert (
            sla_report.breach_report(
                session,
                shop_id=staff.shop_id + 1000,
                since=MONDAY,
                until=MONDAY + timedelta(days=1),
            )
            == []
        )
        # The whole week: of the resolutions, only the complaint's (24 working hours, due
        # on Wednesday at 16:00) falls in it; 售后 has 48 hours, the rest 72.
        rows = sla_report.breach_report(
            session, shop_id=staff.shop_id, since=MONDAY, until=MONDAY + timedelta(days=7)
        )
        resolutions = [
            (r.team_name, r.due, r.running) for r in rows if r.metric is SlaMetric.RESOLUTION
        ]
        assert resolutions == [("投诉", 1, 1)]
        with pytest.raises(Invalid) as refused:
            sla_report.breach_report(session, shop_id=staff.shop_id, since=MONDAY, until=MONDAY)
    assert refused.value.key == "errors.tickets.sla.period"
