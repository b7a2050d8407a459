"""Bulk changes: the same history, notices and events as changing each ticket by hand, all
committed together — or, when one ticket refuses, that ticket named and nothing written."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from kefu.errors import Conflict, Invalid
from kefu.events import EventBus
from kefu.tickets import bulk, notifications
from kefu.tickets import service as tickets
from kefu.tickets.events import NotificationCreated, TicketUpdated
from kefu.tickets.models import Ticket, TicketPriority, TicketStatus
from tests.factories import UowFactory, make_shop_with_staff
from tests.tickets.conftest import (
    BuyerChat,
    TicketStaff,
    chat_lines,
    fresh_ticket,
    history_fields,
    make_ticket,
    snapshot,
)


def _bulk(
    uow_factory: UowFactory, staff: TicketStaff, ids: list[int], change: bulk.BulkChange
) -> int:
    with uow_factory() as uow:
        return bulk.bulk_update(
            uow,
            shop_id=staff.shop_id,
            ticket_ids=ids,
            change=change,
            actor_agent_id=staff.supervisor.id,
        )


def _tags(uow_factory: UowFactory, ticket: Ticket) -> list[str]:
    with uow_factory() as uow:
        return tickets.tags_of(uow.session, ticket=ticket)


def test_assigning_many_tickets_is_like_assigning_each(
    uow_factory: UowFactory, staff: TicketStaff, db: Engine, bus: EventBus
) -> None:
    first, second = make_ticket(uow_factory, staff), make_ticket(uow_factory, staff, title="二")
    change = bulk.BulkChange(team_id=staff.teams["aftersale"], assignee_id=staff.aftersale.id)
    with bus.capture() as events:
        changed = _bulk(uow_factory, staff, [second.id, first.id], change)
    assert changed == 2
    for ticket in (first, second):
        stored = fresh_ticket(db, ticket.id)
        assert (stored.team_id, stored.assignee_id, stored.status) == (
            staff.teams["aftersale"],
            staff.aftersale.id,
            TicketStatus.OPEN,
        )
        assert history_fields(db, ticket.id)[1:] == [
            ("team", "", "售后"),
            ("assignee", "", "小刘"),
            ("status", "new", "open"),
        ]
    updated = [e for e in events if isinstance(e, TicketUpdated)]
    # In the order of their numbers, one event each, as a single assignment has.
    assert [(e.ticket_id, e.changed) for e in updated] == [
        (first.id, ("team", "assignee", "status")),
        (second.id, ("team", "assignee", "status")),
    ]
    told = [e for e in events if isinstance(e, NotificationCreated)]
    assert [e.agent_id for e in told] == [staff.aftersale.id, staff.aftersale.id]
    with uow_factory() as uow:
        assert (
            notifications.unread_count(
                uow.session, shop_id=staff.shop_id, agent_id=staff.aftersale.id
            )
            == 2
        )


def test_status_priority_and_tags_together(
    uow_factory: UowFactory, staff: TicketStaff, buyer_chat: BuyerChat, db: Engine
) -> None:
    ticket = make_ticket(
        uow_factory, staff, conversation_ids=[buyer_chat.conversation_id], tags=["破洞", "待定"]
    )
    change = bulk.BulkChange(
        status=TicketStatus.PENDING_BUYER,
        priority=TicketPriority.HIGH,
        add_tags=("加急", "破洞"),
        remove_tags=("待定",),
    )
    assert _bulk(uow_factory, staff, [ticket.id], change) == 1
    stored = fresh_ticket(db, ticket.id)
    assert (stored.status, stored.priority) == (TicketStatus.PENDING_BUYER, TicketPriority.HIGH)
    assert _tags(uow_factory, ticket) == ["破洞", "加急"]
    assert [f for f, _, _ in history_fields(db, ticket.id)][1:] == ["priority", "tags", "status"]
    # The buyer hears what a single change would have told them.
    assert "需要向您确认" in chat_lines(db, buyer_chat.conversation_id)[-1]


def test_tickets_already_so_are_counted_as_unchanged(
    uow_factory: UowFactory, staff: TicketStaff, db: Engine
) -> None:
    urgent = make_ticket(uow_factory, staff, priority=TicketPriority.URGENT)
    normal = make_ticket(uow_factory, staff, title="普通")
    change = bulk.BulkChange(priority=TicketPriority.URGENT)
    assert _bulk(uow_factory, staff, [urgent.id, normal.id], change) == 1
    assert [f for f, _, _ in history_fields(db, urgent.id)] == ["created"]


def test_one_refusal_names_the_ticket_and_changes_none(
    uow_factory: UowFactory, staff: TicketStaff, db: Engine, bus: EventBus
) -> None:
    fine = make_ticket(uow_factory, staff)
    closed = make_ticket(uow_factory, staff, title="已关闭")
    later = make_ticket(uow_factory, staff, title="之后的")
    with uow_factory() as uow:
        tickets.change_status(
            uow,
            shop_id=staff.shop_id,
            ticket_id=closed.id,
            status=TicketStatus.CLOSED,
            actor_agent_id=staff.agent.id,
        )
    before = snapshot(db)
    with bus.capture() as events, pytest.raises(Conflict) as refused:
        _bulk(
            uow_factory,
            staff,
            [later.id, closed.id, fine.id],
            bulk.BulkChange(priority=TicketPriority.HIGH),
        )
    error = refused.value
    assert error.key == "errors.tickets.bulk_refused"
    assert error.params["number"] == closed.number
    assert error.params["reason_key"] == "errors.tickets.closed_is_final"
    assert error.message.startswith(f"ticket #{closed.number}: ")
    assert error.message.endswith("no ticket was changed")
    assert events == []
    assert snapshot(db) == before  # the ticket before it (by number) is unchanged too


def test_an_assignee_outside_a_tickets_team_is_named_with_the_ticket(
    uow_factory: UowFactory, staff: TicketStaff, db: Engine
) -> None:
    aftersale = make_ticket(uow_factory, staff, team_id=staff.teams["aftersale"])
    presale = make_ticket(uow_factory, staff, title="售前的", team_id=staff.teams["presale"])
    before = snapshot(db)
    with pytest.raises(Invalid) as refused:
        _bulk(
            uow_factory,
            staff,
            [aftersale.id, presale.id],
            bulk.BulkChange(assignee_id=staff.aftersale.id),
        )
    assert refused.value.params["number"] == presale.number
    assert refused.value.params["reason_key"] == "errors.tickets.assignee_not_in_team"
    assert refused.value.field == "assignee_id"
    assert snapshot(db) == before


def test_the_list_of_tickets_must_be_sensible(
    uow_factory: UowFactory, staff: TicketStaff, db: Engine
) -> None:
    ticket = make_ticket(uow_factory, staff)
    other = make_shop_with_staff(uow_factory, "other")
    with uow_factory() as uow:
        theirs = tickets.create_ticket(
            uow,
            shop_id=other.shop.id,
            type=ticket.type,
            title="别家的",
            actor_agent_id=other.agent.id,
        )
    before = snapshot(db)
    high = bulk.BulkChange(priority=TicketPriority.HIGH)
    cases = [
        ([], high, "errors.tickets.none_ticked"),
        (list(range(1, bulk.MAX_BULK + 2)), high, "errors.tickets.too_many_bulk"),
        ([ticket.id, theirs.id], high, "errors.tickets.bulk_unknown"),
        ([ticket.id], bulk.BulkChange(), "errors.tickets.nothing_to_change"),
    ]
    for ids, change, key in cases:
        with pytest.raises(Invalid) as refused:
            _bulk(uow_factory, staff, ids, change)
        assert refused.value.key == key
    assert snapshot(db) == before


def test_repeated_ids_count_once(uow_factory: UowFactory, staff: TicketStaff, db: Engine) -> None:
    ticket = make_ticket(uow_factory, staff)
    assert (
        _bulk(uow_factory, staff, [ticket.id, ticket.id], bulk.BulkChange(add_tags=("回访",))) == 1
    )
    assert _tags(uow_factory, ticket) == ["回访"]


def test_clearing_the_assignee_of_many(
    uow_factory: UowFactory, staff: TicketStaff, db: Engine
) -> None:
    ticket = make_ticket(
        uow_factory, staff, team_id=staff.teams["aftersale"], assignee_id=staff.aftersale.id
    )
    assert _bulk(uow_factory, staff, [ticket.id], bulk.BulkChange(assignee_id=None)) == 1
    stored = fresh_ticket(db, ticket.id)
    assert (stored.team_id, stored.assignee_id) == (staff.teams["aftersale"], None)
