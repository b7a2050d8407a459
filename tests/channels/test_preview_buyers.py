"""The owner's "chat as this buyer" links: real buyers, signed so the chat knows them."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from html import unescape
from urllib.parse import parse_qs, urlparse

from kefu.clock import FrozenClock
from kefu.commerce import service as commerce
from kefu.commerce.models import OrderStatus
from kefu.commerce.service import OrderLineSpec
from kefu.conversations import service as conversations
from kefu.conversations.models import Channel
from kefu.crm import service as crm
from tests.realtime.conftest import Desk


def _shipped_buyer(desk: Desk, clock: FrozenClock) -> int:
    shop_id = desk.staff.shop.id
    with desk.uow_factory() as uow:
        commerce.create_product(
            uow, shop_id=shop_id, sku="TEE-1", title="纯棉T恤", category="上衣",
            price=Decimal("59.00"), variants=[],
        )  # fmt: skip
        buyer = crm.create_customer(uow, shop_id=shop_id, name="王芳", external_id="M1001")
        now = clock.now()
        commerce.create_order(
            uow, shop_id=shop_id, order_no="E1001", customer_id=buyer.id,
            lines=[OrderLineSpec(sku="TEE-1")], status=OrderStatus.SHIPPED,
            created_at=now - timedelta(days=2), paid_at=now - timedelta(days=2),
            shipped_at=now - timedelta(days=1), courier="中通快递", tracking_no="ZT1234567890",
            ship_to_name="王芳", ship_to_phone="13800000000", ship_to_address="上海市徐汇区",
        )  # fmt: skip
        return buyer.id


def test_the_owner_opens_the_chat_as_a_buyer_who_has_a_shipped_order(
    desk: Desk, clock: FrozenClock
) -> None:
    _shipped_buyer(desk, clock)
    owner = desk.login(desk.staff.owner.email)
    page = desk.client.get("/settings/widget", headers=owner)
    assert page.status_code == 200
    assert "王芳" in page.text and "E1001" in page.text
    link = unescape(re.search(r'href="([^"]+)"[^>]*data-testid="preview-shipped"', page.text)[1])
    query = parse_qs(urlparse(link).query)
    # The link's identity is accepted as the shop's own signature: the buyer is known.
    session = desk.buyer(identity=query["identity"][0], signature=query["signature"][0])
    assert session["customer"]["display_name"] == "王芳"
    chat = desk.client.get(link)
    assert chat.status_code == 200


def test_a_shop_without_known_buyers_shows_no_preview(desk: Desk) -> None:
    owner = desk.login(desk.staff.owner.email)
    page = desk.client.get("/settings/widget", headers=owner)
    assert page.status_code == 200
    assert 'data-testid="preview-buyers"' not in page.text


def test_a_buyer_a_colleague_is_talking_with_is_not_offered(desk: Desk, clock: FrozenClock) -> None:
    buyer_id = _shipped_buyer(desk, clock)
    with desk.uow_factory() as uow:
        conversations.start_conversation(
            uow, shop_id=desk.staff.shop.id, customer_id=buyer_id, channel=Channel.WIDGET,
            team_code="presale",
        )  # fmt: skip
    owner = desk.login(desk.staff.owner.email)
    page = desk.client.get("/settings/widget", headers=owner)
    assert 'data-testid="preview-shipped"' not in page.text
