"""「转工单」: what the ticket form is prefilled with from a conversation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from kefu.clock import FrozenClock
from kefu.commerce.models import Order, OrderStatus
from kefu.conversations.models import Conversation
from kefu.errors import NotFound
from kefu.tickets import service as tickets
from kefu.tickets.drafts import TicketDraft
from kefu.tickets.models import TicketPriority, TicketType
from tests.conversations.catalogue import add_order
from tests.factories import UowFactory
from tests.tickets.conftest import (
    ORDER_NO,
    BuyerChat,
    Elsewhere,
    TicketStaff,
    chat_lines,
    make_ticket,
    start_chat,
)


def _draft(uow_factory: UowFactory, staff: TicketStaff, conversation_id: int) -> TicketDraft:
    with uow_factory() as uow:
        return tickets.draft_from_conversation(
            uow.session, shop_id=staff.shop_id, conversation_id=conversation_id
        )


def _set(uow_factory: UowFactory, conversation_id: int, **values: object) -> None:
    with uow_factory() as uow:
        conversation = uow.session.get(Conversation, conversation_id)
        assert conversation is not None
        for name, value in values.items():
            setattr(conversation, name, value)
        uow.commit()


def test_an_angry_aftersale_chat_becomes_a_complaint_for_the_complaints_team(
    uow_factory: UowFactory, staff: TicketStaff, buyer_chat: BuyerChat, paid_order: Order
) -> None:
    draft = _draft(uow_factory, staff, buyer_chat.conversation_id)
    assert draft == TicketDraft(
        conversation_id=buyer_chat.conversation_id,
        customer_id=buyer_chat.customer_id,
        customer_name="王女士",
        type=TicketType.COMPLAINT,
        title="你好，我买的羊绒大衣收到了，袖子有个破洞",
        description=(
            "买家最近的消息：\n"
            "- 你好，我买的羊绒大衣收到了，袖子有个破洞\n"
            "- 都三天了还没人处理，太过分了！！我要投诉\n\n"
            f"来自会话 #{buyer_chat.conversation_id}"
        ),
        priority=TicketPriority.HIGH,
        team_id=staff.teams["complaints"],
        order_ids=[paid_order.id],  # none named in the chat: the buyer's latest
    )


@pytest.mark.parametrize(
    ("team", "lines", "expected_type", "expected_team"),
    [
        ("aftersale", ("想换个尺码，M 换成 L",), TicketType.AFTERSALE, "aftersale"),
        ("complaints", ("你们的快递员把包裹扔在门口",), TicketType.COMPLAINT, "complaints"),
        ("presale", ("付款一直不成功，页面报错",), TicketType.FAULT, "presale"),
        ("presale", ("付款未成功，說是出現什麼障礙",), TicketType.FAULT, "presale"),
        ("presale", ("这件有没有发票",), TicketType.OTHER, "presale"),
        ("shipping", ("快递怎么还不到！！",), TicketType.COMPLAINT, "complaints"),
    ],
)
def test_the_type_follows_the_chats_team_and_the_buyers_mood(
    uow_factory: UowFactory, staff: TicketStaff, team: str, lines: tuple[str, ...],
    expected_type: TicketType, expected_team: str,
) -> None:  # fmt: skip
    chat = start_chat(uow_factory, staff.shop_id, name="李雷", lines=lines, team_code=team)
    draft = _draft(uow_factory, staff, chat.conversation_id)
    assert (draft.type, draft.team_id) == (expected_type, staff.teams[expected_team])
    assert draft.priority is (TicketPriority.HIGH if "！！" in lines[0] else TicketPriority.NORMAL)


def test_the_bots_note_gives_the_title_and_the_summary(
    uow_factory: UowFactory, staff: TicketStaff
) -> None:
    chat = start_chat(
        uow_factory, staff.shop_id, name="李雷", lines=("我的快递到哪了", "转人工"),
        team_code="shipping",
    )  # fmt: skip
    note = "买家要求人工 · 意图:查询物流(72%) · 情绪:平和(+0.1)"
    _set(uow_factory, chat.conversation_id, handoff_note=note)
    draft = _draft(uow_factory, staff, chat.conversation_id)
    assert draft.title == "查询物流：我的快递到哪了"
    assert draft.description.startswith(f"机器人摘要：{note}\n\n买家最近的消息：\n- 我的快递到哪了")
    assert (draft.type, draft.team_id) == (TicketType.OTHER, staff.teams["shipping"])


def test_an_angry_buyer_the_bot_flagged_is_a_complaint(
    uow_factory: UowFactory, staff: TicketStaff
) -> None:
    chat = start_chat(uow_factory, staff.shop_id, name="李雷", lines=("你们看着办吧",))
    _set(uow_factory, chat.conversation_id, priority=1)
    assert _draft(uow_factory, staff, chat.conversation_id).type is TicketType.COMPLAINT


def test_orders_the_buyer_named_that_are_their_own(
    uow_factory: UowFactory, clock: FrozenClock, staff: TicketStaff, paid_order: Order
) -> None:
    other = start_chat(uow_factory, staff.shop_id, name="李雷", lines=("hi",))
    theirs = add_order(
        uow_factory, staff.shop_id, other.customer_id, order_no="3587412598630799999",
        lines=[("COAT-1-1", 1)], status=OrderStatus.PAID, created_at=clock.now(),
    )  # fmt: skip
    chat = start_chat(
        uow_factory, staff.shop_id, name="王芳的新会话",
        lines=(f"订单号 {ORDER_NO} 的大衣有破洞", "还有 3587412598630799999 这单也是"),
    )  # fmt: skip
    # The order belongs to 王芳 (paid_order's buyer), so give this chat to her.
    _set(uow_factory, chat.conversation_id, customer_id=paid_order.customer_id)
    clock.advance(timedelta(minutes=1))
    latest = add_order(
        uow_factory, staff.shop_id, paid_order.customer_id, order_no="3587412598630700002",
        lines=[("COAT-1-1", 1)], status=OrderStatus.PAID, created_at=clock.now(),
    )  # fmt: skip
    draft = _draft(uow_factory, staff, chat.conversation_id)
    # Named and hers; not the other buyer's number, not her latest (she named one).
    assert draft.order_ids == [paid_order.id]
    assert theirs.id not in draft.order_ids and latest.id not in draft.order_ids


def test_a_buyer_without_orders_gets_none(uow_factory: UowFactory, staff: TicketStaff) -> None:
    chat = start_chat(uow_factory, staff.shop_id, name="李雷", lines=("在吗",))
    assert _draft(uow_factory, staff, chat.conversation_id).order_ids == []


def test_a_chat_with_no_words_yet(uow_factory: UowFactory, staff: TicketStaff) -> None:
    chat = start_chat(uow_factory, staff.shop_id, name="李雷", lines=())
    draft = _draft(uow_factory, staff, chat.conversation_id)
    assert draft.title == f"会话 #{chat.conversation_id}"
    assert draft.description == f"来自会话 #{chat.conversation_id}"


def test_another_shops_conversation_is_not_found(
    uow_factory: UowFactory, staff: TicketStaff, elsewhere: Elsewhere
) -> None:
    with pytest.raises(NotFound):
        _draft(uow_factory, staff, elsewhere.conversation_id)


def test_the_draft_submitted_as_it_is_tells_the_buyer_the_number(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff, buyer_chat: BuyerChat,
    paid_order: Order,
) -> None:  # fmt: skip
    draft = _draft(uow_factory, staff, buyer_chat.conversation_id)
    ticket = make_ticket(
        uow_factory, staff, type=draft.type, title=draft.title, description=draft.description,
        priority=draft.priority, team_id=draft.team_id, assignee_id=staff.aftersale2.id,
        conversation_ids=[draft.conversation_id], order_ids=draft.order_ids,
    )  # fmt: skip
    assert ticket.number == 1001
    assert chat_lines(db, buyer_chat.conversation_id)[-1].startswith(
        "您的问题已登记为工单 #1001（你好，我买的羊绒大衣收到了，袖子有个破洞），"
        "投诉专员会尽快为您处理"
    )
