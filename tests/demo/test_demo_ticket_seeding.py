"""The demo's tickets, each test with a demo of its own: the demo login finds the ticket
list, a ticket, the handover reports and the SLA settings; the same seed tells the same
stories; and whatever the day the demo is made, it shows an SLA warning, a breach and a
deadline met, and a handover item flagged."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.clock import FrozenClock
from kefu.demo import DEMO_PASSWORD, DEMO_SHOP_SLUG, DemoSummary, seed_demo_shop
from kefu.demo import tickets as demo_tickets
from kefu.kb import service as kb
from kefu.tickets import service as tickets
from kefu.tickets.models import Handover, HandoverItem, Notification
from tests.demo.ticketkit import UowFactory, rows_of, titled


@pytest.fixture
def demo(uow_factory: UowFactory) -> DemoSummary:
    return seed_demo_shop(uow_factory)


def test_the_same_seed_tells_the_same_tickets_and_the_jobs_fire_once(
    uow_factory: UowFactory, clock: FrozenClock
) -> None:
    first = seed_demo_shop(uow_factory, slug="demo")
    second = seed_demo_shop(uow_factory, slug="demo-two")
    stories = [_story(uow_factory, s.shop_id, clock.now()) for s in (first, second)]
    assert stories[0] == stories[1]
    with uow_factory() as uow:
        before = uow.session.scalar(select(func.count(Notification.id)))
    demo_tickets.run_watchers(uow_factory, now=clock.now())  # the app's first round
    with uow_factory() as uow:
        assert uow.session.scalar(select(func.count(Notification.id))) == before


def _story(uow_factory: UowFactory, shop_id: int, now: datetime) -> list[Any]:
    with uow_factory() as uow:
        items = uow.session.execute(
            select(HandoverItem.title, HandoverItem.state, HandoverItem.deadline,
                   HandoverItem.acknowledged_at, HandoverItem.flagged_at)
            .where(HandoverItem.shop_id == shop_id)
            .order_by(HandoverItem.id)
        ).all()  # fmt: skip
    rows = rows_of(uow_factory, shop_id, now)
    return [
        [(r.number, r.type, r.status, r.title, r.tags, r.sla_state, r.created_at) for r in rows],
        [tuple(item) for item in items],
    ]


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 10, 3, 3, 0, tzinfo=UTC),  # 11:00 on National Day (国庆, closed)
        datetime(2026, 11, 28, 15, 30, tzinfo=UTC),  # 23:30 on a Saturday night
    ],
)
def test_whatever_the_day_the_demo_shows_a_warning_a_breach_and_a_deadline_met(
    uow_factory: UowFactory, clock: FrozenClock, moment: datetime
) -> None:
    clock.set(moment)
    summary = seed_demo_shop(uow_factory)
    rows = rows_of(uow_factory, summary.shop_id, moment)
    assert 8 <= len(rows) <= 15
    assert {"warning", "breached", "met"} <= {row.sla_state for row in rows}
    with uow_factory() as uow:
        items = uow.session.scalars(
            select(HandoverItem).where(HandoverItem.shop_id == summary.shop_id)
        ).all()
    assert sum(i.flagged_at is not None for i in items) == 1
    assert any(i.acknowledged_at is not None for i in items)


def test_the_answered_escalation_becomes_a_kb_entry_in_one_click(
    uow_factory: UowFactory, clock: FrozenClock, demo: DemoSummary
) -> None:
    rows = rows_of(uow_factory, demo.shop_id, clock.now())
    answered = titled(rows, "四件套能定做2.2米床的吗")
    with uow_factory() as uow:
        ticket = tickets.get_ticket(uow.session, shop_id=demo.shop_id, ticket_id=answered.id)
        entry_id = tickets.answer_to_kb(
            uow, shop_id=demo.shop_id, ticket_id=ticket.id, actor_agent_id=ticket.assignee_id or 0
        )
    with uow_factory() as uow:
        entry = kb.get_entry(uow.session, shop_id=demo.shop_id, entry_id=entry_id)
        assert kb.count_entries(uow.session, shop_id=demo.shop_id) == demo.faq_entries + 1
    # The buyers' three wordings became its phrasings: the bot answers them next time.
    assert entry.entry.answer == ticket.answer
    assert "四件套能定做2.2米床的吗" in entry.questions


# --- the pages ---------------------------------------------------------------------------------


@pytest.fixture
def owner(demo: DemoSummary, app: FastAPI) -> TestClient:
    """The demo's owner logged in (the demo seeded before the app started listening)."""
    client = TestClient(app)
    response = client.post(
        "/api/v1/auth/login",
        json={"shop": DEMO_SHOP_SLUG, "email": "owner@demo.kefu", "password": DEMO_PASSWORD},
    )
    assert response.status_code == 200, response.text
    return client


def _page(client: TestClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    main = response.text[response.text.find("<main") :]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


def test_the_demo_login_finds_tickets_a_ticket_handovers_and_sla_settings(
    owner: TestClient, uow_factory: UowFactory, clock: FrozenClock, demo: DemoSummary
) -> None:
    rows = rows_of(uow_factory, demo.shop_id, clock.now())
    listed = _page(owner, "/tickets")
    assert "付款失败：用满399减50券下单后无法支付" in listed
    assert "加急发货：买家周五出差，今天发顺丰" in listed
    fault = titled(rows, "付款失败：")
    page = _page(owner, f"/tickets/{fault.id}")
    assert f"#{fault.number}" in page and "故障页面" in page and "支付页" in page
    assert "@活动专员朵朵" in page
    handovers = _page(owner, "/handovers")
    assert "投诉" in handovers and "晚班" in handovers
    with uow_factory() as uow:
        query = select(Handover).where(Handover.shop_id == demo.shop_id)
        handover = uow.session.scalars(query).one()
    report = _page(owner, f"/handovers/{handover.id}")
    assert "来电投诉：退款申请多日未到账" in report
    settings = _page(owner, "/settings/sla")
    assert "投诉·紧急" in settings and "障碍申告" in settings
    assert "仓库年终盘点" in settings
    assert "付款失败：用满399减50券下单后无法支付" in _page(owner, "/tickets/sla-report")
    # The owner is among those warned: the warning, the breach and the flagged handover.
    told = _page(owner, "/notifications")
    assert "加急发货" in told and "付款失败" in told and "超时未确认" in told
