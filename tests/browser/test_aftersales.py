"""After-sales in real browsers: a buyer asks for a refund; the agent in the desk registers
it from the buyer's order and the buyer's chat says it is registered; a 售后 agent finds
the case in the desk, opens its page and approves it; the buyer's chat says the money is on
its way back. The buyer's reason is hostile text like any other."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import Engine

from kefu.accounts.models import Role
from kefu.channels.visitors import encode_identity, sign_identity, widget_secret
from kefu.clock import FrozenClock
from kefu.commerce.models import OrderStatus
from kefu.crm import service as crm
from kefu.db import make_session_factory
from kefu.sales import service as sales
from kefu.uow import UnitOfWork
from tests.browser.conftest import LiveServer, NewPage, log_in_to_desk, screenshot
from tests.conftest import START, TEST_SECRET
from tests.conversations.catalogue import add_order, add_product
from tests.factories import make_agent, make_shop_with_staff

pytestmark = pytest.mark.browser

UowFactory = Callable[[], UnitOfWork]
REASON = "<b>衣服</b>有破洞,想退款"


def test_a_refund_is_registered_in_the_desk_and_approved_by_aftersales(
    live_server: LiveServer,
    people: NewPage,
    uow_factory: UowFactory,
    db: Engine,
    clock: FrozenClock,
) -> None:
    staff = make_shop_with_staff(uow_factory, "shouhou")
    shop_id = staff.shop.id
    aftersale = make_agent(
        uow_factory, staff.shop, email="liu@shouhou.test", role=Role.AGENT, name="售后小刘",
        team_codes=("aftersale",),
    )  # fmt: skip
    with uow_factory() as uow:
        buyer = crm.create_customer(uow, shop_id=shop_id, name="王芳", external_id="u-2001")
    add_product(uow_factory, shop_id, sku="COAT-1", title="双面羊绒大衣", price="1299",
                stock=[("M", "驼色", 3)])  # fmt: skip
    add_order(
        uow_factory, shop_id, buyer.id, order_no="3587412598630781234",
        lines=[("COAT-1-1", 1)], status=OrderStatus.DELIVERED,
        created_at=clock.now() - timedelta(days=3),
    )  # fmt: skip

    desk = people()
    log_in_to_desk(desk, live_server, shop="shouhou", email=staff.agent.email)
    chat = people()
    identity = encode_identity(external_id="u-2001", name="王芳", ts=int(START.timestamp()))
    signature = sign_identity(
        key=widget_secret(secret=TEST_SECRET, shop_id=shop_id), identity=identity
    )
    chat.goto(f"{live_server.url}/chat/shouhou?identity={identity}&signature={signature}")
    expect(chat.get_by_test_id("chat-connection")).to_have_attribute("data-state", "online")
    box = chat.get_by_test_id("chat-input")
    box.fill("大衣收到有个破洞,我要退款")
    box.press("Enter")

    # The 售前 agent opens the conversation and registers the refund from the order.
    row = desk.get_by_test_id("desk-conversation").first
    expect(row).to_contain_text("我要退款")
    row.click()
    order = desk.get_by_test_id("desk-order")
    expect(order).to_have_count(1)
    expect(desk.get_by_test_id("desk-cases")).to_contain_text("暂无售后单")
    order.get_by_test_id("desk-case-open").click()
    form = order.get_by_test_id("desk-case-form")
    expect(form.get_by_test_id("desk-case-kind")).to_have_value("refund")
    form.get_by_test_id("desk-case-submit").click()  # no reason yet: the browser asks for it
    expect(form).to_be_visible()
    form.get_by_test_id("desk-case-reason").fill(REASON)
    form.get_by_test_id("desk-case-submit").click()

    # The buyer is told, in their chat, that the request is registered.
    registered = chat.get_by_test_id("chat-message").filter(has_text="已为您登记退款申请")
    expect(registered).to_have_count(1)
    text = registered.inner_text()
    with make_session_factory(db)() as session:
        [case] = sales.list_cases(session, shop_id=shop_id)
    assert f"售后单 #{case.id}" in text
    assert case.reason == REASON and case.opened_by_agent_id == staff.agent.id
    screenshot(desk, "aftersales-desk-registered")

    # A 售后 agent comes online: the conversation (now 售后's) reaches them, with the case.
    shouhou = people()
    log_in_to_desk(shouhou, live_server, shop="shouhou", email=aftersale.email)
    shouhou.get_by_test_id("desk-conversation").first.click()
    listed = shouhou.get_by_test_id("desk-case")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text(f"#{case.id}")
    expect(listed).to_contain_text("待处理")
    expect(listed.locator(".case-reason")).to_have_text(REASON)
    expect(listed.get_by_test_id("desk-case-approve")).to_be_visible()
    listed.get_by_test_id("desk-case-link").click()

    # The case page: the buyer's words as text, the order, and the decision form.
    expect(shouhou).to_have_url(f"{live_server.url}/aftersales/{case.id}")
    expect(shouhou.get_by_test_id("case-reason")).to_have_text(REASON)
    expect(shouhou.get_by_test_id("case-order")).to_contain_text("3587412598630781234")
    expect(shouhou.get_by_test_id("case-steps")).to_contain_text("登记申请")
    shouhou.get_by_test_id("approve").click()
    expect(shouhou.get_by_test_id("case-notice")).to_contain_text("已同意")
    expect(shouhou.get_by_test_id("case-status")).to_contain_text("已同意")
    expect(shouhou.get_by_test_id("case-steps")).to_contain_text("售后小刘")
    screenshot(shouhou, "aftersales-case-approved")

    # The buyer's chat shows the approval, live.
    approved = chat.get_by_test_id("chat-message").filter(has_text="退款已同意")
    expect(approved).to_have_count(1)
    expect(approved).to_contain_text("¥1299.00")
    screenshot(chat, "aftersales-chat")
    for page in (desk, chat, shouhou):
        assert page.locator("b:has-text('衣服')").count() == 0
