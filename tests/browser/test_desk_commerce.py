"""The desk sees the shop's commerce, in real browsers: an agent looks at the buyer's orders
beside the conversation (latest first, tracking number to copy, 「详情」), searches the
catalogue and sends a product card and an order card; the buyer's chat shows them live.
A product title from the shop's system is hostile text like any other."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import timedelta

import pytest
from playwright.sync_api import BrowserContext, expect

from kefu.channels.visitors import encode_identity, sign_identity, widget_secret
from kefu.clock import FrozenClock
from kefu.commerce.models import OrderStatus
from kefu.crm import service as crm
from kefu.uow import UnitOfWork
from tests.browser.conftest import LiveServer, NewPage, log_in_to_desk, screenshot
from tests.conftest import START, TEST_SECRET
from tests.conversations.catalogue import IMAGE_HOST, add_order, add_product
from tests.factories import make_shop_with_staff

pytestmark = pytest.mark.browser

UowFactory = Callable[[], UnitOfWork]
HOSTILE = "<img src=x onerror=alert(1)>羊毛围巾"
# A 1×1 PNG: what the shop's image host answers (the test has no network).
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def _shop_images_and_clipboard(context: BrowserContext) -> None:
    """The shop's image host answers with a pixel (no network), and 复制 may copy."""
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    context.route(
        f"{IMAGE_HOST}/**",
        lambda route: route.fulfill(status=200, content_type="image/png", body=PIXEL),
    )


def test_an_agent_sends_the_buyer_products_and_orders_from_the_desk(
    live_server: LiveServer,
    people: NewPage,
    uow_factory: UowFactory,
    clock: FrozenClock,
) -> None:
    staff = make_shop_with_staff(uow_factory, "yangrong")
    shop_id = staff.shop.id
    with uow_factory() as uow:
        buyer = crm.create_customer(uow, shop_id=shop_id, name="王芳", external_id="u-1001")
    add_product(
        uow_factory, shop_id, sku="COAT-1", title="双面羊绒大衣", price="1299",
        stock=[("M", "驼色", 3), ("L", "驼色", 2)],
    )  # fmt: skip
    add_product(uow_factory, shop_id, sku="COAT-0", title="去年的大衣", price="899", on_sale=False)
    add_product(uow_factory, shop_id, sku="SCARF-1", title=HOSTILE, price="199")
    add_order(
        uow_factory, shop_id, buyer.id, order_no="3587412598630770001",
        lines=[("SCARF-1", 1)], status=OrderStatus.DELIVERED,
        created_at=clock.now() - timedelta(days=20),
    )  # fmt: skip
    add_order(
        uow_factory, shop_id, buyer.id, order_no="3587412598630781234",
        lines=[("COAT-1-1", 1)], status=OrderStatus.SHIPPED,
        created_at=clock.now() - timedelta(days=3),
    )  # fmt: skip

    desk = people(_shop_images_and_clipboard)
    log_in_to_desk(desk, live_server, shop="yangrong", email=staff.agent.email)
    chat = people(_shop_images_and_clipboard)
    identity = encode_identity(external_id="u-1001", name="王芳", ts=int(START.timestamp()))
    signature = sign_identity(
        key=widget_secret(secret=TEST_SECRET, shop_id=shop_id), identity=identity
    )
    chat.goto(f"{live_server.url}/chat/yangrong?identity={identity}&signature={signature}")
    expect(chat.get_by_test_id("chat-connection")).to_have_attribute("data-state", "online")
    box = chat.get_by_test_id("chat-input")
    box.fill("我的大衣到哪了?")
    box.press("Enter")

    # The conversation reaches the online agent, who opens it.
    row = desk.get_by_test_id("desk-conversation").first
    expect(row).to_contain_text("我的大衣到哪了")
    row.click()

    # The buyer's orders, latest first, with status, items, total and tracking number.
    orders = desk.get_by_test_id("desk-order")
    expect(orders).to_have_count(2)
    latest = orders.first
    expect(latest).to_contain_text("3587412598630781234")
    expect(latest).to_contain_text("已发货")
    expect(latest).to_contain_text("双面羊绒大衣")
    expect(latest).to_contain_text("M / 驼色")
    expect(latest).to_contain_text("¥1,299.00")
    expect(latest.get_by_test_id("desk-order-tracking")).to_have_text("SF8630781234")
    expect(orders.nth(1)).to_contain_text("已签收")
    latest.get_by_test_id("desk-order-copy").click()
    expect(desk.get_by_test_id("desk-error")).to_contain_text("已复制")
    assert desk.evaluate("navigator.clipboard.readText()") == "SF8630781234"

    # 「详情」: amounts, address and the timeline in the shop's time (10:00 Shanghai, 3 days ago).
    latest.get_by_test_id("desk-order-toggle").click()
    details = latest.get_by_test_id("desk-order-details")
    expect(details).to_be_visible()
    expect(details).to_contain_text("浙江省杭州市西湖区文三路 90 号")
    timeline = details.get_by_test_id("desk-order-timeline")
    expect(timeline).to_contain_text("下单")
    expect(timeline).to_contain_text("2026-11-20 10:00")
    expect(timeline).to_contain_text("发货")
    expect(timeline).to_contain_text("2026-11-21 06:00")
    latest.get_by_test_id("desk-order-toggle").click()
    expect(details).to_be_hidden()

    # Product search: the coat and last year's (off sale) one, with stock.
    desk.get_by_test_id("desk-product-search").fill("大衣")
    results = desk.get_by_test_id("desk-product")
    expect(results).to_have_count(2)
    coat = results.filter(has_text="双面羊绒大衣")
    expect(coat).to_contain_text("¥1,299.00")
    expect(coat).to_contain_text("库存 5")
    expect(results.filter(has_text="去年的大衣")).to_contain_text("已下架")
    expect(coat.locator("img")).to_have_attribute("src", f"{IMAGE_HOST}/COAT-1.jpg")
    coat.get_by_test_id("desk-product-send").click()

    # The card in the desk's transcript and, live, in the buyer's chat.
    sent = desk.get_by_test_id("desk-messages").get_by_test_id("desk-card")
    expect(sent).to_have_count(1)
    expect(sent).to_contain_text("双面羊绒大衣")
    cards = chat.get_by_test_id("chat-card")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("双面羊绒大衣")
    expect(cards.first.get_by_test_id("chat-card-price")).to_have_text("¥1299.00")
    expect(cards.first.locator("img")).to_have_attribute("src", f"{IMAGE_HOST}/COAT-1.jpg")
    # The picture loaded (CSP allows the shop's https image host).
    chat.wait_for_function(
        "() => { const i = document.querySelector('[data-testid=chat-card] img');"
        " return i && i.complete && i.naturalWidth === 1; }"
    )

    # An order card: status and tracking number.
    latest.get_by_test_id("desk-order-send").click()
    expect(cards).to_have_count(2)
    order_card = cards.nth(1)
    expect(order_card).to_have_attribute("data-kind", "order")
    expect(order_card).to_contain_text("3587412598630781234")
    expect(order_card.get_by_test_id("chat-card-status")).to_have_text("已发货")
    expect(order_card.get_by_test_id("chat-card-tracking")).to_have_text("SF8630781234")
    expect(order_card).to_contain_text("双面羊绒大衣")

    # A hostile title is text, on both sides.
    desk.get_by_test_id("desk-product-search").fill("围巾")
    scarf = desk.get_by_test_id("desk-product")
    expect(scarf).to_have_count(1)
    expect(scarf.locator(".product-title")).to_have_text(HOSTILE)
    scarf.get_by_test_id("desk-product-send").click()
    expect(cards).to_have_count(3)
    expect(cards.nth(2).locator(".card-title")).to_have_text(HOSTILE)
    expect(sent).to_have_count(3)
    expect(sent.nth(2).locator(".card-title")).to_have_text(HOSTILE)
    for page in (desk, chat):
        assert page.locator("img[src=x], img[onerror]").count() == 0
    screenshot(desk, "desk-commerce-desk")
    screenshot(chat, "desk-commerce-chat")

    # After a reload the buyer's history still draws the cards.
    chat.reload()
    expect(chat.get_by_test_id("chat-card")).to_have_count(3)
    expect(chat.get_by_test_id("chat-card").first).to_contain_text("双面羊绒大衣")
