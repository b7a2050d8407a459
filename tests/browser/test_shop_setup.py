"""The owner connects the shop's order system and tries the result as a buyer, in a real
browser: the webhook secret is replaced on 「订单系统对接」, an order signed with the new
secret arrives, and 「以买家身份预览」 opens the chat as that buyer, whom the bot answers
with the shop's promised shipping time."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from kefu.clock import FrozenClock
from kefu.commerce import webhooks
from kefu.commerce.models import ProductVariant
from kefu.demo.seed import DEMO_PASSWORD, seed_demo_shop
from kefu.uow import UnitOfWork
from tests.browser.conftest import LiveServer, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_script_errors")]

UowFactory = Callable[[], UnitOfWork]


def _order(clock: FrozenClock, sku: str) -> dict[str, object]:
    placed = clock.now() - timedelta(minutes=5)  # the newest paid order: the one previewed
    return {
        "order_no": "WX20261123000001",
        "customer_external_id": "wx_newbuyer_01",
        "customer_name": "宋佳",
        "status": "paid",
        "created_at": placed.isoformat(),
        "paid_at": (placed + timedelta(minutes=3)).isoformat(),
        "lines": [{"sku": sku, "quantity": 1}],
        "ship_to_name": "宋佳",
        "ship_to_phone": "13900001234",
        "ship_to_address": "江苏省南京市鼓楼区中山路 1 号",
    }


def test_the_owner_connects_the_order_system_and_previews_the_chat_as_a_buyer(
    page: Page, live_server: LiveServer, uow_factory: UowFactory, clock: FrozenClock
) -> None:
    shop_id = seed_demo_shop(uow_factory).shop_id
    with uow_factory() as uow:
        sku = uow.session.scalars(
            select(ProductVariant.sku).where(ProductVariant.shop_id == shop_id).limit(1)
        ).one()
    page.goto(live_server.url + "/")
    page.get_by_label("店铺代码").fill("demo")
    page.get_by_label("邮箱").fill("owner@demo.kefu")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()

    page.get_by_test_id("nav-group-settings").click()
    page.get_by_test_id("nav-integrations").click()
    old_secret = page.get_by_test_id("webhook-secret").inner_text()
    page.get_by_test_id("rotate-secret").get_by_role("button").click()
    expect(page.get_by_test_id("integrations-notice")).to_contain_text("已生成新密钥")
    secret = page.get_by_test_id("webhook-secret").inner_text()
    assert secret != old_secret
    page.get_by_test_id("ships-within-hours").fill("24")
    page.get_by_test_id("shipping-settings").get_by_role("button").click()
    expect(page.get_by_test_id("integrations-notice")).to_contain_text("已保存")
    hook = page.get_by_test_id("webhook-url").inner_text()
    screenshot(page, "integrations")

    body = json.dumps({"event": "order.upsert", "data": _order(clock, sku)}).encode()
    sent = int(clock.now().timestamp())
    headers = {"Content-Type": "application/json", "X-Kefu-Timestamp": str(sent)}
    headers["X-Kefu-Delivery"] = "delivery-0001"
    stale = webhooks.sign(old_secret, sent, body)
    refused = httpx.post(hook, content=body, headers=headers | {"X-Kefu-Signature": stale})
    assert refused.status_code == 401  # the replaced secret no longer signs anything
    signed = webhooks.sign(secret, sent, body)
    accepted = httpx.post(hook, content=body, headers=headers | {"X-Kefu-Signature": signed})
    assert accepted.status_code == 200, accepted.text

    page.get_by_test_id("nav-group-settings").click()
    page.get_by_role("link", name="网页接入").click()
    preview = page.get_by_test_id("preview-paid")
    expect(preview).to_contain_text("宋佳")
    with page.context.expect_page() as opened:
        preview.click()
    chat = opened.value
    expect(chat.get_by_test_id("chat-connection")).to_have_attribute("data-state", "online")
    box = chat.get_by_test_id("chat-input")
    box.fill("什么时候发货")
    box.press("Enter")
    answer = chat.locator("[data-testid=chat-message][data-sender=bot]").last
    expect(answer).to_contain_text("WX20261123000001")
    expect(answer).to_contain_text("24 小时")
    screenshot(chat, "preview-as-buyer")
