"""A person logs in with a real browser and looks around the home page."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Dialog, Page, expect

from kefu.conversations import service as conversations
from kefu.conversations.models import Channel
from kefu.crm import service as crm
from kefu.uow import UnitOfWork
from tests.browser.conftest import LiveServer, screenshot
from tests.factories import PASSWORD, make_shop_with_staff

pytestmark = pytest.mark.browser

HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script>"


def _log_in(page: Page, server: LiveServer, *, shop: str, email: str, password: str) -> None:
    page.goto(server.url + "/")
    # Not logged in: the desk sends the agent to the login page.
    expect(page).to_have_url(f"{server.url}/login?next=%2F")
    page.get_by_label("店铺代码").fill(shop)
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_agent_logs_in_and_sees_the_shop_home(
    page: Page, live_server: LiveServer, uow_factory: Callable[[], UnitOfWork]
) -> None:
    staff = make_shop_with_staff(uow_factory, "mianli")
    with uow_factory() as uow:
        buyer = crm.create_customer(uow, shop_id=staff.shop.id, name="王芳", gender="F")
        conversation = conversations.start_conversation(
            uow,
            shop_id=staff.shop.id,
            customer_id=buyer.id,
            channel=Channel.WIDGET,
            subject="尺码咨询",
        )
        conversations.receive_message(
            uow,
            shop_id=staff.shop.id,
            conversation_id=conversation.id,
            client_msg_id="m1",
            body="在吗",
        )

    _log_in(page, live_server, shop="mianli", email=staff.agent.email, password=PASSWORD)

    expect(page).to_have_url(live_server.url + "/")
    # 10:00 in Shanghai on the test clock: a morning greeting with the agent's name.
    expect(page.get_by_test_id("greeting")).to_have_text("早上好,小美")
    expect(page.get_by_test_id("shop-name")).to_have_text("mianli 旗舰店")
    teams = page.get_by_test_id("teams")
    for name in ("售前", "售后", "投诉", "推广", "发货"):
        expect(teams).to_contain_text(name)
    expect(teams.locator("tr", has_text="售前")).to_contain_text("我的团队")
    expect(page.get_by_test_id("open-conversations")).to_have_text("1")
    recent = page.get_by_test_id("recent")
    expect(recent).to_contain_text("王女士")
    expect(recent).to_contain_text("尺码咨询")
    # Times are shown in the shop's zone: the clock says 02:00 UTC, Shanghai reads 10:00.
    expect(recent).to_contain_text("2026-11-23 10:00")
    screenshot(page, "home-zh")

    page.get_by_role("button", name="English").click()
    expect(page.get_by_test_id("greeting")).to_have_text("Good morning, 小美")
    expect(page.get_by_role("heading", name="Teams")).to_be_visible()
    screenshot(page, "home-en")

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(live_server.url + "/login")
    page.goto(live_server.url + "/")
    expect(page).to_have_url(f"{live_server.url}/login?next=%2F")


def test_wrong_password_is_explained_and_keeps_the_form(
    page: Page, live_server: LiveServer, uow_factory: Callable[[], UnitOfWork]
) -> None:
    staff = make_shop_with_staff(uow_factory, "mianli")
    _log_in(page, live_server, shop="mianli", email=staff.agent.email, password="not the password")
    expect(page.get_by_test_id("login-error")).to_have_text("邮箱或密码错误")
    expect(page.get_by_label("邮箱")).to_have_value(staff.agent.email)
    expect(page.get_by_label("密码")).to_have_value("")
    screenshot(page, "login-error")


def test_buyer_text_is_shown_as_text_and_never_runs(
    page: Page, live_server: LiveServer, uow_factory: Callable[[], UnitOfWork]
) -> None:
    staff = make_shop_with_staff(uow_factory, "mianli")
    with uow_factory() as uow:
        buyer = crm.create_customer(uow, shop_id=staff.shop.id, nickname=HOSTILE)
        conversations.start_conversation(
            uow,
            shop_id=staff.shop.id,
            customer_id=buyer.id,
            channel=Channel.WIDGET,
            subject=HOSTILE,
        )
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    _log_in(page, live_server, shop="mianli", email=staff.agent.email, password=PASSWORD)
    recent = page.get_by_test_id("recent")
    expect(recent).to_contain_text(HOSTILE)
    assert page.locator("[data-testid=recent] img").count() == 0
    assert page.locator("[data-testid=recent] script").count() == 0
    assert dialogs == []


def test_agent_changes_their_password_and_logs_in_with_the_new_one(
    page: Page, live_server: LiveServer, uow_factory: Callable[[], UnitOfWork]
) -> None:
    staff = make_shop_with_staff(uow_factory, "mianli")
    _log_in(page, live_server, shop="mianli", email=staff.agent.email, password=PASSWORD)
    page.get_by_test_id("nav-group-settings").click()  # the 设置 menu opens
    page.get_by_role("link", name="修改密码").click()
    page.get_by_label("当前密码").fill(PASSWORD)
    page.get_by_label("新密码(至少 8 个字符)").fill("新的密码 2026 好记")
    page.get_by_label("再次输入新密码").fill("新的密码 2026 好记")
    page.get_by_role("button", name="保存新密码").click()
    expect(page.get_by_test_id("password-done")).to_contain_text("密码已修改")
    screenshot(page, "password-changed")
    page.get_by_role("button", name="退出登录").click()
    _log_in(page, live_server, shop="mianli", email=staff.agent.email, password=PASSWORD)
    expect(page.get_by_test_id("login-error")).to_have_text("邮箱或密码错误")
    page.get_by_label("密码").fill("新的密码 2026 好记")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(live_server.url + "/")


def test_owner_adds_an_agent_on_the_staff_page_who_then_logs_in(
    page: Page, live_server: LiveServer, uow_factory: Callable[[], UnitOfWork]
) -> None:
    staff = make_shop_with_staff(uow_factory, "mianli")
    _log_in(page, live_server, shop="mianli", email=staff.owner.email, password=PASSWORD)
    page.get_by_test_id("nav-group-settings").click()  # the 设置 menu opens
    page.get_by_role("link", name="员工").click()
    form = page.get_by_test_id("add-agent")
    form.get_by_label("显示名称").fill("售后小林")
    form.get_by_label("邮箱").fill("xiaolin@mianli.test")
    form.get_by_label("初始密码(至少 8 个字符)").fill("小林的密码 123")
    form.get_by_label("售后").check()
    form.get_by_role("button", name="添加").click()
    expect(page.get_by_test_id("staff-notice")).to_have_text("已添加员工。")
    row = page.locator('tr[data-email="xiaolin@mianli.test"]')
    expect(row).to_contain_text("售后小林")
    expect(row).to_contain_text("售后")
    expect(row).to_contain_text("从未登录")
    screenshot(page, "staff")
    page.get_by_role("button", name="退出登录").click()
    _log_in(
        page, live_server, shop="mianli", email="xiaolin@mianli.test", password="小林的密码 123"
    )
    expect(page.get_by_test_id("greeting")).to_contain_text("售后小林")


def test_owner_issues_and_revokes_an_api_token(
    page: Page, live_server: LiveServer, uow_factory: Callable[[], UnitOfWork]
) -> None:
    staff = make_shop_with_staff(uow_factory, "mianli")
    _log_in(page, live_server, shop="mianli", email=staff.owner.email, password=PASSWORD)
    page.get_by_test_id("nav-group-settings").click()  # the 设置 menu opens
    page.get_by_role("link", name="API 令牌").click()
    page.get_by_label("用途").fill("订单同步")
    page.get_by_role("button", name="生成令牌").click()
    secret = page.get_by_test_id("token-secret").inner_text()
    assert secret.startswith("kefu_")
    screenshot(page, "tokens")
    answer = page.request.get(
        live_server.url + "/api/v1/teams", headers={"Authorization": f"Bearer {secret}"}
    )
    assert answer.status == 200
    page.get_by_role("button", name="作废").click()
    expect(page.get_by_test_id("token-revoked")).to_be_visible()
    again = page.request.get(
        live_server.url + "/api/v1/teams", headers={"Authorization": f"Bearer {secret}"}
    )
    assert again.status == 401
