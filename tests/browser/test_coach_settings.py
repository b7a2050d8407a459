"""The coach's settings in a real browser: a supervisor edits a quality rule on
/settings/coach, and a pattern that is no regular expression ("(退款") is refused beside
its form with the reason while nothing changes; an agent adds a canned phrase of their own
on /phrases and sees it previewed for an example buyer (王女士)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from kefu.coach import service as coach
from kefu.coach.defaults import DEFAULT_RULES
from kefu.uow import UnitOfWork
from tests.browser.conftest import LiveServer, NewPage, screenshot
from tests.factories import PASSWORD, make_shop_with_staff

pytestmark = pytest.mark.browser

UowFactory = Callable[[], UnitOfWork]


def _log_in(page: Page, server: LiveServer, *, shop: str, email: str, path: str) -> None:
    page.goto(server.url + path)
    page.get_by_label("店铺代码").fill(shop)
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(server.url + path)


def test_a_supervisor_edits_a_rule_and_a_broken_pattern_is_refused(
    live_server: LiveServer, people: NewPage, uow_factory: UowFactory
) -> None:
    staff = make_shop_with_staff(uow_factory, "zhijian")
    lead = people()
    _log_in(lead, live_server, shop="zhijian", email=staff.supervisor.email, path="/settings/coach")
    expect(lead.get_by_test_id("rules-read-only")).to_have_count(0)
    expect(lead.get_by_test_id("coach-rules").locator("tr[data-rule]")).to_have_count(11)

    # 禁用语: worth 12 points now, and one more forbidden phrase.
    lead.get_by_test_id("rule-edit-forbidden_phrases").click()
    form = lead.get_by_test_id("rule-form-forbidden_phrases")
    form.get_by_test_id("rule-points").fill("12")
    patterns = form.get_by_test_id("rule-patterns")
    patterns.fill(patterns.input_value() + "\n爱咋咋地")
    form.get_by_test_id("rule-save-forbidden_phrases").click()
    expect(lead.get_by_test_id("rule-done")).to_have_text("规则已保存。")
    expect(lead.get_by_test_id("rule-points-forbidden_phrases")).to_have_text("12")
    first = next(s for s in DEFAULT_RULES if s.code == "forbidden_phrases").patterns[0]
    expect(lead.get_by_test_id("rule-patterns-forbidden_phrases")).to_have_value(
        re.compile("^" + re.escape(first) + r"\n.*\n爱咋咋地$", re.DOTALL)
    )
    with uow_factory() as uow:
        saved = coach.get_rule(uow.session, shop_id=staff.shop.id, code="forbidden_phrases")
    assert saved.points == 12 and saved.patterns[-1] == "爱咋咋地"

    # A pattern that does not compile: the reason beside the form, nothing changed.
    lead.get_by_test_id("rule-edit-forbidden_phrases").click()
    form = lead.get_by_test_id("rule-form-forbidden_phrases")
    form.get_by_test_id("rule-points").fill("30")
    form.get_by_test_id("rule-patterns").fill("爱买不买\n(退款")
    form.get_by_test_id("rule-save-forbidden_phrases").click()
    error = lead.get_by_test_id("rule-error")
    expect(error).to_contain_text("第 2 条表达式「(退款」无效")
    expect(error).to_contain_text("missing )")
    # The form stays open holding what was typed, to correct it.
    form = lead.get_by_test_id("rule-form-forbidden_phrases")
    expect(form).to_be_visible()
    expect(form.get_by_test_id("rule-patterns")).to_have_value("爱买不买\n(退款")
    expect(lead.get_by_test_id("rule-points-forbidden_phrases")).to_have_text("12")
    screenshot(lead, "coach-rule-refused")
    with uow_factory() as uow:
        kept = coach.get_rule(uow.session, shop_id=staff.shop.id, code="forbidden_phrases")
    assert kept == saved


def test_an_agent_adds_a_phrase_addressing_the_buyer_by_surname_and_title(
    live_server: LiveServer, people: NewPage, uow_factory: UowFactory
) -> None:
    staff = make_shop_with_staff(uow_factory, "duanyu")
    agent = people()
    _log_in(agent, live_server, shop="duanyu", email=staff.agent.email, path="/phrases")
    expect(agent.get_by_test_id("phrase-shared")).to_have_count(0)  # shared: supervisors
    form = agent.get_by_test_id("phrase-new")
    form.get_by_test_id("phrase-shortcut").fill("问候")
    form.get_by_test_id("phrase-title").fill("开场问候")
    form.get_by_test_id("phrase-body").fill(
        "{customer_surname}{customer_title}您好，我是{shop}的客服，很高兴为您服务"
    )
    form.get_by_test_id("phrase-add").click()
    expect(agent.get_by_test_id("phrase-done")).to_have_text("短语已添加。")
    mine = agent.get_by_test_id("phrases-mine")
    row = mine.locator("tr[data-phrase]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("/问候")
    expect(row.locator("td.coach-preview")).to_have_text(
        "王女士您好，我是duanyu 旗舰店的客服，很高兴为您服务"
    )
    screenshot(agent, "coach-phrase-added")
    with uow_factory() as uow:
        [phrase] = coach.list_phrases(uow.session, shop_id=staff.shop.id, agent_id=staff.agent.id)
    assert (phrase.shortcut, phrase.owner_agent_id) == ("问候", staff.agent.id)
    assert phrase.body.startswith("{customer_surname}{customer_title}您好")
