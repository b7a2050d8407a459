"""A shop for the conversion tests (询单转化): staff in 售前 (and one in 售后), buyers,
conversations, and orders the shop's system reports paid, all through the real services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import Engine, select

from kefu.accounts.models import Agent, Presence, Role
from kefu.clock import FrozenClock
from kefu.commerce import service as commerce
from kefu.commerce.events import OrderStatusChanged
from kefu.commerce.models import Order, OrderStatus
from kefu.commerce.service import OrderLineSpec
from kefu.conversations import service as conversations
from kefu.conversations.models import Channel, SenderType
from kefu.crm import service as crm
from kefu.db import make_session_factory
from kefu.events import EventBus
from kefu.sales.models import Inquiry
from kefu.shops import service as shops
from tests.factories import ShopWithStaff, UowFactory, make_agent, make_shop_with_staff

PRICE = Decimal("199.00")


@dataclass
class Floor:
    uow: UowFactory
    bus: EventBus
    clock: FrozenClock
    db: Engine
    staff: ShopWithStaff
    seller: Agent  # a second agent of 售前
    aftersale: Agent  # an agent of 售后 only
    orders: int = field(default=0)

    @property
    def shop_id(self) -> int:
        return self.staff.shop.id

    def team_id(self, code: str) -> int:
        with self.uow() as uow:
            return shops.get_team_by_code(uow.session, shop_id=self.shop_id, code=code).id

    def online(self, *agents: Agent) -> None:
        for agent in agents:
            with self.uow() as uow:
                conversations.set_agent_presence(
                    uow, shop_id=self.shop_id, agent_id=agent.id, status=Presence.ONLINE
                )

    def offline(self, *agents: Agent) -> None:
        for agent in agents:
            with self.uow() as uow:
                conversations.set_agent_presence(
                    uow, shop_id=self.shop_id, agent_id=agent.id, status=Presence.OFFLINE
                )

    def buyer(self, name: str = "林晓雨") -> int:
        with self.uow() as uow:
            return crm.create_customer(uow, shop_id=self.shop_id, name=name).id

    def chat(
        self, customer_id: int, *, team: str = "presale", channel: Channel = Channel.WIDGET
    ) -> int:
        """The buyer opens a conversation in ``team``; routing gives it to whoever is online."""
        with self.uow() as uow:
            return conversations.start_conversation(
                uow,
                shop_id=self.shop_id,
                customer_id=customer_id,
                channel=channel,
                team_code=team,
            ).id

    def reply(self, conversation_id: int, agent: Agent, body: str = "亲,在的") -> None:
        with self.uow() as uow:
            conversations.send_reply(
                uow,
                shop_id=self.shop_id,
                conversation_id=conversation_id,
                client_msg_id=f"r-{agent.id}-{body}",
                body=body,
                sender_type=SenderType.AGENT,
                sender_agent_id=agent.id,
            )

    def transfer(
        self, conversation_id: int, *, team: str | None = None, agent: Agent | None = None
    ) -> None:
        with self.uow() as uow:
            conversations.transfer_conversation(
                uow,
                shop_id=self.shop_id,
                conversation_id=conversation_id,
                by_agent_id=self.staff.supervisor.id,
                team_id=self.team_id(team) if team else None,
                agent_id=agent.id if agent else None,
            )

    def pay(self, customer_id: int, *, quantity: int = 1, shop_id: int | None = None) -> Order:
        """The shop's system reports an order the buyer has just paid."""
        self.orders += 1
        now = self.clock.now()
        with self.uow() as uow:
            return commerce.create_order(
                uow,
                shop_id=shop_id or self.shop_id,
                order_no=f"T{self.orders:06d}",
                customer_id=customer_id,
                lines=[OrderLineSpec(sku="DRESS-1", quantity=quantity)],
                status=OrderStatus.PAID,
                created_at=now - timedelta(minutes=10),
                paid_at=now,
                ship_to_name="林晓雨",
                ship_to_phone="13812345678",
                ship_to_address="浙江省杭州市西湖区文三路 90 号",
            )

    def order_unpaid(self, customer_id: int) -> Order:
        self.orders += 1
        with self.uow() as uow:
            return commerce.create_order(
                uow,
                shop_id=self.shop_id,
                order_no=f"T{self.orders:06d}",
                customer_id=customer_id,
                lines=[OrderLineSpec(sku="DRESS-1")],
                status=OrderStatus.UNPAID,
                created_at=self.clock.now(),
                ship_to_name="林晓雨",
                ship_to_phone="13812345678",
                ship_to_address="浙江省杭州市西湖区文三路 90 号",
            )

    def report_status(self, order_id: int, status: OrderStatus) -> None:
        """What commerce does when the shop's system reports a new status (its API, import
        and webhooks go through one upsert, tested in tests/commerce): the order's status
        and time change, and OrderStatusChanged says so."""
        now = self.clock.now()
        with self.uow() as uow:
            order = uow.session.get(Order, order_id)
            assert order is not None
            old = order.status
            order.status = status
            if status is OrderStatus.PAID:
                order.paid_at = now
            elif status is OrderStatus.SHIPPED:
                order.shipped_at, order.courier, order.tracking_no = now, "顺丰速运", "SF1234567"
            uow.collect(
                OrderStatusChanged(
                    shop_id=order.shop_id,
                    order_id=order.id,
                    order_no=order.order_no,
                    customer_id=order.customer_id,
                    old_status=old.value,
                    new_status=status.value,
                    total=order.total,
                    changed_at=now,
                )
            )
            uow.commit()

    def inquiries(self, shop_id: int | None = None) -> list[Inquiry]:
        with make_session_factory(self.db)() as session:
            return list(
                session.scalars(
                    select(Inquiry)
                    .where(Inquiry.shop_id == (shop_id or self.shop_id))
                    .order_by(Inquiry.id)
                )
            )

    def inquiry(self, conversation_id: int) -> Inquiry | None:
        found = [i for i in self.inquiries() if i.conversation_id == conversation_id]
        return found[0] if found else None


def make_floor(
    uow: UowFactory, bus: EventBus, clock: FrozenClock, db: Engine, slug: str = "conv"
) -> Floor:
    staff = make_shop_with_staff(uow, slug)
    seller = make_agent(uow, staff.shop, email=f"seller@{slug}.test", name="阿杰", role=Role.AGENT)
    aftersale = make_agent(
        uow, staff.shop, email=f"after@{slug}.test", name="售后小王", team_codes=("aftersale",)
    )
    with uow() as work:
        commerce.create_product(
            work,
            shop_id=staff.shop.id,
            sku="DRESS-1",
            title="法式碎花连衣裙",
            category="女装",
            price=PRICE,
            variants=[],
        )
    return Floor(uow, bus, clock, db, staff, seller, aftersale)
