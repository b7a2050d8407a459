"""What a handover report lists (交班 items): every open conversation and unfinished ticket
of the outgoing shift's people, with the last note and the nearest deadline, frozen when the
report is written (:mod:`kefu.tickets.handover`).

A conversation's deadline is the nearest running SLA deadline of the unfinished tickets
linked to it (a chat has no clock of its own); it is "waiting" when the buyer's line is
the last one, so the next shift answers those first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.conversations.models import Conversation, ConversationStatus, Message, SenderType
from kefu.crm.models import Customer
from kefu.tickets import sla
from kefu.tickets.models import (
    CommentKind,
    Handover,
    HandoverItem,
    HandoverItemKind,
    Ticket,
    TicketComment,
    TicketConversation,
    TicketStatus,
)

_LAST_NOTE_LENGTH: Final = 300
_TITLE_LENGTH: Final = 200
_DONE: Final = (TicketStatus.SOLVED, TicketStatus.CLOSED)
# SLA clock states that still have a deadline ahead (or just passed).
_RUNNING: Final = frozenset({"ok", "warning", "breached"})


def collect_items(
    session: Session, *, shop_id: int, handover: Handover, agent_ids: Sequence[int], now: datetime
) -> list[HandoverItem]:
    """Every open conversation and unfinished ticket of the outgoing people, soonest
    deadline first, then tickets before conversations."""
    if not agent_ids:
        return []
    chats = list(
        session.scalars(
            select(Conversation)
            .where(
                Conversation.shop_id == shop_id,
                Conversation.status == ConversationStatus.OPEN,
                Conversation.assignee_id.in_(list(agent_ids)),
            )
            .order_by(Conversation.id)
        )
    )
    tickets = list(
        session.scalars(
            select(Ticket)
            .where(
                Ticket.shop_id == shop_id,
                Ticket.status.not_in(_DONE),
                Ticket.assignee_id.in_(list(agent_ids)),
            )
            .order_by(Ticket.id)
        )
    )
    linked = _linked_tickets(session, shop_id=shop_id, conversation_ids=[c.id for c in chats])
    due = _deadlines(
        session, shop_id=shop_id, now=now,
        ticket_ids={t.id for t in tickets} | {i for ids in linked.values() for i in ids},
    )  # fmt: skip
    notes = _ticket_notes(session, shop_id=shop_id, ticket_ids=[t.id for t in tickets])
    lines = _chat_lines(session, shop_id=shop_id, conversation_ids=[c.id for c in chats])
    names = _buyer_names(session, shop_id=shop_id, customer_ids={c.customer_id for c in chats})
    items = [
        HandoverItem(
            shop_id=shop_id,
            handover_id=handover.id,
            kind=HandoverItemKind.TICKET,
            ticket_id=t.id,
            outgoing_agent_id=t.assignee_id,
            title=_cut(f"#{t.number} {t.title}", _TITLE_LENGTH),
            state=t.status.value,
            last_note=_cut(notes.get(t.id, ""), _LAST_NOTE_LENGTH),
            deadline=due.get(t.id),
        )
        for t in tickets
    ]
    for chat in chats:
        last_note, waiting = lines.get(chat.id, ("", False))
        deadlines = [due[i] for i in linked.get(chat.id, []) if i in due]
        items.append(
            HandoverItem(
                shop_id=shop_id,
                handover_id=handover.id,
                kind=HandoverItemKind.CONVERSATION,
                conversation_id=chat.id,
                outgoing_agent_id=chat.assignee_id,
                title=_cut(_chat_title(chat, names.get(chat.customer_id, "")), _TITLE_LENGTH),
                state="waiting" if waiting else "open",
                last_note=_cut(last_note, _LAST_NOTE_LENGTH),
                deadline=min(deadlines) if deadlines else None,
            )
        )
    far = datetime.max.replace(tzinfo=now.tzinfo)
    items.sort(
        key=lambda i: (
            i.deadline or far,
            i.kind is not HandoverItemKind.TICKET,
            i.ticket_id or i.conversation_id or 0,
        )
    )
    return items


def _deadlines(
    session: Session, *, shop_id: int, ticket_ids: set[int], now: datetime
) -> dict[int, datetime]:
    """Each ticket's nearest running SLA deadline."""
    found: dict[int, datetime] = {}
    for ticket_id, clocks in sla.clocks_of(
        session, shop_id=shop_id, ticket_ids=sorted(ticket_ids), now=now
    ).items():
        dues = [c.due_at for c in clocks if c.state in _RUNNING and c.due_at is not None]
        if dues:
            found[ticket_id] = min(dues)
    return found


def _linked_tickets(
    session: Session, *, shop_id: int, conversation_ids: Sequence[int]
) -> dict[int, list[int]]:
    """The unfinished tickets linked to each conversation (their deadlines are the chat's)."""
    found: dict[int, list[int]] = {}
    if not conversation_ids:
        return found
    rows = session.execute(
        select(TicketConversation.conversation_id, Ticket.id)
        .join(Ticket, Ticket.id == TicketConversation.ticket_id)
        .where(
            TicketConversation.shop_id == shop_id,
            TicketConversation.conversation_id.in_(list(conversation_ids)),
            Ticket.status.not_in(_DONE),
        )
    )
    for conversation_id, ticket_id in rows:
        found.setdefault(conversation_id, []).append(ticket_id)
    return found


def _ticket_notes(session: Session, *, shop_id: int, ticket_ids: Sequence[int]) -> dict[int, str]:
    """Each ticket's latest internal note, else its latest reply."""
    found: dict[int, str] = {}
    if not ticket_ids:
        return found
    for kind in (CommentKind.REPLY, CommentKind.NOTE):  # notes last: they win
        latest = (
            select(func.max(TicketComment.id))
            .where(
                TicketComment.shop_id == shop_id,
                TicketComment.ticket_id.in_(list(ticket_ids)),
                TicketComment.kind == kind,
            )
            .group_by(TicketComment.ticket_id)
        )
        for ticket_id, body in session.execute(
            select(TicketComment.ticket_id, TicketComment.body).where(TicketComment.id.in_(latest))
        ):
            found[ticket_id] = body
    return found


def _chat_lines(
    session: Session, *, shop_id: int, conversation_ids: Sequence[int]
) -> dict[int, tuple[str, bool]]:
    """Each conversation's last private note (else its last message), and whether the
    buyer is waiting for an answer (their line is the last one, system notices aside)."""
    found: dict[int, tuple[str, bool]] = {}
    if not conversation_ids:
        return found
    ids = list(conversation_ids)

    def latest(private: bool) -> dict[int, Message]:
        newest = (
            select(func.max(Message.id))
            .where(
                Message.shop_id == shop_id,
                Message.conversation_id.in_(ids),
                Message.is_private.is_(private),
                # The shop's automatic notices (the ticket number, a status) are neither
                # what the next shift needs to read nor an answer to the buyer.
                Message.sender_type != SenderType.SYSTEM,
            )
            .group_by(Message.conversation_id)
        )
        return {
            m.conversation_id: m
            for m in session.scalars(select(Message).where(Message.id.in_(newest)))
        }

    notes, messages = latest(True), latest(False)
    for conversation_id in ids:
        last = messages.get(conversation_id)
        note = notes.get(conversation_id)
        shown = note or last
        text = (shown.body or ("[图片]" if shown.attachment_id else "")) if shown else ""
        waiting = last is not None and last.sender_type is SenderType.CUSTOMER
        found[conversation_id] = (" ".join(text.split()), waiting)
    return found


def _buyer_names(session: Session, *, shop_id: int, customer_ids: set[int]) -> dict[int, str]:
    if not customer_ids:
        return {}
    rows = session.execute(
        select(Customer.id, Customer.nickname, Customer.name).where(
            Customer.shop_id == shop_id, Customer.id.in_(customer_ids)
        )
    )
    return {row.id: row.nickname or row.name or f"买家 #{row.id}" for row in rows}


def _chat_title(chat: Conversation, buyer: str) -> str:
    about = chat.subject or chat.handoff_note
    return f"{buyer}：{about}" if about else buyer or f"会话 #{chat.id}"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
