"""Giving a ticket to a team and a person: only the team's members, only the shop's agents,
the new assignee told, a new ticket opened, every change a history row with names."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from kefu.db import make_session_factory
from kefu.errors import Conflict, Invalid
from kefu.events import EventBus
from kefu.tickets import service as tickets
from kefu.tickets.events import TicketUpdated
from kefu.tickets.models import Notification, Ticket, TicketStatus
from tests.factories import UowFactory
from tests.tickets.conftest import (
    Elsewhere,
    TicketStaff,
    fresh_ticket,
    history_fields,
    make_ticket,
    snapshot,
)


def _assign(uow_factory: UowFactory, staff: TicketStaff, ticket: Ticket, **change: object) -> None:
    change.setdefault("actor_agent_id", staff.supervisor.id)
    with uow_factory() as uow:
        tickets.assign_ticket(uow, shop_id=staff.shop_id, ticket_id=ticket.id, **change)  # type: ignore[arg-type]


def _notified(db: Engine, agent_id: int) -> list[str]:
    with make_session_factory(db)() as session:
        return list(
            session.scalars(
                select(Notification.text)
                .where(Notification.agent_id == agent_id)
                .order_by(Notification.id)
            )
        )


def test_assigning_a_person_opens_a_new_ticket_and_tells_them(
    uow_factory: UowFactory, db: Engine, bus: EventBus, staff: TicketStaff
) -> None:
    ticket = make_ticket(uow_factory, staff, title="物流三天没更新")
    with bus.capture() as events:
        _assign(
            uow_factory, staff, ticket, team_id=staff.teams["aftersale"],
            assignee_id=staff.aftersale.id,
        )  # fmt: skip
    stored = fresh_ticket(db, ticket.id)
    assert (stored.team_id, stored.assignee_id, stored.status) == (
        staff.teams["aftersale"],
        staff.aftersale.id,
        TicketStatus.OPEN,
    )
    # Names, as they were at the time: the history reads right after a rename.
    assert history_fields(db, ticket.id)[1:] == [
        ("team", "", "售后"),
        ("assignee", "", "小刘"),
        ("status", "new", "open"),
    ]
    assert _notified(db, staff.aftersale.id) == ["工单 #1001 已指派给您：物流三天没更新"]
    (updated,) = [e for e in events if isinstance(e, TicketUpdated)]
    assert updated.changed == ("team", "assignee", "status")
    assert (updated.assignee_id, updated.status) == (staff.aftersale.id, "open")


def test_an_agent_of_another_team_is_refused_by_name_and_nothing_changes(
    uow_factory: UowFactory, db: Engine, bus: EventBus, staff: TicketStaff
) -> None:
    ticket = make_ticket(uow_factory, staff, team_id=staff.teams["aftersale"])
    before = snapshot(db)
    with bus.capture() as events, pytest.raises(Invalid) as refused:
        _assign(uow_factory, staff, ticket, assignee_id=staff.agent.id)  # 小美 is 售前
    assert refused.value.key == "errors.tickets.assignee_not_in_team"
    assert refused.value.field == "assignee_id"
    assert refused.value.message == "小美 is not a member of the team 售后"
    assert refused.value.params == {"name": "小美", "team": "售后"}
    assert snapshot(db) == before
    assert events == []


def test_an_agent_of_another_shop_is_refused(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff, elsewhere: Elsewhere
) -> None:
    ticket = make_ticket(uow_factory, staff)
    before = snapshot(db)
    with pytest.raises(Invalid) as refused:
        _assign(uow_factory, staff, ticket, assignee_id=elsewhere.staff.agent.id)
    assert refused.value.key == "errors.tickets.agent_not_found"
    with pytest.raises(Invalid) as other_team:
        _assign(uow_factory, staff, ticket, team_id=elsewhere.team_id)
    assert other_team.value.key == "errors.tickets.team_not_found"
    assert snapshot(db) == before


def test_another_shops_agent_cannot_act_on_a_ticket(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff, elsewhere: Elsewhere
) -> None:
    ticket = make_ticket(uow_factory, staff)
    before = snapshot(db)
    with pytest.raises(Invalid) as refused:
        _assign(
            uow_factory, staff, ticket, assignee_id=None, actor_agent_id=elsewhere.staff.owner.id
        )
    assert refused.value.field == "actor_agent_id"
    assert snapshot(db) == before


def test_a_new_team_drops_an_assignee_who_is_not_in_it(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff
) -> None:
    ticket = make_ticket(
        uow_factory, staff, team_id=staff.teams["aftersale"], assignee_id=staff.aftersale.id
    )
    _assign(uow_factory, staff, ticket, team_id=staff.teams["complaints"])
    stored = fresh_ticket(db, ticket.id)
    assert (stored.team_id, stored.assignee_id) == (staff.teams["complaints"], None)
    # Nobody has it now, but it was already being worked on: it stays open.
    assert stored.status is TicketStatus.OPEN
    assert history_fields(db, ticket.id)[1:] == [("team", "售后", "投诉"), ("assignee", "小刘", "")]


def test_a_new_team_keeps_an_assignee_who_is_in_it(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff
) -> None:
    ticket = make_ticket(
        uow_factory, staff, team_id=staff.teams["aftersale"], assignee_id=staff.aftersale2.id
    )
    _assign(uow_factory, staff, ticket, team_id=staff.teams["complaints"])  # 小张 is in both
    assert fresh_ticket(db, ticket.id).assignee_id == staff.aftersale2.id


def test_a_team_and_one_of_its_members_at_once(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff
) -> None:
    ticket = make_ticket(uow_factory, staff, team_id=staff.teams["presale"])
    with pytest.raises(Invalid):
        _assign(
            uow_factory, staff, ticket, team_id=staff.teams["complaints"],
            assignee_id=staff.aftersale.id,
        )  # fmt: skip
    _assign(
        uow_factory, staff, ticket, team_id=staff.teams["complaints"],
        assignee_id=staff.aftersale2.id,
    )  # fmt: skip
    stored = fresh_ticket(db, ticket.id)
    assert (stored.team_id, stored.assignee_id) == (staff.teams["complaints"], staff.aftersale2.id)


def test_without_a_team_anyone_of_the_shop_may_have_it(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff
) -> None:
    ticket = make_ticket(uow_factory, staff)
    _assign(uow_factory, staff, ticket, assignee_id=staff.agent.id)
    assert fresh_ticket(db, ticket.id).assignee_id == staff.agent.id


def test_taking_it_yourself_sends_no_notification(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff
) -> None:
    ticket = make_ticket(uow_factory, staff, team_id=staff.teams["aftersale"])
    _assign(
        uow_factory,
        staff,
        ticket,
        assignee_id=staff.aftersale.id,
        actor_agent_id=staff.aftersale.id,
    )
    assert _notified(db, staff.aftersale.id) == []


def test_assigning_the_same_again_changes_nothing(
    uow_factory: UowFactory, db: Engine, bus: EventBus, staff: TicketStaff
) -> None:
    ticket = make_ticket(
        uow_factory, staff, team_id=staff.teams["aftersale"], assignee_id=staff.aftersale.id
    )
    before = snapshot(db)
    with bus.capture() as events:
        _assign(
            uow_factory, staff, ticket, team_id=staff.teams["aftersale"],
            assignee_id=staff.aftersale.id,
        )  # fmt: skip
    assert snapshot(db) == before
    assert events == []


def test_a_closed_ticket_is_not_reassigned(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff
) -> None:
    ticket = make_ticket(uow_factory, staff)
    with uow_factory() as uow:
        tickets.change_status(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, status=TicketStatus.CLOSED,
            actor_agent_id=staff.agent.id,
        )  # fmt: skip
    before = snapshot(db)
    with pytest.raises(Conflict) as refused:
        _assign(uow_factory, staff, ticket, assignee_id=staff.agent.id)
    assert refused.value.key == "errors.tickets.closed_is_final"
    assert snapshot(db) == before
