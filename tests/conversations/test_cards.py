"""Product and order cards an agent sends to the buyer (conversations.cards.send_card):
what the card holds, the text that stands in for it, whose orders and which conversations
an agent may use, and the event that carries it to the desk and the buyer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from kefu.clock import FrozenClock
from kefu.commerce.models import Order, OrderStatus, Product
from kefu.conversations import service as conversations
from kefu.conversations.events import ReplySent
from kefu.conversations.models import Channel, Message, SenderType
from kefu.crm import service as crm
from kefu.db import make_session_factory
from kefu.errors import Invalid, NotFound, PermissionDenied
from kefu.events import EventBus
from tests.conversations.catalogue import IMAGE_HOST, add_order, add_product
from tests.factories import ShopWithStaff, UowFactory, make_agent, make_shop_with_staff


@dataclass
class Counter:
    """A shop (staff, a buyer in a 售前 conversation, a coat and an order) and a second
    shop with its own buyer, product and order."""

    uow: UowFactory
    db: Engine
    staff: ShopWithStaff
    customer_id: int
    conversation_id: int
    coat: Product
    order: Order
    other_buyers_order: Order
    other_shop_product: Product
    other_shop_order: Order

    def send(self, kind: str, ref_id: int, agent_id: int | None = None, **options: Any) -> Message:
        with self.uow() as uow:
            return conversations.send_card(
                uow,
                shop_id=self.staff.shop.id,
                conversation_id=self.conversation_id,
                agent_id=agent_id or self.staff.agent.id,
                kind=kind,  # type: ignore[arg-type]
                ref_id=ref_id,
                **options,
            )

    def messages(self) -> int:
        with make_session_factory(self.db)() as session:
            return session.scalar(select(func.count(Message.id))) or 0


def _buyer_with_conversation(uow: UowFactory, shop_id: int, name: str) -> tuple[int, int]:
    with uow() as work:
        customer = crm.create_customer(work, shop_id=shop_id, name=name)
        conversation = conversations.start_conversation(
            work, shop_id=shop_id, customer_id=customer.id, channel=Channel.WIDGET
        )
        return customer.id, conversation.id


@pytest.fixture
def counter(uow_factory: UowFactory, db: Engine, clock: FrozenClock) -> Counter:
    staff = make_shop_with_staff(uow_factory, "cards")
    shop_id = staff.shop.id
    customer_id, conversation_id = _buyer_with_conversation(uow_factory, shop_id, "王芳")
    other_buyer, _ = _buyer_with_conversation(uow_factory, shop_id, "李雷")
    coat = add_product(
        uow_factory, shop_id, sku="COAT-1", title="双面羊绒大衣", price="1299.00",
        stock=[("M", "驼色", 3), ("L", "驼色", 2)], tags=["新品"],
    )  # fmt: skip
    ago = clock.now() - timedelta(days=3)
    order = add_order(
        uow_factory, shop_id, customer_id, order_no="3587412598630781234",
        lines=[("COAT-1-1", 1)], status=OrderStatus.SHIPPED, created_at=ago,
    )  # fmt: skip
    other_buyers_order = add_order(
        uow_factory, shop_id, other_buyer, order_no="3587412598630789999",
        lines=[("COAT-1-2", 1)], status=OrderStatus.PAID, created_at=ago,
    )  # fmt: skip
    other = make_shop_with_staff(uow_factory, "elsewhere")
    elsewhere_buyer, _ = _buyer_with_conversation(uow_factory, other.shop.id, "韩梅梅")
    other_shop_product = add_product(
        uow_factory, other.shop.id, sku="SECRET-1", title="别家的秘密款", price="9.90"
    )
    other_shop_order = add_order(
        uow_factory, other.shop.id, elsewhere_buyer, order_no="E-1",
        lines=[("SECRET-1", 1)], status=OrderStatus.PAID, created_at=ago,
    )  # fmt: skip
    return Counter(
        uow_factory, db, staff, customer_id, conversation_id, coat, order,
        other_buyers_order, other_shop_product, other_shop_order,
    )  # fmt: skip


def test_a_product_card_shows_the_product_and_reads_as_text_elsewhere(
    counter: Counter, bus: EventBus
) -> None:
    with bus.capture() as events:
        message = counter.send("product", counter.coat.id)
    card = json.loads(message.card)
    assert card == {
        "type": "product",
        "product_id": counter.coat.id,
        "sku": "COAT-1",
        "title": "双面羊绒大衣",
        "price": "1299.00",
        "image": f"{IMAGE_HOST}/COAT-1.jpg",
        "on_sale": True,
        "tags": ["新品"],
    }
    assert message.body == "[商品] 双面羊绒大衣 ¥1299.00"
    assert (message.sender_type, message.sender_agent_id, message.is_private) == (
        SenderType.AGENT,
        counter.staff.agent.id,
        False,
    )
    assert message.sender_name == "小美"
    [sent] = [e for e in events if isinstance(e, ReplySent)]
    assert sent.message.card == message.card  # the desk and the buyer get the card live
    assert sent.message.body == "[商品] 双面羊绒大衣 ¥1299.00"


def test_an_off_sale_product_may_be_sent_and_says_so(
    counter: Counter, uow_factory: UowFactory
) -> None:
    gone = add_product(
        uow_factory, counter.staff.shop.id, sku="OLD-1", title="去年的款", price="99",
        on_sale=False, images=[],
    )  # fmt: skip
    message = counter.send("product", gone.id)
    card = json.loads(message.card)
    assert (card["on_sale"], card["image"], card["price"]) == (False, "", "99.00")
    assert message.body == "[商品] 去年的款 ¥99.00 已下架"


def test_an_order_card_shows_the_buyers_order(counter: Counter) -> None:
    message = counter.send("order", counter.order.id)
    card = json.loads(message.card)
    assert card["type"] == "order"
    assert (card["order_no"], card["status"], card["total"]) == (
        "3587412598630781234",
        "shipped",
        "1299.00",
    )
    assert (card["courier"], card["tracking_no"]) == ("顺丰速运", "SF8630781234")
    assert card["items"] == [
        {
            "title": "双面羊绒大衣",
            "size": "M",
            "colour": "驼色",
            "quantity": 1,
            "image": f"{IMAGE_HOST}/COAT-1.jpg",
        }
    ]
    assert message.body == "[订单] 3587412598630781234 已发货 顺丰速运 SF8630781234"


def test_the_card_is_frozen_when_sent(counter: Counter) -> None:
    """A later price change does not rewrite what the buyer was shown."""
    message = counter.send("product", counter.coat.id)
    with counter.uow() as uow:
        uow.session.get_one(Product, counter.coat.id).title = "改了名的大衣"
        uow.commit()
    with make_session_factory(counter.db)() as session:
        stored = session.get_one(Message, message.id)
        assert json.loads(stored.card)["title"] == "双面羊绒大衣"


@pytest.mark.parametrize(
    "which",
    ["another buyer's order", "another shop's order", "another shop's product", "no such id"],
)
def test_only_this_buyers_orders_and_this_shops_products_are_sent(
    counter: Counter, which: str
) -> None:
    kind, ref_id = {
        "another buyer's order": ("order", counter.other_buyers_order.id),
        "another shop's order": ("order", counter.other_shop_order.id),
        "another shop's product": ("product", counter.other_shop_product.id),
        "no such id": ("product", 987654),
    }[which]
    with pytest.raises(NotFound):
        counter.send(kind, ref_id)
    assert counter.messages() == 0


def test_an_agent_of_another_team_cannot_send_cards_in_the_conversation(
    counter: Counter, uow_factory: UowFactory
) -> None:
    aftersale = make_agent(
        uow_factory, counter.staff.shop, email="after@cards.test", team_codes=("aftersale",)
    )
    with pytest.raises(PermissionDenied):
        counter.send("product", counter.coat.id, agent_id=aftersale.id)
    with pytest.raises(PermissionDenied):
        counter.send("order", counter.order.id, agent_id=aftersale.id)
    assert counter.messages() == 0
    # A supervisor works every team's conversations.
    sent = counter.send("order", counter.order.id, agent_id=counter.staff.supervisor.id)
    assert sent.sender_name == "主管"


def test_an_unknown_agent_is_not_found(counter: Counter) -> None:
    with pytest.raises(NotFound):
        counter.send("product", counter.coat.id, agent_id=987654)
    assert counter.messages() == 0


def test_a_bad_kind_is_refused(counter: Counter) -> None:
    with pytest.raises(Invalid) as refused:
        counter.send("coupon", counter.coat.id)
    assert refused.value.field == "kind"


def test_a_retry_with_the_same_client_id_sends_one_card(counter: Counter) -> None:
    first = counter.send("product", counter.coat.id, client_msg_id="card-1")
    again = counter.send("product", counter.coat.id, client_msg_id="card-1")
    assert first.id == again.id
    assert counter.messages() == 1
    history = conversations.list_messages  # the buyer's history lists it with its card
    with counter.uow() as uow:
        [stored] = history(
            uow.session, shop_id=counter.staff.shop.id, conversation_id=counter.conversation_id
        )
        assert json.loads(stored.card)["sku"] == "COAT-1"
