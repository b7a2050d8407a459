"""Comments on a ticket: internal notes (内部备注, staff only; @mentions call colleagues in)
and replies to the requester (回复).

A reply to a buyer's ticket is what the buyer reads: it is sent in the ticket's latest linked
conversation, as the agent who wrote it, and it answers the ticket's SLA (first / next
response). A ticket with no conversation (an internal request, a fault someone noticed) has
its reply recorded on the ticket, where the requesting team reads it; it answers the SLA too.

The buyer writing back in that chat is the requester's answer (:func:`buyer_wrote`, called
by :mod:`kefu.tickets.subscribers`): a ticket waiting for them opens again and the next
response clock starts.

Everything is checked before anything is written — the body, the files, every mention, the
ticket's state, whether the chat can carry the reply — so a refused comment leaves no row,
no message in the chat, no notification and no event.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.conversations import service as conversations
from kefu.conversations.models import Attachment, SenderType
from kefu.errors import Invalid
from kefu.tickets import checks, notices, notifications, sla
from kefu.tickets.events import TicketCommented
from kefu.tickets.history import ACTOR_NAMES, agent_name, record_change
from kefu.tickets.lifecycle import refresh_search_text
from kefu.tickets.links import add_attachments
from kefu.tickets.mentions import parse_mentions
from kefu.tickets.models import (
    CommentKind,
    NotificationKind,
    Ticket,
    TicketAttachment,
    TicketComment,
    TicketConversation,
    TicketMention,
    TicketStatus,
)
from kefu.tickets.statuses import change_status
from kefu.uow import UnitOfWork
from kefu.validation import clean_text

MAX_COMMENT_LENGTH: Final = 10_000
# How the history names the kinds (stored as text at the time, like every history value).
KIND_NAMES: Final = {CommentKind.NOTE: "内部备注", CommentKind.REPLY: "回复"}
# How much of a comment the history and a mention's notification quote.
HISTORY_EXCERPT: Final = 200
NOTICE_EXCERPT: Final = 60
_ACTOR_NAMES_EN: Final = {"bot": "The bot", "system": "The system", "api": "API"}


def add_comment(
    uow: UnitOfWork,
    *,
    shop_id: int,
    ticket_id: int,
    kind: CommentKind,
    body: str,
    author_agent_id: int | None,
    actor: str = "agent",
    attachment_ids: Sequence[int] = (),
    commit: bool = True,
) -> TicketComment:
    """Add a note or a reply (see the module's doc). The bot and API tokens may add notes;
    a reply is always a person's. A closed ticket takes no comment."""
    session = uow.session
    comment_kind = checks.choice(CommentKind, kind, "kind")
    checks.actor(session, shop_id=shop_id, actor_agent_id=author_agent_id, actor=actor)
    if comment_kind is CommentKind.REPLY and author_agent_id is None:
        raise Invalid(
            "a reply to the requester is written by a member of staff",
            field="author_agent_id",
            key="errors.tickets.reply_needs_agent",
        )
    text = _body(body)
    files = checks.attachments(session, shop_id=shop_id, ids=attachment_ids)
    if not text and not files:
        raise Invalid(
            "write something or attach a file",
            field="body",
            key="errors.tickets.comment_empty",
        )
    # Only notes call colleagues: a reply goes to the buyer, who never sees staff by name.
    mentioned = (
        parse_mentions(session, shop_id=shop_id, body=text)
        if comment_kind is CommentKind.NOTE
        else []
    )
    ticket = checks.lock_ticket(session, shop_id=shop_id, ticket_id=ticket_id)
    checks.not_closed(ticket)
    _room_for(session, ticket=ticket, files=files)
    conversation_id = (
        notices.latest_conversation_id(uow, ticket=ticket)
        if comment_kind is CommentKind.REPLY
        else None
    )
    if conversation_id is not None and len(text) > conversations.MAX_MESSAGE_LENGTH:
        raise Invalid(
            f"the reply is {len(text)} characters; a chat message holds at most "
            f"{conversations.MAX_MESSAGE_LENGTH}",
            field="body",
            key="errors.tickets.reply_too_long",
            length=len(text),
            limit=conversations.MAX_MESSAGE_LENGTH,
        )

    # --- every check passed: write ----------------------------------------------------------
    now = uow.clock.now()
    comment = TicketComment(
        shop_id=shop_id,
        ticket_id=ticket.id,
        kind=comment_kind,
        author_agent_id=author_agent_id,
        body=text,
        created_at=now,
    )
    session.add(comment)
    session.flush()
    session.add_all(
        TicketMention(shop_id=shop_id, comment_id=comment.id, agent_id=agent_id)
        for agent_id in mentioned
    )
    if files:
        add_attachments(
            uow,
            shop_id=shop_id,
            ticket_id=ticket.id,
            attachment_ids=[f.id for f in files],
            actor_agent_id=author_agent_id,
            comment_id=comment.id,
            commit=False,
        )
    if comment_kind is CommentKind.REPLY:
        if conversation_id is not None:
            _send_to_buyer(uow, ticket=ticket, comment=comment, conversation_id=conversation_id,
                           files=files)  # fmt: skip
        if ticket.first_replied_at is None:
            ticket.first_replied_at = now
        sla.ticket_replied(uow, ticket=ticket, at=now)
    session.flush()
    refresh_search_text(session, ticket=ticket)
    record_change(
        uow,
        ticket=ticket,
        field="comment",
        new=f"{KIND_NAMES[comment_kind]}：{_excerpt(text or _file_names(files), HISTORY_EXCERPT)}",
        actor_agent_id=author_agent_id,
        actor=actor,
    )
    ticket.updated_at = now
    _notify_mentioned(uow, ticket=ticket, comment=comment, mentioned=mentioned, actor=actor)
    uow.collect(
        TicketCommented(
            shop_id=shop_id,
            ticket_id=ticket.id,
            number=ticket.number,
            comment_id=comment.id,
            kind=comment_kind.value,
            author_agent_id=author_agent_id,
            mentioned_agent_ids=tuple(mentioned),
        )
    )
    if commit:
        uow.commit()
    return comment


def buyer_wrote(
    uow: UnitOfWork, *, shop_id: int, conversation_id: int, at: datetime | None = None
) -> list[int]:
    """The buyer wrote in a conversation: their word is the requester's answer on every
    ticket linked to it that is still being worked (not solved or closed). A ticket waiting
    for them (pending_buyer) is open again — by the system, and without telling the buyer,
    who is the one who just wrote — and the SLA's next response clock starts. Returns the
    ids of the tickets concerned. Commits (it is what the conversations subscriber calls).
    """
    session = uow.session
    ticket_ids = list(
        session.scalars(
            select(Ticket.id)
            .join(TicketConversation, TicketConversation.ticket_id == Ticket.id)
            .where(
                TicketConversation.shop_id == shop_id,
                TicketConversation.conversation_id == conversation_id,
                Ticket.shop_id == shop_id,
                Ticket.status.not_in([TicketStatus.SOLVED, TicketStatus.CLOSED]),
            )
            .order_by(Ticket.id)
        )
    )
    if not ticket_ids:
        return []  # most buyers' lines: one query, no transaction to commit
    when = at or uow.clock.now()
    concerned: list[int] = []
    for ticket_id in ticket_ids:
        ticket = checks.lock_ticket(session, shop_id=shop_id, ticket_id=ticket_id)
        if ticket.status in (TicketStatus.SOLVED, TicketStatus.CLOSED):
            continue  # solved or closed meanwhile
        if ticket.status is TicketStatus.PENDING_BUYER:
            # First, so the clocks the wait paused run again before the next one starts.
            change_status(
                uow, shop_id=shop_id, ticket_id=ticket.id, status=TicketStatus.OPEN,
                actor_agent_id=None, actor="system", tell_buyer=False, commit=False,
            )  # fmt: skip
        sla.requester_wrote(uow, ticket=ticket, at=when)
        concerned.append(ticket.id)
    uow.commit()
    return concerned


def comments_of(session: Session, *, shop_id: int, ticket_id: int) -> list[TicketComment]:
    """The ticket's comments, oldest first."""
    checks.get_ticket(session, shop_id=shop_id, ticket_id=ticket_id)
    return list(
        session.scalars(
            select(TicketComment)
            .where(TicketComment.shop_id == shop_id, TicketComment.ticket_id == ticket_id)
            .order_by(TicketComment.id)
        )
    )


# --- helpers -------------------------------------------------------------------------------


def _body(body: str) -> str:
    if len(body) > MAX_COMMENT_LENGTH:
        # Said before clean_text so the message names the limit, not a generic range.
        raise Invalid(
            f"the comment is {len(body)} characters; the limit is {MAX_COMMENT_LENGTH}",
            field="body",
            key="errors.tickets.comment_too_long",
            length=len(body),
            limit=MAX_COMMENT_LENGTH,
        )
    return clean_text(body, field="body", max_length=MAX_COMMENT_LENGTH, multiline=True)


def _room_for(session: Session, *, ticket: Ticket, files: list[Attachment]) -> None:
    """Refuse files beyond the ticket's limit now, before the comment is written."""
    if not files:
        return
    already = set(
        session.scalars(
            select(TicketAttachment.attachment_id).where(
                TicketAttachment.shop_id == ticket.shop_id,
                TicketAttachment.ticket_id == ticket.id,
            )
        )
    )
    adding = len([f for f in files if f.id not in already])
    checks.attachment_room(existing=len(already), adding=adding)


def _send_to_buyer(
    uow: UnitOfWork,
    *,
    ticket: Ticket,
    comment: TicketComment,
    conversation_id: int,
    files: list[Attachment],
) -> None:
    """The reply in the chat, as the agent: the text, then each picture staff uploaded (a
    chat message carries one). The buyer's own pictures stay on the ticket: sending them
    back would tell the buyer nothing."""
    assert comment.author_agent_id is not None  # replies are a person's (checked above)
    if comment.body:
        conversations.send_reply(
            uow,
            shop_id=ticket.shop_id,
            conversation_id=conversation_id,
            client_msg_id=f"ticket-{ticket.id}-comment-{comment.id}",
            body=comment.body,
            sender_type=SenderType.AGENT,
            sender_agent_id=comment.author_agent_id,
            commit=False,
        )
    for attachment in files:
        if attachment.agent_id is None:
            continue
        conversations.send_reply(
            uow,
            shop_id=ticket.shop_id,
            conversation_id=conversation_id,
            client_msg_id=f"ticket-{ticket.id}-comment-{comment.id}-file-{attachment.id}",
            body="",
            sender_type=SenderType.AGENT,
            sender_agent_id=comment.author_agent_id,
            attachment_id=attachment.id,
            commit=False,
        )


def _notify_mentioned(
    uow: UnitOfWork,
    *,
    ticket: Ticket,
    comment: TicketComment,
    mentioned: list[int],
    actor: str,
) -> None:
    # Nobody needs telling what they wrote themselves.
    others = [agent_id for agent_id in mentioned if agent_id != comment.author_agent_id]
    if not others:
        return
    if comment.author_agent_id is not None:
        name_zh = name_en = agent_name(uow.session, comment.author_agent_id)
    else:
        name_zh, name_en = ACTOR_NAMES.get(actor, actor), _ACTOR_NAMES_EN.get(actor, actor)
    quote = _excerpt(comment.body, NOTICE_EXCERPT)
    notifications.notify(
        uow,
        shop_id=ticket.shop_id,
        agent_ids=others,
        kind=NotificationKind.MENTION,
        text={
            "zh-CN": f"{name_zh} 在工单 #{ticket.number} 中提到了你：{quote}",
            "en": f"{name_en} mentioned you on ticket #{ticket.number}: {quote}",
        },
        link=f"/tickets/{ticket.id}",
        ticket_id=ticket.id,
    )


def _excerpt(text: str, limit: int) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _file_names(files: list[Attachment]) -> str:
    return "、".join(f.name or f"#{f.id}" for f in files)
