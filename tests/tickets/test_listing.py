"""Ticket lists: every filter, text search in Chinese (繁體 finds 简体), the sort orders,
SLA states as the list shows them, and a page costing the same few queries at any size."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, event

from kefu.accounts.models import Agent
from kefu.clock import FrozenClock
from kefu.commerce import service as commerce
from kefu.commerce.models import OrderStatus
from kefu.conversations import service as conversations
from kefu.conversations.models import Channel
from kefu.crm import service as crm
from kefu.errors import Invalid
from kefu.shops import service as shops
from kefu.tickets import listing, sla
from kefu.tickets import service as tickets
from kefu.tickets.listing import TicketFilter, TicketRow
from kefu.tickets.models import CommentKind, TicketPriority, TicketStatus, TicketType
from tests.factories import ShopWithStaff, UowFactory, make_agent, make_shop_with_staff


@dataclass
class Desk:
    staff: ShopWithStaff
    aftersale_agent: Agent
    teams: dict[str, int]
    customer_id: int
    conversation_id: int
    order_id: int
    ids: dict[str, int]  # the tickets by name


def _ticket(uow_factory: UowFactory, staff: ShopWithStaff, **fields: object) -> int:
    with uow_factory() as uow:
        return tickets.create_ticket(
            uow, shop_id=staff.shop.id, actor_agent_id=staff.agent.id, **fields
        ).id  # type: ignore[arg-type]


@pytest.fixture
def desk(uow_factory: UowFactory) -> Desk:
    staff = make_shop_with_staff(uow_factory, "alpha")
    shop_id = staff.shop.id
    fixer = make_agent(
        uow_factory, staff.shop, email="fix@alpha.test", name="售后小王", team_codes=("aftersale",)
    )
    with uow_factory() as uow:
        teams = {t.code: t.id for t in shops.list_teams(uow.session, shop_id=shop_id)}
        buyer = crm.create_customer(uow, shop_id=shop_id, name="王芳", nickname="芳芳")
        chat = conversations.start_conversation(
            uow, shop_id=shop_id, customer_id=buyer.id, channel=Channel.WIDGET, subject="退货"
        )
        commerce.create_product(
            uow, shop_id=shop_id, sku="SKU-1", title="羊毛大衣", category="外套",
            price=Decimal("599"), variants=[],
        )  # fmt: skip
        order = commerce.create_order(
            uow, shop_id=shop_id, order_no="A001", customer_id=buyer.id,
            lines=[commerce.OrderLineSpec(sku="SKU-1")], status=OrderStatus.PAID,
            created_at=uow.clock.now(), paid_at=uow.clock.now(), ship_to_name="王芳",
            ship_to_phone="13900000000", ship_to_address="杭州",
        )  # fmt: skip
    d = Desk(staff, fixer, teams, buyer.id, chat.id, order.id, {})
    d.ids["quality"] = _ticket(
        uow_factory, staff, type=TicketType.COMPLAINT, title="大衣质量太差要退货",
        description="买家说穿了一次就起球", priority=TicketPriority.URGENT,
        team_id=teams["aftersale"], assignee_id=fixer.id, conversation_ids=[chat.id],
        order_ids=[order.id], tags=["质量"], tell_buyer=False,
    )  # fmt: skip
    d.ids["courier"] = _ticket(
        uow_factory, staff, type=TicketType.AFTERSALE, title="物流三天没更新",
        priority=TicketPriority.HIGH, team_id=teams["shipping"], tags=["物流", "加急"],
    )  # fmt: skip
    d.ids["payment"] = _ticket(
        uow_factory, staff, type=TicketType.FAULT, title="支付页面打不开",
        description="ＸＬ 码的商品页, 错误码 E_42",
    )  # fmt: skip
    d.ids["stock"] = _ticket(
        uow_factory, staff, type=TicketType.INTERNAL, title="请仓库核对库存,差了100%",
        priority=TicketPriority.LOW, team_id=teams["shipping"], requester_team_id=teams["presale"],
    )  # fmt: skip
    d.ids["done"] = _ticket(uow_factory, staff, type=TicketType.OTHER, title="发票已开")
    with uow_factory() as uow:
        tickets.change_status(
            uow, shop_id=shop_id, ticket_id=d.ids["done"], status=TicketStatus.CLOSED,
            actor_agent_id=staff.agent.id,
        )  # fmt: skip
    return d


def _names(desk: Desk, rows: list[TicketRow]) -> list[str]:
    by_id = {v: k for k, v in desk.ids.items()}
    return [by_id[r.id] for r in rows]


def _list(
    uow_factory: UowFactory,
    desk: Desk,
    viewer: int | None = None,
    sort: str = "-updated",
    **filters: object,
) -> list[str]:
    with uow_factory() as uow:
        filter = TicketFilter(**filters)  # type: ignore[arg-type]
        args = {
            "shop_id": desk.staff.shop.id,
            "filter": filter,
            "viewer_agent_id": viewer,
            "now": uow.clock.now(),
        }
        rows = listing.list_tickets(uow.session, sort=sort, **args)  # type: ignore[arg-type]
        assert listing.count_tickets(uow.session, **args) == len(rows)  # type: ignore[arg-type]
    return _names(desk, rows)


def test_the_list_shows_what_an_agent_needs_in_one_row(uow_factory: UowFactory, desk: Desk) -> None:
    with uow_factory() as uow:
        [row] = listing.list_tickets(
            uow.session, shop_id=desk.staff.shop.id, filter=TicketFilter(q="#1001"),
            viewer_agent_id=None, now=uow.clock.now(),
        )  # fmt: skip
    assert (row.number, row.type, row.status, row.priority) == (
        1001, TicketType.COMPLAINT, TicketStatus.OPEN, TicketPriority.URGENT,
    )  # fmt: skip
    assert (row.team_name, row.assignee_name, row.requester_name) == ("售后", "售后小王", "芳芳")
    assert row.tags == ("质量",)
    # An urgent complaint: the shop's default policy wants a first answer within 30
    # working minutes (it is 10:00 on a Monday).
    with uow_factory() as uow:
        now = uow.clock.now()
    assert (row.sla_state, row.next_due_at, row.minutes_left) == (
        "ok", now + timedelta(minutes=30), 30,
    )  # fmt: skip
    with uow_factory() as uow:
        [internal] = listing.list_tickets(
            uow.session, shop_id=desk.staff.shop.id, filter=TicketFilter(q="库存"),
            viewer_agent_id=None, now=uow.clock.now(),
        )  # fmt: skip
    # An internal request's requester is the team that asked.
    assert (internal.requester_name, internal.assignee_name) == ("售前", "")


def test_each_filter_narrows_the_list(uow_factory: UowFactory, desk: Desk) -> None:
    everything = ["done", "stock", "payment", "courier", "quality"]
    assert _list(uow_factory, desk) == everything
    assert _list(uow_factory, desk, open_only=True) == everything[1:]
    assert _list(uow_factory, desk, status=(TicketStatus.CLOSED,)) == ["done"]
    assert _list(uow_factory, desk, status=(TicketStatus.NEW, TicketStatus.CLOSED)) == [
        "done", "stock", "payment", "courier",
    ]  # fmt: skip
    assert _list(uow_factory, desk, type=TicketType.FAULT) == ["payment"]
    assert _list(uow_factory, desk, priority=TicketPriority.LOW) == ["stock"]
    assert _list(uow_factory, desk, team_id=desk.teams["shipping"]) == ["stock", "courier"]
    assert _list(uow_factory, desk, tag="加急") == ["courier"]
    assert _list(uow_factory, desk, customer_id=desk.customer_id) == ["quality"]
    assert _list(uow_factory, desk, conversation_id=desk.conversation_id) == ["quality"]
    assert _list(uow_factory, desk, order_id=desk.order_id) == ["quality"]
    fixer = desk.aftersale_agent.id
    assert _list(uow_factory, desk, assignee=fixer) == ["quality"]
    assert _list(uow_factory, desk, viewer=fixer, assignee="me") == ["quality"]
    assert _list(uow_factory, desk, viewer=desk.staff.agent.id, assignee="me") == []
    assert _list(uow_factory, desk, assignee="none") == everything[:-1]
    # Filters combine.
    assert _list(uow_factory, desk, team_id=desk.teams["shipping"], priority="high") == ["courier"]
    # Ids of rows that do not exist (or are another shop's) find nothing, no error.
    assert _list(uow_factory, desk, team_id=99999, customer_id=99999) == []


def test_every_agent_sees_every_ticket_of_the_shop_and_nothing_of_another(
    uow_factory: UowFactory, desk: Desk
) -> None:
    """Tickets are team work: a 售前 agent sees the 售后 team's tickets too."""
    beta = make_shop_with_staff(uow_factory, "beta")
    _ticket(uow_factory, beta, type=TicketType.COMPLAINT, title="B店机密投诉:退货")
    assert len(_list(uow_factory, desk, viewer=desk.staff.agent.id)) == 5
    assert _list(uow_factory, desk, q="退货") == ["quality"]
    with uow_factory() as uow:
        rows = listing.list_tickets(
            uow.session, shop_id=beta.shop.id, filter=TicketFilter(), viewer_agent_id=None,
            now=uow.clock.now(),
        )  # fmt: skip
    # Each shop numbers its own tickets from 1001.
    assert [(r.number, r.title) for r in rows] == [(1001, "B店机密投诉:退货")]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("#1001", ["quality"]),
        ("＃1001", ["quality"]),  # typed with a Chinese input method
        ("1002", ["courier"]),
        ("退貨", ["quality"]),  # 繁體 finds 简体
        ("起球", ["quality"]),  # in the description
        ("xl", ["payment"]),  # "ＸＬ" was written full width
        ("王芳", ["quality"]),  # the requesting buyer
        ("芳芳", ["quality"]),  # …by nickname
        ("100%", ["stock"]),  # % is a character here, not a wildcard
        ("%", ["stock"]),
        ("_", ["payment"]),  # only the text that really has an underscore
        ("物流 更新", []),  # one substring, not words anywhere
        ("#9999", []),
    ],
)
def test_text_search(uow_factory: UowFactory, desk: Desk, q: str, expected: list[str]) -> None:
    assert _list(uow_factory, desk, q=q) == expected


def test_a_note_is_found_in_traditional_characters(uow_factory: UowFactory, desk: Desk) -> None:
    with uow_factory() as uow:
        tickets.add_comment(
            uow, shop_id=desk.staff.shop.id, ticket_id=desk.ids["courier"], kind=CommentKind.NOTE,
            body="已联系快递公司, 顺丰说明天补发", author_agent_id=desk.staff.agent.id,
        )  # fmt: skip
    assert _list(uow_factory, desk, q="順豐") == ["courier"]


def test_sort_orders(uow_factory: UowFactory, desk: Desk, clock: FrozenClock) -> None:
    clock.advance(timedelta(minutes=5))
    with uow_factory() as uow:  # the oldest ticket changes last
        tickets.update_ticket(
            uow, shop_id=desk.staff.shop.id, ticket_id=desk.ids["quality"],
            actor_agent_id=desk.staff.agent.id, description="买家补充了照片",
        )  # fmt: skip
    assert _list(uow_factory, desk)[:2] == ["quality", "done"]
    assert _list(uow_factory, desk, sort="-created") == [
        "done", "stock", "payment", "courier", "quality",
    ]  # fmt: skip
    # Urgent first; within a priority the latest change first.
    assert _list(uow_factory, desk, sort="priority") == [
        "quality", "courier", "done", "payment", "stock",
    ]  # fmt: skip


def test_an_unknown_sort_or_a_bad_filter_is_refused_naming_it(
    uow_factory: UowFactory, desk: Desk
) -> None:
    with pytest.raises(Invalid) as sort:
        _list(uow_factory, desk, sort="number")
    assert (sort.value.field, sort.value.key) == ("sort", "errors.tickets.bad_sort")
    with pytest.raises(Invalid) as me:
        _list(uow_factory, desk, assignee="me")  # an API token is nobody
    assert (me.value.field, me.value.key) == ("assignee", "errors.tickets.me_needs_person")
    with pytest.raises(Invalid) as control:
        _list(uow_factory, desk, q="退\x00货")
    assert control.value.field == "q"
    with pytest.raises(Invalid) as long:
        _list(uow_factory, desk, q="退" * 101)
    assert long.value.field == "q"
    with uow_factory() as uow, pytest.raises(Invalid):
        listing.list_tickets(
            uow.session, shop_id=desk.staff.shop.id, filter=TicketFilter(), viewer_agent_id=None,
            now=uow.clock.now(), limit=0,
        )  # fmt: skip


# --------------------------------------------------------------------------- SLA
def test_sla_states_filter_what_the_rows_show(
    uow_factory: UowFactory, desk: Desk, clock: FrozenClock
) -> None:
    """Escalations of high priority must be answered within an hour (around the clock
    here): the list shows each ticket's worst clock, the filter finds the same tickets, and
    "due" sorts by the nearest running deadline."""
    shop_id, agent_id = desk.staff.shop.id, desk.staff.agent.id
    escalation = TicketType.ESCALATION
    with uow_factory() as uow:
        sla.create_policy(
            uow, shop_id=shop_id, name="升级·高", ticket_type=escalation,
            priority=TicketPriority.HIGH, first_response_minutes=60, resolution_minutes=600,
            business_hours=False, warn_before_minutes=30, commit=False,
        )  # fmt: skip
        sla.create_policy(
            uow, shop_id=shop_id, name="升级·低", ticket_type=escalation,
            priority=TicketPriority.LOW, resolution_minutes=600, business_hours=False,
            commit=False,
        )  # fmt: skip
        # A policy without targets: no clock at all.
        sla.create_policy(
            uow, shop_id=shop_id, name="升级·普通", ticket_type=escalation,
            priority=TicketPriority.NORMAL,
        )  # fmt: skip

    def escalate(title: str, priority: TicketPriority = TicketPriority.HIGH) -> int:
        return _ticket(uow_factory, desk.staff, type=escalation, title=title, priority=priority)

    def move(ticket_id: int, status: TicketStatus) -> None:
        with uow_factory() as uow:
            tickets.change_status(
                uow, shop_id=shop_id, ticket_id=ticket_id, status=status,
                actor_agent_id=agent_id, tell_buyer=False,
            )  # fmt: skip

    late = escalate("一小时前的问题")  # due +60
    clock.advance(timedelta(minutes=50))
    near = escalate("快到期的问题")  # due +110, warned from +80
    clock.advance(timedelta(minutes=45))
    fresh = escalate("刚来的问题")  # due +155
    waiting = escalate("等买家回复的问题")
    move(waiting, TicketStatus.PENDING_BUYER)
    solved = escalate("已解决的问题", TicketPriority.LOW)
    move(solved, TicketStatus.SOLVED)
    untimed = escalate("不计时的问题", TicketPriority.NORMAL)
    clock.advance(timedelta(minutes=5))  # now +100
    expected = {"breached": [late], "warning": [near], "ok": [fresh], "paused": [waiting],
                "met": [solved], "none": [untimed]}  # fmt: skip
    with uow_factory() as uow:
        now = uow.clock.now()

        def ids(**filters: object) -> list[int]:
            filter = TicketFilter(**filters)  # type: ignore[arg-type]
            found = listing.list_tickets(
                uow.session, shop_id=shop_id, filter=filter, viewer_agent_id=None, now=now
            )
            assert listing.count_tickets(
                uow.session, shop_id=shop_id, filter=filter, viewer_agent_id=None, now=now
            ) == len(found)  # fmt: skip
            return [r.id for r in found]

        for state in listing.SLA_STATES:
            assert ids(type=escalation, sla=state) == expected[state], state
        # Over the whole shop (the desk's tickets run on the default business-hours
        # policies), the filter and the rows agree.
        rows = listing.list_tickets(
            uow.session, shop_id=shop_id, filter=TicketFilter(), viewer_agent_id=None, now=now
        )
        for state in listing.SLA_STATES:
            assert ids(sla=state) == [r.id for r in rows if r.sla_state == state], state
        shown = {r.id: r for r in rows}
        assert (shown[near].next_due_at, shown[near].minutes_left) == (
            now + timedelta(minutes=10), 10,
        )  # fmt: skip
        assert shown[late].minutes_left == -40
        assert (shown[waiting].next_due_at, shown[untimed].next_due_at) == (None, None)
        by_due = listing.list_tickets(
            uow.session, shop_id=shop_id, filter=TicketFilter(type=escalation, open_only=True),
            viewer_agent_id=None, now=now, sort="due",
        )  # fmt: skip
    # The nearest deadline first (the overdue one); the tickets without one last.
    assert [r.id for r in by_due] == [late, near, fresh, untimed, waiting]


# --------------------------------------------------------------------------- cost
@contextmanager
def _statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_page_costs_the_same_few_queries_whatever_its_size(
    uow_factory: UowFactory, desk: Desk, db: Engine
) -> None:
    """Rows, tags and SLA clocks (every ticket has them: the shop's default policies)."""

    def page() -> tuple[int, int]:
        with uow_factory() as uow, _statements(db) as seen:
            rows = listing.list_tickets(
                uow.session, shop_id=desk.staff.shop.id, filter=TicketFilter(),
                viewer_agent_id=None, now=uow.clock.now(), limit=200,
            )  # fmt: skip
        return len(rows), len([s for s in seen if s.lstrip().upper().startswith("SELECT")])

    def complaints(count: int) -> None:
        for n in range(count):
            _ticket(
                uow_factory, desk.staff, type=TicketType.COMPLAINT, title=f"投诉 {n}",
                team_id=desk.teams["aftersale"], assignee_id=desk.aftersale_agent.id,
                requester_customer_id=desk.customer_id, tags=["批量", f"第{n}个"],
            )  # fmt: skip

    complaints(2)
    small = page()
    complaints(20)
    large = page()
    assert (small[0], large[0]) == (7, 27)
    assert large[1] == small[1] <= 6, (small, large)
