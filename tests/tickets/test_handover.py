"""Handing over a shift (交班): the report lists the outgoing people's open chats and
tickets with their last note and deadline, the incoming shift is told and acknowledges."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select

from kefu.clock import FrozenClock
from kefu.conversations import service as conversations
from kefu.conversations.models import SenderType
from kefu.db import make_session_factory
from kefu.errors import Conflict, Invalid, NotFound, PermissionDenied
from kefu.events import EventBus
from kefu.tickets import comments, handover, handover_reads, shifts, sla
from kefu.tickets import service as tickets
from kefu.tickets.events import HandoverAcknowledged, HandoverCreated
from kefu.tickets.models import (
    CommentKind,
    Handover,
    HandoverItem,
    HandoverItemKind,
    Notification,
    NotificationKind,
    TicketStatus,
)
from tests.factories import UowFactory
from tests.tickets.conftest import BuyerChat, Elsewhere, TicketStaff, make_ticket, start_chat
from tests.tickets.shiftkit import DayAndEvening, day_and_evening, local

ANGRY_LINE = "都三天了还没人处理，太过分了！！我要投诉"  # the buyer_chat fixture's last line


@pytest.fixture
def both(uow_factory: UowFactory, staff: TicketStaff) -> DayAndEvening:
    return day_and_evening(uow_factory, staff)


def _hand_over(
    uow_factory: UowFactory, staff: TicketStaff, shift_id: int, **options: object
) -> Handover:
    values: dict[str, object] = {"actor_agent_id": staff.aftersale.id}
    values.update(options)
    with uow_factory() as uow:
        return handover.hand_over(uow, shop_id=staff.shop_id, shift_id=shift_id, **values)  # type: ignore[arg-type]


def _items(db: Engine, handover_id: int) -> list[HandoverItem]:
    with make_session_factory(db)() as session:
        return list(
            session.scalars(
                select(HandoverItem)
                .where(HandoverItem.handover_id == handover_id)
                .order_by(HandoverItem.id)
            )
        )


def _told(db: Engine, kind: NotificationKind) -> dict[int, list[str]]:
    with make_session_factory(db)() as session:
        found: dict[int, list[str]] = {}
        for n in session.scalars(
            select(Notification).where(Notification.kind == kind).order_by(Notification.id)
        ):
            found.setdefault(n.agent_id, []).append(n.text)
        return found


def test_an_agent_hands_over_early_with_the_open_work_and_a_note(
    uow_factory: UowFactory, db: Engine, bus: EventBus, clock: FrozenClock,
    staff: TicketStaff, buyer_chat: BuyerChat, both: DayAndEvening,
) -> None:  # fmt: skip
    ticket = make_ticket(
        uow_factory, staff, title="大衣袖子破洞，要求换货", team_id=staff.teams["aftersale"],
        assignee_id=staff.aftersale.id, conversation_ids=[buyer_chat.conversation_id],
    )  # fmt: skip
    with uow_factory() as uow:
        comments.add_comment(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, kind=CommentKind.NOTE,
            body="仓库说明天补发新的", author_agent_id=staff.aftersale.id,
        )  # fmt: skip
    quiet = start_chat(uow_factory, staff.shop_id, name="李雷", lines=("发票开好了吗",),
                       agent_id=staff.aftersale.id)  # fmt: skip
    with uow_factory() as uow:
        conversations.send_reply(
            uow, shop_id=staff.shop_id, conversation_id=quiet.conversation_id,
            client_msg_id="note-1", body="买家要电子发票，财务处理中", is_private=True,
            sender_type=SenderType.AGENT, sender_agent_id=staff.aftersale.id,
        )  # fmt: skip
        conversations.send_reply(
            uow, shop_id=staff.shop_id, conversation_id=quiet.conversation_id,
            client_msg_id="reply-1", body="亲，正在为您开具，请稍等", sender_type=SenderType.AGENT,
            sender_agent_id=staff.aftersale.id,
        )  # fmt: skip
    # Not the outgoing shift's: 小张's chat and a solved ticket stay out of the report.
    start_chat(
        uow_factory, staff.shop_id, name="韩梅梅", lines=("在吗",), agent_id=staff.aftersale2.id
    )
    done = make_ticket(uow_factory, staff, title="已解决的", team_id=staff.teams["aftersale"],
                       assignee_id=staff.aftersale.id)  # fmt: skip
    with uow_factory() as uow:
        tickets.change_status(
            uow, shop_id=staff.shop_id, ticket_id=done.id, status=TicketStatus.SOLVED,
            actor_agent_id=staff.aftersale.id,
        )  # fmt: skip

    clock.set(local(23, "17:40"))
    with bus.capture() as events:
        report = _hand_over(uow_factory, staff, both.day.id, note=" 王芳的换货今天必须跟进 ")
    assert (report.period_start, report.period_end) == (local(23, "09:00"), local(23, "18:00"))
    assert report.next_shift_id == both.evening.id
    assert report.note == "王芳的换货今天必须跟进"
    # The 30 minutes to acknowledge count from the shift's end, not the early handover.
    assert report.ack_due_at == local(23, "18:30")
    with uow_factory() as uow:
        due = min(
            c.due_at
            for c in sla.clocks_of(uow.session, shop_id=staff.shop_id, ticket_ids=[ticket.id],
                                   now=clock.now())[ticket.id]
            if c.due_at is not None and c.state != "met"
        )  # fmt: skip
    shown = [
        (i.kind, i.title, i.state, i.last_note, i.deadline, i.outgoing_agent_id)
        for i in _items(db, report.id)
    ]
    assert shown == [
        (HandoverItemKind.TICKET, "#1001 大衣袖子破洞，要求换货", "open", "仓库说明天补发新的", due,
         staff.aftersale.id),
        # The chat linked to the ticket shares its deadline; the buyer spoke last: waiting.
        (HandoverItemKind.CONVERSATION, "王芳", "waiting", ANGRY_LINE, due, staff.aftersale.id),
        # The private note, not the last reply, is what the next shift needs.
        (HandoverItemKind.CONVERSATION, "李雷", "open", "买家要电子发票，财务处理中", None,
         staff.aftersale.id),
    ]  # fmt: skip
    # The evening shift (小张) and its duty manager (the owner) are told; not the author.
    told = _told(db, NotificationKind.HANDOVER)
    assert told == {
        staff.aftersale2.id: ["售后白班交班：3 项待确认"],
        staff.owner.id: ["售后白班交班：3 项待确认"],
    }
    assert [(e.handover_id, e.item_count) for e in events if isinstance(e, HandoverCreated)] == [
        (report.id, 3)
    ]


def test_an_occurrence_is_handed_over_once(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff, both: DayAndEvening
) -> None:
    first = _hand_over(uow_factory, staff, both.day.id)
    with pytest.raises(Conflict) as refused:
        _hand_over(uow_factory, staff, both.day.id, note="再交一次")
    assert refused.value.key == "errors.tickets.handover.exists"
    assert refused.value.params == {"shift": "白班", "handover_id": first.id}
    with make_session_factory(db)() as session:
        assert session.scalar(select(func.count(Handover.id))) == 1


def test_a_late_note_joins_the_report_the_app_wrote(
    uow_factory: UowFactory, db: Engine, clock: FrozenClock, staff: TicketStaff,
    both: DayAndEvening,
) -> None:  # fmt: skip
    clock.set(local(23, "18:01"))
    written = _hand_over(uow_factory, staff, both.day.id, actor_agent_id=None,
                         period_end=local(23, "18:00"))  # fmt: skip
    clock.set(local(23, "18:20"))
    # No period named: the occurrence that just ended.
    noted = _hand_over(uow_factory, staff, both.day.id, note="系统的交班报告漏了：明早联系王芳")
    assert noted.id == written.id
    assert noted.note == "系统的交班报告漏了：明早联系王芳"
    # Once: a report with a note is not rewritten.
    with pytest.raises(Conflict):
        _hand_over(uow_factory, staff, both.day.id, note="再改一次")


def test_who_may_hand_over_and_when(
    uow_factory: UowFactory, clock: FrozenClock, staff: TicketStaff, both: DayAndEvening
) -> None:
    # 小美 (售前) is not on the 售后 day shift.
    with pytest.raises(PermissionDenied) as refused:
        _hand_over(uow_factory, staff, both.day.id, actor_agent_id=staff.agent.id)
    assert refused.value.key == "errors.tickets.handover.not_on_shift"
    assert refused.value.params == {"name": "小美", "shift": "白班"}
    # The end of no occurrence.
    with pytest.raises(Invalid) as refused:
        _hand_over(uow_factory, staff, both.day.id, period_end=local(23, "17:00"))
    assert refused.value.key == "errors.tickets.handover.not_a_shift_end"
    # Tomorrow's occurrence has not started.
    with pytest.raises(Invalid) as refused:
        _hand_over(uow_factory, staff, both.day.id, period_end=local(24, "18:00"))
    assert refused.value.key == "errors.tickets.handover.not_started"
    # At 04:00 the day shift is neither on nor just over.
    clock.set(local(24, "04:00"))
    with pytest.raises(Invalid) as refused:
        _hand_over(uow_factory, staff, both.day.id)
    assert refused.value.key == "errors.tickets.handover.shift_not_on"
    # A supervisor may hand over any shift (someone fell ill).
    clock.set(local(24, "17:00"))
    assert _hand_over(uow_factory, staff, both.day.id, actor_agent_id=staff.supervisor.id).id


def test_the_incoming_shift_acknowledges_item_by_item_or_all(
    uow_factory: UowFactory, db: Engine, bus: EventBus, staff: TicketStaff,
    buyer_chat: BuyerChat, both: DayAndEvening,
) -> None:  # fmt: skip
    make_ticket(
        uow_factory, staff, team_id=staff.teams["aftersale"], assignee_id=staff.aftersale.id
    )
    report = _hand_over(uow_factory, staff, both.day.id)
    first, second = (i.id for i in _items(db, report.id))
    # 小美 is not on the evening shift; 小刘 handed it over.
    for outsider in (staff.agent.id, staff.aftersale.id):
        with uow_factory() as uow, pytest.raises(PermissionDenied) as refused:
            handover.acknowledge(
                uow, shop_id=staff.shop_id, handover_id=report.id, agent_id=outsider
            )
        assert refused.value.key == "errors.tickets.handover.not_incoming"
    with uow_factory() as uow, pytest.raises(Invalid) as refused:
        handover.acknowledge(
            uow, shop_id=staff.shop_id, handover_id=report.id, agent_id=staff.aftersale2.id,
            item_ids=[first, 999_999],
        )  # fmt: skip
    assert refused.value.key == "errors.tickets.handover.item_not_found"
    assert all(i.acknowledged_at is None for i in _items(db, report.id))

    with bus.capture() as events, uow_factory() as uow:
        handover.acknowledge(
            uow, shop_id=staff.shop_id, handover_id=report.id, agent_id=staff.aftersale2.id,
            item_ids=[first],
        )  # fmt: skip
    with bus.capture() as more, uow_factory() as uow:
        handover.acknowledge(
            uow, shop_id=staff.shop_id, handover_id=report.id, agent_id=staff.owner.id
        )
    acked = {i.id: i.acknowledged_by_id for i in _items(db, report.id)}
    assert acked == {first: staff.aftersale2.id, second: staff.owner.id}
    assert [(e.item_ids, e.complete) for e in events if isinstance(e, HandoverAcknowledged)] == [
        ((first,), False)
    ]
    assert [(e.item_ids, e.complete) for e in more if isinstance(e, HandoverAcknowledged)] == [
        ((second,), True)
    ]
    with uow_factory() as uow:
        detail = handover_reads.handover_detail(
            uow.session, shop_id=staff.shop_id, handover_id=report.id
        )
    assert detail.handover.acknowledged_by_id == staff.owner.id
    assert (detail.row.items, detail.row.acknowledged, detail.row.flagged) == (2, 2, 0)
    # Again: nothing changes, nothing is said.
    with bus.capture() as again, uow_factory() as uow:
        handover.acknowledge(
            uow, shop_id=staff.shop_id, handover_id=report.id, agent_id=staff.aftersale2.id
        )
    assert [e for e in again if isinstance(e, HandoverAcknowledged)] == []


def test_the_list_and_the_report_read_with_names(
    uow_factory: UowFactory, staff: TicketStaff, buyer_chat: BuyerChat, both: DayAndEvening
) -> None:
    report = _hand_over(uow_factory, staff, both.day.id, note="注意王芳")
    with uow_factory() as uow:
        session = uow.session
        [row] = handover_reads.handover_rows(
            session,
            shop_id=staff.shop_id,
            handovers=handover_reads.list_handovers(session, shop_id=staff.shop_id),
        )
        detail = handover_reads.handover_detail(
            session, shop_id=staff.shop_id, handover_id=report.id
        )
        assert detail.can_acknowledge(session, agent_id=staff.aftersale2.id)
        assert not detail.can_acknowledge(session, agent_id=staff.aftersale.id)
    assert (row.team_name, row.shift_name, row.next_shift_name, row.author_name) == (
        "售后", "白班", "晚班", "小刘",
    )  # fmt: skip
    assert (row.items, row.acknowledged, row.flagged) == (1, 0, 0)
    [item] = detail.items
    assert (item.link, item.outgoing_name) == (
        f"/desk?conversation={buyer_chat.conversation_id}",
        "小刘",
    )


def test_another_shops_reports_are_not_found(
    uow_factory: UowFactory, staff: TicketStaff, both: DayAndEvening, elsewhere: Elsewhere
) -> None:
    report = _hand_over(uow_factory, staff, both.day.id)
    other = elsewhere.staff.shop.id
    with uow_factory() as uow:
        with pytest.raises(NotFound):
            handover_reads.handover_detail(uow.session, shop_id=other, handover_id=report.id)
        assert handover_reads.list_handovers(uow.session, shop_id=other) == []
    with uow_factory() as uow, pytest.raises(NotFound):
        handover.acknowledge(
            uow, shop_id=other, handover_id=report.id, agent_id=elsewhere.staff.supervisor.id
        )
    with uow_factory() as uow, pytest.raises(NotFound):
        handover.hand_over(uow, shop_id=other, shift_id=both.day.id)


def test_an_empty_handover_bothers_nobody(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff, both: DayAndEvening
) -> None:
    report = _hand_over(uow_factory, staff, both.day.id)
    assert _items(db, report.id) == []
    assert _told(db, NotificationKind.HANDOVER) == {}
    # Acknowledging it marks it read.
    with uow_factory() as uow:
        done = handover.acknowledge(
            uow, shop_id=staff.shop_id, handover_id=report.id, agent_id=staff.aftersale2.id
        )
        assert done.acknowledged_at is not None


def test_a_retired_shift_hands_nothing_over(
    uow_factory: UowFactory, staff: TicketStaff, both: DayAndEvening
) -> None:
    with uow_factory() as uow:
        shifts.update_shift(uow, shop_id=staff.shop_id, shift_id=both.day.id, is_active=False)
    with pytest.raises(Conflict) as refused:
        _hand_over(uow_factory, staff, both.day.id)
    assert refused.value.key == "errors.tickets.handover.shift_retired"


def test_the_ack_window_counts_from_a_late_handover(
    uow_factory: UowFactory, clock: FrozenClock, staff: TicketStaff, both: DayAndEvening
) -> None:
    clock.set(local(23, "19:00"))
    report = _hand_over(uow_factory, staff, both.day.id)
    assert report.period_end == local(23, "18:00")
    assert report.ack_due_at == local(23, "19:00") + timedelta(minutes=30)
