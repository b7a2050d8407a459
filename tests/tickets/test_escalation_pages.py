"""Escalation in the pages: 「升级给值班经理」 on the KB's unanswered inbox opens a ticket for
the duty manager, whose answer on the ticket page reaches the buyer, and 「加入知识库」
makes it an entry the bot answers with."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kefu.kb import service as kb
from kefu.tickets.models import TicketStatus
from tests.factories import UowFactory
from tests.tickets.conftest import BuyerChat, TicketStaff, chat_lines, fresh_ticket
from tests.tickets.pagekit import Person, log_in, part, text_of

QUESTION = "运费险怎么理赔？"
ANSWER = "签收后 7 天内在订单页申请退货，运费险会自动理赔到您的支付账户。"


def person(app: FastAPI, staff: TicketStaff, email: str) -> Person:
    return log_in(TestClient(app), shop=staff.shop.slug, email=email)


def _unanswered(uow_factory: UowFactory, staff: TicketStaff, chat: BuyerChat) -> int:
    with uow_factory() as uow:
        question = kb.record_unanswered(
            uow, shop_id=staff.shop_id, text=QUESTION, conversation_id=chat.conversation_id,
            customer_id=chat.customer_id,
        )  # fmt: skip
        assert question is not None
        return question.group_id


def test_from_the_inbox_to_the_buyer_and_into_the_kb(
    app: FastAPI, uow_factory: UowFactory, db: Engine, staff: TicketStaff, buyer_chat: BuyerChat
) -> None:
    group_id = _unanswered(uow_factory, staff, buyer_chat)
    lead = person(app, staff, staff.supervisor.email)
    inbox = lead.get("/kb/unanswered")
    assert part(inbox.text, f"kb-escalate-{group_id}") == "升级给值班经理"

    escalated = lead.post(f"/tickets/escalations/from-group/{group_id}")
    assert escalated.status_code == 303
    ticket_id = int(escalated.headers["location"].split("/tickets/")[1].split("?")[0])
    page = lead.follow(escalated)
    assert QUESTION in part(page.text, "ticket-title")
    assert part(page.text, "ticket-assignee") == "主管"
    assert "来自机器人未能回答的问题" in part(page.text, "ticket-escalation")

    # A second click names the ticket it already is.
    again = lead.post(f"/tickets/escalations/from-group/{group_id}")
    assert again.status_code == 409
    assert "这个问题已经升级为工单 #1001" in text_of(again.text)

    page = lead.follow(lead.post(f"/tickets/{ticket_id}/escalation/answer", {"answer": ANSWER}))
    assert part(page.text, "ticket-notice") == "答复已保存。"
    assert part(page.text, "escalation-answer") == ANSWER
    assert fresh_ticket(db, ticket_id).status is TicketStatus.SOLVED
    assert chat_lines(db, buyer_chat.conversation_id)[-1] == ANSWER

    page = lead.follow(lead.post(f"/tickets/{ticket_id}/escalation/kb", {"category": "售后"}))
    assert part(page.text, "ticket-notice") == "答复已加入知识库。"
    entry_id = fresh_ticket(db, ticket_id).kb_entry_id
    assert entry_id is not None
    assert f'href="/kb/{entry_id}"' in part_html(page.text, "escalation-in-kb")
    with uow_factory() as uow:
        found = kb.find_answer(uow.session, shop_id=staff.shop_id, text="运费险怎么理赔")
        assert found.answer is not None and found.answer.entry_id == entry_id


def part_html(page: str, testid: str) -> str:
    start = page.find(f'data-testid="{testid}"')
    assert start >= 0
    return page[start : page.find("</p>", start)]


def test_an_agent_may_not_answer_anothers_escalation(
    app: FastAPI, uow_factory: UowFactory, db: Engine, staff: TicketStaff, buyer_chat: BuyerChat
) -> None:
    group_id = _unanswered(uow_factory, staff, buyer_chat)
    lead = person(app, staff, staff.supervisor.email)
    escalated = lead.post(f"/tickets/escalations/from-group/{group_id}")
    ticket_id = int(escalated.headers["location"].split("/tickets/")[1].split("?")[0])
    agent = person(app, staff, staff.aftersale.email)
    refused = agent.post(f"/tickets/{ticket_id}/escalation/answer", {"answer": "我猜是这样"})
    assert refused.status_code == 403
    assert part(refused.text, "ticket-error") == "升级工单 #1001 由处理人或主管答复"
    assert "我猜是这样" in refused.text  # kept in the form
    assert fresh_ticket(db, ticket_id).answer == ""
    # Nor add one to the knowledge base: a supervisor does.
    lead.post(f"/tickets/{ticket_id}/escalation/answer", {"answer": ANSWER})
    page = agent.get(f"/tickets/{ticket_id}")
    assert 'data-testid="escalation-kb-form"' not in page.text
    refused = agent.post(f"/tickets/{ticket_id}/escalation/kb", {"category": ""})
    assert refused.status_code == 403
    assert fresh_ticket(db, ticket_id).kb_entry_id is None


def test_agents_do_not_escalate_from_the_inbox(
    app: FastAPI, uow_factory: UowFactory, staff: TicketStaff, buyer_chat: BuyerChat
) -> None:
    group_id = _unanswered(uow_factory, staff, buyer_chat)
    agent = person(app, staff, staff.aftersale.email)
    assert agent.post(f"/tickets/escalations/from-group/{group_id}").status_code == 403
