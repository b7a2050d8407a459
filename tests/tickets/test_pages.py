"""The ticket list (/tickets): filters in the address, text search in Chinese, saved views
(shared ones only by supervisors), the rows fragment the page reloads live, pages of rows,
and bulk changes that change every ticket ticked or — the refused one named — none."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kefu.clock import FrozenClock
from kefu.tickets import service as tickets
from kefu.tickets.models import TicketPriority, TicketStatus, TicketType
from tests.factories import UowFactory
from tests.tickets.conftest import Elsewhere, TicketStaff, fresh_ticket, make_ticket, snapshot
from tests.tickets.pagekit import Person, log_in, part, text_of


@pytest.fixture
def agent(app: FastAPI, staff: TicketStaff) -> Person:
    """小刘 of 售后."""
    return log_in(TestClient(app), shop=staff.shop.slug, email=staff.aftersale.email)


def numbers(page: str) -> list[str]:
    """The ticket numbers the table lists, top to bottom."""
    rows = part(page, "ticket-rows")
    return [word for word in rows.split() if word.startswith("#") and word[1:].isdigit()]


def test_the_list_shows_unsolved_tickets_with_their_sla_clocks(
    agent: Person, staff: TicketStaff, uow_factory: UowFactory, clock: FrozenClock
) -> None:
    first = make_ticket(uow_factory, staff, title="大衣破洞", team_id=staff.teams["aftersale"])
    clock.advance(timedelta(minutes=5))
    make_ticket(uow_factory, staff, title="发票抬头错了", type=TicketType.OTHER)
    clock.advance(timedelta(minutes=5))
    done = make_ticket(uow_factory, staff, title="已经处理好的")
    with uow_factory() as uow:
        tickets.change_status(
            uow, shop_id=staff.shop_id, ticket_id=done.id, status=TicketStatus.SOLVED,
            actor_agent_id=staff.agent.id,
        )  # fmt: skip
    page = agent.get("/tickets")
    assert page.status_code == 200
    assert numbers(page.text) == ["#1002", "#1001"]  # newest change first; solved not shown
    assert part(page.text, "tickets-total").startswith("共 2 个工单")
    row = part(page.text, "ticket-rows")
    assert "大衣破洞" in row and "售后" in row and "未分配" in row
    assert "剩" in row  # the SLA clock counts down
    everything = agent.get("/tickets?status=all").text
    assert numbers(everything) == ["#1003", "#1002", "#1001"]
    solved = agent.get("/tickets?status=solved").text
    assert numbers(solved) == ["#1003"]
    assert f'href="/tickets/{first.id}"' in page.text


def test_filters_combine_and_search_finds_traditional_and_simplified(
    agent: Person, staff: TicketStaff, uow_factory: UowFactory
) -> None:
    make_ticket(uow_factory, staff, title="退货地址错误", team_id=staff.teams["aftersale"],
                assignee_id=staff.aftersale.id)  # fmt: skip
    make_ticket(uow_factory, staff, title="付款失败", type=TicketType.FAULT,
                priority=TicketPriority.URGENT, tags=["支付"])  # fmt: skip
    assert numbers(agent.get("/tickets?assignee=me").text) == ["#1001"]
    assert numbers(agent.get("/tickets?assignee=none").text) == ["#1002"]
    assert numbers(agent.get("/tickets?type=fault&priority=urgent").text) == ["#1002"]
    assert numbers(agent.get("/tickets?tag=支付").text) == ["#1002"]
    assert numbers(agent.get(f"/tickets?team={staff.teams['aftersale']}").text) == ["#1001"]
    assert numbers(agent.get("/tickets?q=退貨").text) == ["#1001"]  # 貨 is 货
    assert numbers(agent.get("/tickets?q=%231002").text) == ["#1002"]
    none = agent.get("/tickets?q=不存在的内容").text
    assert part(none, "tickets-none") == "没有符合条件的工单"
    # The form shows the filters in use.
    shown = agent.get("/tickets?type=fault&assignee=none").text
    assert '<option value="fault" selected>' in shown
    assert '<option value="none" selected>' in shown


def test_a_bad_search_says_why_instead_of_failing(agent: Person, staff: TicketStaff) -> None:
    page = agent.get("/tickets?q=" + "查" * 150)
    assert page.status_code == 422
    assert part(page.text, "tickets-error")


def test_the_rows_fragment_is_the_tables_body_with_the_same_filters(
    agent: Person, staff: TicketStaff, uow_factory: UowFactory
) -> None:
    make_ticket(uow_factory, staff, title="一号")
    make_ticket(uow_factory, staff, title="二号", type=TicketType.FAULT)
    rows = agent.get("/tickets/rows?type=fault")
    assert rows.status_code == 200
    assert rows.text.strip().startswith('<tbody id="ticket-rows" data-total="1"')
    assert "二号" in rows.text and "一号" not in rows.text
    assert "<html" not in rows.text


def test_pages_of_thirty(agent: Person, staff: TicketStaff, uow_factory: UowFactory) -> None:
    for i in range(31):
        make_ticket(uow_factory, staff, title=f"工单{i}")
    first = agent.get("/tickets").text
    assert len(numbers(first)) == 30 and "1 / 2" in text_of(first)
    second = agent.get("/tickets?page=2").text
    assert numbers(second) == ["#1001"]


# --------------------------------------------------------------------------- saved views


def test_an_agent_saves_a_view_of_the_filters_and_opens_it_again(
    agent: Person, staff: TicketStaff, uow_factory: UowFactory
) -> None:
    make_ticket(uow_factory, staff, title="紧急故障", type=TicketType.FAULT,
                priority=TicketPriority.URGENT)  # fmt: skip
    make_ticket(uow_factory, staff, title="普通咨询")
    page = agent.get("/tickets?type=fault&priority=urgent").text
    assert 'data-testid="view-shared"' not in page  # sharing is for supervisors
    saved = agent.post("/tickets/views?type=fault&priority=urgent", {"name": "我的紧急故障"})
    assert saved.status_code == 303
    shown = agent.follow(saved).text
    assert part(shown, "tickets-notice") == "视图已保存。"
    assert numbers(shown) == ["#1001"]
    assert "我的紧急故障" in part(shown, "view-select")
    clash = agent.post("/tickets/views", {"name": "我的紧急故障"})
    assert clash.status_code == 409 and part(clash.text, "tickets-error")
    shared = agent.post("/tickets/views", {"name": "全店的", "shared": "1"})
    assert shared.status_code == 403 and part(shared.text, "tickets-error")


def test_a_supervisor_shares_a_view_with_the_shop(
    app: FastAPI, agent: Person, staff: TicketStaff, uow_factory: UowFactory
) -> None:
    make_ticket(uow_factory, staff, title="没人管的")
    lead = log_in(TestClient(app), shop=staff.shop.slug, email=staff.supervisor.email)
    assert 'data-testid="view-shared"' in lead.get("/tickets").text
    saved = lead.post("/tickets/views?assignee=none", {"name": "未分配", "shared": "1"})
    view_id = saved.headers["location"].split("view=")[1].split("&")[0]
    seen = agent.get(f"/tickets?view={view_id}").text
    assert "未分配 · 共享" in part(seen, "view-select")
    assert numbers(seen) == ["#1001"]
    assert 'data-testid="view-delete"' not in seen  # the agent may not delete a shared one
    deleted = lead.post(f"/tickets/views/{view_id}/delete")
    assert part(lead.follow(deleted).text, "tickets-notice") == "视图已删除。"


# --------------------------------------------------------------------------- bulk


def test_a_bulk_change_changes_every_ticked_ticket(
    agent: Person, staff: TicketStaff, uow_factory: UowFactory, db: Engine
) -> None:
    one = make_ticket(uow_factory, staff, title="一")
    two = make_ticket(uow_factory, staff, title="二")
    three = make_ticket(uow_factory, staff, title="三")
    done = agent.post(
        "/tickets/bulk",
        {
            "ticket_ids": [str(one.id), str(two.id)],
            "status": "pending_internal",
            "team": str(staff.teams["aftersale"]),
            "assignee": str(staff.aftersale.id),
            "add_tag": "批量",
            "back": "/tickets?status=all",
        },
    )
    assert done.headers["location"] == "/tickets?status=all&done=bulk&n=2"
    assert part(agent.follow(done).text, "tickets-notice") == "已修改 2 个工单。"
    for ticket in (one, two):
        changed = fresh_ticket(db, ticket.id)
        assert changed.status is TicketStatus.PENDING_INTERNAL
        assert changed.assignee_id == staff.aftersale.id
    assert fresh_ticket(db, three.id).status is TicketStatus.NEW


def test_a_bulk_change_one_ticket_refuses_changes_none(
    agent: Person, staff: TicketStaff, uow_factory: UowFactory, db: Engine
) -> None:
    open_one = make_ticket(uow_factory, staff, title="还开着")
    closed = make_ticket(uow_factory, staff, title="已关闭")
    with uow_factory() as uow:
        tickets.change_status(
            uow, shop_id=staff.shop_id, ticket_id=closed.id, status=TicketStatus.CLOSED,
            actor_agent_id=staff.agent.id,
        )  # fmt: skip
    before = snapshot(db)
    refused = agent.post(
        "/tickets/bulk",
        {"ticket_ids": [str(open_one.id), str(closed.id)], "priority": "urgent",
         "back": "/tickets?status=all"},
    )  # fmt: skip
    assert refused.status_code in (409, 422)
    assert "#1002" in part(refused.text, "tickets-error")
    assert numbers(refused.text) == ["#1002", "#1001"]  # the list it came from
    assert snapshot(db) == before
    nothing = agent.post("/tickets/bulk", {"ticket_ids": [str(open_one.id)]})
    assert part(nothing.text, "tickets-error") == "请选择要修改的内容"
    none_ticked = agent.post("/tickets/bulk", {"status": "open"})
    assert part(none_ticked.text, "tickets-error") == "请先勾选要修改的工单"
    assert snapshot(db) == before


def test_the_list_is_the_shops_own(
    agent: Person, staff: TicketStaff, uow_factory: UowFactory, elsewhere: Elsewhere
) -> None:
    make_ticket(uow_factory, elsewhere.staff, title="别家的工单")
    page = agent.get("/tickets?status=all").text
    assert "别家的工单" not in page
    assert part(page, "tickets-none")
