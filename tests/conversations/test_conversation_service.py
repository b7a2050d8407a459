"""Conversations and messages: ordering, idempotent retries, validation, private notes, tenancy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from kefu.accounts.models import Agent
from kefu.clock import FrozenClock
from kefu.conversations import service as conversations
from kefu.conversations.events import ConversationClosed, ConversationStarted, ReplySent
from kefu.conversations.events import MessageReceived as Received
from kefu.conversations.models import Channel, Conversation, Message, SenderType
from kefu.conversations.models import ConversationStatus as Status
from kefu.crm import service as crm
from kefu.db import make_session_factory
from kefu.errors import Conflict, Invalid, NotFound
from kefu.events import EventBus
from kefu.shops import service as shops
from kefu.shops.models import Shop
from kefu.uow import UnitOfWork
from tests.factories import make_agent, make_shop


@dataclass
class Desk:
    """One shop with an agent, a buyer and an open conversation; and a second shop."""

    uow: Callable[[], UnitOfWork]
    bus: EventBus
    clock: FrozenClock
    db: Engine
    shop: Shop
    agent: Agent
    customer_id: int
    conversation_id: int
    other_shop: Shop
    other_customer_id: int

    def receive(self, client_msg_id: str, body: str) -> Message:
        with self.uow() as uow:
            return conversations.receive_message(
                uow, shop_id=self.shop.id, conversation_id=self.conversation_id,
                client_msg_id=client_msg_id, body=body,
            )  # fmt: skip

    def reply(self, client_msg_id: str, body: str, **options: Any) -> Message:
        options = {"sender_type": SenderType.AGENT, "sender_agent_id": self.agent.id, **options}
        with self.uow() as uow:
            return conversations.send_reply(
                uow, shop_id=self.shop.id, conversation_id=self.conversation_id,
                client_msg_id=client_msg_id, body=body, **options,
            )  # fmt: skip

    def close(self, agent_id: int | None) -> None:
        with self.uow() as uow:
            conversations.close_conversation(
                uow, shop_id=self.shop.id, conversation_id=self.conversation_id,
                closed_by_agent_id=agent_id,
            )  # fmt: skip

    def stored(self) -> tuple[Conversation, list[Message]]:
        """The conversation and its messages as a new session sees them (committed only)."""
        with make_session_factory(self.db)() as session:
            conversation = session.get_one(Conversation, self.conversation_id)
            query = select(Message).where(Message.conversation_id == self.conversation_id)
            return conversation, list(session.scalars(query.order_by(Message.seq)))

    def count(self, column: Any) -> int:
        with make_session_factory(self.db)() as session:
            return session.scalar(select(func.count(column))) or 0


@pytest.fixture
def desk(
    uow_factory: Callable[[], UnitOfWork], bus: EventBus, clock: FrozenClock, db: Engine
) -> Desk:
    shop = make_shop(uow_factory, "mianli", name="棉里旗舰店")
    agent = make_agent(uow_factory, shop, email="xiaomei@mianli.test")
    other = make_shop(uow_factory, "other", name="别家店")
    with uow_factory() as uow:
        customer = crm.create_customer(uow, shop_id=shop.id, name="王芳", gender="F")
        other_customer = crm.create_customer(uow, shop_id=other.id, name="李娜")
        conversation = conversations.start_conversation(
            uow, shop_id=shop.id, customer_id=customer.id, channel=Channel.WIDGET
        )
    return Desk(
        uow_factory, bus, clock, db, shop, agent, customer.id, conversation.id, other,
        other_customer.id,
    )  # fmt: skip


def test_a_new_conversation_goes_to_presale_by_default(desk: Desk) -> None:
    with desk.bus.capture() as events, desk.uow() as uow:
        presale = shops.get_team_by_code(uow.session, shop_id=desk.shop.id, code="presale")
        conversation = conversations.start_conversation(
            uow, shop_id=desk.shop.id, customer_id=desk.customer_id, channel=Channel.WECHAT
        )
    assert presale.name == "售前"
    assert conversation.team_id == presale.id
    assert (conversation.status, conversation.last_seq) == (Status.OPEN, 0)
    assert conversation.created_at == conversation.last_message_at == desk.clock.now()
    assert events == [
        ConversationStarted(
            shop_id=desk.shop.id, conversation_id=conversation.id,
            customer_id=desk.customer_id, team_id=presale.id, channel="wechat",
        )
    ]  # fmt: skip


def test_a_conversation_can_start_in_another_team_but_not_an_unknown_one(desk: Desk) -> None:
    start = {"shop_id": desk.shop.id, "customer_id": desk.customer_id, "channel": Channel.WIDGET}
    with desk.uow() as uow:
        aftersale = shops.get_team_by_code(uow.session, shop_id=desk.shop.id, code="aftersale")
        conversation = conversations.start_conversation(uow, **start, team_code="aftersale")
    assert conversation.team_id == aftersale.id
    with desk.bus.capture() as events, pytest.raises(NotFound), desk.uow() as uow:
        conversations.start_conversation(uow, **start, team_code="kitchen")
    assert events == []
    assert desk.count(Conversation.id) == 2


def test_messages_are_numbered_one_two_three(desk: Desk) -> None:
    with desk.bus.capture() as events:
        for n, body in enumerate(["在吗", "这件有S码吗", "包邮吗"], start=1):
            desk.clock.advance(timedelta(seconds=30))
            assert desk.receive(f"m{n}", body).seq == n
    desk.reply("a1", "亲,在的")  # replies share the conversation's sequence
    conversation, messages = desk.stored()
    assert [(m.seq, m.body, m.sender_type) for m in messages] == [
        (1, "在吗", SenderType.CUSTOMER),
        (2, "这件有S码吗", SenderType.CUSTOMER),
        (3, "包邮吗", SenderType.CUSTOMER),
        (4, "亲,在的", SenderType.AGENT),
    ]
    assert conversation.last_seq == 4
    assert conversation.last_message_at == desk.clock.now()
    assert [(type(e), e.seq) for e in events] == [(Received, 1), (Received, 2), (Received, 3)]  # type: ignore[attr-defined]


def test_a_retry_returns_the_stored_message_and_announces_it_once(desk: Desk) -> None:
    with desk.bus.capture() as events:
        first = desk.receive("retry-1", "请问什么时候发货?")
        desk.clock.advance(timedelta(seconds=5))
        again = desk.receive("retry-1", "请问什么时候发货?")
    assert (again.id, again.seq, again.created_at) == (first.id, first.seq, first.created_at)
    conversation, messages = desk.stored()
    assert (len(messages), conversation.last_seq) == (1, 1)
    assert len([e for e in events if isinstance(e, Received)]) == 1
    # The same holds for an agent's reply.
    with desk.bus.capture() as events:
        reply = desk.reply("r-1", "已经为您安排发货")
        assert desk.reply("r-1", "已经为您安排发货").id == reply.id
    assert len(desk.stored()[1]) == 2
    assert len(events) == 1


def test_same_client_id_for_a_different_message_is_a_conflict(desk: Desk) -> None:
    desk.receive("dup", "要红色的")
    with desk.bus.capture() as events:
        with pytest.raises(Conflict):
            desk.receive("dup", "要蓝色的")
        with pytest.raises(Conflict):  # nor can an agent's reply take the buyer's id
            desk.reply("dup", "要红色的")
    assert events == []
    assert [m.body for m in desk.stored()[1]] == ["要红色的"]


def test_client_ids_are_per_conversation(desk: Desk) -> None:
    with desk.uow() as uow:
        second = conversations.start_conversation(
            uow, shop_id=desk.shop.id, customer_id=desk.customer_id, channel=Channel.WIDGET
        )
    first = desk.receive("1", "你好")
    with desk.uow() as uow:
        other = conversations.receive_message(
            uow, shop_id=desk.shop.id, conversation_id=second.id, client_msg_id="1", body="你好"
        )
    assert other.id != first.id
    assert (first.seq, other.seq) == (1, 1)


@pytest.mark.parametrize("body", ["", " ", "   \n\t ", "\u3000\u3000", "x" * 5001, "好" * 5001])
def test_empty_or_too_long_body_is_invalid_and_nothing_written(desk: Desk, body: str) -> None:
    with desk.bus.capture() as events:
        with pytest.raises(Invalid) as caught:
            desk.receive("bad", body)
        with pytest.raises(Invalid) as caught_reply:
            desk.reply("bad-reply", body)
    assert caught.value.field == caught_reply.value.field == "body"
    assert events == []
    conversation, messages = desk.stored()
    assert (messages, conversation.last_seq) == ([], 0)


@pytest.mark.parametrize("body", ["x" * 5000, "好" * 5000, "😀" * 5000])
def test_exactly_five_thousand_characters_is_accepted(desk: Desk, body: str) -> None:
    desk.receive("max", body)
    assert desk.stored()[1][0].body == body
    with pytest.raises(Invalid, match="5001 characters; the limit is 5000"):
        desk.receive("max+1", body + body[0])


@pytest.mark.parametrize("client_msg_id", ["", "x" * 65])
def test_a_bad_client_message_id_is_invalid(desk: Desk, client_msg_id: str) -> None:
    with pytest.raises(Invalid) as caught:
        desk.receive(client_msg_id, "你好")
    assert caught.value.field == "client_msg_id"
    assert desk.count(Message.id) == 0
    assert desk.receive("x" * 64, "你好").client_msg_id == "x" * 64


def test_replies_announce_who_sent_them(desk: Desk) -> None:
    with desk.bus.capture() as events:
        message = desk.reply("a1", "亲,这款有现货哦")
        bot = desk.reply(
            "bot1", "您好,我是智能客服", sender_type=SenderType.BOT, sender_agent_id=None
        )
    assert (message.sender_type, message.sender_agent_id) == (SenderType.AGENT, desk.agent.id)
    assert (bot.sender_type, bot.sender_agent_id) == (SenderType.BOT, None)
    assert all(isinstance(event, ReplySent) for event in events)
    assert [
        (e.message_id, e.seq, e.sender_type, e.sender_agent_id, e.is_private) for e in events
    ] == [
        (message.id, 1, "agent", desk.agent.id, False),
        (bot.id, 2, "bot", None, False),
    ]
    # The events carry the message itself, so realtime can push it without reading it back.
    assert [(e.message.body, e.message.sender_name) for e in events] == [
        ("亲,这款有现货哦", desk.agent.display_name),
        ("您好,我是智能客服", ""),
    ]


def test_private_notes_are_hidden_from_the_buyers_view(desk: Desk) -> None:
    desk.receive("b1", "我要退货")
    with desk.bus.capture() as events:
        note = desk.reply("n1", "老客户,可以直接退", is_private=True)
    desk.reply("a1", "好的亲,马上为您处理")
    assert note.is_private is True
    assert [e.is_private for e in events] == [True]  # type: ignore[attr-defined]
    ids = {"shop_id": desk.shop.id, "conversation_id": desk.conversation_id}
    with make_session_factory(desk.db)() as session:
        staff = conversations.list_messages(session, **ids)
        buyer = conversations.list_messages(session, **ids, include_private=False)
    assert [m.body for m in staff] == ["我要退货", "老客户,可以直接退", "好的亲,马上为您处理"]
    assert [m.body for m in buyer] == ["我要退货", "好的亲,马上为您处理"]


@pytest.mark.parametrize(
    ("sender_type", "with_agent", "field"),
    [
        (SenderType.CUSTOMER, False, "sender_type"),
        (SenderType.CUSTOMER, True, "sender_type"),
        (SenderType.AGENT, False, "sender_agent_id"),
    ],
)
def test_send_reply_refuses_buyers_and_agentless_agent_replies(
    desk: Desk, sender_type: SenderType, with_agent: bool, field: str
) -> None:
    agent_id = desk.agent.id if with_agent else None
    with desk.bus.capture() as events, pytest.raises(Invalid) as caught:
        desk.reply("x", "你好", sender_type=sender_type, sender_agent_id=agent_id)
    assert caught.value.field == field
    assert events == []
    assert desk.count(Message.id) == 0


def test_catching_up_after_a_reconnect(desk: Desk) -> None:
    for n in range(1, 8):
        if n % 2:
            desk.receive(f"b{n}", f"买家消息{n}")
        else:
            desk.reply(f"a{n}", f"客服回复{n}")
    ids = {"shop_id": desk.shop.id, "conversation_id": desk.conversation_id}
    with make_session_factory(desk.db)() as session:

        def after(seq: int, **kw: Any) -> list[int]:
            found = conversations.list_messages(session, **ids, after_seq=seq, **kw)
            return [m.seq for m in found]

        assert after(0) == [1, 2, 3, 4, 5, 6, 7]
        assert after(4) == [5, 6, 7]
        assert after(7) == []
        assert after(2, limit=2) == [3, 4]


def test_a_buyer_message_reopens_a_closed_conversation(desk: Desk) -> None:
    desk.close(desk.agent.id)
    assert desk.stored()[0].status is Status.CLOSED
    desk.receive("back", "我又来了")
    conversation, _ = desk.stored()
    assert (conversation.status, conversation.closed_at) == (Status.OPEN, None)


def test_a_retried_old_message_does_not_reopen(desk: Desk) -> None:
    desk.receive("old", "谢谢")
    desk.close(None)
    with desk.bus.capture() as events:
        desk.receive("old", "谢谢")
    assert events == []
    assert desk.stored()[0].status is Status.CLOSED


def test_closing_twice_announces_once(desk: Desk) -> None:
    closed_at = desk.clock.now()
    with desk.bus.capture() as events:
        for _ in range(2):
            desk.close(desk.agent.id)
            desk.clock.advance(timedelta(minutes=5))
    assert events == [
        ConversationClosed(
            shop_id=desk.shop.id,
            conversation_id=desk.conversation_id,
            closed_by_agent_id=desk.agent.id,
            customer_id=desk.customer_id,
            team_id=conversation.team_id,
            assignee_id=None,
        )
        for conversation in [desk.stored()[0]]
    ]
    conversation, _ = desk.stored()
    assert (conversation.status, conversation.closed_at) == (Status.CLOSED, closed_at)


def test_another_shop_cannot_touch_the_conversation(desk: Desk) -> None:
    desk.receive("b1", "在吗")
    mine, theirs = desk.shop.id, desk.other_shop.id
    foreign = {"shop_id": theirs, "conversation_id": desk.conversation_id}
    attempts: list[Callable[[UnitOfWork], object]] = [
        lambda uow: conversations.start_conversation(
            uow, shop_id=theirs, customer_id=desk.customer_id, channel=Channel.WIDGET
        ),
        lambda uow: conversations.start_conversation(
            uow, shop_id=mine, customer_id=desk.other_customer_id, channel=Channel.WIDGET
        ),
        lambda uow: conversations.receive_message(uow, **foreign, client_msg_id="x", body="嗨"),
        lambda uow: conversations.receive_message(uow, **foreign, client_msg_id="b1", body="在吗"),
        lambda uow: conversations.send_reply(
            uow, **foreign, client_msg_id="y", body="嗨", sender_type=SenderType.BOT,
            sender_agent_id=None,
        ),
        lambda uow: conversations.close_conversation(uow, **foreign, closed_by_agent_id=None),
        lambda uow: conversations.get_conversation(uow.session, **foreign),
        lambda uow: conversations.list_messages(uow.session, **foreign),
    ]  # fmt: skip
    with desk.bus.capture() as events:
        for attempt in attempts:
            with pytest.raises(NotFound), desk.uow() as uow:
                attempt(uow)
    assert events == []
    conversation, messages = desk.stored()
    assert (conversation.status, conversation.last_seq) == (Status.OPEN, 1)
    assert [m.body for m in messages] == ["在吗"]
    assert desk.count(Conversation.id) == 1
    with make_session_factory(desk.db)() as session:
        assert conversations.list_conversations(session, shop_id=theirs) == []
        assert conversations.count_conversations(session, shop_id=theirs) == {
            Status.OPEN: 0,
            Status.CLOSED: 0,
        }


@pytest.mark.parametrize(
    "body",
    [
        "亲~请问这件羊毛衫会起球吗?😊",
        "👨‍👩‍👧 全家福套装 🇨🇳 有货吗?",
        "第一行\n第二行\r\n  缩进 \t 保留  ",
        "「包邮」、『七天无理由』——￥199.00",
        "𠮷野家 (补充平面字)",
    ],
)
def test_text_round_trips_exactly(desk: Desk, body: str) -> None:
    desk.receive("b", body)
    desk.reply("a", body)
    assert [m.body for m in desk.stored()[1]] == [body, body]


def test_a_control_character_is_refused_cleanly_on_every_backend(desk: Desk) -> None:
    # PostgreSQL cannot store NUL at all; refusing it everywhere keeps both backends alike.
    for index, body in enumerate(("在吗\x00?", "hi\x07", "删\x1b[2J")):
        with pytest.raises(Invalid) as refused:
            desk.receive(f"ctl-{index}", body)
        assert refused.value.field == "body"
    assert desk.count(Message.id) == 0
    # Line breaks and tabs are ordinary text in a message.
    assert desk.receive("ok", "第一行\n第二行\t好").body == "第一行\n第二行\t好"
