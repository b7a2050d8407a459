"""The demo shop's tickets: what someone trying Kefu finds in 工单 and 交班 — tickets of every
kind in every state, told to the buyers in their chats, colleagues called by @mention, an
SLA warning, a breach and a deadline met, escalations, and the last evening's handover.

These tests only read, so the demo is seeded once for the module (per backend); the tests
that seed their own demo (pages, the same seed twice, other days) are in
``test_demo_ticket_seeding.py``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, func, select

from kefu.accounts import passwords
from kefu.accounts import service as accounts
from kefu.clock import FrozenClock
from kefu.conversations.models import Conversation, Message, SenderType
from kefu.db import make_session_factory
from kefu.demo import DemoSummary, seed_demo_shop
from kefu.events import EventBus
from kefu.kb.models import UnansweredGroup, UnansweredStatus
from kefu.tickets import service as tickets
from kefu.tickets.models import (
    Handover,
    HandoverItem,
    Notification,
    NotificationKind,
    SlaTarget,
    Ticket,
    TicketStatus,
    TicketType,
)
from kefu.uow import UnitOfWork
from tests.conftest import START
from tests.conftest import _empty_all_tables as empty_all_tables
from tests.demo.ticketkit import UowFactory, rows_of, titled

SHANGHAI = ZoneInfo("Asia/Shanghai")
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # as conftest's


@dataclass(frozen=True)
class Seeded:
    summary: DemoSummary
    uow_factory: UowFactory
    now: datetime

    @property
    def shop_id(self) -> int:
        return self.summary.shop_id


@pytest.fixture(scope="module")
def seeded(engine: Engine) -> Iterator[Seeded]:
    """The demo, seeded at the suite's clock (10:00 on a Monday in Shanghai); emptied after
    the module, as ``db`` does after a test."""
    factory = make_session_factory(engine)
    clock = FrozenClock(START)

    def uow_factory() -> UnitOfWork:
        return UnitOfWork(factory, EventBus(), clock)

    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(passwords, "_hasher", FAST_HASHER)
            summary = seed_demo_shop(uow_factory)
        yield Seeded(summary=summary, uow_factory=uow_factory, now=clock.now())
    finally:  # also after a failed seed: the next module starts empty
        empty_all_tables(engine)


def _people(uow_factory: UowFactory, shop_id: int) -> dict[str, int]:
    with uow_factory() as uow:
        return {a.display_name: a.id for a in accounts.list_agents(uow.session, shop_id=shop_id)}


def _notified(uow_factory: UowFactory, agent_id: int, kind: NotificationKind) -> list[str]:
    with uow_factory() as uow:
        return list(
            uow.session.scalars(
                select(Notification.text)
                .where(Notification.agent_id == agent_id, Notification.kind == kind)
                .order_by(Notification.id)
            )
        )


# --- the tickets -----------------------------------------------------------------------------


def test_the_demo_has_tickets_of_every_kind_in_every_state(seeded: Seeded) -> None:
    uow_factory, shop_id = seeded.uow_factory, seeded.shop_id
    rows = rows_of(uow_factory, shop_id, seeded.now)
    assert 8 <= len(rows) == seeded.summary.tickets <= 15
    # Numbered in the order they were opened, from 1001.
    assert [row.number for row in rows] == list(range(1001, 1001 + len(rows)))
    assert [row.created_at for row in rows] == sorted(row.created_at for row in rows)
    assert all(row.created_at <= seeded.now for row in rows)
    assert {row.type for row in rows} == set(TicketType)
    assert {row.status for row in rows} == set(TicketStatus)
    assert {"warning", "breached", "met", "paused", "ok"} <= {row.sla_state for row in rows}
    assert all(row.tags for row in rows if row.type is not TicketType.ESCALATION)


def test_a_complaint_chat_became_tickets_the_buyer_was_told_of_in_the_chat(seeded: Seeded) -> None:
    uow_factory, shop_id = seeded.uow_factory, seeded.shop_id
    rows = rows_of(uow_factory, shop_id, seeded.now)
    people = _people(uow_factory, shop_id)
    complaint = titled(rows, "质量投诉：")
    aftersale = titled(rows, "换新：")
    with uow_factory() as uow:
        detail = tickets.ticket_detail(uow.session, shop_id=shop_id, ticket_id=complaint.id)
        turned = tickets.ticket_detail(uow.session, shop_id=shop_id, ticket_id=aftersale.id)
        chats = {
            c.id: c
            for c in uow.session.scalars(
                select(Conversation).where(
                    Conversation.id.in_([d.conversations[0].id for d in (detail, turned)])
                )
            )
        }
    # The complaint: 投诉's, about the buyer's own order, met in time.
    assert (detail.ticket.type, detail.team_name, detail.assignee_name) == (
        TicketType.COMPLAINT, "投诉", "客服芳芳",
    )  # fmt: skip
    assert complaint.sla_state == "met" and complaint.status is TicketStatus.CLOSED
    [chat] = detail.conversations
    assert chats[chat.id].subject == "质量投诉"
    assert detail.requester.kind == "customer" and detail.requester.id == chat.customer_id
    assert len(detail.orders) == 1 and {"质量问题", "起球"} <= set(detail.tags)
    assert {f.label: f.shown for f in detail.fields}["投诉渠道"] == "在线聊天"
    # A note called 售后 by name (notified), a reply went to the buyer.
    kinds = {c.kind for c in detail.comments}
    assert kinds == {"note", "reply"}
    mentioned = {m.agent_id for c in detail.comments for m in c.mentions}
    assert people["售后阿敏"] in mentioned
    assert any(f"#{complaint.number}" in text for text in _notified(
        uow_factory, people["售后阿敏"], NotificationKind.MENTION
    ))  # fmt: skip
    # The buyer read the number and the reply in the chat, before the agent closed it.
    thread = _thread(uow_factory, chat.id)
    told = [m for m in thread if m.sender_type is SenderType.SYSTEM]
    assert any(f"工单 #{complaint.number}" in m.body for m in told)
    reply = next(c for c in detail.comments if c.kind == "reply")
    assert thread[-1].body == reply.body and thread[-1].sender_agent_id == people["客服芳芳"]
    closed_at = chats[chat.id].closed_at
    assert closed_at is not None and thread[-1].created_at <= closed_at

    # The "done when": the complaint chat turned into a ticket for 售后.
    assert (turned.ticket.type, turned.team_name, turned.assignee_name) == (
        TicketType.AFTERSALE, "售后", "售后阿敏",
    )  # fmt: skip
    assert turned.created_by_name == "客服芳芳"
    assert chats[turned.conversations[0].id].subject == "质量投诉"
    assert any(
        f"工单 #{aftersale.number}" in m.body and "售后" in m.body
        for m in _thread(uow_factory, turned.conversations[0].id)
    )


def _thread(uow_factory: UowFactory, conversation_id: int) -> list[Message]:
    with uow_factory() as uow:
        return list(
            uow.session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id)
                .order_by(Message.seq)
            )
        )


def test_a_fault_an_internal_request_and_a_merged_duplicate_are_there(seeded: Seeded) -> None:
    uow_factory, shop_id = seeded.uow_factory, seeded.shop_id
    now = seeded.now
    rows = rows_of(uow_factory, shop_id, now)
    people = _people(uow_factory, shop_id)
    fault = titled(rows, "付款失败：")
    rush = titled(rows, "加急发货：")
    with uow_factory() as uow:
        session = uow.session
        fault_detail = tickets.ticket_detail(session, shop_id=shop_id, ticket_id=fault.id)
        rush_detail = tickets.ticket_detail(session, shop_id=shop_id, ticket_id=rush.id)
        merged = session.scalars(
            select(Ticket).where(Ticket.shop_id == shop_id, Ticket.merged_into_id.is_not(None))
        ).all()
        breached = session.scalar(
            select(func.count(SlaTarget.id)).where(
                SlaTarget.ticket_id == fault.id, SlaTarget.breached_at.is_not(None)
            )
        )
        report = tickets.breach_report(
            session, shop_id=shop_id, since=now - timedelta(days=90), until=now
        )
    # 障碍申告 with the fault's own fields; nobody has taken it and its first response is
    # overdue: recorded as a breach, the supervisors told.
    fields = {f.label: f.shown for f in fault_detail.fields}
    assert fields["故障页面"] == "支付页"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", fields["发生时间"])
    assert (fault.status, fault.sla_state, fault_detail.team_name) == (
        TicketStatus.NEW, "breached", "推广",
    )  # fmt: skip
    assert fault_detail.requester.kind == "team" and fault_detail.requester.name == "售前"
    assert breached == 1 and sum(row.breached for row in report) >= 1
    for supervisor in ("客服主管晓雯", "掌柜老林"):
        breaches = _notified(uow_factory, people[supervisor], NotificationKind.SLA_BREACH)
        assert any(f"#{fault.number}" in text for text in breaches)
    # 内部请求 from 售前 to 发货, about to miss its first response: the supervisor is warned.
    assert (rush.type, rush.sla_state, rush_detail.team_name, rush_detail.assignee_name) == (
        TicketType.INTERNAL, "warning", "发货", "发货客服阿强",
    )  # fmt: skip
    assert rush_detail.requester.name == "售前"
    assert rush.minutes_left is not None and 0 < rush.minutes_left <= 30
    warnings = _notified(uow_factory, people["客服主管晓雯"], NotificationKind.SLA_WARNING)
    assert any(f"#{rush.number}" in text for text in warnings)
    # Two colleagues opened the same 包裹破损: one was merged into the other.
    [duplicate] = merged
    assert duplicate.status is TicketStatus.CLOSED
    target = next(row for row in rows if row.id == duplicate.merged_into_id)
    assert target.title.startswith("包裹破损：")


def test_escalations_one_answered_by_the_duty_manager_and_one_waiting(seeded: Seeded) -> None:
    uow_factory, shop_id = seeded.uow_factory, seeded.shop_id
    rows = rows_of(uow_factory, shop_id, seeded.now)
    rows = [row for row in rows if row.type is TicketType.ESCALATION]
    people = _people(uow_factory, shop_id)
    answered = next(r for r in rows if r.status is TicketStatus.SOLVED)
    waiting = next(r for r in rows if r.status is TicketStatus.OPEN)
    with uow_factory() as uow:
        session = uow.session
        ticket = tickets.get_ticket(session, shop_id=shop_id, ticket_id=answered.id)
        asked = session.get(UnansweredGroup, ticket.unanswered_group_id)
        still = tickets.get_ticket(session, shop_id=shop_id, ticket_id=waiting.id)
        open_group = session.get(UnansweredGroup, still.unanswered_group_id)
    # Questions buyers asked the bot, escalated from the unanswered inbox.
    assert asked is not None and asked.count >= 1 and open_group is not None
    assert answered.title == "四件套能定做2.2米床的吗" and "2.0m" in ticket.answer
    assert answered.sla_state == "met"
    # Left for whoever tries the demo to make a KB entry of (「加入知识库」, one click).
    assert ticket.kb_entry_id is None and asked.status is UnansweredStatus.OPEN
    # Escalations go to the duty manager: the lead, the morning's and the shop's.
    assert answered.assignee_id == waiting.assignee_id == people["客服主管晓雯"]
    assert not still.answer and waiting.sla_state in ("ok", "warning")


def test_the_last_evening_handover_was_taken_over_but_for_one_flagged_item(seeded: Seeded) -> None:
    uow_factory, shop_id = seeded.uow_factory, seeded.shop_id
    people = _people(uow_factory, shop_id)
    with uow_factory() as uow:
        session = uow.session
        [handover] = session.scalars(select(Handover).where(Handover.shop_id == shop_id))
        detail = tickets.handover_detail(session, shop_id=shop_id, handover_id=handover.id)
        items = session.scalars(
            select(HandoverItem).where(HandoverItem.handover_id == handover.id)
        ).all()
    # 投诉's 晚班 18:00–24:00 that ended at the last midnight (10:00 on a Monday now).
    assert (detail.row.team_name, detail.row.shift_name) == ("投诉", "晚班")
    start, end = (m.astimezone(SHANGHAI) for m in (handover.period_start, handover.period_end))
    assert (start.isoformat(), end.isoformat()) == (
        "2026-11-22T18:00:00+08:00", "2026-11-23T00:00:00+08:00",
    )  # fmt: skip
    assert handover.created_by_agent_id == people["客服芳芳"] and "投诉" in handover.note
    assert len(items) >= 2 and all(item.ticket_id for item in items)
    assert all(re.match(r"#10\d\d ", item.title) for item in items)
    assert any(item.deadline is not None for item in items)
    acknowledged = [item for item in items if item.acknowledged_at is not None]
    flagged = [item for item in items if item.flagged_at is not None]
    assert acknowledged
    assert all(item.acknowledged_by_id == people["客服主管晓雯"] for item in acknowledged)
    assert len(flagged) == 1 and flagged[0].acknowledged_at is None
    assert flagged[0].title.startswith("#") and "来电投诉" in flagged[0].title
    told = _notified(uow_factory, people["客服主管晓雯"], NotificationKind.HANDOVER_FLAGGED)
    assert told and "1 项超时未确认" in told[-1]
