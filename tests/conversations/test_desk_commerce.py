"""The desk's commerce over REST: product search, an order's details, sending a product or
order card — who may do what, and what the buyer then sees (history and live)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from kefu.channels.visitors import issue_visitor_token
from kefu.clock import FrozenClock
from kefu.commerce.models import Order, OrderStatus, Product
from kefu.conversations.models import Message
from kefu.crm import service as crm
from tests.conftest import TEST_SECRET
from tests.conversations.catalogue import IMAGE_HOST, add_order, add_product
from tests.factories import make_agent, make_shop_with_staff
from tests.realtime.conftest import Desk, receive_until

PRODUCTS = "/api/v1/desk/products"


@dataclass
class Shopfront:
    desk: Desk
    token: str  # the buyer's visitor token
    conversation_id: int
    coat: Product
    socks: Product
    gone: Product
    shipped: Order
    unpaid: Order
    as_agent: dict[str, str]
    as_aftersale: dict[str, str]
    as_supervisor: dict[str, str]

    def get(self, who: dict[str, str], url: str, **params: Any) -> Any:
        return self.desk.client.get(url, headers=who, params=params)

    def send_card(self, who: dict[str, str], kind: str, ref_id: int, **extra: Any) -> Any:
        return self.desk.client.post(
            f"/api/v1/desk/conversations/{self.conversation_id}/cards",
            headers=who,
            json={"kind": kind, "ref_id": ref_id, **extra},
        )

    def messages(self) -> int:
        with self.desk.uow_factory() as uow:
            return uow.session.scalar(select(func.count(Message.id))) or 0


@pytest.fixture
def front(desk: Desk, clock: FrozenClock) -> Shopfront:
    shop_id = desk.staff.shop.id
    uow = desk.uow_factory
    make_agent(uow, desk.staff.shop, email="after@live.test", team_codes=("aftersale",))
    with uow() as work:
        buyer = crm.create_customer(work, shop_id=shop_id, name="王芳", external_id="u-1")
    coat = add_product(
        uow, shop_id, sku="COAT-1", title="双面羊绒大衣", price="1299",
        stock=[("M", "驼色", 3), ("L", "黑色", 2)], tags=["新品"],
    )  # fmt: skip
    socks = add_product(uow, shop_id, sku="SOCK-1", title="精梳棉中筒袜", price="9.9")
    gone = add_product(uow, shop_id, sku="COAT-0", title="去年的大衣", price="899", on_sale=False)
    now = clock.now()
    shipped = add_order(
        uow, shop_id, buyer.id, order_no="3587412598630781234",
        lines=[("COAT-1-1", 1), ("SOCK-1", 3)], status=OrderStatus.SHIPPED,
        created_at=now - timedelta(days=3), coupon_code="WINTER50", discount="50",
    )  # fmt: skip
    unpaid = add_order(
        uow, shop_id, buyer.id, order_no="3587412598630785555",
        lines=[("SOCK-1", 1)], status=OrderStatus.UNPAID, created_at=now - timedelta(hours=1),
    )  # fmt: skip
    token = issue_visitor_token(secret=TEST_SECRET, shop_id=shop_id, customer_id=buyer.id, now=now)
    sent = desk.client.post(
        "/api/v1/widget/messages",
        json={"client_msg_id": "c-1", "body": "大衣还有M码吗"},
        headers={"X-Visitor-Token": token},
    )
    assert sent.status_code == 201, sent.text
    return Shopfront(
        desk, token, sent.json()["conversation_id"], coat, socks, gone, shipped, unpaid,
        as_agent=desk.login(), as_aftersale=desk.login("after@live.test"),
        as_supervisor=desk.login(desk.staff.supervisor.email),
    )  # fmt: skip


# --- product search -------------------------------------------------------------------


def test_products_are_found_by_title_or_sku_with_stock_and_off_sale_ones_marked(
    front: Shopfront, uow_factory: Any
) -> None:
    other = make_shop_with_staff(uow_factory, "rival")
    add_product(uow_factory, other.shop.id, sku="COAT-9", title="别家的羊绒大衣", price="1")
    found = front.get(front.as_agent, PRODUCTS, q="大衣").json()["products"]
    assert [p["title"] for p in found] == ["去年的大衣", "双面羊绒大衣"]  # newest first
    gone, coat = found
    assert (gone["on_sale"], coat["on_sale"]) == (False, True)
    assert coat == {
        "id": front.coat.id,
        "sku": "COAT-1",
        "title": "双面羊绒大衣",
        "price": "1299.00",
        "image": f"{IMAGE_HOST}/COAT-1.jpg",
        "on_sale": True,
        "tags": ["新品"],
        "stock": 5,
        "variants": [
            {"sku": "COAT-1-1", "size": "M", "colour": "驼色", "stock": 3},
            {"sku": "COAT-1-2", "size": "L", "colour": "黑色", "stock": 2},
        ],
    }
    by_sku = front.get(front.as_agent, PRODUCTS, q="sock").json()["products"]
    assert [(p["sku"], p["stock"]) for p in by_sku] == [("SOCK-1", None)]  # no variants
    assert front.get(front.as_agent, PRODUCTS, q="别家").json()["products"] == []
    everything = front.get(front.as_agent, PRODUCTS).json()["products"]
    assert {p["sku"] for p in everything} == {"COAT-1", "SOCK-1", "COAT-0"}
    assert front.get(front.as_agent, PRODUCTS, q="x" * 101).status_code == 422


# --- order details --------------------------------------------------------------------


def test_order_details_show_lines_amounts_timeline_in_shop_time_and_address(
    front: Shopfront,
) -> None:
    response = front.get(front.as_agent, f"/api/v1/desk/orders/{front.shipped.id}")
    assert response.status_code == 200, response.text
    order = response.json()
    assert (order["number"], order["status"]) == ("3587412598630781234", "shipped")
    assert [
        (line["title"], line["size"], line["colour"], line["quantity"], line["unit_price"])
        for line in order["lines"]
    ] == [("双面羊绒大衣", "M", "驼色", 1, "1299.00"), ("精梳棉中筒袜", "", "", 3, "9.90")]
    assert order["lines"][1]["amount"] == "29.70"
    assert (order["items_total"], order["discount"], order["shipping_fee"], order["total"]) == (
        "1328.70",
        "50.00",
        "0.00",
        "1278.70",
    )
    assert order["coupon_code"] == "WINTER50"
    assert (order["courier"], order["tracking_no"]) == ("顺丰速运", "SF8630781234")
    assert order["ship_to"] == {
        "name": "王芳",
        "phone": "13812345678",
        "address": "浙江省杭州市西湖区文三路 90 号",
    }
    # Placed three days before 10:00 Shanghai time (the test clock), paid 5 minutes later,
    # shipped the next morning: as the shop's staff would say it.
    assert [(s["step"], s["local"]) for s in order["timeline"]] == [
        ("created", "2026-11-20 10:00"),
        ("paid", "2026-11-20 10:05"),
        ("shipped", "2026-11-21 06:00"),
    ]


def test_an_order_is_shown_only_to_who_may_see_its_buyer(
    front: Shopfront, uow_factory: Any, clock: FrozenClock
) -> None:
    url = f"/api/v1/desk/orders/{front.shipped.id}"
    # 售后 has no conversation with this buyer: the order does not exist for them.
    refused = front.get(front.as_aftersale, url)
    assert refused.status_code == 404
    assert "3587412598630781234" not in refused.text
    assert front.get(front.as_supervisor, url).status_code == 200
    other = make_shop_with_staff(uow_factory, "rival")
    with uow_factory() as uow:
        stranger = crm.create_customer(uow, shop_id=other.shop.id, name="外人")
    add_product(uow_factory, other.shop.id, sku="R-1", title="别家", price="1")
    theirs = add_order(
        uow_factory, other.shop.id, stranger.id, order_no="R-1", lines=[("R-1", 1)],
        status=OrderStatus.PAID, created_at=clock.now(),
    )  # fmt: skip
    assert front.get(front.as_supervisor, f"/api/v1/desk/orders/{theirs.id}").status_code == 404


# --- sending cards --------------------------------------------------------------------


def test_an_agent_sends_a_product_card_the_buyer_sees_live_and_in_history(
    front: Shopfront,
) -> None:
    client = front.desk.client
    with client.websocket_connect(f"/ws/widget?token={front.token}") as buyer_ws:
        receive_until(buyer_ws, "ready")
        response = front.send_card(front.as_agent, "product", front.coat.id)
        assert response.status_code == 201, response.text
        sent = response.json()
        assert sent["card"]["title"] == "双面羊绒大衣"
        assert sent["body"] == "[商品] 双面羊绒大衣 ¥1299.00"
        live = receive_until(buyer_ws, "message")
        while live["message"]["sender_type"] != "agent":
            live = receive_until(buyer_ws, "message")
        assert live["message"]["card"] == sent["card"]
    history = client.get("/api/v1/widget/messages", headers={"X-Visitor-Token": front.token})
    cards = [m["card"] for m in history.json()["messages"] if m["card"]]
    assert [(c["type"], c["sku"], c["price"]) for c in cards] == [("product", "COAT-1", "1299.00")]
    desk_view = front.get(
        front.as_agent, f"/api/v1/conversations/{front.conversation_id}/messages"
    ).json()
    rows = desk_view["messages"] if isinstance(desk_view, dict) else desk_view
    assert rows[-1]["card"]["product_id"] == front.coat.id


def test_an_order_card_and_an_off_sale_product(front: Shopfront) -> None:
    order = front.send_card(front.as_agent, "order", front.unpaid.id)
    assert order.status_code == 201, order.text
    assert order.json()["card"]["status"] == "unpaid"
    assert order.json()["body"] == "[订单] 3587412598630785555 待付款"
    gone = front.send_card(front.as_agent, "product", front.gone.id)
    assert gone.json()["card"]["on_sale"] is False
    assert gone.json()["body"].endswith("已下架")


def test_a_retried_card_is_stored_once(front: Shopfront) -> None:
    first = front.send_card(front.as_agent, "product", front.socks.id, client_msg_id="d-card-1")
    again = front.send_card(front.as_agent, "product", front.socks.id, client_msg_id="d-card-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert front.messages() == 2  # the buyer's line and one card


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"kind": "coupon", "ref_id": 1}, 422),
        ({"kind": "product", "ref_id": 0}, 422),
        ({"kind": "product"}, 422),
        ({"kind": "product", "ref_id": 1, "extra": True}, 422),
        ({"kind": "order", "ref_id": 987654}, 404),
        ({"kind": "product", "ref_id": 987654}, 404),
    ],
)
def test_a_bad_card_sends_nothing(front: Shopfront, body: dict[str, Any], status: int) -> None:
    response = front.desk.client.post(
        f"/api/v1/desk/conversations/{front.conversation_id}/cards",
        headers=front.as_agent,
        json=body,
    )
    assert response.status_code == status, response.text
    assert front.messages() == 1


def test_who_may_send_a_card(front: Shopfront, uow_factory: Any, clock: FrozenClock) -> None:
    # Another team's agent: the conversation is not theirs to work.
    refused = front.send_card(front.as_aftersale, "product", front.coat.id)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    # Without the CSRF token a cookie is not enough.
    no_csrf = {"cookie": front.as_agent["cookie"]}
    assert front.send_card(no_csrf, "product", front.coat.id).status_code == 403
    # Another buyer's order (same shop) is no order of this conversation.
    with uow_factory() as uow:
        someone = crm.create_customer(uow, shop_id=front.desk.staff.shop.id, name="李雷")
    theirs = add_order(
        uow_factory, front.desk.staff.shop.id, someone.id, order_no="OTHER-1",
        lines=[("SOCK-1", 1)], status=OrderStatus.PAID, created_at=clock.now(),
    )  # fmt: skip
    mixed_up = front.send_card(front.as_agent, "order", theirs.id)
    assert mixed_up.status_code == 404
    assert "OTHER-1" not in mixed_up.text
    assert front.messages() == 1
    # A supervisor may; the card names them as the sender.
    ok = front.send_card(front.as_supervisor, "order", front.shipped.id)
    assert ok.status_code == 201
    assert ok.json()["sender_name"] == front.desk.staff.supervisor.display_name
