"""Quality inspection (质检) in real browsers: 小刘 pushes a refund at an angry buyer and
closes the chat (scored at once); the supervisor opens /quality, finds it at the top of
the worst conversations, overturns the refund hit with a reason and leaves a comment;
小刘, on /quality/mine, hears the bell at once and reads the comment there and on the
conversation's page. The buyer's line is hostile text, shown as text everywhere."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from kefu.clock import FrozenClock
from kefu.uow import UnitOfWork
from tests.browser.conftest import LiveServer, NewPage, screenshot
from tests.coach.conftest import start_chat
from tests.factories import PASSWORD, make_agent, make_shop_with_staff

pytestmark = pytest.mark.browser

UowFactory = Callable[[], UnitOfWork]
SHOP = "zhijian"
HOSTILE = "<img src=x onerror=alert(1)>你们的东西质量太差了，我要退款"


def log_in_to(page: Page, server: LiveServer, path: str, *, email: str) -> None:
    page.goto(server.url + path)
    page.get_by_label("店铺代码").fill(SHOP)
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(server.url + path)


def test_a_supervisor_overturns_a_hit_and_the_agent_reads_the_comment(
    live_server: LiveServer, people: NewPage, uow_factory: UowFactory, clock: FrozenClock
) -> None:
    staff = make_shop_with_staff(uow_factory, SHOP)
    liu = make_agent(uow_factory, staff.shop, email=f"liu@{SHOP}.test", name="小刘",
                     team_codes=("aftersale",))  # fmt: skip
    # A model conversation first, then the seed's wrong answer: both closed, both scored.
    good = start_chat(uow_factory, clock, staff.shop.id, liu, name="李雷", gender="M")
    good.buyer("在吗").after(1).reply("亲，您好，很高兴为您服务，请问有什么可以帮您？")
    good.after(1).reply("感谢您的耐心，麻烦给个五星评价哦，祝您生活愉快！").close()
    bad = start_chat(uow_factory, clock, staff.shop.id, liu, name="王芳", gender="F")
    bad.after(5).buyer(HOSTILE).after(1).reply("那你退款好了").close()

    agent = people()
    log_in_to(agent, live_server, "/quality/mine", email=liu.email)
    expect(agent.get_by_test_id("qa-mine-row")).to_have_count(2)
    expect(agent.get_by_test_id("bell")).to_have_attribute("data-live", "1")
    expect(agent.get_by_test_id("bell-count")).to_be_hidden()

    lead = people()
    log_in_to(lead, live_server, "/quality", email=staff.supervisor.email)
    worst = lead.get_by_test_id("qa-worst-row").first
    expect(worst).to_contain_text("小刘")
    expect(worst).to_contain_text("王芳")
    expect(worst).to_contain_text("首句推退款")
    expect(worst.get_by_test_id("qa-status")).to_have_text("待复核")
    expect(lead.get_by_test_id("qa-agent-row")).to_have_count(1)
    expect(lead.get_by_test_id("qa-spark").first).to_be_visible()
    screenshot(lead, "quality-overview")
    worst.get_by_test_id("qa-open").click()

    expect(lead.get_by_test_id("qa-transcript")).to_contain_text(HOSTILE)  # text, not markup
    refund = lead.locator('[data-testid="qa-hit"][data-rule="refund_first"]')
    expect(refund.get_by_test_id("qa-hit-rule")).to_have_text("首句推退款")
    expect(lead.get_by_test_id("qa-mark").first).to_have_text("那你退款")
    before = lead.locator(".qa-big").inner_text()
    refund.get_by_test_id("qa-hit-verdict").select_option("overturned")
    refund.get_by_test_id("qa-hit-comment-input").fill("买家一开始就要求退款，不算推退款")
    lead.get_by_test_id("qa-review-comment").fill("退款可以办，但第一句要先道歉安抚。")
    screenshot(lead, "quality-review-form")
    lead.get_by_test_id("qa-review-submit").click()
    expect(lead.get_by_test_id("qa-done")).to_have_text("复核已保存，已通知客服。")
    expect(lead.get_by_test_id("qa-comment")).to_have_text("退款可以办，但第一句要先道歉安抚。")
    assert int(lead.locator(".qa-big").inner_text()) == int(before) + 10
    expect(lead.get_by_test_id("qa-score-card").get_by_test_id("qa-status")).to_have_text("已复核")

    # 小刘's bell rings while he looks at his scores; the list shows the comment on reload.
    expect(agent.get_by_test_id("bell-count")).to_have_text("1")
    expect(agent.get_by_test_id("toast")).to_contain_text("退款可以办")
    agent.reload()
    row = agent.get_by_test_id("qa-mine-row").filter(has_text="王芳")
    expect(row.get_by_test_id("qa-mine-comment")).to_contain_text("第一句要先道歉安抚")
    expect(row.get_by_test_id("qa-unread")).to_be_visible()
    screenshot(agent, "quality-mine")

    # The bell leads to the conversation's page: the verdict, its reason and the comment.
    agent.get_by_test_id("bell").click()
    expect(agent.get_by_test_id("notification").first).to_contain_text("质检复核")
    agent.get_by_test_id("notification-open").first.click()
    expect(agent).to_have_url(f"{live_server.url}/quality/conversations/{bad.conversation_id}")
    mine = agent.locator('[data-testid="qa-hit"][data-rule="refund_first"]')
    expect(mine.get_by_test_id("qa-verdict")).to_have_text("撤销扣分")
    expect(mine.get_by_test_id("qa-hit-comment")).to_have_text("买家一开始就要求退款，不算推退款")
    expect(agent.get_by_test_id("qa-comment")).to_have_text("退款可以办，但第一句要先道歉安抚。")
    expect(agent.get_by_test_id("qa-review-form")).to_have_count(0)
    expect(agent.get_by_test_id("bell-count")).to_be_hidden()
    agent.goto(live_server.url + "/quality/mine")
    expect(agent.get_by_test_id("qa-unread")).to_have_count(0)  # read now
    expect(agent.get_by_test_id("qa-unread-count")).to_have_text("0")
