"""Opening and editing tickets: numbers, what is checked before anything is written, what the
buyer and the assignee are told, and the history a change leaves."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from kefu.accounts import service as accounts
from kefu.clock import FrozenClock
from kefu.commerce.models import Order
from kefu.db import make_session_factory
from kefu.errors import Conflict, Invalid
from kefu.events import EventBus
from kefu.tickets import service as tickets
from kefu.tickets.events import TicketCreated, TicketUpdated
from kefu.tickets.models import (
    FieldKind,
    Notification,
    NotificationKind,
    SlaTarget,
    TicketPriority,
    TicketStatus,
    TicketType,
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
    start_chat,
    upload,
)


def _notifications(db: Engine, agent_id: int) -> list[Notification]:
    with make_session_factory(db)() as session:
        return list(
            session.scalars(
                select(Notification)
                .where(Notification.agent_id == agent_id)
                .order_by(Notification.id)
            )
        )


# --- creating ------------------------------------------------------------------------------


def test_an_agent_turns_a_complaint_chat_into_a_ticket_for_aftersale(
    uow_factory: UowFactory,
    db: Engine,
    bus: EventBus,
    staff: TicketStaff,
    buyer_chat: BuyerChat,
    paid_order: Order,
) -> None:
    with bus.capture() as events:
        ticket = make_ticket(
            uow_factory, staff, type=TicketType.COMPLAINT, title="大衣袖子破洞，买家要投诉",
            description="买家收到大衣，袖子有破洞", team_id=staff.teams["aftersale"],
            assignee_id=staff.aftersale.id, conversation_ids=[buyer_chat.conversation_id],
            order_ids=[paid_order.id],
        )  # fmt: skip

    stored = fresh_ticket(db, ticket.id)
    assert (stored.number, stored.status) == (1001, TicketStatus.OPEN)
    assert stored.requester_customer_id == buyer_chat.customer_id
    assert stored.created_by_agent_id == staff.agent.id
    # The buyer reads the number in the same chat.
    assert chat_lines(db, buyer_chat.conversation_id)[-1] == (
        "您的问题已登记为工单 #1001（大衣袖子破洞，买家要投诉），售后专员会尽快为您处理，"
        "处理进展会在这里通知您。"
    )
    # 小刘 of 售后 is told it is theirs.
    (note,) = _notifications(db, staff.aftersale.id)
    assert note.kind is NotificationKind.ASSIGNED
    assert "#1001" in note.text and note.link == f"/tickets/{ticket.id}"
    assert history_fields(db, ticket.id) == [("created", "", "#1001 大衣袖子破洞，买家要投诉")]
    created = [e for e in events if isinstance(e, TicketCreated)]
    assert created == [
        TicketCreated(
            shop_id=staff.shop_id, ticket_id=ticket.id, number=1001, type="complaint",
            status="open", team_id=staff.teams["aftersale"], assignee_id=staff.aftersale.id,
            actor_agent_id=staff.agent.id, conversation_ids=(buyer_chat.conversation_id,),
        )
    ]  # fmt: skip
    # The SLA clocks started with it (their rules are tested in test_sla*).
    with make_session_factory(db)() as session:
        clocks = session.scalars(select(SlaTarget).where(SlaTarget.ticket_id == ticket.id)).all()
    assert clocks


def test_numbers_run_per_shop_from_1001(
    uow_factory: UowFactory, staff: TicketStaff, elsewhere: Elsewhere
) -> None:
    first = make_ticket(uow_factory, staff)
    second = make_ticket(uow_factory, staff, title="第二张")
    other = make_ticket(uow_factory, elsewhere.staff)
    assert (first.number, second.number, other.number) == (1001, 1002, 1001)


@pytest.mark.parametrize("existing", [0, 1], ids=["first-tickets", "later-tickets"])
def test_tickets_created_at_once_never_share_a_number(
    uow_factory: UowFactory, staff: TicketStaff, existing: int
) -> None:
    """Four agents press 「提交」 at the same moment, on the shop's first tickets (the settings
    row does not exist yet) and on later ones (it does): four numbers, in a row."""
    for _ in range(existing):
        make_ticket(uow_factory, staff)
    start = threading.Barrier(4)
    numbers: list[int] = []
    failures: list[BaseException] = []

    def create(i: int) -> None:
        try:
            start.wait(timeout=10)
            numbers.append(make_ticket(uow_factory, staff, title=f"同时 {i}").number)
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []
    first = 1001 + existing
    assert sorted(numbers) == list(range(first, first + 4))


def test_a_ticket_nobody_took_starts_new_and_quiet(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff
) -> None:
    ticket = make_ticket(uow_factory, staff, type=TicketType.FAULT, title="支付页面打不开")
    stored = fresh_ticket(db, ticket.id)
    assert stored.status is TicketStatus.NEW
    assert (stored.requester_customer_id, stored.team_id, stored.assignee_id) == (None, None, None)
    assert _notifications(db, staff.aftersale.id) == []


def test_the_buyer_is_not_told_when_the_agent_says_so(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff, buyer_chat: BuyerChat
) -> None:
    before = chat_lines(db, buyer_chat.conversation_id)
    make_ticket(uow_factory, staff, conversation_ids=[buyer_chat.conversation_id], tell_buyer=False)
    assert chat_lines(db, buyer_chat.conversation_id) == before


def test_whoever_assigns_a_ticket_to_themself_is_not_notified(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff
) -> None:
    make_ticket(
        uow_factory, staff, actor_agent_id=staff.aftersale.id, assignee_id=staff.aftersale.id,
        team_id=staff.teams["aftersale"],
    )  # fmt: skip
    assert _notifications(db, staff.aftersale.id) == []


def test_the_requester_is_the_first_chats_buyer_and_is_told_where_they_wrote_last(
    uow_factory: UowFactory, db: Engine, clock: FrozenClock, staff: TicketStaff,
    buyer_chat: BuyerChat,
) -> None:  # fmt: skip
    clock.advance(timedelta(minutes=10))
    later = start_chat(uow_factory, staff.shop_id, name="王芳的另一个会话", lines=("还在吗",))
    ticket = make_ticket(
        uow_factory, staff, conversation_ids=[buyer_chat.conversation_id, later.conversation_id]
    )
    assert fresh_ticket(db, ticket.id).requester_customer_id == buyer_chat.customer_id
    assert "#1001" in chat_lines(db, later.conversation_id)[-1]
    assert "#1001" not in chat_lines(db, buyer_chat.conversation_id)[-1]


def test_an_internal_request_has_a_team_as_requester_and_no_buyer(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff, buyer_chat: BuyerChat
) -> None:
    ticket = make_ticket(
        uow_factory, staff, type=TicketType.INTERNAL, title="请仓库核对库存",
        requester_team_id=staff.teams["presale"], team_id=staff.teams["shipping"],
        conversation_ids=[buyer_chat.conversation_id], tell_buyer=False,
    )  # fmt: skip
    stored = fresh_ticket(db, ticket.id)
    assert (stored.requester_team_id, stored.requester_customer_id) == (
        staff.teams["presale"],
        None,
    )


def test_tags_are_trimmed_and_counted_once(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff
) -> None:
    ticket = make_ticket(uow_factory, staff, tags=[" 破洞 ", "破洞", "VIP", "vip", "", "  "])
    with uow_factory() as uow:
        assert tickets.tags_of(uow.session, ticket=ticket) == ["破洞", "VIP"]


def test_custom_fields_are_checked_against_the_types_fields(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff
) -> None:
    with uow_factory() as uow:
        tickets.create_field(
            uow, shop_id=staff.shop_id, ticket_type=TicketType.FAULT, key="page",
            label="故障页面", kind=FieldKind.TEXT, required=True,
        )  # fmt: skip
    with pytest.raises(Invalid) as missing:
        make_ticket(uow_factory, staff, type=TicketType.FAULT, title="支付失败")
    assert missing.value.key == "errors.tickets.field_required"
    assert missing.value.params["label"] == "故障页面"
    ticket = make_ticket(
        uow_factory, staff, type=TicketType.FAULT, title="支付失败",
        custom_fields={"page": " 收银台 "},
    )  # fmt: skip
    assert fresh_ticket(db, ticket.id).custom_fields == '{"page": "收银台"}'


def test_files_are_attached_on_creation(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff, tmp_path: Path
) -> None:
    photo = upload(uow_factory, staff.shop_id, tmp_path, agent_id=staff.agent.id)
    ticket = make_ticket(uow_factory, staff, attachment_ids=[photo, photo])
    with uow_factory() as uow:
        detail = tickets.ticket_detail(uow.session, shop_id=staff.shop_id, ticket_id=ticket.id)
    assert [(f.id, f.name) for f in detail.attachments] == [(photo, "照片.png")]


def test_search_text_lets_traditional_find_simplified(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff
) -> None:
    ticket = make_ticket(uow_factory, staff, title="退款還沒到賬", description="ＶＩＰ買家")
    assert fresh_ticket(db, ticket.id).search_text == "退款还没到账 vip买家"


# --- bad input: refused by name, nothing written ------------------------------------------


def _bad_inputs(staff: TicketStaff, elsewhere: Elsewhere) -> dict[str, tuple[dict[str, Any], str]]:
    return {
        "no title": ({"title": "   "}, "errors.tickets.title_required"),
        "huge title": ({"title": "长" * 201}, "errors.tickets.title_too_long"),
        "huge description": (
            {"description": "字" * 10_001},
            "errors.tickets.description_too_long",
        ),
        "another team's agent": (
            {"team_id": staff.teams["aftersale"], "assignee_id": staff.agent.id},
            "errors.tickets.assignee_not_in_team",
        ),
        "another shop's agent": (
            {"assignee_id": elsewhere.staff.agent.id},
            "errors.tickets.agent_not_found",
        ),
        "another shop's team": ({"team_id": elsewhere.team_id}, "errors.tickets.team_not_found"),
        "another shop's conversation": (
            {"conversation_ids": [elsewhere.conversation_id]},
            "errors.tickets.conversation_not_found",
        ),
        "another shop's order": (
            {"order_ids": [elsewhere.order_id]},
            "errors.tickets.order_not_found",
        ),
        "another shop's buyer": (
            {"requester_customer_id": elsewhere.customer_id},
            "errors.tickets.customer_not_found",
        ),
        "another shop's file": (
            {"attachment_ids": [elsewhere.attachment_id]},
            "errors.tickets.attachment_not_found",
        ),
        "an unknown type": ({"type": "praise"}, "errors.tickets.bad_type"),
        "an unknown priority": ({"priority": "asap"}, "errors.tickets.bad_priority"),
        "an unknown custom field": (
            {"custom_fields": {"colour": "红"}},
            "errors.tickets.unknown_field",
        ),
        "21 tags": ({"tags": [f"标签{i}" for i in range(21)]}, "errors.tickets.too_many_tags"),
        "a 41-character tag": ({"tags": ["签" * 41]}, "errors.tickets.tag_too_long"),
        "21 files": ({"attachment_ids": list(range(1, 22))}, "errors.tickets.too_many_attachments"),
        "another shop's unanswered group": (
            {"unanswered_group_id": 987654},
            "errors.tickets.unanswered_group_not_found",
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "no title", "huge title", "huge description", "another team's agent",
        "another shop's agent", "another shop's team", "another shop's conversation",
        "another shop's order", "another shop's buyer", "another shop's file",
        "an unknown type", "an unknown priority", "an unknown custom field", "21 tags",
        "a 41-character tag", "21 files", "another shop's unanswered group",
    ],
)  # fmt: skip
def test_bad_input_is_refused_by_name_before_anything_is_written(
    uow_factory: UowFactory, db: Engine, bus: EventBus, staff: TicketStaff,
    buyer_chat: BuyerChat, elsewhere: Elsewhere, case: str,
) -> None:  # fmt: skip
    make_ticket(uow_factory, staff, conversation_ids=[buyer_chat.conversation_id])
    overrides, key = _bad_inputs(staff, elsewhere)[case]
    before = snapshot(db)
    with bus.capture() as events, pytest.raises(Invalid) as refused:
        make_ticket(
            uow_factory, staff, **{"conversation_ids": [buyer_chat.conversation_id]} | overrides
        )
    assert refused.value.key == key
    assert refused.value.message  # the English sentence the API shows
    assert snapshot(db) == before
    assert events == []


def test_a_deactivated_agent_cannot_be_given_a_ticket(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff
) -> None:
    with uow_factory() as uow:
        accounts.update_agent(
            uow, shop_id=staff.shop_id, agent_id=staff.aftersale2.id,
            acting_agent_id=staff.owner.id, is_active=False,
        )  # fmt: skip
    before = snapshot(db)
    with pytest.raises(Invalid) as refused:
        make_ticket(uow_factory, staff, assignee_id=staff.aftersale2.id)
    assert refused.value.key == "errors.tickets.agent_inactive"
    assert "小张" in refused.value.message
    assert snapshot(db) == before


# --- editing -------------------------------------------------------------------------------


def test_each_field_that_really_changed_is_one_history_row(
    uow_factory: UowFactory, db: Engine, bus: EventBus, staff: TicketStaff
) -> None:
    ticket = make_ticket(uow_factory, staff, tags=["破洞"])
    with bus.capture() as events, uow_factory() as uow:
        tickets.update_ticket(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, actor_agent_id=staff.supervisor.id,
            title="大衣袖子破洞", description="买家补充了照片", priority=TicketPriority.HIGH,
            tags=["破洞", "VIP"],
        )  # fmt: skip
    assert history_fields(db, ticket.id)[1:] == [
        ("description", "", "买家补充了照片"),
        ("priority", "normal", "high"),
        ("tags", "破洞", "破洞、VIP"),
    ]
    (updated,) = [e for e in events if isinstance(e, TicketUpdated)]
    assert updated.changed == ("description", "priority", "tags")
    assert updated.actor_agent_id == staff.supervisor.id


def test_an_edit_that_changes_nothing_leaves_no_trace(
    uow_factory: UowFactory, db: Engine, bus: EventBus, staff: TicketStaff
) -> None:
    ticket = make_ticket(uow_factory, staff, tags=["破洞"])
    with bus.capture() as events, uow_factory() as uow:
        tickets.update_ticket(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, actor_agent_id=staff.agent.id,
            title=" 大衣袖子破洞 ", tags=["破洞"], type=TicketType.AFTERSALE,
        )  # fmt: skip
    assert len(history_fields(db, ticket.id)) == 1
    assert events == []


def test_a_new_type_checks_its_own_custom_fields(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff
) -> None:
    with uow_factory() as uow:
        for ticket_type, key, label, required in (
            (TicketType.FAULT, "page", "故障页面", False),
            (TicketType.FAULT, "when", "发生时间", False),
            (TicketType.COMPLAINT, "page", "涉及页面", False),
            (TicketType.COMPLAINT, "level", "投诉级别", True),
        ):
            tickets.create_field(
                uow, shop_id=staff.shop_id, ticket_type=ticket_type, key=key, label=label,
                kind=FieldKind.TEXT, required=required, commit=False,
            )  # fmt: skip
        uow.commit()
    ticket = make_ticket(
        uow_factory, staff, type=TicketType.FAULT, custom_fields={"page": "收银台", "when": "昨晚"}
    )

    def change(**changes: Any) -> None:
        with uow_factory() as uow:
            tickets.update_ticket(
                uow, shop_id=staff.shop_id, ticket_id=ticket.id, actor_agent_id=staff.agent.id,
                type=TicketType.COMPLAINT, **changes,
            )  # fmt: skip

    before = snapshot(db)
    with pytest.raises(Invalid) as refused:
        change()
    assert refused.value.params["label"] == "投诉级别"
    assert snapshot(db) == before
    change(custom_fields={"level": "一般"})
    # What the new type also has is kept; what it lacks is dropped.
    assert fresh_ticket(db, ticket.id).custom_fields == '{"level": "一般", "page": "收银台"}'
    assert history_fields(db, ticket.id)[1:] == [
        ("type", "fault", "complaint"),
        ("fields", "故障页面: 收银台；发生时间: 昨晚", "涉及页面: 收银台；投诉级别: 一般"),
    ]


def test_a_partial_custom_field_update_keeps_the_others(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff
) -> None:
    with uow_factory() as uow:
        for key in ("page", "when"):
            tickets.create_field(
                uow, shop_id=staff.shop_id, ticket_type=TicketType.FAULT, key=key, label=key,
                kind=FieldKind.TEXT, commit=False,
            )  # fmt: skip
        uow.commit()
    ticket = make_ticket(
        uow_factory, staff, type=TicketType.FAULT, custom_fields={"page": "收银台", "when": "昨晚"}
    )
    with uow_factory() as uow:
        tickets.update_ticket(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, actor_agent_id=staff.agent.id,
            custom_fields={"when": None},
        )  # fmt: skip
    assert fresh_ticket(db, ticket.id).custom_fields == '{"page": "收银台"}'


def test_a_new_title_is_searchable(uow_factory: UowFactory, db: Engine, staff: TicketStaff) -> None:
    ticket = make_ticket(uow_factory, staff)
    with uow_factory() as uow:
        tickets.update_ticket(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, actor_agent_id=staff.agent.id,
            title="發票開錯了",
        )  # fmt: skip
    assert fresh_ticket(db, ticket.id).search_text.startswith("发票开错了")


def test_a_closed_ticket_is_never_edited(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff
) -> None:
    ticket = make_ticket(uow_factory, staff)
    with uow_factory() as uow:
        tickets.change_status(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, status=TicketStatus.CLOSED,
            actor_agent_id=staff.agent.id,
        )  # fmt: skip
    before = snapshot(db)
    with pytest.raises(Conflict) as refused, uow_factory() as uow:
        tickets.update_ticket(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, actor_agent_id=staff.agent.id,
            title="改个标题",
        )  # fmt: skip
    assert refused.value.key == "errors.tickets.closed_is_final"
    assert refused.value.params == {"number": 1001}
    assert snapshot(db) == before


def test_a_huge_description_is_refused_and_the_old_one_kept(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff
) -> None:
    ticket = make_ticket(uow_factory, staff, description="原来的描述")
    before = snapshot(db)
    with pytest.raises(Invalid) as refused, uow_factory() as uow:
        tickets.update_ticket(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, actor_agent_id=staff.agent.id,
            description="长" * 10_001,
        )  # fmt: skip
    assert refused.value.params == {"length": 10_001, "limit": 10_000}
    assert snapshot(db) == before
    assert fresh_ticket(db, ticket.id).description == "原来的描述"


def test_another_shops_ticket_is_not_found(
    uow_factory: UowFactory, staff: TicketStaff, elsewhere: Elsewhere
) -> None:
    theirs = make_ticket(uow_factory, elsewhere.staff)
    from kefu.errors import NotFound

    with pytest.raises(NotFound), uow_factory() as uow:
        tickets.update_ticket(
            uow, shop_id=staff.shop_id, ticket_id=theirs.id, actor_agent_id=staff.agent.id,
            title="偷改",
        )  # fmt: skip
    with pytest.raises(NotFound), uow_factory() as uow:
        tickets.get_ticket(uow.session, shop_id=staff.shop_id, ticket_id=theirs.id)
