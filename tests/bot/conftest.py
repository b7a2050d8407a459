"""A shop whose bot receives buyers, with a small knowledge base and an online agent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, select

from kefu.accounts.models import Presence
from kefu.bot import subscribers
from kefu.bot.schemas import BotSettingsIn
from kefu.bot.service import update_settings
from kefu.clock import FrozenClock
from kefu.conversations import service as conversations
from kefu.conversations.models import Channel, Conversation, Message
from kefu.crm import service as crm
from kefu.db import make_session_factory
from kefu.events import EventBus
from kefu.kb import service as kb
from tests.factories import ShopWithStaff, UowFactory, make_shop_with_staff

FAQ = [
    (["你们发什么快递", "默认什么快递"], "亲,默认发中通快递,需要顺丰请联系客服补差价哦。"),
    (["多久发货", "什么时候发货"], "{customer_name}您好,付款后48小时内发货。"),
    (["怎么还没发货", "为什么还不发货"], "非常抱歉让您久等了,仓库正在加急处理,今天内一定发出。"),
    (
        ["能便宜点吗", "可以优惠吗"],
        "亲,我们的价格已经很实在啦,关注店铺可领5元优惠券,会员还有95折哦。",
    ),
    (["卫衣有XL吗", "卫衣有大码吗"], "卫衣有S到XXL全码,XL现货充足,可以放心拍。"),
]


@dataclass
class BotShop:
    staff: ShopWithStaff
    uow: UowFactory
    db: Engine
    clock: FrozenClock
    entry_ids: list[int]

    @property
    def shop_id(self) -> int:
        return self.staff.shop.id

    def buyer(self, name: str = "王芳", gender: str = "F") -> int:
        with self.uow() as uow:
            customer = crm.create_customer(
                uow, shop_id=self.shop_id, nickname=name, name=name, gender=gender
            )
            return customer.id

    def say(self, customer_id: int, body: str, client_msg_id: str | None = None) -> int:
        """The buyer writes in the widget; returns the conversation id."""
        with self.uow() as uow:
            message = conversations.receive_customer_message(
                uow,
                shop_id=self.shop_id,
                customer_id=customer_id,
                channel=Channel.WIDGET,
                client_msg_id=client_msg_id or f"c-{self.clock.now().timestamp()}-{body}",
                body=body,
            )
            return message.conversation_id

    def messages(self, conversation_id: int) -> list[Message]:
        with make_session_factory(self.db)() as session:
            query = select(Message).where(Message.conversation_id == conversation_id)
            return list(session.scalars(query.order_by(Message.seq)))

    def conversation(self, conversation_id: int) -> Conversation:
        with make_session_factory(self.db)() as session:
            return session.get_one(Conversation, conversation_id)

    def bot_lines(self, conversation_id: int) -> list[str]:
        return [m.body for m in self.messages(conversation_id) if m.sender_type.value == "bot"]

    def add_entry(self, questions: Sequence[str], answer: str) -> int:
        with self.uow() as uow:
            return kb.create_entry(uow, shop_id=self.shop_id, questions=questions, answer=answer).id

    def set_bot(self, **changes: object) -> None:
        with self.uow() as uow:
            update_settings(uow, shop_id=self.shop_id, changes=BotSettingsIn(**changes))  # type: ignore[arg-type]

    def agent_online(self) -> None:
        with self.uow() as uow:
            conversations.set_agent_presence(
                uow, shop_id=self.shop_id, agent_id=self.staff.agent.id, status=Presence.ONLINE
            )


@pytest.fixture
def bot_shop(uow_factory: UowFactory, bus: EventBus, db: Engine, clock: FrozenClock) -> BotShop:
    staff = make_shop_with_staff(uow_factory, "botshop")
    subscribers.install(bus, uow_factory)
    shop = BotShop(staff=staff, uow=uow_factory, db=db, clock=clock, entry_ids=[])
    shop.entry_ids = [shop.add_entry(questions, answer) for questions, answer in FAQ]
    shop.set_bot(enabled=True)
    return shop
