"""SLA settings and escalation (升级) in a real browser: the supervisor adds a policy and the
shop's own closing day on /settings/sla, and an impossible working period is refused beside
its form with nothing changed; then the supervisor, as duty manager, answers a buyer's
escalated question on the ticket page, the ticket is solved, the buyer's chat gets the
answer, and one click makes it a knowledge-base entry the page links to."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from kefu.kb import service as kb
from kefu.tickets import service as tickets
from kefu.tickets import sla
from kefu.tickets.models import TicketStatus
from kefu.uow import UnitOfWork
from tests.browser.conftest import LiveServer, NewPage, screenshot
from tests.factories import PASSWORD, make_shop_with_staff
from tests.tickets.conftest import chat_lines, fresh_ticket, start_chat

pytestmark = pytest.mark.browser

UowFactory = Callable[[], UnitOfWork]
QUESTION = "运费险怎么理赔？"
ANSWER = "签收后 7 天内在订单页申请退货，运费险会自动理赔到您的支付账户。"


def _log_in(page: Page, server: LiveServer, *, shop: str, email: str, path: str) -> None:
    page.goto(server.url + path)
    page.get_by_label("店铺代码").fill(shop)
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(server.url + path)


def test_a_supervisor_adds_a_policy_and_a_closing_day_and_bad_hours_are_refused(
    live_server: LiveServer, people: NewPage, uow_factory: UowFactory
) -> None:
    staff = make_shop_with_staff(uow_factory, "shixiao")
    lead = people()
    _log_in(lead, live_server, shop="shixiao", email=staff.supervisor.email, path="/settings/sla")
    expect(lead.get_by_test_id("sla-read-only")).to_have_count(0)
    policies = lead.get_by_test_id("sla-policies").locator("tr[data-policy]")
    # A new shop starts with the default policies, written on the first look.
    before = len(sla.DEFAULT_POLICIES)
    expect(policies).to_have_count(before)
    expect(policies.filter(has_text="投诉·高")).to_have_count(0)

    # A policy: 投诉 · 高, first response within 1 hour, solved within 24 hours.
    form = lead.get_by_test_id("policy-new")
    form.get_by_test_id("policy-name").fill("投诉·高")
    form.get_by_test_id("policy-type").select_option(label="投诉")
    form.get_by_test_id("policy-priority").select_option(label="高")
    form.get_by_test_id("first_response-value").fill("1")
    form.get_by_test_id("resolution-value").fill("24")
    form.get_by_test_id("policy-add").click()
    expect(lead.get_by_test_id("sla-done")).to_have_text("规则已添加。")
    expect(policies).to_have_count(before + 1)
    row = policies.filter(has_text="投诉·高")
    expect(row).to_have_count(1)
    cells = row.locator("td")
    expect(cells.nth(1)).to_have_text("投诉")
    expect(cells.nth(2)).to_have_text("高")
    expect(cells.nth(3)).to_have_text("1 小时")
    expect(cells.nth(5)).to_have_text("24 小时")

    # The shop's own closing day.
    days = lead.get_by_test_id("own-days")
    expect(days.locator("tr[data-day]")).to_have_count(0)
    day_form = lead.get_by_test_id("day-new")
    day_form.get_by_test_id("day-date").fill("2026-11-11")
    day_form.get_by_test_id("day-kind").select_option(label="放假")
    day_form.get_by_test_id("day-name").fill("双十一后仓库盘点")
    day_form.get_by_test_id("day-add").click()
    expect(lead.get_by_test_id("sla-done")).to_have_text("日期已保存。")
    listed = days.locator('tr[data-day="2026-11-11"]')
    expect(listed).to_have_count(1)
    expect(listed.locator("td").nth(0)).to_have_text("2026-11-11")
    expect(listed.locator("td").nth(1)).to_have_text("放假")
    expect(listed.locator("td").nth(2)).to_have_text("双十一后仓库盘点")
    screenshot(lead, "sla-settings-policy-and-day")

    # Monday 18:00–09:00 runs backwards over midnight: refused beside the form.
    hours = lead.get_by_test_id("sla-calendar")
    monday_start = hours.locator('input[name="start_1_0"]')
    monday_end = hours.locator('input[name="end_1_0"]')
    saved = (monday_start.input_value(), monday_end.input_value())
    monday_start.fill("18:00")
    monday_end.fill("09:00")
    hours.get_by_test_id("calendar-save").click()
    error = lead.locator("#hours").get_by_test_id("sla-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("周一")
    expect(error).to_contain_text("18:00")
    expect(lead.get_by_test_id("sla-done")).to_have_count(0)
    # What was typed is kept for correcting.
    expect(lead.get_by_test_id("sla-calendar").locator('input[name="start_1_0"]')).to_have_value(
        "18:00"
    )
    screenshot(lead, "sla-settings-bad-hours-refused")

    # Nothing changed: a fresh look shows the hours, the policy and the day as before.
    lead.goto(live_server.url + "/settings/sla")
    hours = lead.get_by_test_id("sla-calendar")
    expect(hours.locator('input[name="start_1_0"]')).to_have_value(saved[0])
    expect(hours.locator('input[name="end_1_0"]')).to_have_value(saved[1])
    expect(policies).to_have_count(before + 1)
    expect(lead.get_by_test_id("own-days").locator("tr[data-day]")).to_have_count(1)


def test_the_duty_manager_answers_an_escalation_and_adds_it_to_the_kb(
    live_server: LiveServer, people: NewPage, uow_factory: UowFactory, db: Engine
) -> None:
    staff = make_shop_with_staff(uow_factory, "shengji")
    chat = start_chat(uow_factory, staff.shop.id, name="李娜", lines=(QUESTION,))
    with uow_factory() as uow:
        ticket = tickets.escalate_question(
            uow, shop_id=staff.shop.id, question=QUESTION,
            conversation_id=chat.conversation_id, actor_agent_id=staff.agent.id,
        )  # fmt: skip
        ticket_id, number = ticket.id, ticket.number
    # The duty manager: with no shifts and no standing one, the shop's supervisor.
    assert fresh_ticket(db, ticket_id).assignee_id == staff.supervisor.id

    lead = people()
    path = f"/tickets/{ticket_id}"
    _log_in(lead, live_server, shop="shengji", email=staff.supervisor.email, path=path)
    expect(lead.get_by_test_id("ticket-title")).to_have_text(QUESTION)
    expect(lead.get_by_test_id("ticket-assignee")).to_have_text("主管")
    part = lead.get_by_test_id("ticket-escalation")
    expect(part.get_by_test_id("escalation-kb-form")).to_have_count(0)
    expect(part).to_contain_text("答复会以您的名义发到买家的会话里")

    part.get_by_test_id("escalation-answer-input").fill(ANSWER)
    part.get_by_test_id("escalation-answer-submit").click()
    expect(lead.get_by_test_id("ticket-notice")).to_have_text("答复已保存。")
    expect(lead.get_by_test_id("ticket-facts").locator("[data-status]")).to_have_attribute(
        "data-status", "solved"
    )
    expect(lead.get_by_test_id("ticket-facts")).to_contain_text("已解决")
    part = lead.get_by_test_id("ticket-escalation")
    expect(part.get_by_test_id("escalation-answer")).to_have_text(ANSWER)
    expect(part.get_by_test_id("escalation-answer-form")).to_have_count(0)
    screenshot(lead, "escalation-answered")

    # The buyer's chat: the question, the ticket's number, then the answer.
    lines = chat_lines(db, chat.conversation_id)
    assert lines[0] == QUESTION
    assert f"工单 #{number}" in lines[1]
    assert lines[-1] == ANSWER
    assert fresh_ticket(db, ticket_id).status is TicketStatus.SOLVED

    # One click: 加入知识库 (the buyer's own wording as the question).
    to_kb = part.get_by_test_id("escalation-to-kb")
    expect(to_kb).to_have_text("加入知识库")
    to_kb.click()
    expect(lead.get_by_test_id("ticket-notice")).to_have_text("答复已加入知识库。")
    entry_id = fresh_ticket(db, ticket_id).kb_entry_id
    assert entry_id is not None
    in_kb = lead.get_by_test_id("ticket-escalation").get_by_test_id("escalation-in-kb")
    expect(in_kb).to_contain_text("答复已加入知识库")
    link = in_kb.get_by_role("link", name=f"问答 #{entry_id}")
    expect(link).to_have_attribute("href", f"/kb/{entry_id}")
    expect(lead.get_by_test_id("escalation-kb-form")).to_have_count(0)
    screenshot(lead, "escalation-in-kb")
    with uow_factory() as uow:
        found = kb.find_answer(uow.session, shop_id=staff.shop.id, text="运费险怎么理赔")
        assert found.answer is not None and found.answer.entry_id == entry_id

    # The link opens the entry, holding the question and the answer.
    link.click()
    expect(lead).to_have_url(f"{live_server.url}/kb/{entry_id}")
    entry = lead.get_by_test_id("kb-entry-form")
    expect(entry.locator('textarea[name="answer"]')).to_have_value(ANSWER)
    expect(entry.locator('input[name="questions"]').first).to_have_value(QUESTION)
