"""Escalation (升级): a question the KB lacks goes to the duty manager as a ticket; the
answer reaches the buyer in the chat and becomes a KB entry in one call, after which the
bot answers the question itself."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, select

from kefu.accounts import service as accounts
from kefu.db import make_session_factory
from kefu.errors import Conflict, Invalid, NotFound, PermissionDenied
from kefu.events import EventBus
from kefu.kb import service as kb
from kefu.kb.models import UnansweredGroup, UnansweredStatus
from kefu.tickets import escalation, settings, subscribers
from kefu.tickets.events import EscalationAnswered, TicketCreated
from kefu.tickets.models import (
    Notification,
    NotificationKind,
    Ticket,
    TicketConversation,
    TicketStatus,
    TicketType,
)
from kefu.uow import UnitOfWork
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
)
from tests.tickets.shiftkit import local, make_shift

QUESTION = "运费险怎么理赔？"
ANSWER = "签收后 7 天内在订单页申请退货，运费险会自动理赔到您的支付账户。"


def _notifications(db: Engine, agent_id: int) -> list[tuple[NotificationKind, str, str]]:
    with make_session_factory(db)() as session:
        rows = session.scalars(
            select(Notification).where(Notification.agent_id == agent_id).order_by(Notification.id)
        )
        return [(n.kind, n.text, n.link) for n in rows]


def _unanswered(
    uow_factory: UowFactory, staff: TicketStaff, chat: BuyerChat, text: str = QUESTION
) -> int:
    """The bot could not answer ``text`` in ``chat``: the group it joined."""
    with uow_factory() as uow:
        question = kb.record_unanswered(
            uow, shop_id=staff.shop_id, text=text, conversation_id=chat.conversation_id,
            customer_id=chat.customer_id,
        )  # fmt: skip
        assert question is not None
        return question.group_id


def _escalate(uow_factory: UowFactory, staff: TicketStaff, **options: object) -> Ticket:
    values: dict[str, object] = {"question": QUESTION, "actor_agent_id": staff.aftersale.id}
    values.update(options)
    with uow_factory() as uow:
        return escalation.escalate_question(uow, shop_id=staff.shop_id, **values)  # type: ignore[arg-type]


# --- the duty manager ------------------------------------------------------------------------


def test_the_duty_manager_is_the_shifts_then_the_shops_then_a_supervisor(
    uow_factory: UowFactory, staff: TicketStaff
) -> None:
    def manager(at_clock: str = "10:00", team: str | None = None) -> int | None:
        with uow_factory() as uow:
            return escalation.duty_manager(
                uow.session, shop_id=staff.shop_id, at=local(23, at_clock),
                team_id=staff.teams[team] if team else None,
            )  # fmt: skip

    # Nobody named anywhere: the first supervisor.
    assert manager() == staff.supervisor.id
    with uow_factory() as uow:
        settings.update_ticket_settings(uow, shop_id=staff.shop_id, duty_manager_id=staff.owner.id)
    assert manager() == staff.owner.id
    # A shift on now names its own; the conversation's team's shift is preferred.
    make_shift(uow_factory, staff, team_id=staff.teams["complaints"], name="投诉白班",
               duty_manager_id=staff.owner.id)  # fmt: skip
    make_shift(uow_factory, staff, duty_manager_id=staff.supervisor.id)
    assert manager(team="aftersale") == staff.supervisor.id
    assert manager(team="complaints") == staff.owner.id
    # Off shift hours: the shop's standing duty manager again.
    assert manager("20:00", team="aftersale") == staff.owner.id


def test_a_deactivated_duty_manager_is_passed_over(
    uow_factory: UowFactory, staff: TicketStaff
) -> None:
    make_shift(uow_factory, staff, duty_manager_id=staff.supervisor.id)
    with uow_factory() as uow:
        accounts.update_agent(
            uow, shop_id=staff.shop_id, agent_id=staff.supervisor.id,
            acting_agent_id=staff.owner.id, is_active=False,
        )  # fmt: skip
    with uow_factory() as uow:
        # No other supervisor: the owner.
        assert (
            escalation.duty_manager(uow.session, shop_id=staff.shop_id, at=local(23, "10:00"))
            == staff.owner.id
        )


# --- escalating ------------------------------------------------------------------------------


def test_an_agent_escalates_a_buyers_question_from_the_chat(
    uow_factory: UowFactory, db: Engine, bus: EventBus, staff: TicketStaff, buyer_chat: BuyerChat
) -> None:
    with bus.capture() as events:
        ticket = _escalate(uow_factory, staff, conversation_id=buyer_chat.conversation_id)
    stored = fresh_ticket(db, ticket.id)
    assert (stored.type, stored.title, stored.status) == (
        TicketType.ESCALATION, QUESTION, TicketStatus.OPEN,
    )  # fmt: skip
    assert (stored.assignee_id, stored.team_id) == (staff.supervisor.id, None)
    assert stored.requester_customer_id == buyer_chat.customer_id
    # The buyer is told the number in the chat; the duty manager is asked to answer.
    assert any("#1001" in line for line in chat_lines(db, buyer_chat.conversation_id))
    # One notification, the request to answer (not also a plain "assigned to you").
    assert _notifications(db, staff.supervisor.id) == [
        (NotificationKind.ESCALATION, f"请答复升级问题 #1001：{QUESTION}", f"/tickets/{ticket.id}")
    ]
    assert [e.ticket_id for e in events if isinstance(e, TicketCreated)] == [ticket.id]


def test_escalating_an_unanswered_group_quotes_its_wordings_and_links_the_askers_chat(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff, buyer_chat: BuyerChat
) -> None:
    group_id = _unanswered(uow_factory, staff, buyer_chat)
    later = start_chat(uow_factory, staff.shop_id, name="李雷", lines=("在吗",))
    same_group = _unanswered(uow_factory, staff, later, text="运费险如何理赔")
    assert same_group == group_id
    ticket = _escalate(uow_factory, staff, question="", unanswered_group_id=group_id)
    stored = fresh_ticket(db, ticket.id)
    assert stored.title == QUESTION
    assert stored.unanswered_group_id == group_id
    assert "共问过 2 次" in stored.description
    assert "- 运费险如何理赔" in stored.description
    with make_session_factory(db)() as session:
        linked = session.scalars(
            select(TicketConversation.conversation_id).where(
                TicketConversation.ticket_id == ticket.id
            )
        ).all()
    assert linked == [later.conversation_id]  # the latest asker's chat
    # The askers asked the bot: no ticket number pushed into their chats.
    assert not any("#1001" in line for line in chat_lines(db, later.conversation_id))


def test_a_group_is_escalated_once_until_it_is_solved(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff, buyer_chat: BuyerChat
) -> None:
    group_id = _unanswered(uow_factory, staff, buyer_chat)
    first = _escalate(uow_factory, staff, question="", unanswered_group_id=group_id)
    before = snapshot(db)
    with pytest.raises(Conflict) as refused:
        _escalate(uow_factory, staff, question="", unanswered_group_id=group_id)
    assert refused.value.key == "errors.tickets.escalation.already_escalated"
    assert refused.value.params["number"] == first.number
    assert "#1001" in refused.value.message
    assert snapshot(db) == before


def test_a_group_the_kb_resolved_is_not_escalated(
    uow_factory: UowFactory, staff: TicketStaff, buyer_chat: BuyerChat
) -> None:
    group_id = _unanswered(uow_factory, staff, buyer_chat)
    with uow_factory() as uow:
        kb.ignore_group(uow, shop_id=staff.shop_id, group_id=group_id)
    with pytest.raises(Conflict) as refused:
        _escalate(uow_factory, staff, question="", unanswered_group_id=group_id)
    assert refused.value.key == "errors.tickets.escalation.group_closed"


def test_bad_escalations_are_refused(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff, buyer_chat: BuyerChat,
    elsewhere: Elsewhere,
) -> None:  # fmt: skip
    before = snapshot(db)
    with pytest.raises(Invalid) as refused:
        _escalate(uow_factory, staff, question="  ")
    assert refused.value.key == "errors.tickets.escalation.question_required"
    with pytest.raises(Invalid) as refused:
        _escalate(uow_factory, staff, question="问" * 2001)
    assert refused.value.key == "errors.tickets.escalation.question_too_long"
    with pytest.raises(Invalid) as refused:
        _escalate(uow_factory, staff, conversation_id=elsewhere.conversation_id)
    assert refused.value.key == "errors.tickets.conversation_not_found"
    other_group = _unanswered_elsewhere(uow_factory, elsewhere)
    with pytest.raises(NotFound):
        _escalate(uow_factory, staff, unanswered_group_id=other_group)
    assert snapshot(db) == before


def _unanswered_elsewhere(uow_factory: UowFactory, elsewhere: Elsewhere) -> int:
    with uow_factory() as uow:
        question = kb.record_unanswered(
            uow, shop_id=elsewhere.staff.shop.id, text="别家店的问题怎么处理",
            conversation_id=elsewhere.conversation_id,
        )  # fmt: skip
        assert question is not None
        return question.group_id


def test_a_long_question_is_cut_for_the_title_and_kept_whole_in_the_description(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff
) -> None:
    question = "这个问题很长" * 60
    stored = fresh_ticket(db, _escalate(uow_factory, staff, question=question).id)
    assert len(stored.title) == 200 and stored.title.endswith("…")
    assert stored.description == question


# --- answering -------------------------------------------------------------------------------


def test_the_answer_reaches_the_buyer_and_solves_the_ticket(
    uow_factory: UowFactory, db: Engine, bus: EventBus, staff: TicketStaff, buyer_chat: BuyerChat
) -> None:
    ticket = _escalate(uow_factory, staff, conversation_id=buyer_chat.conversation_id)
    with bus.capture() as events, uow_factory() as uow:
        escalation.answer_escalation(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, answer=f"  {ANSWER}  ",
            actor_agent_id=staff.supervisor.id,
        )  # fmt: skip
    stored = fresh_ticket(db, ticket.id)
    assert (stored.answer, stored.status) == (ANSWER, TicketStatus.SOLVED)
    assert chat_lines(db, buyer_chat.conversation_id)[-1] == ANSWER
    assert ("answer", "", ANSWER) in history_fields(db, ticket.id)
    assert ("status", "open", "solved") in history_fields(db, ticket.id)
    assert [(e.ticket_id, e.kb_entry_id) for e in events if isinstance(e, EscalationAnswered)] == [
        (ticket.id, None)
    ]


def test_only_the_assignee_or_a_supervisor_answers(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff
) -> None:
    ticket = _escalate(uow_factory, staff)
    before = snapshot(db)
    with uow_factory() as uow, pytest.raises(PermissionDenied) as refused:
        escalation.answer_escalation(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, answer=ANSWER,
            actor_agent_id=staff.aftersale.id,
        )  # fmt: skip
    assert refused.value.key == "errors.tickets.escalation.not_yours"
    with uow_factory() as uow, pytest.raises(Invalid) as empty:
        escalation.answer_escalation(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, answer=" ",
            actor_agent_id=staff.supervisor.id,
        )  # fmt: skip
    assert empty.value.key == "errors.tickets.escalation.answer_required"
    assert snapshot(db) == before
    # The owner (a supervisor's rank and above) may; then it is solved and answered.
    with uow_factory() as uow:
        escalation.answer_escalation(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, answer=ANSWER,
            actor_agent_id=staff.owner.id,
        )  # fmt: skip
    with uow_factory() as uow, pytest.raises(Conflict) as again:
        escalation.answer_escalation(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, answer="改一下",
            actor_agent_id=staff.owner.id,
        )  # fmt: skip
    assert again.value.key == "errors.tickets.escalation.already_answered"


def test_only_escalations_are_answered_this_way(
    uow_factory: UowFactory, staff: TicketStaff
) -> None:
    other = make_ticket(uow_factory, staff)
    with uow_factory() as uow, pytest.raises(Invalid) as refused:
        escalation.answer_escalation(
            uow, shop_id=staff.shop_id, ticket_id=other.id, answer=ANSWER,
            actor_agent_id=staff.supervisor.id,
        )  # fmt: skip
    assert refused.value.key == "errors.tickets.escalation.not_escalation"


# --- into the knowledge base -----------------------------------------------------------------


def test_from_the_bots_unanswered_question_to_a_kb_entry_the_bot_answers_with(
    uow_factory: UowFactory, db: Engine, bus: EventBus, staff: TicketStaff, buyer_chat: BuyerChat
) -> None:
    group_id = _unanswered(uow_factory, staff, buyer_chat)
    with uow_factory() as uow:
        assert kb.find_answer(uow.session, shop_id=staff.shop_id, text=QUESTION).answer is None
    ticket = _escalate(uow_factory, staff, question="", unanswered_group_id=group_id)
    with uow_factory() as uow:
        escalation.answer_escalation(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, answer=ANSWER,
            actor_agent_id=staff.supervisor.id,
        )  # fmt: skip
    with bus.capture() as events, uow_factory() as uow:
        entry_id = escalation.answer_to_kb(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, actor_agent_id=staff.supervisor.id,
            category="售后",
        )  # fmt: skip
    with uow_factory() as uow:
        found = kb.find_answer(uow.session, shop_id=staff.shop_id, text="运费险怎么理赔")
        assert found.answer is not None
        assert (found.answer.entry_id, found.answer.answer) == (entry_id, ANSWER)
        group = uow.session.get(UnansweredGroup, group_id)
        assert group is not None
        assert (group.status, group.entry_id) == (UnansweredStatus.RESOLVED, entry_id)
    assert fresh_ticket(db, ticket.id).kb_entry_id == entry_id
    assert ("kb_entry", "", f"#{entry_id}") in history_fields(db, ticket.id)
    assert [e.kb_entry_id for e in events if isinstance(e, EscalationAnswered)] == [entry_id]
    # Once only, naming the entry.
    with uow_factory() as uow, pytest.raises(Conflict) as again:
        escalation.answer_to_kb(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, actor_agent_id=staff.supervisor.id
        )
    assert again.value.key == "errors.tickets.escalation.already_in_kb"
    assert again.value.params["entry_id"] == entry_id


def test_an_agents_escalation_becomes_an_entry_with_its_question(
    uow_factory: UowFactory, staff: TicketStaff
) -> None:
    ticket = _escalate(uow_factory, staff, question="可以开增值税专用发票吗")
    with uow_factory() as uow:
        escalation.answer_escalation(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, answer="可以，下单时备注税号即可。",
            actor_agent_id=staff.supervisor.id,
        )  # fmt: skip
    with uow_factory() as uow:
        entry_id = escalation.answer_to_kb(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, actor_agent_id=staff.supervisor.id,
            questions=["可以开增值税专用发票吗", "能开专票吗"],
        )  # fmt: skip
    with uow_factory() as uow:
        entry = kb.get_entry(uow.session, shop_id=staff.shop_id, entry_id=entry_id)
    assert entry.questions == ["可以开增值税专用发票吗", "能开专票吗"]


def test_no_kb_entry_without_an_answer(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff
) -> None:
    ticket = _escalate(uow_factory, staff)
    before = snapshot(db)
    with uow_factory() as uow, pytest.raises(Invalid) as refused:
        escalation.answer_to_kb(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, actor_agent_id=staff.supervisor.id
        )
    assert refused.value.key == "errors.tickets.escalation.no_answer_yet"
    assert snapshot(db) == before


# --- automatic escalation --------------------------------------------------------------------


def test_new_unanswered_groups_escalate_by_themselves_when_the_shop_wants(
    uow_factory: UowFactory, db: Engine, bus: EventBus, staff: TicketStaff, buyer_chat: BuyerChat
) -> None:
    factory: Callable[[], UnitOfWork] = uow_factory
    subscribers.install_unanswered_questions(bus, factory)
    # Off by default: the group waits in the KB's inbox.
    _unanswered(uow_factory, staff, buyer_chat, text="可以货到付款吗")
    assert _escalations(db) == []
    with uow_factory() as uow:
        settings.update_ticket_settings(uow, shop_id=staff.shop_id, auto_escalate_unanswered=True)
    group_id = _unanswered(uow_factory, staff, buyer_chat)
    # The same question again joins the group: still one ticket.
    _unanswered(uow_factory, staff, buyer_chat, text="运费险如何理赔")
    [(title, group, assignee)] = _escalations(db)
    assert (title, group, assignee) == (QUESTION, group_id, staff.supervisor.id)
    assert any(
        kind is NotificationKind.ESCALATION
        for kind, _, _ in _notifications(db, staff.supervisor.id)
    )


def _escalations(db: Engine) -> list[tuple[str, int | None, int | None]]:
    with make_session_factory(db)() as session:
        rows = session.scalars(
            select(Ticket).where(Ticket.type == TicketType.ESCALATION).order_by(Ticket.id)
        )
        return [(t.title, t.unanswered_group_id, t.assignee_id) for t in rows]
