"""The buyer writing in a chat linked to tickets: a ticket waiting for them opens again (by
the system, without a notice to the buyer who just wrote), and after an answer the SLA's
next response clock starts. Solved and closed tickets are left alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select

from kefu.clock import FrozenClock
from kefu.conversations import service as conversations
from kefu.db import make_session_factory
from kefu.events import EventBus
from kefu.tickets import comments, subscribers
from kefu.tickets import service as tickets
from kefu.tickets.events import TicketUpdated
from kefu.tickets.models import (
    CommentKind,
    SlaMetric,
    SlaState,
    SlaTarget,
    Ticket,
    TicketChange,
    TicketStatus,
)
from tests.factories import UowFactory
from tests.tickets.conftest import BuyerChat, TicketStaff, chat_lines, fresh_ticket, make_ticket


@pytest.fixture
def installed(bus: EventBus, uow_factory: UowFactory) -> None:
    subscribers.install(bus, uow_factory)


def _buyer_says(uow_factory: UowFactory, staff: TicketStaff, chat: BuyerChat, body: str) -> None:
    with uow_factory() as uow:
        conversations.receive_message(
            uow,
            shop_id=staff.shop_id,
            conversation_id=chat.conversation_id,
            client_msg_id=f"later-{body}",
            body=body,
        )


def _set_status(
    uow_factory: UowFactory, staff: TicketStaff, ticket: Ticket, status: TicketStatus
) -> None:
    with uow_factory() as uow:
        tickets.change_status(
            uow,
            shop_id=staff.shop_id,
            ticket_id=ticket.id,
            status=status,
            actor_agent_id=staff.aftersale.id,
        )


def _targets(db: Engine, ticket_id: int) -> list[tuple[SlaMetric, SlaState]]:
    with make_session_factory(db)() as session:
        rows = session.scalars(
            select(SlaTarget).where(SlaTarget.ticket_id == ticket_id).order_by(SlaTarget.id)
        )
        return [(t.metric, t.state) for t in rows]


@pytest.mark.usefixtures("installed")
def test_the_buyers_answer_opens_a_ticket_waiting_for_them_without_telling_them(
    uow_factory: UowFactory,
    staff: TicketStaff,
    buyer_chat: BuyerChat,
    db: Engine,
    bus: EventBus,
) -> None:
    ticket = make_ticket(
        uow_factory,
        staff,
        conversation_ids=[buyer_chat.conversation_id],
        assignee_id=staff.aftersale.id,
        team_id=staff.teams["aftersale"],
    )
    _set_status(uow_factory, staff, ticket, TicketStatus.PENDING_BUYER)
    lines_before = chat_lines(db, buyer_chat.conversation_id)
    with bus.capture() as events:
        _buyer_says(uow_factory, staff, buyer_chat, "照片发您了，袖口这里")
    assert fresh_ticket(db, ticket.id).status is TicketStatus.OPEN
    # Only the buyer's own line: no "工单已继续为您处理" to the one who just wrote.
    assert chat_lines(db, buyer_chat.conversation_id) == [*lines_before, "照片发您了，袖口这里"]
    with make_session_factory(db)() as session:
        last = session.scalars(
            select(TicketChange)
            .where(TicketChange.ticket_id == ticket.id)
            .order_by(TicketChange.id.desc())
        ).first()
    assert last is not None
    assert (last.field, last.old_value, last.new_value, last.actor, last.actor_agent_id) == (
        "status",
        "pending_buyer",
        "open",
        "system",
        None,
    )
    updated = [e for e in events if isinstance(e, TicketUpdated)]
    assert [(e.ticket_id, e.changed, e.status) for e in updated] == [
        (ticket.id, ("status",), "open")
    ]


@pytest.mark.usefixtures("installed")
def test_after_an_answer_the_buyer_writing_again_starts_the_next_response_clock(
    uow_factory: UowFactory,
    staff: TicketStaff,
    buyer_chat: BuyerChat,
    db: Engine,
    clock: FrozenClock,
) -> None:
    ticket = make_ticket(uow_factory, staff, conversation_ids=[buyer_chat.conversation_id])
    clock.advance(timedelta(minutes=10))
    _buyer_says(
        uow_factory, staff, buyer_chat, "有人吗？"
    )  # before any answer: first response runs
    assert (SlaMetric.NEXT_RESPONSE, SlaState.ACTIVE) not in _targets(db, ticket.id)
    with uow_factory() as uow:
        comments.add_comment(
            uow,
            shop_id=staff.shop_id,
            ticket_id=ticket.id,
            kind=CommentKind.REPLY,
            body="在的，正在为您核实",
            author_agent_id=staff.aftersale.id,
        )
    assert (SlaMetric.FIRST_RESPONSE, SlaState.MET) in _targets(db, ticket.id)
    clock.advance(timedelta(minutes=10))
    _buyer_says(uow_factory, staff, buyer_chat, "好的，那什么时候能换？")
    with make_session_factory(db)() as session:
        [next_response] = session.scalars(
            select(SlaTarget).where(
                SlaTarget.ticket_id == ticket.id, SlaTarget.metric == SlaMetric.NEXT_RESPONSE
            )
        ).all()
    assert next_response.state is SlaState.ACTIVE
    assert next_response.started_at == clock.now()


@pytest.mark.usefixtures("installed")
def test_solved_and_closed_tickets_are_left_alone(
    uow_factory: UowFactory,
    staff: TicketStaff,
    buyer_chat: BuyerChat,
    db: Engine,
    bus: EventBus,
) -> None:
    solved = make_ticket(uow_factory, staff, conversation_ids=[buyer_chat.conversation_id])
    closed = make_ticket(uow_factory, staff, conversation_ids=[buyer_chat.conversation_id])
    _set_status(uow_factory, staff, solved, TicketStatus.SOLVED)
    _set_status(uow_factory, staff, closed, TicketStatus.CLOSED)
    with bus.capture() as events:
        _buyer_says(uow_factory, staff, buyer_chat, "谢谢")
    assert fresh_ticket(db, solved.id).status is TicketStatus.SOLVED
    assert fresh_ticket(db, closed.id).status is TicketStatus.CLOSED
    assert not [e for e in events if isinstance(e, TicketUpdated)]


def test_buyer_wrote_names_the_tickets_concerned_and_ignores_unlinked_chats(
    uow_factory: UowFactory, staff: TicketStaff, buyer_chat: BuyerChat
) -> None:
    from tests.tickets.conftest import start_chat

    other = start_chat(uow_factory, staff.shop_id, name="路人", lines=("随便问问",))
    ticket = make_ticket(uow_factory, staff, conversation_ids=[buyer_chat.conversation_id])
    with uow_factory() as uow:
        assert comments.buyer_wrote(
            uow, shop_id=staff.shop_id, conversation_id=buyer_chat.conversation_id
        ) == [ticket.id]
    with uow_factory() as uow:
        assert (
            comments.buyer_wrote(uow, shop_id=staff.shop_id, conversation_id=other.conversation_id)
            == []
        )
    with uow_factory() as uow:  # the right conversation under another shop's id: nothing
        assert (
            comments.buyer_wrote(
                uow, shop_id=staff.shop_id + 1000, conversation_id=buyer_chat.conversation_id
            )
            == []
        )


def test_the_app_installs_the_ticket_subscribers(
    app: FastAPI,
    uow_factory: UowFactory,
    staff: TicketStaff,
    buyer_chat: BuyerChat,
    db: Engine,
) -> None:
    ticket = make_ticket(
        uow_factory,
        staff,
        conversation_ids=[buyer_chat.conversation_id],
        assignee_id=staff.aftersale.id,
        team_id=staff.teams["aftersale"],
    )
    _set_status(uow_factory, staff, ticket, TicketStatus.PENDING_BUYER)
    _buyer_says(uow_factory, staff, buyer_chat, "补充一下：是左边袖子")
    assert fresh_ticket(db, ticket.id).status is TicketStatus.OPEN
