"""The demo shop's bot answers a signed-in buyer's "快递到哪了" from their own order, in
the chat widget (a real browser): the courier and the tracking number."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from kefu.channels.visitors import encode_identity, sign_identity, widget_secret
from kefu.commerce.models import Order, OrderStatus
from kefu.crm.models import Customer
from kefu.demo.seed import seed_demo_shop
from kefu.uow import UnitOfWork
from tests.browser.conftest import LiveServer, screenshot
from tests.conftest import START, TEST_SECRET

pytestmark = pytest.mark.browser

UowFactory = Callable[[], UnitOfWork]
IN_FLIGHT = (OrderStatus.PAID, OrderStatus.SHIPPED)


def _buyer_with_one_parcel_on_its_way(uow_factory: UowFactory, shop_id: int) -> tuple[str, Order]:
    """A demo buyer whose only order in flight is shipped: what "快递到哪了" is about."""
    with uow_factory() as uow:
        session = uow.session
        single = (
            select(Order.customer_id)
            .where(Order.shop_id == shop_id, Order.status.in_(IN_FLIGHT))
            .group_by(Order.customer_id)
            .having(func.count(Order.id) == 1)
        )
        order = session.scalars(
            select(Order)
            .where(
                Order.shop_id == shop_id,
                Order.status == OrderStatus.SHIPPED,
                Order.customer_id.in_(single),
            )
            .order_by(Order.id)
            .limit(1)
        ).one()
        customer = session.get_one(Customer, order.customer_id)
        assert customer.external_id
        return customer.external_id, order


def test_a_signed_in_buyer_with_a_shipped_order_gets_its_courier_and_tracking_number(
    page: Page, live_server: LiveServer, uow_factory: UowFactory
) -> None:
    shop_id = seed_demo_shop(uow_factory).shop_id
    external_id, order = _buyer_with_one_parcel_on_its_way(uow_factory, shop_id)
    identity = encode_identity(external_id=external_id, ts=int(START.timestamp()))
    signature = sign_identity(
        key=widget_secret(secret=TEST_SECRET, shop_id=shop_id), identity=identity
    )
    page.goto(f"{live_server.url}/chat/demo?identity={identity}&signature={signature}")
    expect(page.get_by_test_id("chat-connection")).to_have_attribute("data-state", "online")

    box = page.get_by_test_id("chat-input")
    box.fill("快递到哪了")
    box.press("Enter")
    answer = page.locator("[data-testid=chat-message][data-sender=bot]").last
    expect(answer).to_contain_text(f"您的订单 {order.order_no}")
    expect(answer).to_contain_text(f"由{order.courier}发出")
    expect(answer).to_contain_text(f"运单号 {order.tracking_no}")
    # The agents' note about what the bot looked up stays on the desk's side.
    expect(page.get_by_test_id("chat-messages")).not_to_contain_text("已发货 " + str(order.courier))
    screenshot(page, "bot-order-tracking")
