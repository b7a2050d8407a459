"""The new-ticket form and one ticket's page, as staff use them: 转工单 from a chat with the
bot's reading prefilled, the buyer told the number, SLA clocks in shop time, every form
landing back with a notice — or refused with the reason next to it and nothing changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kefu.clock import FrozenClock
from kefu.commerce.models import Order
from kefu.tickets import escalation, sla, sla_watch
from kefu.tickets import service as tickets
from kefu.tickets.models import TicketPriority, TicketStatus, TicketType
from tests.factories import UowFactory
from tests.tickets.conftest import (
    ORDER_NO,
    BuyerChat,
    Elsewhere,
    TicketStaff,
    chat_lines,
    fresh_ticket,
    history_fields,
    make_ticket,
    snapshot,
)
from tests.tickets.pagekit import Person, log_in, part, text_of

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def person(app: FastAPI, staff: TicketStaff, email: str) -> Person:
    return log_in(TestClient(app), shop=staff.shop.slug, email=email)


@pytest.fixture
def agent(client: TestClient, staff: TicketStaff) -> Person:
    """小刘 of 售后, who has the angry buyer's chat."""
    return log_in(client, shop=staff.shop.slug, email=staff.aftersale.email)


def _sla_policy(uow_factory: UowFactory, staff: TicketStaff) -> None:
    with uow_factory() as uow:
        sla.create_policy(
            uow, shop_id=staff.shop_id, name="售后标准", ticket_type=TicketType.AFTERSALE,
            priority=TicketPriority.NORMAL, first_response_minutes=120,
            resolution_minutes=8 * 60, business_hours=True,
        )  # fmt: skip


# --------------------------------------------------------------------------- 转工单


def test_a_complaint_chat_becomes_a_ticket_and_the_buyer_sees_its_number(
    agent: Person,
    staff: TicketStaff,
    buyer_chat: BuyerChat,
    paid_order: Order,
    db: Engine,
) -> None:
    form = agent.get(f"/tickets/new?conversation_id={buyer_chat.conversation_id}")
    assert form.status_code == 200
    page = form.text
    assert part(page, "ticket-from").startswith("来自与 王女士 的会话。 查看对话记录")
    assert f'href="/desk#c{buyer_chat.conversation_id}"' in page  # the transcript
    assert '<option value="complaint" selected>' in page  # the buyer is angry: 投诉
    assert "都三天了还没人处理" in part(page, "new-description")
    assert f'value="{paid_order.id}" checked' in page  # the buyer's order, ticked
    made = agent.post(
        "/tickets/new",
        {
            "type": "complaint",
            "title": "大衣破洞三天无人处理",
            "description": "买家要求退货",
            "priority": "high",
            "team": str(staff.teams["aftersale"]),
            "assignee": str(staff.aftersale.id),
            "tags": "破损, 加急",
            "conversation_ids": str(buyer_chat.conversation_id),
            "order_ids": str(paid_order.id),
        },
    )
    assert made.status_code == 303, text_of(made.text)
    assert made.headers["location"].endswith("?created=1")
    shown = agent.follow(made).text
    assert part(shown, "ticket-notice") == "已创建工单 #1001，已通知买家。"
    assert part(shown, "ticket-heading") == "#1001 大衣破洞三天无人处理"
    facts = part(shown, "ticket-facts")
    assert "处理中" in facts and "高" in facts and "小刘" in facts and "售后" in facts
    assert ORDER_NO in part(shown, "ticket-orders")
    assert "加急" in text_of(shown)
    # The buyer reads the number in the same chat.
    assert "工单 #1001" in chat_lines(db, buyer_chat.conversation_id)[-1]


def test_a_refused_new_ticket_keeps_what_was_typed_and_writes_nothing(
    agent: Person, staff: TicketStaff, buyer_chat: BuyerChat, db: Engine
) -> None:
    before = snapshot(db)
    refused = agent.post(
        "/tickets/new",
        {
            "type": "aftersale",
            "title": "  ",
            "description": "袖子破洞，要换货",
            "priority": "normal",
            "conversation_ids": str(buyer_chat.conversation_id),
        },
    )
    assert refused.status_code == 422
    assert part(refused.text, "ticket-error")
    assert "袖子破洞，要换货" in part(refused.text, "new-description")
    assert f'name="conversation_ids" value="{buyer_chat.conversation_id}"' in refused.text
    unknown = agent.post(
        "/tickets/new",
        {"type": "aftersale", "title": "查单", "priority": "normal", "order_nos": "E404"},
    )
    assert unknown.status_code == 422
    assert part(unknown.text, "ticket-error") == "本店没有订单 E404"
    outsider = agent.post(
        "/tickets/new",
        {
            "type": "aftersale",
            "title": "指派给售前",
            "priority": "normal",
            "team": str(staff.teams["aftersale"]),
            "assignee": str(staff.agent.id),  # 小美 is 售前, not 售后
        },
    )
    assert outsider.status_code == 422
    assert "小美" in part(outsider.text, "ticket-error")
    assert snapshot(db) == before


def test_the_new_form_offers_each_types_custom_fields(
    agent: Person, staff: TicketStaff, uow_factory: UowFactory
) -> None:
    with uow_factory() as uow:
        tickets.create_field(
            uow, shop_id=staff.shop_id, ticket_type=TicketType.FAULT, key="page",
            label="故障页面", kind=tickets.FieldKind.TEXT, required=True,
        )  # fmt: skip
    page = agent.get("/tickets/new?type=fault").text
    assert "故障页面" in part(page, "new-fields-fault")
    fault = {"type": "fault", "title": "付款失败", "priority": "urgent"}
    refused = agent.post("/tickets/new", fault)
    assert refused.status_code == 422 and "故障页面" in part(refused.text, "ticket-error")
    made = agent.post("/tickets/new", {**fault, "field.page": "收银台"})
    shown = agent.follow(made).text
    assert part(shown, "ticket-notice") == "已创建工单 #1001。"  # no buyer to tell
    assert "收银台" in part(shown, "ticket-fields")


# --------------------------------------------------------------------------- the page


def test_the_page_shows_sla_clocks_in_shop_time_and_they_run_down(
    agent: Person, staff: TicketStaff, uow_factory: UowFactory, clock: FrozenClock
) -> None:
    _sla_policy(uow_factory, staff)
    ticket = make_ticket(uow_factory, staff)  # 10:00 Monday in Shanghai
    clocks = part(agent.get(f"/tickets/{ticket.id}").text, "ticket-clocks")
    assert "首次响应 剩 2 小时" in clocks
    assert "截止 2026-11-23 12:00" in clocks  # shop time, not UTC (04:00)
    clock.advance(timedelta(hours=2, minutes=30))
    late = part(agent.get(f"/tickets/{ticket.id}").text, "ticket-clocks")
    assert "首次响应 已超时 30 分钟" in late


def test_the_sla_jobs_lines_in_the_history_read_in_words(
    agent: Person, staff: TicketStaff, uow_factory: UowFactory, clock: FrozenClock
) -> None:
    _sla_policy(uow_factory, staff)
    ticket = make_ticket(uow_factory, staff)
    clock.advance(timedelta(hours=2, minutes=1))
    with uow_factory() as uow:
        sla_watch.check_deadlines(uow)
    history = part(agent.get(f"/tickets/{ticket.id}").text, "ticket-history")
    assert "首次响应" in history and "已超时" in history
    assert "first_response" not in history and "breached" not in history


def test_another_shops_ticket_is_not_there(
    agent: Person, staff: TicketStaff, elsewhere: Elsewhere, uow_factory: UowFactory
) -> None:
    theirs = make_ticket(uow_factory, elsewhere.staff)
    assert agent.get(f"/tickets/{theirs.id}").status_code == 404
    assert agent.post(f"/tickets/{theirs.id}/status", {"status": "solved"}).status_code == 404
    assert fresh_ticket_status(uow_factory, elsewhere, theirs.id) == TicketStatus.NEW
    assert agent.get("/tickets/99999999999").status_code == 404


def fresh_ticket_status(uow_factory: UowFactory, elsewhere: Elsewhere, ticket_id: int) -> str:
    with uow_factory() as uow:
        return tickets.get_ticket(
            uow.session, shop_id=elsewhere.staff.shop.id, ticket_id=ticket_id
        ).status


def test_pages_need_a_session_and_forms_the_pages_token(
    client: TestClient, staff: TicketStaff, uow_factory: UowFactory, db: Engine
) -> None:
    ticket = make_ticket(uow_factory, staff)
    anonymous = client.get(f"/tickets/{ticket.id}", follow_redirects=False)
    assert anonymous.status_code in (302, 303, 307)
    assert anonymous.headers["location"].startswith("/login")
    someone = log_in(client, shop=staff.shop.slug, email=staff.agent.email)
    before = snapshot(db)
    forged = someone.client.post(
        f"/tickets/{ticket.id}/status", data={"status": "solved"}, follow_redirects=False
    )
    assert forged.status_code == 403
    assert snapshot(db) == before


def test_a_hostile_title_is_shown_as_text(
    agent: Person, staff: TicketStaff, uow_factory: UowFactory
) -> None:
    hostile = "<img src=x onerror=alert(1)>"
    ticket = make_ticket(uow_factory, staff, title=hostile, description="<script>x</script>")
    for path in (f"/tickets/{ticket.id}", "/tickets", "/tickets/rows"):
        page = agent.get(path).text
        assert hostile not in page and "<script>x" not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page


# --------------------------------------------------------------------------- status


def test_a_closed_ticket_cannot_move_back_and_a_solved_one_reopens(
    agent: Person, staff: TicketStaff, uow_factory: UowFactory, db: Engine
) -> None:
    ticket = make_ticket(uow_factory, staff)
    solved = agent.post(f"/tickets/{ticket.id}/status", {"status": "solved"})
    assert part(agent.follow(solved).text, "ticket-notice") == "状态已更新。"
    page = agent.get(f"/tickets/{ticket.id}").text
    assert "reopen-form" in page  # solved: close, or reopen
    back = agent.post(f"/tickets/{ticket.id}/status", {"status": "pending_internal"})
    assert back.status_code in (409, 422)
    assert part(back.text, "ticket-error")  # the reason, next to the status form
    reopened = agent.post(f"/tickets/{ticket.id}/reopen", {"reason": "买家说还没收到退款"})
    assert part(agent.follow(reopened).text, "ticket-notice") == "工单已重新打开。"
    assert fresh_ticket(db, ticket.id).status is TicketStatus.OPEN
    agent.post(f"/tickets/{ticket.id}/status", {"status": "closed"})
    before = snapshot(db)
    refused = agent.post(f"/tickets/{ticket.id}/status", {"status": "open"})
    assert refused.status_code == 409
    assert part(refused.text, "ticket-error")
    assert snapshot(db) == before
    closed_page = agent.get(f"/tickets/{ticket.id}").text
    assert "status-form" not in closed_page and "ticket-closed-hint" in closed_page


# --------------------------------------------------------------------------- assignment


def test_assigning_outside_the_team_is_refused_and_inside_it_recorded(
    agent: Person, staff: TicketStaff, uow_factory: UowFactory, db: Engine
) -> None:
    ticket = make_ticket(uow_factory, staff, team_id=staff.teams["aftersale"])
    before = snapshot(db)
    refused = agent.post(
        f"/tickets/{ticket.id}/assign",
        {"team": str(staff.teams["aftersale"]), "assignee": str(staff.agent.id)},
    )
    assert refused.status_code == 422
    assert "小美" in part(refused.text, "ticket-error")
    # What was chosen is still chosen, for the agent to correct.
    assert f'<option value="{staff.agent.id}" data-teams' in refused.text
    assert snapshot(db) == before
    done = agent.post(
        f"/tickets/{ticket.id}/assign",
        {"team": str(staff.teams["aftersale"]), "assignee": str(staff.aftersale2.id)},
    )
    shown = agent.follow(done).text
    assert part(shown, "ticket-notice") == "分配已更新。"
    assert part(shown, "ticket-assignee") == "小张"
    assert "处理人" in part(shown, "ticket-history") and "小张" in part(shown, "ticket-history")


# --------------------------------------------------------------------------- comments


def test_a_note_mentioning_a_colleague_notifies_them(
    agent: Person, app: FastAPI, staff: TicketStaff, uow_factory: UowFactory, db: Engine
) -> None:
    ticket = make_ticket(uow_factory, staff)
    done = agent.post(
        f"/tickets/{ticket.id}/comments", {"kind": "note", "body": "@主管 这个要不要退款？"}
    )
    shown = agent.follow(done).text
    assert part(shown, "ticket-notice") == "备注已添加。"
    thread = part(shown, "ticket-thread")
    assert "这个要不要退款" in thread and "已通知：主管" in thread
    lead = person(app, staff, staff.supervisor.email)
    listed = part(lead.get("/notifications").text, "notifications")
    assert "#1001" in listed


def test_an_unknown_mention_is_refused_with_the_text_kept(
    agent: Person, staff: TicketStaff, uow_factory: UowFactory, db: Engine
) -> None:
    ticket = make_ticket(uow_factory, staff)
    before = snapshot(db)
    refused = agent.post(
        f"/tickets/{ticket.id}/comments", {"kind": "note", "body": "@王经理 请看一下"}
    )
    assert refused.status_code == 422
    assert "王经理" in part(refused.text, "ticket-error")
    assert "@王经理 请看一下" in part(refused.text, "comment-body")
    assert snapshot(db) == before


def test_a_reply_reaches_the_buyer_in_the_chat(
    agent: Person, staff: TicketStaff, buyer_chat: BuyerChat, uow_factory: UowFactory, db: Engine
) -> None:
    ticket = make_ticket(uow_factory, staff, conversation_ids=[buyer_chat.conversation_id])
    done = agent.post(
        f"/tickets/{ticket.id}/comments", {"kind": "reply", "body": "已为您安排换货，请留意物流"}
    )
    assert part(agent.follow(done).text, "ticket-notice") == "回复已发给买家。"
    assert chat_lines(db, buyer_chat.conversation_id)[-1] == "已为您安排换货，请留意物流"


# --------------------------------------------------------------------------- files, links


def test_a_picture_is_attached_and_anything_else_refused(
    agent: Person, staff: TicketStaff, uow_factory: UowFactory, db: Engine
) -> None:
    ticket = make_ticket(uow_factory, staff)
    done = agent.client.post(
        f"/tickets/{ticket.id}/uploads",
        data={"csrf_token": agent.csrf},
        files={"file": ("破洞.png", PNG, "image/png")},
        follow_redirects=False,
    )
    shown = agent.follow(done).text
    assert part(shown, "ticket-notice") == "附件已添加。"
    assert "破洞.png" in part(shown, "ticket-files")
    before = snapshot(db)
    refused = agent.client.post(
        f"/tickets/{ticket.id}/uploads",
        data={"csrf_token": agent.csrf},
        files={"file": ("病毒.exe", b"MZ\x90\x00" * 20, "application/octet-stream")},
    )
    assert refused.status_code == 422
    assert "PNG" in part(refused.text, "ticket-error")
    assert snapshot(db) == before


def test_orders_and_conversations_are_linked_by_what_staff_see(
    agent: Person,
    staff: TicketStaff,
    buyer_chat: BuyerChat,
    paid_order: Order,
    uow_factory: UowFactory,
    elsewhere: Elsewhere,
) -> None:
    ticket = make_ticket(uow_factory, staff)
    linked = agent.post(f"/tickets/{ticket.id}/orders", {"order_no": ORDER_NO})
    shown = agent.follow(linked).text
    assert ORDER_NO in part(shown, "ticket-orders")
    assert f'href="/commerce/orders/{paid_order.id}"' in shown
    unknown = agent.post(f"/tickets/{ticket.id}/orders", {"order_no": "9999000011112222"})
    assert part(unknown.text, "ticket-error") == "本店没有订单 9999000011112222"  # not theirs
    chat = agent.post(
        f"/tickets/{ticket.id}/conversations", {"conversation_id": str(buyer_chat.conversation_id)}
    )
    shown = agent.follow(chat).text
    conversations = part(shown, "ticket-conversations")
    assert "与 王女士 的会话" in conversations
    assert "都三天了还没人处理" in conversations  # the last line
    assert f'href="/desk#c{buyer_chat.conversation_id}"' in shown
    theirs = agent.post(
        f"/tickets/{ticket.id}/conversations", {"conversation_id": str(elsewhere.conversation_id)}
    )
    assert theirs.status_code in (404, 422) and part(theirs.text, "ticket-error")


# --------------------------------------------------------------------------- merge, split


def test_merging_lands_on_the_target_and_splitting_on_the_new_ticket(
    agent: Person, staff: TicketStaff, uow_factory: UowFactory, db: Engine
) -> None:
    first = make_ticket(uow_factory, staff, title="大衣破洞")
    second = make_ticket(uow_factory, staff, title="大衣破洞（重复）")
    missing = agent.post(f"/tickets/{second.id}/merge", {"into": "#1999"})
    assert part(missing.text, "ticket-error") == "本店没有工单 #1999"
    itself = agent.post(f"/tickets/{second.id}/merge", {"into": "1002"})
    assert part(itself.text, "ticket-error") == "工单不能合并到自己"
    merged = agent.post(f"/tickets/{second.id}/merge", {"into": "#1001"})
    assert merged.headers["location"].startswith(f"/tickets/{first.id}?")
    assert part(agent.follow(merged).text, "ticket-notice") == "已合并到此工单。"
    source = agent.get(f"/tickets/{second.id}").text
    assert part(source, "ticket-merged-into") == "此工单已合并到 #1001"

    agent.post(f"/tickets/{first.id}/comments", {"kind": "note", "body": "退款部分"})
    agent.post(f"/tickets/{first.id}/comments", {"kind": "note", "body": "换货部分"})
    with uow_factory() as uow:
        notes = tickets.ticket_detail(uow.session, shop_id=staff.shop_id, ticket_id=first.id)
        exchange = [c.id for c in notes.comments if c.body == "换货部分"]
    split = agent.post(
        f"/tickets/{first.id}/split", {"title": "换货单独跟进", "comment_ids": exchange}
    )
    assert split.status_code == 303, text_of(split.text)
    page = agent.follow(split).text
    assert part(page, "ticket-notice") == "已从原工单拆分出此工单。"
    assert part(page, "ticket-heading") == "#1003 换货单独跟进"
    assert "换货部分" in part(page, "ticket-thread")
    assert part(page, "ticket-split-from") == "拆分自 #1001"


# --------------------------------------------------------------------------- editing


def test_editing_changes_what_was_changed_and_records_it(
    agent: Person, staff: TicketStaff, uow_factory: UowFactory, db: Engine
) -> None:
    ticket = make_ticket(uow_factory, staff, tags=["破损"])
    done = agent.post(
        f"/tickets/{ticket.id}/edit",
        {
            "title": "大衣袖子破洞",
            "description": "买家已发照片",
            "type": "aftersale",
            "priority": "urgent",
            "tags": "破损，加急",
        },
    )
    shown = agent.follow(done).text
    assert part(shown, "ticket-notice") == "工单已修改。"
    assert "紧急" in part(shown, "ticket-facts")
    fields = [f for f, _, _ in history_fields(db, ticket.id)]
    assert "priority" in fields and "description" in fields and "title" not in fields
    assert fresh_ticket(db, ticket.id).priority is TicketPriority.URGENT


def test_the_page_speaks_english_when_the_agent_chose_it(
    agent: Person, staff: TicketStaff, uow_factory: UowFactory
) -> None:
    ticket = make_ticket(uow_factory, staff)
    agent.client.cookies.set("kefu_lang", "en")
    page = agent.get(f"/tickets/{ticket.id}?created=1").text
    assert part(page, "ticket-notice") == "Ticket #1001 created."
    agent.client.cookies.delete("kefu_lang")


def test_an_escalation_shows_the_duty_managers_part(
    agent: Person, staff: TicketStaff, buyer_chat: BuyerChat, uow_factory: UowFactory
) -> None:
    with uow_factory() as uow:
        asked = escalation.escalate_question(
            uow, shop_id=staff.shop_id, question="羊绒大衣能机洗吗？",
            conversation_id=buyer_chat.conversation_id, actor_agent_id=staff.aftersale.id,
        )  # fmt: skip
    page = agent.get(f"/tickets/{asked.id}").text
    assert "升级" in part(page, "ticket-facts")
    assert part(page, "ticket-escalation")
    plain = make_ticket(uow_factory, staff)
    assert 'data-testid="ticket-escalation"' not in agent.get(f"/tickets/{plain.id}").text
