"""What the buyer reads about their ticket in the chat: which moves they hear of, the
default wording, and how a template is filled."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from kefu.conversations.events import ReplySent
from kefu.conversations.models import Message, SenderType
from kefu.db import make_session_factory
from kefu.events import EventBus
from kefu.tickets import notices
from kefu.tickets.models import TicketStatus
from tests.factories import UowFactory
from tests.tickets.conftest import BuyerChat, TicketStaff, make_ticket

S = TicketStatus
# (from, to) → the notice the buyer gets; every other move is silent.
TOLD = {
    (S.NEW, S.PENDING_BUYER): "pending_buyer",
    (S.OPEN, S.PENDING_BUYER): "pending_buyer",
    (S.PENDING_INTERNAL, S.PENDING_BUYER): "pending_buyer",
    (S.PENDING_BUYER, S.OPEN): "open",
    (S.NEW, S.SOLVED): "solved",
    (S.OPEN, S.SOLVED): "solved",
    (S.PENDING_BUYER, S.SOLVED): "solved",
    (S.PENDING_INTERNAL, S.SOLVED): "solved",
    (S.NEW, S.CLOSED): "closed",
    (S.OPEN, S.CLOSED): "closed",
    (S.PENDING_BUYER, S.CLOSED): "closed",
    (S.PENDING_INTERNAL, S.CLOSED): "closed",
}


# Every move change_status allows (nothing leaves closed; solved only closes).
MOVES = [
    (old, new)
    for old in S
    for new in S
    if old is not new and old is not S.CLOSED and (old is not S.SOLVED or new is S.CLOSED)
]


@pytest.mark.parametrize(("old", "new"), MOVES)
def test_which_moves_the_buyer_hears_of(old: S, new: S) -> None:
    assert notices.notice_for_status(old, new) == TOLD.get((old, new))


def test_every_default_wording_is_kind_chinese_and_fillable() -> None:
    assert set(notices.DEFAULT_NOTICES) == set(notices.NOTICE_KEYS)
    for key, text in notices.DEFAULT_NOTICES.items():
        notices.check_template(key, text)  # no unknown variable, no stray brace
        assert "#{number}" in text
        assert len(text) <= notices.MAX_TEMPLATE_LENGTH
    assert "如仍有疑问请随时告诉我们" in notices.DEFAULT_NOTICES["solved"]


def test_filling_replaces_names_only() -> None:
    values = {"number": "1001", "title": "{team}", "team": "售后", "status": "处理中"}
    assert notices.render("#{number} {title} {{字面}} {unknown} {status}", values) == (
        "#1001 {team} {字面} {unknown} 处理中"  # a title's own braces are the buyer's text
    )
    assert notices.render("{number.__class__}", values) == "{number.__class__}"


def test_the_buyer_is_told_as_the_shop_in_the_latest_linked_chat(
    uow_factory: UowFactory, db: Engine, bus: EventBus, staff: TicketStaff,
    buyer_chat: BuyerChat,
) -> None:  # fmt: skip
    with bus.capture() as events:
        make_ticket(uow_factory, staff, conversation_ids=[buyer_chat.conversation_id])
    with make_session_factory(db)() as session:
        message = session.scalars(
            select(Message)
            .where(Message.conversation_id == buyer_chat.conversation_id)
            .order_by(Message.seq.desc())
        ).first()
    assert message is not None
    assert (message.sender_type, message.is_private) == (SenderType.SYSTEM, False)
    # No team yet: the buyer is told "客服专员" will handle it.
    assert message.body == (
        "您的问题已登记为工单 #1001（大衣袖子破洞），客服专员会尽快为您处理，"
        "处理进展会在这里通知您。"
    )
    # The buyer's open chat shows it at once (the realtime edge sends ReplySent frames).
    assert [e.message_id for e in events if isinstance(e, ReplySent)] == [message.id]


def test_a_ticket_without_a_chat_tells_nobody(uow_factory: UowFactory, staff: TicketStaff) -> None:
    ticket = make_ticket(uow_factory, staff)
    with uow_factory() as uow:
        assert notices.tell_buyer(uow, ticket=ticket, notice="solved") is None
    with uow_factory() as uow, pytest.raises(ValueError, match="unknown notice 'thanks'"):
        notices.tell_buyer(uow, ticket=ticket, notice="thanks")
