"""Escalation (升级) of questions the knowledge base lacks to the duty manager (值班经理).

Seed 002: 「对于资料库内没有的问题…上交值班经理」. A question the bot could not answer (a group
in the KB's unanswered inbox, by hand or by itself when the shop turned that on) or one an
agent could not answer in a chat becomes an escalation ticket assigned to the duty manager.
The answer goes back to the buyer in the chat, and becomes a KB entry in one more click so
the bot answers it next time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kefu.accounts.models import Role
from kefu.conversations.models import Conversation
from kefu.errors import Conflict, Invalid, NotFound, PermissionDenied
from kefu.kb import service as kb
from kefu.kb.models import UnansweredStatus
from kefu.tickets import checks, comments, notifications
from kefu.tickets import escalation_sources as sources
from kefu.tickets.duty import duty_manager as duty_manager
from kefu.tickets.events import EscalationAnswered
from kefu.tickets.history import record_change, touched
from kefu.tickets.lifecycle import change_status, create_ticket, lock_ticket
from kefu.tickets.models import (
    CommentKind,
    NotificationKind,
    Ticket,
    TicketConversation,
    TicketSettings,
    TicketStatus,
    TicketType,
)
from kefu.tickets.settings import read_settings, ticket_settings
from kefu.uow import UnitOfWork
from kefu.validation import clean_text

MAX_ANSWER_LENGTH: Final = kb.MAX_ANSWER_LENGTH  # it may become a KB answer as it is


# --- escalating ------------------------------------------------------------------------------


def escalate_question(
    uow: UnitOfWork,
    *,
    shop_id: int,
    question: str,
    conversation_id: int | None = None,
    unanswered_group_id: int | None = None,
    actor_agent_id: int | None = None,
    actor: str = "agent",
    commit: bool = True,
) -> Ticket:
    """An escalation ticket for the duty manager with the question as its title.

    From an unanswered group: the question defaults to the group's wording, the description
    quotes the buyers' other wordings, and the chat of its latest asker is linked (the
    answer goes back there). A group already escalated and not yet solved is refused,
    naming that ticket. The buyer is told the ticket number only when an agent escalates
    from their chat (a group's askers asked the bot, maybe days ago: the answer itself
    reaches them).
    """
    session = uow.session
    checks.actor(session, shop_id=shop_id, actor_agent_id=actor_agent_id, actor=actor)
    text = sources.check_question(question)
    group = sources.group_of(session, shop_id=shop_id, group_id=unanswered_group_id)
    if group is not None and not text:
        text = group.representative
    if not text:
        raise Invalid(
            "write the question to escalate",
            field="question",
            key="errors.tickets.escalation.question_required",
        )
    conversation = _conversation(session, shop_id=shop_id, conversation_id=conversation_id)
    tell_buyer = conversation is not None and actor == "agent"
    if conversation is None and group is not None:
        conversation = sources.latest_asker_chat(session, shop_id=shop_id, group_id=group.id)
    if group is not None:
        # One escalation at a time per group: the settings row's lock makes a second
        # escalation of the same group (the button and the automatic one at once) wait and
        # then see the first.
        _lock_shop_escalations(uow, shop_id=shop_id)
        sources.not_escalated(session, shop_id=shop_id, group=group)
    manager = duty_manager(
        session,
        shop_id=shop_id,
        at=uow.clock.now(),
        team_id=conversation.team_id if conversation is not None else None,
    )
    ticket = create_ticket(
        uow,
        shop_id=shop_id,
        type=TicketType.ESCALATION,
        title=sources.title_of(text),
        description=sources.description_of(session, shop_id=shop_id, question=text, group=group),
        # No team: the duty manager (a supervisor) is in no particular team, and the
        # assignee rule allows anyone on a ticket without one.
        team_id=None,
        assignee_id=manager,
        conversation_ids=[conversation.id] if conversation is not None else [],
        actor_agent_id=actor_agent_id,
        actor=actor,
        unanswered_group_id=group.id if group is not None else None,
        tell_buyer=tell_buyer,
        announce_assignment=False,
        commit=False,
    )
    if manager is not None and manager != actor_agent_id:
        notifications.notify(
            uow,
            shop_id=shop_id,
            agent_ids=[manager],
            kind=NotificationKind.ESCALATION,
            text={
                "zh-CN": f"请答复升级问题 #{ticket.number}：{_short(ticket.title)}",
                "en": f"Please answer escalated question #{ticket.number}: {_short(ticket.title)}",
            },
            link=f"/tickets/{ticket.id}",
            ticket_id=ticket.id,
        )
    if commit:
        uow.commit()
    return ticket


def escalate_new_group(
    uow: UnitOfWork, *, shop_id: int, group_id: int, conversation_id: int | None = None
) -> Ticket | None:
    """The automatic escalation of a new unanswered group (when the shop turned
    ``auto_escalate_unanswered`` on). Nothing when it is off, the group is no longer open
    or already escalated. Commits."""
    session = uow.session
    settings = read_settings(session, shop_id=shop_id)
    if settings is None or not settings.auto_escalate_unanswered:
        return None
    try:
        ticket = escalate_question(
            uow,
            shop_id=shop_id,
            question="",
            conversation_id=conversation_id,
            unanswered_group_id=group_id,
            actor_agent_id=None,
            actor="system",
        )
    except (Conflict, NotFound):
        uow.rollback()  # resolved or escalated meanwhile: nothing to do
        return None
    return ticket


# --- answering -------------------------------------------------------------------------------


def answer_escalation(
    uow: UnitOfWork, *, shop_id: int, ticket_id: int, answer: str, actor_agent_id: int,
    commit: bool = True,
) -> Ticket:  # fmt: skip
    """The duty manager's answer: stored on the ticket, sent to the buyer in the linked chat
    (a reply comment), and the ticket solved. Its assignee or a supervisor answers."""
    session = uow.session
    person = checks.active_agent(
        session, shop_id=shop_id, agent_id=actor_agent_id, field="actor_agent_id"
    )
    text = clean_text(answer, field="answer", max_length=MAX_ANSWER_LENGTH, multiline=True)
    if not text:
        raise Invalid(
            "write the answer", field="answer", key="errors.tickets.escalation.answer_required"
        )
    ticket = lock_ticket(session, shop_id=shop_id, ticket_id=ticket_id)
    _is_escalation(ticket)
    checks.not_closed(ticket)
    if ticket.status is TicketStatus.SOLVED:
        raise Conflict(
            f"escalation #{ticket.number} is answered and solved: reopen it to answer again",
            key="errors.tickets.escalation.already_answered",
            number=ticket.number,
        )
    if person.id != ticket.assignee_id and person.role not in (Role.SUPERVISOR, Role.OWNER):
        raise PermissionDenied(
            f"escalation #{ticket.number} is for its assignee or a supervisor to answer",
            key="errors.tickets.escalation.not_yours",
            number=ticket.number,
        )
    old = ticket.answer
    ticket.answer = text
    record_change(uow, ticket=ticket, field="answer", old=old, new=text, actor_agent_id=person.id)
    session.flush()  # the status change below reads the ticket again under its lock
    if _has_chat(session, ticket):
        comments.add_comment(
            uow, shop_id=shop_id, ticket_id=ticket.id, kind=CommentKind.REPLY, body=text,
            author_agent_id=person.id, commit=False,
        )  # fmt: skip
    # The answer itself tells the buyer: no "solved" notice on top of it.
    change_status(
        uow, shop_id=shop_id, ticket_id=ticket.id, status=TicketStatus.SOLVED,
        actor_agent_id=person.id, tell_buyer=False, commit=False,
    )  # fmt: skip
    touched(uow, ticket=ticket, changed=["answer"], actor_agent_id=person.id)
    uow.collect(EscalationAnswered(shop_id=shop_id, ticket_id=ticket.id, kb_entry_id=None))
    if commit:
        uow.commit()
    return ticket


def answer_to_kb(
    uow: UnitOfWork,
    *,
    shop_id: int,
    ticket_id: int,
    actor_agent_id: int,
    questions: Sequence[str] | None = None,
    category: str = "",
    commit: bool = True,
) -> int:
    """「加入知识库」: the answer becomes a KB entry, so the bot answers the question next
    time. From an unanswered group still open, the group is resolved as that entry (its
    wordings become the entry's phrasings); else the entry's phrasing is the ticket's
    question. ``questions`` replaces the phrasings. Returns the entry's id."""
    session = uow.session
    checks.active_agent(session, shop_id=shop_id, agent_id=actor_agent_id, field="actor_agent_id")
    ticket = lock_ticket(session, shop_id=shop_id, ticket_id=ticket_id)
    _is_escalation(ticket)
    if not ticket.answer:
        raise Invalid(
            f"escalation #{ticket.number} has no answer yet: answer it first",
            field="answer",
            key="errors.tickets.escalation.no_answer_yet",
            number=ticket.number,
        )
    if ticket.kb_entry_id is not None:
        raise Conflict(
            f"the answer of escalation #{ticket.number} is already KB entry #{ticket.kb_entry_id}",
            key="errors.tickets.escalation.already_in_kb",
            number=ticket.number,
            entry_id=ticket.kb_entry_id,
        )
    group = sources.group_of(
        session, shop_id=shop_id, group_id=ticket.unanswered_group_id, missing_ok=True
    )
    if group is not None and group.status is UnansweredStatus.OPEN:
        phrasings = list(questions) if questions is not None else None
        if phrasings is None and not kb.group_questions(
            session, shop_id=shop_id, group_id=group.id
        ):
            phrasings = [ticket.title]  # every wording is a phrasing somewhere already
        entry = kb.resolve_as_new_entry(
            uow, shop_id=shop_id, group_id=group.id, answer=ticket.answer, questions=phrasings,
            category=category, acting_agent_id=actor_agent_id, commit=False,
        )  # fmt: skip
    else:
        phrasings = [ticket.title] if questions is None else list(questions)
        entry = kb.create_entry(
            uow, shop_id=shop_id, questions=phrasings, answer=ticket.answer, category=category,
            acting_agent_id=actor_agent_id, commit=False,
        )  # fmt: skip
    ticket.kb_entry_id = entry.id
    record_change(
        uow, ticket=ticket, field="kb_entry", new=f"#{entry.id}", actor_agent_id=actor_agent_id
    )
    touched(uow, ticket=ticket, changed=["kb_entry"], actor_agent_id=actor_agent_id)
    uow.collect(EscalationAnswered(shop_id=shop_id, ticket_id=ticket.id, kb_entry_id=entry.id))
    if commit:
        uow.commit()
    return entry.id


# --- helpers ---------------------------------------------------------------------------------


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _lock_shop_escalations(uow: UnitOfWork, *, shop_id: int) -> None:
    ticket_settings(uow, shop_id=shop_id)
    uow.session.execute(
        update(TicketSettings)
        .where(TicketSettings.shop_id == shop_id)
        .values(last_number=TicketSettings.last_number)
        .execution_options(synchronize_session=False)
    )


def _conversation(
    session: Session, *, shop_id: int, conversation_id: int | None
) -> Conversation | None:
    if conversation_id is None:
        return None
    [conversation] = checks.conversations(session, shop_id=shop_id, ids=[conversation_id])
    return conversation


def _has_chat(session: Session, ticket: Ticket) -> bool:
    return (
        session.scalar(
            select(TicketConversation.id)
            .where(
                TicketConversation.shop_id == ticket.shop_id,
                TicketConversation.ticket_id == ticket.id,
            )
            .limit(1)
        )
        is not None
    )


def _is_escalation(ticket: Ticket) -> None:
    if ticket.type is not TicketType.ESCALATION:
        raise Invalid(
            f"ticket #{ticket.number} is not an escalation",
            field="ticket_id",
            key="errors.tickets.escalation.not_escalation",
            number=ticket.number,
        )
