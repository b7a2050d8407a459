"""/notifications and the header bell: an agent sees what they were told, newest first,
opens one (marked read on the way) or marks them read; nobody reads or marks another's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kefu.clock import FrozenClock
from kefu.tickets import notifications
from kefu.tickets.models import NotificationKind
from tests.factories import UowFactory
from tests.tickets.conftest import TicketStaff
from tests.tickets.pagekit import Person, log_in, part


@pytest.fixture
def agent(app: FastAPI, staff: TicketStaff) -> Person:
    return log_in(TestClient(app), shop=staff.shop.slug, email=staff.aftersale.email)


def tell(uow_factory: UowFactory, staff: TicketStaff, agent_id: int, text: str, link: str) -> int:
    with uow_factory() as uow:
        made = notifications.notify(
            uow, shop_id=staff.shop_id, agent_ids=[agent_id], kind=NotificationKind.ASSIGNED,
            text=text, link=link,
        )  # fmt: skip
        uow.commit()
        return made[0].id


def test_notifications_are_listed_newest_first_and_opened_as_read(
    agent: Person, staff: TicketStaff, uow_factory: UowFactory, clock: FrozenClock
) -> None:
    tell(uow_factory, staff, staff.aftersale.id, "工单 #1001 已分配给你", "/tickets/1")
    clock.advance(timedelta(minutes=3))
    newest = tell(uow_factory, staff, staff.aftersale.id, "工单 #1002 已分配给你", "/tickets/2")
    page = agent.get("/notifications").text
    listed = part(page, "notifications")
    assert listed.index("#1002") < listed.index("#1001")
    assert "分配给你" in listed
    assert "未读 2" in part(page, "notifications-unread-tab")
    opened = agent.post(f"/notifications/{newest}/open", {"next": "/tickets/2"})
    assert (opened.status_code, opened.headers["location"]) == (303, "/tickets/2")
    unread = agent.get("/notifications?unread=1").text
    assert "#1002" not in part(unread, "notifications") and "#1001" in unread
    again = agent.post(f"/notifications/{newest}/open", {"next": "/tickets/2"})
    assert again.headers["location"] == "/tickets/2"  # a read one still leads there
    everything = agent.post("/notifications/read")
    after = agent.follow(everything).text
    assert part(after, "notifications-notice") == "全部通知已标为已读。"
    assert part(agent.get("/notifications?unread=1").text, "notifications") == "没有未读通知"


def test_opening_never_leads_off_the_site(
    agent: Person, staff: TicketStaff, uow_factory: UowFactory
) -> None:
    mine = tell(uow_factory, staff, staff.aftersale.id, "交班提醒", "/handovers/1")
    away = agent.post(f"/notifications/{mine}/open", {"next": "https://evil.example/x"})
    assert away.headers["location"] == "/"


def test_another_agents_notification_stays_theirs(
    app: FastAPI, agent: Person, staff: TicketStaff, uow_factory: UowFactory
) -> None:
    theirs = tell(uow_factory, staff, staff.supervisor.id, "主管的通知", "/tickets/1")
    assert "主管的通知" not in agent.get("/notifications").text
    assert agent.post(f"/notifications/{theirs}/read").status_code == 404
    assert agent.post(f"/notifications/{theirs}/open", {"next": "/"}).status_code == 404
    lead = log_in(TestClient(app), shop=staff.shop.slug, email=staff.supervisor.email)
    unread = lead.get("/notifications?unread=1").text
    assert "主管的通知" in part(unread, "notifications")


def test_every_staff_page_has_the_bell_and_the_login_page_none(app: FastAPI, agent: Person) -> None:
    for path in ("/", "/tickets", "/notifications", "/desk"):
        page = agent.get(path).text
        assert 'data-testid="bell"' in page and "/static/notify.js" in page, path
    login = TestClient(app).get("/login").text
    assert 'data-testid="bell"' not in login and "notify.js" not in login


def test_the_tickets_menu_leads_to_every_ticket_page(agent: Person) -> None:
    page = agent.get("/tickets").text
    menu = part(page, "nav-group-tickets")
    for name in ("工单列表", "交班", "班次", "SLA 报表"):
        assert name in menu
    assert 'data-testid="nav-sla"' not in page  # SLA settings: supervisors and the owner
