"""Shifts and handover (交班) in real browsers: the supervisor sets up the 售后 day and
evening shifts; 小刘 hands over his day shift early with a note; 小张 of the evening shift
opens the report, sees the buyer's chat waiting with its last line, and acknowledges it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from kefu.clock import FrozenClock
from kefu.uow import UnitOfWork
from tests.browser.conftest import LiveServer, NewPage, screenshot
from tests.factories import PASSWORD, make_agent, make_shop_with_staff
from tests.tickets.conftest import start_chat
from tests.tickets.shiftkit import local

pytestmark = pytest.mark.browser

UowFactory = Callable[[], UnitOfWork]
NOTE = "<b>王芳</b>的换货明早前必须处理"


def _log_in(page: Page, server: LiveServer, *, email: str, path: str) -> None:
    page.goto(server.url + path)
    page.get_by_label("店铺代码").fill("jiaoban")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(server.url + path)


def test_shifts_are_set_up_handed_over_and_acknowledged(
    live_server: LiveServer, people: NewPage, uow_factory: UowFactory, clock: FrozenClock
) -> None:
    staff = make_shop_with_staff(uow_factory, "jiaoban")
    liu = make_agent(uow_factory, staff.shop, email="liu@jiaoban.test", name="小刘",
                     team_codes=("aftersale",))  # fmt: skip
    zhang = make_agent(uow_factory, staff.shop, email="zhang@jiaoban.test", name="小张",
                       team_codes=("aftersale",))  # fmt: skip
    start_chat(uow_factory, staff.shop.id, name="王芳", lines=("袖子有个破洞，能换吗",),
               agent_id=liu.id)  # fmt: skip

    lead = people()
    _log_in(lead, live_server, email=staff.supervisor.email, path="/shifts")
    for name, start, end, member in (
        ("白班", "09:00", "18:00", "小刘"),
        ("晚班", "18:00", "00:00", "小张"),
    ):
        form = lead.get_by_test_id("shift-new-form")
        form.get_by_test_id("shift-team").select_option(label="售后")
        form.get_by_test_id("shift-name").fill(name)
        form.get_by_test_id("shift-start").fill(start)
        form.get_by_test_id("shift-end").fill(end)
        form.get_by_test_id("shift-members").select_option(label=[member])
        form.get_by_test_id("shift-manager").select_option(label="主管")
        form.get_by_test_id("shift-create").click()
        expect(lead.get_by_test_id("shift-notice")).to_have_text("班次已创建。")
    expect(lead.get_by_test_id("shift")).to_have_count(2)
    expect(lead.get_by_test_id("shift-on")).to_have_count(1)  # 10:00: the day shift
    screenshot(lead, "handover-shifts")

    clock.set(local(23, "17:45"))
    outgoing = people()
    _log_in(outgoing, live_server, email=liu.email, path="/handovers")
    expect(outgoing.get_by_test_id("hand-over-shift")).to_contain_text(
        "售后 · 白班（在班至 18:00）"
    )
    outgoing.get_by_test_id("hand-over-note").fill(NOTE)
    outgoing.get_by_test_id("hand-over-submit").click()
    expect(outgoing.get_by_test_id("handover-notice")).to_have_text("已交班，已通知接班的同事。")
    expect(outgoing.get_by_test_id("handover-note")).to_have_text(NOTE)  # text, not markup

    incoming = people()
    _log_in(incoming, live_server, email=zhang.email, path="/handovers")
    incoming.get_by_test_id("handover-link").first.click()
    item = incoming.get_by_test_id("handover-item")
    expect(item).to_contain_text("王芳")
    expect(item).to_contain_text("买家等待回复")
    expect(item).to_contain_text("袖子有个破洞，能换吗")
    screenshot(incoming, "handover-report")
    incoming.get_by_test_id("ack-all").click()
    expect(incoming.get_by_test_id("handover-notice")).to_have_text("已确认。")
    expect(incoming.get_by_test_id("handover-summary")).to_contain_text("已确认 1/1")
    expect(incoming.get_by_test_id("handover-item-acked")).to_contain_text("小张")
