"""A ticket's status: what may follow what (closed is final, solved only closes or is
reopened), what the buyer reads in the chat on the way, and the history of it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from kefu.clock import FrozenClock
from kefu.errors import Conflict
from kefu.events import EventBus
from kefu.tickets import service as tickets
from kefu.tickets.events import TicketUpdated
from kefu.tickets.models import Ticket, TicketStatus
from tests.factories import UowFactory
from tests.tickets.conftest import (
    BuyerChat,
    TicketStaff,
    chat_lines,
    fresh_ticket,
    history_fields,
    make_ticket,
    snapshot,
)

S = TicketStatus


def _move(uow_factory: UowFactory, staff: TicketStaff, ticket: Ticket, status: S) -> None:
    with uow_factory() as uow:
        tickets.change_status(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, status=status,
            actor_agent_id=staff.aftersale.id,
        )  # fmt: skip


def _reopen(uow_factory: UowFactory, staff: TicketStaff, ticket: Ticket, reason: str = "") -> None:
    with uow_factory() as uow:
        tickets.reopen_ticket(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, actor_agent_id=staff.aftersale.id,
            reason=reason,
        )  # fmt: skip


@pytest.fixture
def chat_ticket(uow_factory: UowFactory, staff: TicketStaff, buyer_chat: BuyerChat) -> Ticket:
    return make_ticket(
        uow_factory, staff, team_id=staff.teams["aftersale"], assignee_id=staff.aftersale.id,
        conversation_ids=[buyer_chat.conversation_id],
    )  # fmt: skip


def test_the_buyer_hears_only_what_matters_to_them(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff, buyer_chat: BuyerChat,
    chat_ticket: Ticket,
) -> None:  # fmt: skip
    told: list[str] = []

    def move(status: S) -> None:
        before = len(chat_lines(db, buyer_chat.conversation_id))
        _move(uow_factory, staff, chat_ticket, status)
        told.extend(chat_lines(db, buyer_chat.conversation_id)[before:])

    move(S.PENDING_INTERNAL)  # another team works on it: the shop's own business
    assert told == []
    move(S.PENDING_BUYER)
    assert told == [
        "关于工单 #1001（大衣袖子破洞），我们需要向您确认一些信息，"
        "麻烦您方便时在这里回复我们，谢谢！"
    ]
    move(S.OPEN)  # the buyer answered
    assert told[1] == "感谢您的回复！工单 #1001 已继续为您处理，有进展会第一时间告诉您。"
    move(S.SOLVED)
    assert told[2] == (
        "您反馈的问题（工单 #1001）已处理完毕，感谢您的耐心等待！如仍有疑问请随时告诉我们。"
    )
    move(S.CLOSED)  # after solved: bookkeeping, the buyer already knows
    assert len(told) == 3
    assert [row for row in history_fields(db, chat_ticket.id) if row[0] == "status"] == [
        ("status", "open", "pending_internal"),
        ("status", "pending_internal", "pending_buyer"),
        ("status", "pending_buyer", "open"),
        ("status", "open", "solved"),
        ("status", "solved", "closed"),
    ]


def test_closing_an_unsolved_ticket_tells_the_buyer(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff, buyer_chat: BuyerChat,
    chat_ticket: Ticket,
) -> None:  # fmt: skip
    _move(uow_factory, staff, chat_ticket, S.CLOSED)
    assert chat_lines(db, buyer_chat.conversation_id)[-1] == (
        "工单 #1001 已关闭。如还有其他需要，欢迎随时联系我们，祝您生活愉快！"
    )


def test_open_after_new_or_internal_work_is_not_news_for_the_buyer(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff, buyer_chat: BuyerChat
) -> None:
    ticket = make_ticket(uow_factory, staff, conversation_ids=[buyer_chat.conversation_id])
    lines = len(chat_lines(db, buyer_chat.conversation_id))
    _move(uow_factory, staff, ticket, S.OPEN)
    _move(uow_factory, staff, ticket, S.PENDING_INTERNAL)
    _move(uow_factory, staff, ticket, S.OPEN)
    assert len(chat_lines(db, buyer_chat.conversation_id)) == lines


def test_the_agent_may_keep_a_status_change_from_the_buyer(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff, buyer_chat: BuyerChat,
    chat_ticket: Ticket,
) -> None:  # fmt: skip
    lines = len(chat_lines(db, buyer_chat.conversation_id))
    with uow_factory() as uow:
        tickets.change_status(
            uow, shop_id=staff.shop_id, ticket_id=chat_ticket.id, status=S.SOLVED,
            actor_agent_id=staff.aftersale.id, tell_buyer=False,
        )  # fmt: skip
    assert len(chat_lines(db, buyer_chat.conversation_id)) == lines


def test_solved_and_closed_are_stamped(
    uow_factory: UowFactory, db: Engine, clock: FrozenClock, staff: TicketStaff
) -> None:
    ticket = make_ticket(uow_factory, staff)
    clock.advance(timedelta(hours=2))
    _move(uow_factory, staff, ticket, S.SOLVED)
    assert fresh_ticket(db, ticket.id).solved_at == clock.now()
    clock.advance(timedelta(days=1))
    _move(uow_factory, staff, ticket, S.CLOSED)
    stored = fresh_ticket(db, ticket.id)
    assert stored.closed_at == clock.now()
    assert stored.updated_at == clock.now()


@pytest.mark.parametrize("target", [S.NEW, S.OPEN, S.PENDING_BUYER, S.PENDING_INTERNAL, S.SOLVED])
def test_a_closed_ticket_never_moves_backwards(
    uow_factory: UowFactory, db: Engine, bus: EventBus, staff: TicketStaff,
    chat_ticket: Ticket, target: S,
) -> None:  # fmt: skip
    _move(uow_factory, staff, chat_ticket, S.CLOSED)
    before = snapshot(db)
    with bus.capture() as events, pytest.raises(Conflict) as refused:
        _move(uow_factory, staff, chat_ticket, target)
    assert refused.value.key == "errors.tickets.closed_is_final"
    assert "closed" in refused.value.message and "#1001" in refused.value.message
    assert snapshot(db) == before  # no status, no history row, no message to the buyer
    assert events == []
    with pytest.raises(Conflict) as reopened:
        _reopen(uow_factory, staff, chat_ticket, reason="买家说还没好")
    assert reopened.value.key == "errors.tickets.closed_is_final"
    assert snapshot(db) == before


@pytest.mark.parametrize("target", [S.NEW, S.OPEN, S.PENDING_BUYER, S.PENDING_INTERNAL])
def test_a_solved_ticket_is_reopened_not_moved_back(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff, chat_ticket: Ticket, target: S
) -> None:
    _move(uow_factory, staff, chat_ticket, S.SOLVED)
    before = snapshot(db)
    with pytest.raises(Conflict) as refused:
        _move(uow_factory, staff, chat_ticket, target)
    assert refused.value.key == "errors.tickets.reopen_first"
    assert snapshot(db) == before


def test_reopening_a_solved_ticket(
    uow_factory: UowFactory, db: Engine, bus: EventBus, staff: TicketStaff, chat_ticket: Ticket
) -> None:
    _move(uow_factory, staff, chat_ticket, S.SOLVED)
    with bus.capture() as events:
        _reopen(uow_factory, staff, chat_ticket, reason="买家说袖子还是破的")
    stored = fresh_ticket(db, chat_ticket.id)
    assert (stored.status, stored.solved_at) == (S.OPEN, None)
    assert history_fields(db, chat_ticket.id)[-2:] == [
        ("status", "solved", "open"),
        ("reopened", "", "买家说袖子还是破的"),
    ]
    (updated,) = [e for e in events if isinstance(e, TicketUpdated)]
    assert (updated.changed, updated.status) == (("status",), "open")


def test_only_a_solved_ticket_is_reopened(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff, chat_ticket: Ticket
) -> None:
    before = snapshot(db)
    with pytest.raises(Conflict) as refused:
        _reopen(uow_factory, staff, chat_ticket)
    assert refused.value.key == "errors.tickets.not_solved"
    assert snapshot(db) == before


def test_asking_for_the_status_it_has_changes_nothing(
    uow_factory: UowFactory, db: Engine, bus: EventBus, staff: TicketStaff, chat_ticket: Ticket
) -> None:
    before = snapshot(db)
    with bus.capture() as events:
        _move(uow_factory, staff, chat_ticket, S.OPEN)
    assert snapshot(db) == before
    assert events == []
