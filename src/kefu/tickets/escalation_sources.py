"""Where an escalation's question comes from: the KB's unanswered group (its wordings, how
often buyers asked, the chat of its latest asker) and the checks on it — one open escalation
per group, none for a group the KB already resolved. Used by :mod:`kefu.tickets.escalation`.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.conversations.models import Conversation
from kefu.errors import Conflict, Invalid, NotFound
from kefu.kb.models import UnansweredGroup, UnansweredQuestion, UnansweredStatus
from kefu.tickets import checks
from kefu.tickets.models import Ticket, TicketStatus, TicketType
from kefu.validation import clean_text

MAX_QUESTION_LENGTH: Final = 2000
# How many of the group's different wordings the ticket's description quotes.
MAX_EXAMPLES: Final = 10
_DONE: Final = (TicketStatus.SOLVED, TicketStatus.CLOSED)


def open_escalation_of_group(session: Session, *, shop_id: int, group_id: int) -> Ticket | None:
    """The group's escalation that is not solved or closed yet, if any."""
    return session.scalar(
        select(Ticket)
        .where(
            Ticket.shop_id == shop_id,
            Ticket.unanswered_group_id == group_id,
            Ticket.type == TicketType.ESCALATION,
            Ticket.status.not_in(_DONE),
        )
        .order_by(Ticket.id)
        .limit(1)
    )


def check_question(value: str) -> str:
    if len(value) > MAX_QUESTION_LENGTH:
        raise Invalid(
            f"the question is {len(value)} characters; the limit is {MAX_QUESTION_LENGTH}",
            field="question",
            key="errors.tickets.escalation.question_too_long",
            limit=MAX_QUESTION_LENGTH,
        )
    return clean_text(value, field="question", max_length=MAX_QUESTION_LENGTH, multiline=True)


def title_of(question: str) -> str:
    line = " ".join(question.split())
    limit = checks.MAX_TITLE_LENGTH
    return line if len(line) <= limit else line[: limit - 1] + "…"


def description_of(
    session: Session, *, shop_id: int, question: str, group: UnansweredGroup | None
) -> str:
    parts = [question]
    if group is not None:
        wordings = wordings_of(session, shop_id=shop_id, group_id=group.id)
        others = [w for w in wordings if w != question]
        parts.append(f"机器人未能回答，买家共问过 {group.count} 次。")
        if others:
            parts.append("买家的其他问法：\n" + "\n".join(f"- {w}" for w in others))
    text = "\n\n".join(parts)
    limit = checks.MAX_DESCRIPTION_LENGTH
    return text if len(text) <= limit else text[: limit - 1] + "…"


def wordings_of(session: Session, *, shop_id: int, group_id: int) -> list[str]:
    """The group's different wordings, oldest first (at most MAX_EXAMPLES)."""
    seen: set[str] = set()
    found: list[str] = []
    rows = session.execute(
        select(UnansweredQuestion.text, UnansweredQuestion.normalized)
        .where(UnansweredQuestion.shop_id == shop_id, UnansweredQuestion.group_id == group_id)
        .order_by(UnansweredQuestion.id)
        .limit(200)
    )
    for text, canonical in rows:
        if canonical not in seen:
            seen.add(canonical)
            found.append(text)
    return found[:MAX_EXAMPLES]


def group_of(
    session: Session, *, shop_id: int, group_id: int | None, missing_ok: bool = False
) -> UnansweredGroup | None:
    if group_id is None:
        return None
    group = (
        session.scalar(
            select(UnansweredGroup).where(
                UnansweredGroup.shop_id == shop_id, UnansweredGroup.id == group_id
            )
        )
        if checks._is_id(group_id)
        else None
    )
    if group is None and not missing_ok:
        raise NotFound(
            "unanswered question not found", key="errors.tickets.escalation.group_not_found"
        )
    return group


def not_escalated(session: Session, *, shop_id: int, group: UnansweredGroup) -> None:
    if group.status is not UnansweredStatus.OPEN:
        raise Conflict(
            f"this question was already {group.status.value} in the knowledge base",
            key="errors.tickets.escalation.group_closed",
            status=group.status.value,
        )
    existing = open_escalation_of_group(session, shop_id=shop_id, group_id=group.id)
    if existing is not None:
        raise Conflict(
            f"this question is already escalated as ticket #{existing.number}",
            key="errors.tickets.escalation.already_escalated",
            number=existing.number,
            ticket_id=existing.id,
        )


def latest_asker_chat(session: Session, *, shop_id: int, group_id: int) -> Conversation | None:
    return session.scalar(
        select(Conversation)
        .join(UnansweredQuestion, UnansweredQuestion.conversation_id == Conversation.id)
        .where(
            UnansweredQuestion.shop_id == shop_id,
            UnansweredQuestion.group_id == group_id,
            Conversation.shop_id == shop_id,
        )
        .order_by(UnansweredQuestion.id.desc())
        .limit(1)
    )
