"""Tickets (工单) in real browsers: an agent turns an angry buyer's chat into a ticket for 售后
from the desk; the buyer's chat shows the number; a 售后 agent's ticket list shows it as it
is created, with its SLA clock, without a reload; a note mentioning that agent rings their
bell at once. The title is hostile text, shown as text everywhere."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from kefu.accounts.models import Role
from kefu.uow import UnitOfWork
from tests.browser.conftest import LiveServer, NewPage, log_in_to_desk, screenshot
from tests.factories import PASSWORD, make_agent, make_shop_with_staff

pytestmark = pytest.mark.browser

UowFactory = Callable[[], UnitOfWork]
HOSTILE = "<img src=x onerror=alert(1)> 大衣破洞三天没人管"


def log_in_to(page: Page, server: LiveServer, path: str, *, shop: str, email: str) -> None:
    page.goto(server.url + path)
    page.get_by_label("店铺代码").fill(shop)
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(server.url + path)


def test_a_complaint_chat_becomes_a_ticket_that_aftersales_sees_live(
    live_server: LiveServer, people: NewPage, uow_factory: UowFactory
) -> None:
    staff = make_shop_with_staff(uow_factory, "gongdan")
    aftersale = make_agent(
        uow_factory, staff.shop, email="liu@gongdan.test", role=Role.AGENT, name="售后小刘",
        team_codes=("aftersale",),
    )  # fmt: skip

    # 售后小刘 has the ticket list open (not the desk: reading tickets is not being on duty).
    liu = people()
    log_in_to(liu, live_server, "/tickets", shop="gongdan", email=aftersale.email)
    expect(liu.get_by_test_id("tickets-none")).to_be_visible()
    expect(liu.get_by_test_id("bell")).to_have_attribute("data-live", "1")

    # An angry buyer writes; the 售前 agent opens the chat in the desk.
    desk = people()
    log_in_to_desk(desk, live_server, shop="gongdan", email=staff.agent.email)
    buyer = people()
    buyer.goto(f"{live_server.url}/chat/gongdan")
    expect(buyer.get_by_test_id("chat-connection")).to_have_attribute("data-state", "online")
    box = buyer.get_by_test_id("chat-input")
    box.fill("羊绒大衣袖子有个破洞")
    box.press("Enter")
    expect(buyer.get_by_test_id("chat-message").filter(has_text="破洞")).to_have_count(1)
    box.fill("都三天了还没人处理，太过分了！！我要投诉")
    box.press("Enter")
    row = desk.get_by_test_id("desk-conversation").first
    expect(row).to_contain_text("我要投诉")
    row.click()
    expect(desk.get_by_test_id("desk-tickets")).to_contain_text("这个会话还没有工单")

    # 转工单: the form opens in a new tab, prefilled from the chat.
    with desk.expect_popup() as opened:
        desk.get_by_test_id("desk-to-ticket").click()
    form = opened.value
    problems: list[str] = []
    form.on("pageerror", lambda error: problems.append(str(error)))
    form.on("dialog", lambda dialog: (problems.append(dialog.message), dialog.dismiss()))
    expect(form.get_by_test_id("ticket-from")).to_contain_text("查看对话记录")
    expect(form.get_by_test_id("new-description")).to_contain_text("都三天了还没人处理")
    expect(form.get_by_test_id("new-type")).to_have_value("complaint")
    expect(form.get_by_test_id("new-title")).not_to_have_value("")
    form.get_by_test_id("new-title").fill(HOSTILE)
    form.get_by_test_id("new-team").select_option(label="售后")
    # The assignee list offers 售后's members only.
    expect(form.get_by_test_id("new-assignee").locator("option:not([hidden])")).to_have_count(2)
    screenshot(form, "tickets-new-from-chat")
    form.get_by_test_id("new-submit").click()
    expect(form.get_by_test_id("ticket-notice")).to_have_text("已创建工单 #1001，已通知买家。")
    expect(form.get_by_test_id("ticket-title")).to_have_text(HOSTILE)

    # The buyer reads the number in the chat.
    told = buyer.get_by_test_id("chat-message").filter(has_text="工单 #1001")
    expect(told).to_have_count(1)

    # 小刘's list shows it without a reload, with its SLA clock counting down.
    listed = liu.get_by_test_id("ticket-row")
    expect(listed).to_have_count(1)
    expect(listed.get_by_test_id("ticket-title")).to_have_text(HOSTILE)
    expect(listed).to_contain_text("售后")
    expect(listed.get_by_test_id("sla-clock")).to_contain_text("剩")
    screenshot(liu, "tickets-list-live")

    # The desk's panel lists the chat's ticket too.
    expect(desk.get_by_test_id("desk-ticket")).to_contain_text("工单 #1001")
    screenshot(desk, "tickets-desk-panel")

    # 升级: the buyer's last question goes to the duty manager as an escalation ticket.
    desk.get_by_test_id("desk-escalate").click()
    question = desk.get_by_test_id("desk-escalate-question")
    expect(question).to_have_value("都三天了还没人处理，太过分了！！我要投诉")
    question.fill("羊绒大衣破洞能否直接补发新的？")
    desk.get_by_test_id("desk-escalate-send").click()
    expect(desk.get_by_test_id("desk-tickets-status")).to_have_text(
        "已升级为工单 #1002，值班经理会尽快答复。"
    )
    expect(desk.get_by_test_id("desk-ticket")).to_have_count(2)

    # A note mentioning 小刘 rings 小刘's bell, live, with a toast.
    expect(liu.get_by_test_id("bell-count")).to_be_hidden()
    note = form.get_by_test_id("comment-body")
    note.fill("@售后")
    expect(form.get_by_test_id("mention-option")).to_have_text("@售后小刘")
    note.press("Enter")
    expect(note).to_have_value("@售后小刘 ")
    note.press_sequentially("请今天联系买家换货")
    form.get_by_test_id("comment-submit").click()
    expect(form.get_by_test_id("ticket-notice")).to_have_text("备注已添加。")
    expect(form.get_by_test_id("ticket-thread")).to_contain_text("已通知：售后小刘")
    expect(liu.get_by_test_id("bell-count")).to_have_text("1")
    expect(liu.get_by_test_id("toast")).to_contain_text("#1001")
    screenshot(liu, "tickets-bell-rings")

    # The bell leads to the notification, and on to the ticket.
    liu.get_by_test_id("bell").click()
    liu.get_by_test_id("notification-open").first.click()
    expect(liu.get_by_test_id("ticket-title")).to_have_text(HOSTILE)
    expect(liu.get_by_test_id("ticket-clocks")).to_contain_text("首次响应")
    expect(liu.get_by_test_id("bell-count")).to_be_hidden()

    # 小刘 has the ticket open while the agent works on it: the note appears at once; a
    # change to what the forms show asks for a reload instead of changing them underfoot.
    form.get_by_test_id("comment-body").fill("买家同意换货")
    form.get_by_test_id("comment-submit").click()
    expect(liu.get_by_test_id("ticket-thread")).to_contain_text("买家同意换货")
    expect(liu.get_by_test_id("ticket-stale")).to_be_hidden()
    form.get_by_test_id("status-select").select_option("pending_internal")
    form.get_by_test_id("status-submit").click()
    expect(form.get_by_test_id("ticket-notice")).to_have_text("状态已更新。")
    expect(liu.get_by_test_id("ticket-facts")).to_contain_text("待内部处理")
    expect(liu.get_by_test_id("ticket-stale")).to_be_visible()
    screenshot(liu, "tickets-page")
    assert problems == []
