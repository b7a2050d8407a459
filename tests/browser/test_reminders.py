"""催付 in a real browser: the owner sets the delay on /sales/reminders; a buyer who ordered
and did not pay sees, in the chat page, the shop's one gentle reminder and the order's
card; the owner then sees it counted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select

from kefu.clock import FrozenClock
from kefu.commerce import service as commerce
from kefu.commerce.models import OrderStatus
from kefu.conversations.models import Conversation
from kefu.db import make_session_factory
from kefu.sales import service as sales
from kefu.uow import UnitOfWork
from tests.browser.conftest import LiveServer, screenshot
from tests.factories import PASSWORD, make_shop_with_staff

pytestmark = pytest.mark.browser

UowFactory = Callable[[], UnitOfWork]


def _log_in(page: Page, server: LiveServer, *, email: str) -> None:
    page.goto(server.url + "/sales/reminders")
    page.get_by_label("店铺代码").fill("mianli")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(server.url + "/sales/reminders")


def test_the_owner_sets_the_delay_and_the_buyer_gets_one_reminder_with_the_order_card(
    page: Page,
    live_server: LiveServer,
    uow_factory: UowFactory,
    db: Engine,
    clock: FrozenClock,
    no_script_errors: None,
) -> None:
    staff = make_shop_with_staff(uow_factory, "mianli")
    with uow_factory() as uow:
        commerce.create_product(
            uow, shop_id=staff.shop.id, sku="PJ-001", title="纯棉家居服女长袖两件套",
            category="家居服", price=Decimal("129.00"), variants=[],
        )  # fmt: skip

    # The owner asks for reminders 20 minutes after an order instead of 30.
    _log_in(page, live_server, email=staff.owner.email)
    expect(page.get_by_test_id("sent-7")).to_have_text("0")
    page.get_by_test_id("reminder-delay").fill("20")
    page.get_by_test_id("reminders-save").click()
    expect(page.get_by_test_id("reminders-saved")).to_be_visible()
    expect(page.get_by_test_id("reminder-delay")).to_have_value("20")

    # A buyer asks about the product in the chat page, then orders it without paying.
    buyer = page.context.new_page()
    buyer.goto(f"{live_server.url}/chat/mianli")
    expect(buyer.get_by_test_id("chat-connection")).to_have_attribute("data-state", "online")
    box = buyer.get_by_test_id("chat-input")
    box.fill("家居服有M码吗")
    box.press("Enter")
    mine = buyer.locator("[data-testid=chat-message][data-sender=customer]")
    expect(mine).to_have_count(1)
    expect(mine.locator(".msg-status")).to_have_attribute("data-state", "sent")  # stored
    with make_session_factory(db)() as session:
        customer_id = session.scalars(
            select(Conversation.customer_id).where(Conversation.shop_id == staff.shop.id)
        ).one()
    with uow_factory() as uow:
        commerce.create_order(
            uow, shop_id=staff.shop.id, order_no="MJ20261123001", customer_id=customer_id,
            lines=[commerce.OrderLineSpec(sku="PJ-001")], status=OrderStatus.UNPAID,
            created_at=clock.now(), ship_to_name="王芳", ship_to_phone="13800001111",
            ship_to_address="上海市徐汇区漕溪北路 1 号",
        )  # fmt: skip

    shop_lines = buyer.locator("[data-testid=chat-message][data-sender=bot]")
    clock.advance(timedelta(minutes=19))
    with uow_factory() as uow:
        assert sales.send_due_reminders(uow) == 0  # the app's sender, one round
    clock.advance(timedelta(minutes=1))
    with uow_factory() as uow:
        assert sales.send_due_reminders(uow) == 1
    expect(shop_lines.first).to_contain_text("纯棉家居服女长袖两件套")
    expect(shop_lines.first).to_contain_text("还没有付款")
    card = buyer.get_by_test_id("chat-card")
    expect(card).to_have_attribute("data-kind", "order")
    expect(card).to_contain_text("MJ20261123001")
    expect(card.get_by_test_id("chat-card-status")).to_have_text("待付款")
    expect(shop_lines).to_have_count(2)  # the words and the card, once
    screenshot(buyer, "reminder-in-chat")

    # Later rounds send nothing more; the owner sees the reminder counted and listed.
    clock.advance(timedelta(hours=2))
    with uow_factory() as uow:
        assert sales.send_due_reminders(uow) == 0
    page.reload()
    expect(page.get_by_test_id("sent-7")).to_have_text("1")
    row = page.locator("[data-testid=reminder-list] tr[data-order=MJ20261123001]")
    expect(row).to_have_attribute("data-status", "sent")
    expect(shop_lines).to_have_count(2)
    screenshot(page, "reminders-page")
