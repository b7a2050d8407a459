"""A shop for the after-sales tests: staff (and a 售后 agent), a buyer in a 售前 conversation
with orders in every state, another buyer, and a second shop with its own order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select

from kefu.accounts.models import Agent, Role
from kefu.clock import FrozenClock
from kefu.commerce import service as commerce
from kefu.commerce.models import Order, OrderStatus
from kefu.commerce.service import OrderLineSpec
from kefu.conversations import service as conversations
from kefu.conversations.models import Channel, Conversation, Message
from kefu.crm import service as crm
from kefu.db import make_session_factory
from kefu.sales import service as sales
from kefu.sales.models import AfterSalesCase, CaseKind
from kefu.shops import service as shops
from tests.conversations.catalogue import add_order, add_product
from tests.factories import ShopWithStaff, UowFactory, make_agent, make_shop_with_staff


@dataclass
class Casebook:
    uow: UowFactory
    db: Engine
    staff: ShopWithStaff
    aftersale: Agent  # a member of the 售后 team
    customer_id: int
    conversation_id: int
    orders: dict[OrderStatus, Order]  # the buyer's orders, one per status
    other_buyer_id: int
    other_buyers_order: Order
    other_shop: ShopWithStaff
    other_shop_order: Order

    @property
    def shop_id(self) -> int:
        return self.staff.shop.id

    def open(
        self, kind: CaseKind = CaseKind.REFUND, status: OrderStatus = OrderStatus.DELIVERED,
        **options: Any,
    ) -> AfterSalesCase:  # fmt: skip
        options.setdefault("conversation_id", self.conversation_id)
        options.setdefault("opened_by_agent_id", self.staff.agent.id)
        options.setdefault("reason", "衣服有破洞,想退款")
        with self.uow() as uow:
            return sales.open_case(
                uow, shop_id=self.shop_id, order_id=self.orders[status].id, kind=kind, **options
            )

    def messages(self, conversation_id: int | None = None) -> list[Message]:
        with make_session_factory(self.db)() as session:
            query = select(Message).where(
                Message.conversation_id == (conversation_id or self.conversation_id)
            )
            return list(session.scalars(query.order_by(Message.seq)))

    def conversation(self) -> Conversation:
        with make_session_factory(self.db)() as session:
            found = session.get(Conversation, self.conversation_id)
            assert found is not None
            return found

    def team_id(self, code: str) -> int:
        with make_session_factory(self.db)() as session:
            return shops.get_team_by_code(session, shop_id=self.shop_id, code=code).id

    def case(self, case_id: int) -> AfterSalesCase:
        with make_session_factory(self.db)() as session:
            return sales.get_case(session, shop_id=self.shop_id, case_id=case_id)


def _buyer(uow: UowFactory, shop_id: int, name: str) -> tuple[int, int]:
    with uow() as work:
        customer = crm.create_customer(work, shop_id=shop_id, name=name)
        conversation = conversations.start_conversation(
            work, shop_id=shop_id, customer_id=customer.id, channel=Channel.WIDGET
        )
        return customer.id, conversation.id


def make_casebook(
    uow: UowFactory, db: Engine, clock: FrozenClock, slug: str = "aftersales"
) -> Casebook:
    staff = make_shop_with_staff(uow, slug)
    shop_id = staff.shop.id
    aftersale = make_agent(
        uow, staff.shop, email=f"shouhou@{slug}.test", role=Role.AGENT, name="售后小刘",
        team_codes=("aftersale",),
    )  # fmt: skip
    customer_id, conversation_id = _buyer(uow, shop_id, "王芳")
    other_buyer_id, _ = _buyer(uow, shop_id, "李雷")
    add_product(uow, shop_id, sku="COAT-1", title="双面羊绒大衣", price="1299.00",
                stock=[("M", "驼色", 3)])  # fmt: skip
    ago = clock.now() - timedelta(days=3)
    orders = {
        status: add_order(
            uow,
            shop_id,
            customer_id,
            order_no=f"35874125986307{i:05d}",
            lines=[("COAT-1-1", 1)],
            status=status,
            created_at=ago,
        )
        for i, status in enumerate(OrderStatus, start=1)
        if status not in (OrderStatus.CLOSED, OrderStatus.REFUNDING, OrderStatus.REFUNDED)
    }
    # Closed, refunding and refunded orders need their own stamps.
    with uow() as work:
        for i, status in enumerate(
            (OrderStatus.CLOSED, OrderStatus.REFUNDING, OrderStatus.REFUNDED), start=20
        ):
            paid = status is not OrderStatus.CLOSED
            orders[status] = commerce.create_order(
                work, shop_id=shop_id, order_no=f"35874125986307{i:05d}", customer_id=customer_id,
                lines=[OrderLineSpec(sku="COAT-1-1", quantity=1)], status=status, created_at=ago,
                paid_at=ago + timedelta(minutes=5) if paid else None,
                closed_at=ago + timedelta(hours=1) if status is OrderStatus.CLOSED else None,
                refunded_at=ago + timedelta(days=1) if status is OrderStatus.REFUNDED else None,
                ship_to_name="王芳", ship_to_phone="13812345678",
                ship_to_address="浙江省杭州市西湖区文三路 90 号", commit=False,
            )  # fmt: skip
        work.commit()
    other_buyers_order = add_order(
        uow, shop_id, other_buyer_id, order_no="3587412598630789999",
        lines=[("COAT-1-1", 1)], status=OrderStatus.DELIVERED, created_at=ago,
    )  # fmt: skip
    other = make_shop_with_staff(uow, f"{slug}-other")
    elsewhere, _ = _buyer(uow, other.shop.id, "韩梅梅")
    add_product(uow, other.shop.id, sku="SECRET-1", title="别家的秘密款", price="9.90")
    other_shop_order = add_order(
        uow, other.shop.id, elsewhere, order_no="E-1", lines=[("SECRET-1", 1)],
        status=OrderStatus.DELIVERED, created_at=ago,
    )  # fmt: skip
    assert orders[OrderStatus.DELIVERED].total == Decimal("1299.00")
    return Casebook(
        uow, db, staff, aftersale, customer_id, conversation_id, orders, other_buyer_id,
        other_buyers_order, other, other_shop_order,
    )  # fmt: skip
