"""A shop for the 催付 tests: a product, buyers who chat in the widget and place orders
through the shop system's intake (so OrderCreated / OrderStatusChanged are the real ones),
and the sales subscribers listening on the bus."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select

from kefu.clock import FrozenClock
from kefu.commerce import ingest
from kefu.commerce import service as commerce
from kefu.commerce.models import Order
from kefu.commerce.schemas import OrderIn, OrderLineSpec
from kefu.conversations import service as conversations
from kefu.conversations.models import Channel, Message, SenderType
from kefu.db import make_session_factory
from kefu.events import EventBus
from kefu.sales import service as sales
from kefu.sales import subscribers
from kefu.sales.models import PaymentReminder
from tests.factories import ShopWithStaff, UowFactory, make_shop_with_staff

PRODUCT = "纯棉家居服女长袖两件套"


@dataclass
class ReminderShop:
    staff: ShopWithStaff
    uow: UowFactory
    db: Engine
    clock: FrozenClock
    bus: EventBus
    _orders: dict[str, OrderIn] = field(default_factory=dict)

    @property
    def shop_id(self) -> int:
        return self.staff.shop.id

    def order(
        self,
        order_no: str,
        *,
        buyer: str = "buyer-1",
        name: str = "王芳",
        at: datetime | None = None,
        status: str = "unpaid",
        uow: UowFactory | None = None,
        **extra: Any,
    ) -> Order:
        """The shop's system reports a new order (unpaid unless told)."""
        item = OrderIn(
            order_no=order_no,
            customer_external_id=buyer,
            customer_name=name,
            status=status,
            created_at=at or self.clock.now(),
            lines=(OrderLineSpec(sku="PJ-001", quantity=1), OrderLineSpec(sku="SOCK-1")),
            ship_to_name=name,
            ship_to_phone="13800001111",
            ship_to_address="上海市徐汇区漕溪北路 1 号",
            **extra,
        )
        self._orders[order_no] = item
        with (uow or self.uow)() as unit:
            order, _ = ingest.upsert_order(unit, shop_id=self.shop_id, item=item)
            return order

    def move(self, order_no: str, status: str, **stamps: datetime) -> None:
        """The shop's system reports the order's new status (paid_at=…, closed_at=…)."""
        item = self._orders[order_no]
        changed = OrderIn(**{**item.__dict__, "status": status, **stamps})
        self._orders[order_no] = changed
        with self.uow() as uow:
            ingest.upsert_order(uow, shop_id=self.shop_id, item=changed)

    def pay(self, order_no: str) -> None:
        self.move(order_no, "paid", paid_at=self.clock.now())

    def buyer_id(self, buyer: str = "buyer-1") -> int:
        with make_session_factory(self.db)() as session:
            found = session.scalar(
                select(Order.customer_id).where(
                    Order.shop_id == self.shop_id,
                    Order.order_no.in_(
                        [n for n, i in self._orders.items() if i.customer_external_id == buyer]
                    ),
                )
            )
            assert found is not None
            return found

    def chat(self, customer_id: int, body: str = "这件有M码吗") -> int:
        """The buyer writes in the widget; returns the conversation id."""
        with self.uow() as uow:
            message = conversations.receive_customer_message(
                uow,
                shop_id=self.shop_id,
                customer_id=customer_id,
                channel=Channel.WIDGET,
                client_msg_id=f"c-{self.clock.now().timestamp()}-{body}",
                body=body,
            )
            return message.conversation_id

    def tick(self) -> int:
        """One round of the app's sender, at the clock's time."""
        with self.uow() as uow:
            return sales.send_due_reminders(uow)

    def shop_lines(self, conversation_id: int) -> list[Message]:
        """What the shop said in the conversation (the reminder is the shop speaking)."""
        with make_session_factory(self.db)() as session:
            query = select(Message).where(
                Message.conversation_id == conversation_id,
                Message.sender_type != SenderType.CUSTOMER,
            )
            return list(session.scalars(query.order_by(Message.seq)))

    def reminder(self, order_no: str) -> PaymentReminder | None:
        with make_session_factory(self.db)() as session:
            return session.scalar(
                select(PaymentReminder)
                .join(Order, Order.id == PaymentReminder.order_id)
                .where(Order.shop_id == self.shop_id, Order.order_no == order_no)
            )

    def settings(self, **changes: Any) -> None:
        with self.uow() as uow:
            sales.update_settings(uow, shop_id=self.shop_id, **changes)


def card_of(message: Message) -> dict[str, Any]:
    card: dict[str, Any] = json.loads(message.card)
    return card


def make_reminder_shop(
    uow_factory: UowFactory, bus: EventBus, db: Engine, clock: FrozenClock, slug: str = "mianli"
) -> ReminderShop:
    staff = make_shop_with_staff(uow_factory, slug)
    subscribers.install(bus, uow_factory)
    with uow_factory() as uow:
        commerce.create_product(
            uow,
            shop_id=staff.shop.id,
            sku="PJ-001",
            title=PRODUCT,
            category="家居服",
            price=Decimal("129.00"),
            variants=[],
        )
        commerce.create_product(
            uow,
            shop_id=staff.shop.id,
            sku="SOCK-1",
            title="中筒棉袜",
            category="袜子",
            price=Decimal("19.90"),
            variants=[],
        )
    return ReminderShop(staff=staff, uow=uow_factory, db=db, clock=clock, bus=bus)
