"""Comments: notes call colleagues in by @mention; replies reach the buyer in the chat as the
agent and answer the SLA; a refused comment leaves nothing — no row, no chat line, no
notification, no event."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from kefu.clock import FrozenClock
from kefu.conversations import service as conversations
from kefu.conversations.events import ReplySent
from kefu.conversations.models import Message
from kefu.db import make_session_factory
from kefu.errors import Conflict, Invalid, NotFound
from kefu.events import EventBus
from kefu.tickets import comments, notifications, sla
from kefu.tickets import service as tickets
from kefu.tickets.events import NotificationCreated, TicketCommented
from kefu.tickets.models import (
    CommentKind,
    Notification,
    Ticket,
    TicketAttachment,
    TicketComment,
    TicketMention,
    TicketStatus,
    TicketType,
)
from tests.factories import UowFactory, make_shop_with_staff
from tests.tickets.conftest import (
    BuyerChat,
    TicketStaff,
    chat_lines,
    fresh_ticket,
    history_fields,
    make_ticket,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _comment(
    uow_factory: UowFactory, staff: TicketStaff, ticket: Ticket, **options: object
) -> TicketComment:
    args: dict[str, object] = {"kind": CommentKind.NOTE, "author_agent_id": staff.aftersale.id}
    args.update(options)
    with uow_factory() as uow:
        return comments.add_comment(
            uow,
            shop_id=staff.shop_id,
            ticket_id=ticket.id,
            **args,  # type: ignore[arg-type]
        )


def _count(db: Engine, model: type[object], **where: object) -> int:
    with make_session_factory(db)() as session:
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return session.scalar(query) or 0


def _upload(uow_factory: UowFactory, tmp_path: Path, shop_id: int, **who: int) -> int:
    with uow_factory() as uow:
        return conversations.store_upload(
            uow,
            shop_id=shop_id,
            directory=tmp_path,
            data=PNG,
            filename="破洞.png",
            max_bytes=1_000_000,
            **who,
        ).id


# --- notes and mentions ----------------------------------------------------------------------


def test_a_note_mentioning_a_colleague_notifies_them_and_is_in_the_history(
    uow_factory: UowFactory, staff: TicketStaff, db: Engine, bus: EventBus
) -> None:
    ticket = make_ticket(uow_factory, staff)
    with bus.capture() as events:
        note = _comment(
            uow_factory,
            staff,
            ticket,
            body="@主管 买家要求全额退款，请审批",
            author_agent_id=staff.agent.id,
        )
    with make_session_factory(db)() as session:
        assert session.scalars(
            select(TicketMention.agent_id).where(TicketMention.comment_id == note.id)
        ).all() == [staff.supervisor.id]
        [told] = notifications.list_notifications(
            session, shop_id=staff.shop_id, agent_id=staff.supervisor.id
        )
    assert told.text == f"小美 在工单 #{ticket.number} 中提到了你：@主管 买家要求全额退款，请审批"
    assert told.link == f"/tickets/{ticket.id}"
    assert told.ticket_id == ticket.id
    assert history_fields(db, ticket.id)[-1] == (
        "comment",
        "",
        "内部备注：@主管 买家要求全额退款，请审批",
    )
    commented = [e for e in events if isinstance(e, TicketCommented)]
    assert [(e.comment_id, e.kind, e.mentioned_agent_ids) for e in commented] == [
        (note.id, "note", (staff.supervisor.id,))
    ]
    assert [e.agent_id for e in events if isinstance(e, NotificationCreated)] == [
        staff.supervisor.id
    ]
    # A note is the staff's own: the buyer's chat is untouched.
    assert not any(isinstance(e, ReplySent) for e in events)


def test_the_note_is_searchable_in_traditional_characters(
    uow_factory: UowFactory, staff: TicketStaff, db: Engine
) -> None:
    ticket = make_ticket(uow_factory, staff)
    _comment(uow_factory, staff, ticket, body="仓库确认已发出换货")
    assert "换货" in fresh_ticket(db, ticket.id).search_text


def test_mentioning_yourself_tells_nobody(
    uow_factory: UowFactory, staff: TicketStaff, db: Engine
) -> None:
    ticket = make_ticket(uow_factory, staff)
    _comment(
        uow_factory, staff, ticket, body="@小刘 记得明天回访", author_agent_id=staff.aftersale.id
    )
    assert _count(db, TicketMention) == 1  # still recorded: the note names them
    assert _count(db, Notification, agent_id=staff.aftersale.id) == 0


def test_an_english_reader_gets_the_mention_in_english(
    uow_factory: UowFactory, staff: TicketStaff, db: Engine
) -> None:
    from kefu.accounts import service as accounts

    with uow_factory() as uow:
        accounts.update_agent(
            uow,
            shop_id=staff.shop_id,
            agent_id=staff.supervisor.id,
            acting_agent_id=None,
            locale="en",
        )
    ticket = make_ticket(uow_factory, staff)
    _comment(uow_factory, staff, ticket, body="@主管 please approve")
    with make_session_factory(db)() as session:
        [told] = notifications.list_notifications(
            session, shop_id=staff.shop_id, agent_id=staff.supervisor.id
        )
    assert told.text == f"小刘 mentioned you on ticket #{ticket.number}: @主管 please approve"


def test_an_unknown_mention_is_refused_and_nothing_is_written_or_announced(
    uow_factory: UowFactory, staff: TicketStaff, buyer_chat: BuyerChat, db: Engine, bus: EventBus
) -> None:
    ticket = make_ticket(uow_factory, staff, conversation_ids=[buyer_chat.conversation_id])
    history_before = history_fields(db, ticket.id)
    with bus.capture() as events, pytest.raises(Invalid) as refused:
        _comment(uow_factory, staff, ticket, body="@主管 和 @李四 请看")
    assert refused.value.key == "errors.tickets.unknown_mention"
    assert refused.value.params == {"name": "李四"}
    assert events == []
    assert _count(db, TicketComment) == 0
    assert _count(db, TicketMention) == 0
    assert _count(db, Notification) == 0
    assert history_fields(db, ticket.id) == history_before


def test_the_bot_and_api_may_add_notes(
    uow_factory: UowFactory, staff: TicketStaff, db: Engine
) -> None:
    ticket = make_ticket(uow_factory, staff)
    note = _comment(
        uow_factory,
        staff,
        ticket,
        body="@小刘 买家在机器人对话里又追问了一次",
        author_agent_id=None,
        actor="bot",
    )
    assert note.author_agent_id is None
    with make_session_factory(db)() as session:
        [told] = notifications.list_notifications(
            session, shop_id=staff.shop_id, agent_id=staff.aftersale.id
        )
        assert told.text.startswith(f"机器人 在工单 #{ticket.number} 中提到了你")
        [row] = [
            r
            for r in tickets.history_of(session, shop_id=staff.shop_id, ticket_id=ticket.id)
            if r.field == "comment"
        ]
    assert (row.actor, row.actor_name) == ("bot", "机器人")
    _comment(
        uow_factory, staff, ticket, body="订单系统同步：已退款", author_agent_id=None, actor="api"
    )
    assert _count(db, TicketComment) == 2


# --- replies ---------------------------------------------------------------------------------


def test_a_reply_reaches_the_buyer_in_the_chat_as_the_agent(
    uow_factory: UowFactory,
    staff: TicketStaff,
    buyer_chat: BuyerChat,
    db: Engine,
    bus: EventBus,
    clock: FrozenClock,
) -> None:
    ticket = make_ticket(uow_factory, staff, conversation_ids=[buyer_chat.conversation_id])
    clock.advance(timedelta(minutes=20))
    with bus.capture() as events:
        reply = _comment(
            uow_factory,
            staff,
            ticket,
            kind=CommentKind.REPLY,
            body="王女士您好，已为您安排换货，新大衣明天发出。",
        )
    assert (
        chat_lines(db, buyer_chat.conversation_id)[-1]
        == "王女士您好，已为您安排换货，新大衣明天发出。"
    )
    with make_session_factory(db)() as session:
        message = session.scalars(
            select(Message)
            .where(Message.conversation_id == buyer_chat.conversation_id)
            .order_by(Message.seq.desc())
        ).first()
    assert message is not None
    assert (message.sender_type.value, message.sender_agent_id, message.sender_name) == (
        "agent",
        staff.aftersale.id,
        "小刘",
    )
    assert not message.is_private
    assert fresh_ticket(db, ticket.id).first_replied_at == clock.now()
    sent = [e for e in events if isinstance(e, ReplySent)]
    assert [e.conversation_id for e in sent] == [buyer_chat.conversation_id]
    assert [e.comment_id for e in events if isinstance(e, TicketCommented)] == [reply.id]
    assert history_fields(db, ticket.id)[-1][2].startswith("回复：王女士您好")


def test_the_reply_goes_to_the_conversation_the_buyer_wrote_in_last(
    uow_factory: UowFactory,
    staff: TicketStaff,
    buyer_chat: BuyerChat,
    db: Engine,
    clock: FrozenClock,
) -> None:
    from tests.tickets.conftest import start_chat

    clock.advance(timedelta(hours=1))
    later = start_chat(uow_factory, staff.shop_id, name="王芳(新)", lines=("还在吗？",))
    ticket = make_ticket(
        uow_factory, staff, conversation_ids=[buyer_chat.conversation_id, later.conversation_id]
    )
    _comment(uow_factory, staff, ticket, kind=CommentKind.REPLY, body="在的，马上处理")
    assert chat_lines(db, later.conversation_id)[-1] == "在的，马上处理"
    assert "在的，马上处理" not in chat_lines(db, buyer_chat.conversation_id)


def test_only_the_first_reply_sets_first_replied_at(
    uow_factory: UowFactory,
    staff: TicketStaff,
    buyer_chat: BuyerChat,
    db: Engine,
    clock: FrozenClock,
) -> None:
    ticket = make_ticket(uow_factory, staff, conversation_ids=[buyer_chat.conversation_id])
    _comment(uow_factory, staff, ticket, kind=CommentKind.REPLY, body="收到，正在核实")
    first = clock.now()
    clock.advance(timedelta(hours=2))
    _comment(uow_factory, staff, ticket, kind=CommentKind.REPLY, body="已核实，安排换货")
    assert fresh_ticket(db, ticket.id).first_replied_at == first


def test_a_reply_answers_the_sla_with_the_time_of_the_reply(
    uow_factory: UowFactory,
    staff: TicketStaff,
    monkeypatch: pytest.MonkeyPatch,
    clock: FrozenClock,
) -> None:
    ticket = make_ticket(uow_factory, staff)
    calls: list[tuple[int, datetime]] = []
    real = sla.ticket_replied

    def spy(uow: object, *, ticket: Ticket, at: datetime) -> None:
        calls.append((ticket.id, at))
        real(uow, ticket=ticket, at=at)  # type: ignore[arg-type]

    monkeypatch.setattr(sla, "ticket_replied", spy)
    clock.advance(timedelta(minutes=5))
    _comment(uow_factory, staff, ticket, body="只是备注")
    assert calls == []  # a note answers nobody
    _comment(uow_factory, staff, ticket, kind=CommentKind.REPLY, body="已处理")
    assert calls == [(ticket.id, clock.now())]


def test_a_reply_on_a_ticket_without_a_chat_is_only_recorded(
    uow_factory: UowFactory, staff: TicketStaff, db: Engine, bus: EventBus
) -> None:
    ticket = make_ticket(
        uow_factory,
        staff,
        type=TicketType.INTERNAL,
        title="请发货组补发赠品",
        requester_team_id=staff.teams["presale"],
    )
    long_answer = "已补发。" * 1500  # longer than a chat message could be: fine on the ticket
    with bus.capture() as events:
        _comment(uow_factory, staff, ticket, kind=CommentKind.REPLY, body=long_answer)
    assert not any(isinstance(e, ReplySent) for e in events)
    assert fresh_ticket(db, ticket.id).first_replied_at is not None
    assert _count(db, TicketComment, kind=CommentKind.REPLY) == 1


def test_a_reply_too_long_for_the_chat_is_refused_before_anything_is_written(
    uow_factory: UowFactory, staff: TicketStaff, buyer_chat: BuyerChat, db: Engine
) -> None:
    ticket = make_ticket(uow_factory, staff, conversation_ids=[buyer_chat.conversation_id])
    lines_before = chat_lines(db, buyer_chat.conversation_id)
    with pytest.raises(Invalid) as refused:
        _comment(uow_factory, staff, ticket, kind=CommentKind.REPLY, body="很" * 5001)
    assert refused.value.key == "errors.tickets.reply_too_long"
    assert refused.value.params["limit"] == conversations.MAX_MESSAGE_LENGTH
    assert _count(db, TicketComment) == 0
    assert chat_lines(db, buyer_chat.conversation_id) == lines_before


def test_a_reply_is_a_persons(uow_factory: UowFactory, staff: TicketStaff, db: Engine) -> None:
    ticket = make_ticket(uow_factory, staff)
    with pytest.raises(Invalid) as refused:
        _comment(
            uow_factory,
            staff,
            ticket,
            kind=CommentKind.REPLY,
            body="您好",
            author_agent_id=None,
            actor="bot",
        )
    assert refused.value.key == "errors.tickets.reply_needs_agent"
    assert _count(db, TicketComment) == 0


def test_a_reply_sends_the_staffs_pictures_but_not_the_buyers_own_back(
    uow_factory: UowFactory,
    staff: TicketStaff,
    buyer_chat: BuyerChat,
    db: Engine,
    tmp_path: Path,
) -> None:
    ticket = make_ticket(uow_factory, staff, conversation_ids=[buyer_chat.conversation_id])
    ours = _upload(uow_factory, tmp_path, staff.shop_id, agent_id=staff.aftersale.id)
    theirs = _upload(uow_factory, tmp_path, staff.shop_id, customer_id=buyer_chat.customer_id)
    reply = _comment(
        uow_factory,
        staff,
        ticket,
        kind=CommentKind.REPLY,
        body="这是质检照片",
        attachment_ids=[ours, theirs],
    )
    with make_session_factory(db)() as session:
        sent = session.execute(
            select(Message.body, Message.attachment_id)
            .where(Message.conversation_id == buyer_chat.conversation_id)
            .order_by(Message.seq.desc())
            .limit(2)
        ).all()
        on_ticket = session.execute(
            select(TicketAttachment.attachment_id, TicketAttachment.comment_id).where(
                TicketAttachment.ticket_id == ticket.id
            )
        ).all()
    assert [tuple(row) for row in reversed(sent)] == [("这是质检照片", None), ("", ours)]
    assert sorted(on_ticket) == sorted([(ours, reply.id), (theirs, reply.id)])


# --- what every comment must be --------------------------------------------------------------


def test_a_picture_alone_is_a_comment_but_nothing_at_all_is_not(
    uow_factory: UowFactory, staff: TicketStaff, db: Engine, tmp_path: Path
) -> None:
    ticket = make_ticket(uow_factory, staff)
    for body in ("", "   \n  "):
        with pytest.raises(Invalid) as refused:
            _comment(uow_factory, staff, ticket, body=body)
        assert refused.value.key == "errors.tickets.comment_empty"
    photo = _upload(uow_factory, tmp_path, staff.shop_id, agent_id=staff.aftersale.id)
    note = _comment(uow_factory, staff, ticket, body="", attachment_ids=[photo])
    assert note.body == ""
    assert history_fields(db, ticket.id)[-1] == ("comment", "", "内部备注：破洞.png")


def test_a_comment_over_ten_thousand_characters_is_refused_naming_the_limit(
    uow_factory: UowFactory, staff: TicketStaff, db: Engine
) -> None:
    ticket = make_ticket(uow_factory, staff)
    _comment(uow_factory, staff, ticket, body="字" * comments.MAX_COMMENT_LENGTH)
    with pytest.raises(Invalid) as refused:
        _comment(uow_factory, staff, ticket, body="字" * (comments.MAX_COMMENT_LENGTH + 1))
    assert refused.value.key == "errors.tickets.comment_too_long"
    assert refused.value.params == {"length": 10_001, "limit": 10_000}
    assert _count(db, TicketComment) == 1


def test_an_unknown_kind_and_a_control_character_are_refused(
    uow_factory: UowFactory, staff: TicketStaff
) -> None:
    ticket = make_ticket(uow_factory, staff)
    with pytest.raises(Invalid) as refused:
        _comment(uow_factory, staff, ticket, kind="memo", body="x")
    assert refused.value.key == "errors.tickets.bad_kind"
    with pytest.raises(Invalid) as refused:
        _comment(uow_factory, staff, ticket, body="坏\x00字")
    assert refused.value.key == "errors.control_char"


def test_a_closed_ticket_takes_no_comment(
    uow_factory: UowFactory, staff: TicketStaff, buyer_chat: BuyerChat, db: Engine, bus: EventBus
) -> None:
    ticket = make_ticket(uow_factory, staff, conversation_ids=[buyer_chat.conversation_id])
    with uow_factory() as uow:
        tickets.change_status(
            uow,
            shop_id=staff.shop_id,
            ticket_id=ticket.id,
            status=TicketStatus.CLOSED,
            actor_agent_id=staff.agent.id,
        )
    lines_before = chat_lines(db, buyer_chat.conversation_id)
    for kind in (CommentKind.NOTE, CommentKind.REPLY):
        with bus.capture() as events, pytest.raises(Conflict) as refused:
            _comment(uow_factory, staff, ticket, kind=kind, body="补充一句")
        assert refused.value.key == "errors.tickets.closed_is_final"
        assert events == []
    assert _count(db, TicketComment) == 0
    assert chat_lines(db, buyer_chat.conversation_id) == lines_before


def test_another_shops_ticket_is_not_found(uow_factory: UowFactory, staff: TicketStaff) -> None:
    ticket = make_ticket(uow_factory, staff)
    other = make_shop_with_staff(uow_factory, "other")
    with uow_factory() as uow, pytest.raises(NotFound):
        comments.add_comment(
            uow,
            shop_id=other.shop.id,
            ticket_id=ticket.id,
            kind=CommentKind.NOTE,
            body="看看",
            author_agent_id=other.agent.id,
        )


def test_an_agent_of_another_shop_cannot_write(
    uow_factory: UowFactory, staff: TicketStaff, db: Engine
) -> None:
    ticket = make_ticket(uow_factory, staff)
    other = make_shop_with_staff(uow_factory, "other")
    with pytest.raises(Invalid) as refused:
        _comment(uow_factory, staff, ticket, body="看看", author_agent_id=other.agent.id)
    assert refused.value.field == "actor_agent_id"
    assert _count(db, TicketComment) == 0


def test_another_shops_picture_is_refused(
    uow_factory: UowFactory, staff: TicketStaff, db: Engine, tmp_path: Path
) -> None:
    ticket = make_ticket(uow_factory, staff)
    other = make_shop_with_staff(uow_factory, "other")
    theirs = _upload(uow_factory, tmp_path, other.shop.id, agent_id=other.agent.id)
    with pytest.raises(Invalid) as refused:
        _comment(uow_factory, staff, ticket, body="看图", attachment_ids=[theirs])
    assert refused.value.key == "errors.tickets.attachment_not_found"
    assert _count(db, TicketComment) == 0


def test_comments_of_lists_oldest_first(uow_factory: UowFactory, staff: TicketStaff) -> None:
    ticket = make_ticket(uow_factory, staff)
    first = _comment(uow_factory, staff, ticket, body="一")
    second = _comment(uow_factory, staff, ticket, body="二")
    with uow_factory() as uow:
        listed = comments.comments_of(uow.session, shop_id=staff.shop_id, ticket_id=ticket.id)
    assert [c.id for c in listed] == [first.id, second.id]
