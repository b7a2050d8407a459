"""A ticket's history and its one read model (the API's and the page's): names, not ids,
as they were at the time; who did it, person or machine; only the shop's own ticket."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from kefu.clock import FrozenClock
from kefu.commerce.models import Order
from kefu.errors import NotFound
from kefu.shops.models import Team
from kefu.tickets import comments
from kefu.tickets import service as tickets
from kefu.tickets.models import CommentKind, FieldKind, TicketPriority, TicketType
from tests.factories import UowFactory
from tests.tickets.conftest import BuyerChat, Elsewhere, TicketStaff, make_ticket


def test_the_history_says_who_did_what_and_when(
    uow_factory: UowFactory, clock: FrozenClock, staff: TicketStaff
) -> None:
    created_at = clock.now()
    ticket = make_ticket(uow_factory, staff, actor_agent_id=None, actor="bot")
    clock.advance(timedelta(minutes=5))
    with uow_factory() as uow:
        tickets.assign_ticket(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, actor_agent_id=staff.supervisor.id,
            team_id=staff.teams["aftersale"], assignee_id=staff.aftersale.id,
        )  # fmt: skip
    clock.advance(timedelta(minutes=5))
    with uow_factory() as uow:
        tickets.update_ticket(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, actor_agent_id=None,
            actor="system", priority=TicketPriority.URGENT,
        )  # fmt: skip
    with uow_factory() as uow:
        rows = tickets.history_of(uow.session, shop_id=staff.shop_id, ticket_id=ticket.id)
    assert [(r.actor, r.actor_name, r.field, r.old, r.new) for r in rows] == [
        ("bot", "机器人", "created", "", "#1001 大衣袖子破洞"),
        ("agent", "主管", "team", "", "售后"),
        ("agent", "主管", "assignee", "", "小刘"),
        ("agent", "主管", "status", "new", "open"),
        ("system", "系统", "priority", "normal", "urgent"),
    ]
    assert [r.at for r in rows] == [created_at] + [created_at + timedelta(minutes=5)] * 3 + [
        created_at + timedelta(minutes=10)
    ]


def test_names_in_the_history_stay_as_they_were(
    uow_factory: UowFactory, staff: TicketStaff
) -> None:
    ticket = make_ticket(uow_factory, staff, team_id=staff.teams["aftersale"])
    with uow_factory() as uow:
        tickets.assign_ticket(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, actor_agent_id=staff.owner.id,
            team_id=staff.teams["complaints"],
        )  # fmt: skip
    with uow_factory() as uow:
        team = uow.session.get(Team, staff.teams["aftersale"])
        assert team is not None
        team.name = "售后服务部"
        uow.commit()
    with uow_factory() as uow:
        rows = tickets.history_of(uow.session, shop_id=staff.shop_id, ticket_id=ticket.id)
    assert (rows[-1].old, rows[-1].new) == ("售后", "投诉")


def test_the_detail_has_everything_the_page_shows(
    uow_factory: UowFactory, staff: TicketStaff, buyer_chat: BuyerChat, paid_order: Order
) -> None:
    with uow_factory() as uow:
        tickets.create_field(
            uow, shop_id=staff.shop_id, ticket_type=TicketType.COMPLAINT, key="level",
            label="投诉级别", kind=FieldKind.CHOICE, choices=["一般", "严重"],
        )  # fmt: skip
    ticket = make_ticket(
        uow_factory, staff, type=TicketType.COMPLAINT, team_id=staff.teams["aftersale"],
        assignee_id=staff.aftersale.id, conversation_ids=[buyer_chat.conversation_id],
        order_ids=[paid_order.id], tags=["破洞", "VIP"], custom_fields={"level": "严重"},
    )  # fmt: skip
    with uow_factory() as uow:
        comments.add_comment(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, kind=CommentKind.NOTE,
            body="@小张 请帮忙看一下照片", author_agent_id=staff.aftersale.id,
        )  # fmt: skip
    with uow_factory() as uow:
        detail = tickets.ticket_detail(uow.session, shop_id=staff.shop_id, ticket_id=ticket.id)
    assert (detail.ticket.number, detail.team_name, detail.assignee_name) == (1001, "售后", "小刘")
    assert detail.created_by_name == "小美"
    assert (detail.requester.kind, detail.requester.name) == ("customer", "王女士")
    assert [c.id for c in detail.conversations] == [buyer_chat.conversation_id]
    # The last line of the chat is the notice the buyer was sent.
    assert detail.conversations[0].preview.startswith("您的问题已登记为工单 #1001")
    assert [o.order_no for o in detail.orders] == [paid_order.order_no]
    assert detail.tags == ["破洞", "VIP"]
    assert [(f.label, f.shown) for f in detail.fields] == [("投诉级别", "严重")]
    (note,) = detail.comments
    assert (note.kind, note.author_name, note.body) == ("note", "小刘", "@小张 请帮忙看一下照片")
    assert [m.name for m in note.mentions] == ["小张"]
    assert detail.history[0].field == "created"
    assert detail.merged_into is None and detail.split_from is None


def test_a_split_ticket_points_back_to_its_origin(
    uow_factory: UowFactory, staff: TicketStaff
) -> None:
    first = make_ticket(uow_factory, staff)
    second = make_ticket(uow_factory, staff, title="另一个问题", split_from_id=first.id)
    with uow_factory() as uow:
        detail = tickets.ticket_detail(uow.session, shop_id=staff.shop_id, ticket_id=second.id)
    assert detail.split_from is not None
    assert (detail.split_from.id, detail.split_from.number) == (first.id, 1001)


def test_an_internal_request_shows_the_asking_team(
    uow_factory: UowFactory, staff: TicketStaff
) -> None:
    ticket = make_ticket(
        uow_factory, staff, type=TicketType.INTERNAL, requester_team_id=staff.teams["presale"]
    )
    with uow_factory() as uow:
        detail = tickets.ticket_detail(uow.session, shop_id=staff.shop_id, ticket_id=ticket.id)
    assert (detail.requester.kind, detail.requester.name) == ("team", "售前")


def test_another_shops_ticket_reads_as_missing(
    uow_factory: UowFactory, staff: TicketStaff, elsewhere: Elsewhere
) -> None:
    theirs = make_ticket(uow_factory, elsewhere.staff)
    with uow_factory() as uow:
        with pytest.raises(NotFound):
            tickets.ticket_detail(uow.session, shop_id=staff.shop_id, ticket_id=theirs.id)
        with pytest.raises(NotFound):
            tickets.history_of(uow.session, shop_id=staff.shop_id, ticket_id=theirs.id)
        with pytest.raises(NotFound):
            tickets.get_ticket(uow.session, shop_id=staff.shop_id, ticket_id=2**40)


def test_a_huge_value_is_kept_short_in_the_history(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff
) -> None:
    ticket = make_ticket(uow_factory, staff)
    with uow_factory() as uow:
        tickets.update_ticket(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, actor_agent_id=staff.agent.id,
            description="很" * 10_000,
        )  # fmt: skip
    with uow_factory() as uow:
        row = tickets.history_of(uow.session, shop_id=staff.shop_id, ticket_id=ticket.id)[-1]
        assert (
            len(
                tickets.get_ticket(
                    uow.session, shop_id=staff.shop_id, ticket_id=ticket.id
                ).description
            )
            == 10_000
        )
    assert (row.field, len(row.new), row.new[-1]) == ("description", 2000, "…")
