"""Merging two tickets about one problem and splitting one that turned out to be two: the
target reads the whole story, the source is closed pointing at it with its clocks
cancelled; a split ticket takes the chosen comments with it. A refusal changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from kefu.commerce.models import Order
from kefu.db import make_session_factory
from kefu.errors import Conflict, Invalid, NotFound
from kefu.events import EventBus
from kefu.tickets import comments, merging
from kefu.tickets import service as tickets
from kefu.tickets.events import TicketCreated, TicketsMerged, TicketSplit
from kefu.tickets.models import (
    CommentKind,
    SlaState,
    SlaTarget,
    Ticket,
    TicketAttachment,
    TicketComment,
    TicketMention,
    TicketPriority,
    TicketStatus,
)
from tests.factories import UowFactory
from tests.tickets.conftest import (
    BuyerChat,
    Elsewhere,
    TicketStaff,
    chat_lines,
    fresh_ticket,
    history_fields,
    make_ticket,
    snapshot,
    upload,
)


def _merge(uow_factory: UowFactory, staff: TicketStaff, source: Ticket, target: Ticket) -> Ticket:
    with uow_factory() as uow:
        return merging.merge_tickets(
            uow,
            shop_id=staff.shop_id,
            source_id=source.id,
            target_id=target.id,
            actor_agent_id=staff.aftersale.id,
        )


def _note(
    uow_factory: UowFactory, staff: TicketStaff, ticket: Ticket, body: str, **more: object
) -> int:
    with uow_factory() as uow:
        return comments.add_comment(
            uow,
            shop_id=staff.shop_id,
            ticket_id=ticket.id,
            kind=CommentKind.NOTE,
            body=body,
            author_agent_id=staff.aftersale.id,
            **more,  # type: ignore[arg-type]
        ).id


def _read(db: Engine, ticket_id: int) -> tuple[list[str], list[int], list[int], list[int]]:
    """(tags, conversation ids, order ids, attachment ids) of a ticket, as stored."""
    with make_session_factory(db)() as session:
        detail = tickets.ticket_detail(
            session, shop_id=fresh_ticket(db, ticket_id).shop_id, ticket_id=ticket_id
        )
        return (
            detail.tags,
            [c.id for c in detail.conversations],
            [o.id for o in detail.orders],
            [f.id for f in detail.attachments],
        )


# --- merge -----------------------------------------------------------------------------------


def test_merging_gives_the_target_everything_and_closes_the_source_pointing_at_it(
    uow_factory: UowFactory,
    staff: TicketStaff,
    buyer_chat: BuyerChat,
    paid_order: Order,
    db: Engine,
    bus: EventBus,
    tmp_path: Path,
) -> None:
    photo = upload(uow_factory, staff.shop_id, tmp_path, agent_id=staff.aftersale.id)
    source = make_ticket(
        uow_factory,
        staff,
        title="大衣破洞",
        description="左袖口有一个约1厘米的破洞",
        conversation_ids=[buyer_chat.conversation_id],
        order_ids=[paid_order.id],
        tags=["破洞", "加急"],
        attachment_ids=[photo],
    )
    target = make_ticket(uow_factory, staff, title="王芳的换货", tags=["换货", "加急"])
    lines_before = chat_lines(db, buyer_chat.conversation_id)

    with bus.capture() as events:
        returned = _merge(uow_factory, staff, source, target)

    assert returned.id == target.id
    tags, conversation_ids, order_ids, files = _read(db, target.id)
    assert tags == ["换货", "加急", "破洞"]
    assert conversation_ids == [buyer_chat.conversation_id]
    assert order_ids == [paid_order.id]
    assert files == [photo]
    merged_target = fresh_ticket(db, target.id)
    assert merged_target.requester_customer_id == buyer_chat.customer_id
    assert merged_target.status is not TicketStatus.CLOSED
    with make_session_factory(db)() as session:
        [note] = session.scalars(
            select(TicketComment).where(TicketComment.ticket_id == target.id)
        ).all()
        file_row = session.scalars(
            select(TicketAttachment).where(TicketAttachment.ticket_id == target.id)
        ).one()
    assert note.kind is CommentKind.NOTE
    assert note.body == f"已合并工单 #{source.number}「大衣破洞」：\n左袖口有一个约1厘米的破洞"
    assert file_row.comment_id == note.id  # the file arrives with the note saying whence
    assert "破洞" in merged_target.search_text

    closed = fresh_ticket(db, source.id)
    assert closed.status is TicketStatus.CLOSED
    assert closed.merged_into_id == target.id
    assert closed.closed_at is not None
    # The source keeps its own links: its page still says what it was about.
    assert _read(db, source.id)[1] == [buyer_chat.conversation_id]

    merged = (f"#{source.number} 大衣破洞", f"#{target.number} 王芳的换货")
    assert history_fields(db, source.id)[-2:] == [
        ("merged", *merged),
        ("status", "new", "closed"),
    ]
    target_history = history_fields(db, target.id)
    assert ("merged", *merged) in target_history
    assert ("tags", "换货、加急", "换货、加急、破洞") in target_history
    assert ("order", "", paid_order.order_no) in target_history
    assert [f for f, _, _ in target_history].count("conversation") == 1
    assert ("requester", "", "王女士") in target_history

    assert [(e.source_id, e.target_id) for e in events if isinstance(e, TicketsMerged)] == [
        (source.id, target.id)
    ]
    # Merging is staff bookkeeping: the buyer is not told a ticket closed.
    assert chat_lines(db, buyer_chat.conversation_id) == lines_before


def test_the_source_clocks_are_cancelled_and_the_target_keeps_its_own(
    uow_factory: UowFactory, staff: TicketStaff, db: Engine
) -> None:
    source = make_ticket(uow_factory, staff)
    target = make_ticket(uow_factory, staff, title="同一个问题")
    _merge(uow_factory, staff, source, target)
    with make_session_factory(db)() as session:
        states = {
            ticket_id: {
                t.state
                for t in session.scalars(select(SlaTarget).where(SlaTarget.ticket_id == ticket_id))
            }
            for ticket_id in (source.id, target.id)
        }
    assert states[source.id] == {SlaState.CANCELLED}
    assert states[target.id] == {SlaState.ACTIVE}


def test_links_the_target_already_has_are_not_doubled(
    uow_factory: UowFactory, staff: TicketStaff, buyer_chat: BuyerChat, db: Engine
) -> None:
    source = make_ticket(uow_factory, staff, conversation_ids=[buyer_chat.conversation_id])
    target = make_ticket(uow_factory, staff, conversation_ids=[buyer_chat.conversation_id])
    _merge(uow_factory, staff, source, target)
    assert _read(db, target.id)[1] == [buyer_chat.conversation_id]
    assert "conversation" not in [f for f, _, _ in history_fields(db, target.id)]


def test_a_solved_source_may_be_merged(
    uow_factory: UowFactory, staff: TicketStaff, db: Engine
) -> None:
    source = make_ticket(uow_factory, staff)
    with uow_factory() as uow:
        tickets.change_status(
            uow,
            shop_id=staff.shop_id,
            ticket_id=source.id,
            status=TicketStatus.SOLVED,
            actor_agent_id=staff.agent.id,
        )
    target = make_ticket(uow_factory, staff, title="后续")
    _merge(uow_factory, staff, source, target)
    assert fresh_ticket(db, source.id).status is TicketStatus.CLOSED


def test_merging_into_itself_is_refused(
    uow_factory: UowFactory, staff: TicketStaff, db: Engine
) -> None:
    ticket = make_ticket(uow_factory, staff)
    before = snapshot(db)
    with pytest.raises(Invalid) as refused:
        _merge(uow_factory, staff, ticket, ticket)
    assert refused.value.key == "errors.tickets.merge_same"
    assert snapshot(db) == before


def test_a_closed_ticket_is_neither_source_nor_target(
    uow_factory: UowFactory, staff: TicketStaff, db: Engine, bus: EventBus
) -> None:
    open_one = make_ticket(uow_factory, staff)
    closed = make_ticket(uow_factory, staff, title="已关闭的")
    with uow_factory() as uow:
        tickets.change_status(
            uow,
            shop_id=staff.shop_id,
            ticket_id=closed.id,
            status=TicketStatus.CLOSED,
            actor_agent_id=staff.agent.id,
        )
    before = snapshot(db)
    for source, target in ((closed, open_one), (open_one, closed)):
        with bus.capture() as events, pytest.raises(Conflict) as refused:
            _merge(uow_factory, staff, source, target)
        assert refused.value.key == "errors.tickets.closed_is_final"
        assert refused.value.params == {"number": closed.number}
        assert events == []
    assert snapshot(db) == before


def test_a_merged_ticket_says_where_it_went(
    uow_factory: UowFactory, staff: TicketStaff, db: Engine
) -> None:
    first = make_ticket(uow_factory, staff)
    second = make_ticket(uow_factory, staff, title="第二张")
    third = make_ticket(uow_factory, staff, title="第三张")
    _merge(uow_factory, staff, first, second)
    with pytest.raises(Conflict) as refused:
        _merge(uow_factory, staff, first, third)
    assert refused.value.key == "errors.tickets.already_merged"
    assert refused.value.params == {"number": first.number, "into": second.number}
    assert f"#{first.number} was already merged into #{second.number}" in refused.value.message


def test_another_shops_ticket_cannot_be_merged_either_way(
    uow_factory: UowFactory, staff: TicketStaff, elsewhere: Elsewhere, db: Engine
) -> None:
    ours = make_ticket(uow_factory, staff)
    with uow_factory() as uow:
        theirs = tickets.create_ticket(
            uow,
            shop_id=elsewhere.staff.shop.id,
            type=ours.type,
            title="别家的",
            actor_agent_id=elsewhere.staff.agent.id,
        )
    before = snapshot(db)
    for source, target in ((ours, theirs), (theirs, ours)):
        with pytest.raises(NotFound):
            _merge(uow_factory, staff, source, target)
    assert snapshot(db) == before


def test_too_many_files_together_refuses_the_merge(
    uow_factory: UowFactory, staff: TicketStaff, db: Engine, tmp_path: Path
) -> None:
    files = [
        upload(uow_factory, staff.shop_id, tmp_path, agent_id=staff.agent.id) for _ in range(21)
    ]
    source = make_ticket(uow_factory, staff, attachment_ids=files[:11])
    target = make_ticket(uow_factory, staff, attachment_ids=files[11:])
    before = snapshot(db)
    with pytest.raises(Invalid) as refused:
        _merge(uow_factory, staff, source, target)
    assert refused.value.key == "errors.tickets.too_many_attachments"
    assert snapshot(db) == before


# --- split -----------------------------------------------------------------------------------


def test_splitting_moves_the_chosen_comments_and_copies_the_chat_and_order(
    uow_factory: UowFactory,
    staff: TicketStaff,
    buyer_chat: BuyerChat,
    paid_order: Order,
    db: Engine,
    bus: EventBus,
    tmp_path: Path,
) -> None:
    source = make_ticket(
        uow_factory,
        staff,
        title="大衣破洞，另外发票抬头错了",
        priority=TicketPriority.HIGH,
        team_id=staff.teams["aftersale"],
        conversation_ids=[buyer_chat.conversation_id],
        order_ids=[paid_order.id],
    )
    photo = upload(uow_factory, staff.shop_id, tmp_path, agent_id=staff.aftersale.id)
    stays = _note(uow_factory, staff, source, "破洞：已安排换货")
    moves = _note(uow_factory, staff, source, "@主管 发票抬头要改成公司名", attachment_ids=[photo])

    with bus.capture() as events, uow_factory() as uow:
        new = merging.split_ticket(
            uow,
            shop_id=staff.shop_id,
            ticket_id=source.id,
            title="发票抬头错误",
            actor_agent_id=staff.aftersale.id,
            comment_ids=[moves],
            conversation_ids=[buyer_chat.conversation_id],
            order_ids=[paid_order.id],
        )

    split = fresh_ticket(db, new.id)
    assert (split.type, split.team_id, split.priority, split.requester_customer_id) == (
        source.type,
        staff.teams["aftersale"],
        TicketPriority.HIGH,
        buyer_chat.customer_id,
    )
    assert split.split_from_id == source.id
    assert split.number == source.number + 1
    with make_session_factory(db)() as session:
        on_new = session.scalars(
            select(TicketComment.id).where(TicketComment.ticket_id == new.id)
        ).all()
        on_source = session.scalars(
            select(TicketComment.id).where(TicketComment.ticket_id == source.id)
        ).all()
        mention = session.scalars(
            select(TicketMention).where(TicketMention.comment_id == moves)
        ).one()
        file_row = session.scalars(
            select(TicketAttachment).where(TicketAttachment.attachment_id == photo)
        ).one()
    assert on_new == [moves]
    assert on_source == [stays]
    assert mention.agent_id == staff.supervisor.id
    assert (file_row.ticket_id, file_row.comment_id) == (new.id, moves)
    assert "发票" in split.search_text
    assert "发票" not in fresh_ticket(db, source.id).search_text.replace("另外发票抬头错了", "")
    # Copied, not moved: the original problem stays linked to the same chat and order.
    assert _read(db, source.id)[1:3] == ([buyer_chat.conversation_id], [paid_order.id])
    assert _read(db, new.id)[1:3] == ([buyer_chat.conversation_id], [paid_order.id])

    pair = (f"#{source.number} 大衣破洞，另外发票抬头错了", f"#{split.number} 发票抬头错误")
    assert history_fields(db, source.id)[-1] == ("split", *pair)
    assert ("split", *pair) in history_fields(db, new.id)
    assert [(e.source_id, e.new_id) for e in events if isinstance(e, TicketSplit)] == [
        (source.id, new.id)
    ]
    assert [e.ticket_id for e in events if isinstance(e, TicketCreated)] == [new.id]
    # The buyer hears the new number in the chat, like for any new ticket.
    assert f"#{split.number}" in chat_lines(db, buyer_chat.conversation_id)[-1]


def test_splitting_with_nothing_chosen_opens_an_empty_sibling(
    uow_factory: UowFactory, staff: TicketStaff, db: Engine
) -> None:
    source = make_ticket(uow_factory, staff)
    with uow_factory() as uow:
        new = merging.split_ticket(
            uow,
            shop_id=staff.shop_id,
            ticket_id=source.id,
            title="另一个问题",
            actor_agent_id=staff.agent.id,
        )
    assert fresh_ticket(db, new.id).description == f"拆分自工单 #{source.number}（大衣袖子破洞）"


def test_a_split_refuses_what_is_not_the_tickets_own_and_writes_nothing(
    uow_factory: UowFactory,
    staff: TicketStaff,
    buyer_chat: BuyerChat,
    db: Engine,
    bus: EventBus,
) -> None:
    source = make_ticket(uow_factory, staff)
    other = make_ticket(uow_factory, staff, title="别的工单")
    elsewhere_comment = _note(uow_factory, staff, other, "别的工单的备注")
    before = snapshot(db)
    cases: list[tuple[dict[str, object], str]] = [
        ({"comment_ids": [elsewhere_comment]}, "errors.tickets.comment_not_on_ticket"),
        ({"comment_ids": [999_999]}, "errors.tickets.comment_not_on_ticket"),
        ({"conversation_ids": [buyer_chat.conversation_id]}, "errors.tickets.not_linked"),
        ({"title": "  "}, "errors.tickets.title_required"),
    ]
    for options, key in cases:
        args: dict[str, object] = {"title": "拆出来的"}
        args.update(options)
        with bus.capture() as events, uow_factory() as uow, pytest.raises(Invalid) as refused:
            merging.split_ticket(
                uow,
                shop_id=staff.shop_id,
                ticket_id=source.id,
                actor_agent_id=staff.agent.id,
                **args,  # type: ignore[arg-type]
            )
        assert refused.value.key == key
        assert events == []
    assert snapshot(db) == before


def test_a_closed_ticket_cannot_be_split(
    uow_factory: UowFactory, staff: TicketStaff, db: Engine
) -> None:
    source = make_ticket(uow_factory, staff)
    with uow_factory() as uow:
        tickets.change_status(
            uow,
            shop_id=staff.shop_id,
            ticket_id=source.id,
            status=TicketStatus.CLOSED,
            actor_agent_id=staff.agent.id,
        )
    before = snapshot(db)
    with uow_factory() as uow, pytest.raises(Conflict):
        merging.split_ticket(
            uow,
            shop_id=staff.shop_id,
            ticket_id=source.id,
            title="拆",
            actor_agent_id=staff.agent.id,
        )
    assert snapshot(db) == before
