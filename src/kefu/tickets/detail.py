"""Everything about one ticket in one read, for the API and the ticket page alike: names
instead of ids, the linked chats with their last line, orders, custom field values with
their labels, files, comments with their authors and mentions, and the history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.accounts.models import Agent
from kefu.commerce.models import Order
from kefu.conversations.desk import customer_display_name
from kefu.conversations.models import Attachment, Conversation, Message
from kefu.crm.models import Customer
from kefu.tickets import custom_fields as field_defs
from kefu.tickets.checks import get_ticket
from kefu.tickets.history import HistoryRow, agent_name, history_of, team_name
from kefu.tickets.models import (
    Ticket,
    TicketAttachment,
    TicketComment,
    TicketConversation,
    TicketMention,
    TicketOrder,
    TicketTag,
)

PREVIEW_LENGTH = 80


@dataclass(frozen=True)
class Requester:
    kind: str  # "customer" | "team" | "" (nobody: a fault staff noticed)
    id: int | None
    name: str


@dataclass(frozen=True)
class LinkedConversation:
    id: int
    status: str
    customer_id: int
    customer_name: str
    last_message_at: datetime
    preview: str  # the last message, shortened


@dataclass(frozen=True)
class LinkedOrder:
    id: int
    order_no: str
    status: str


@dataclass(frozen=True)
class FieldValue:
    key: str
    label: str
    kind: str
    required: bool
    value: object  # as stored (None when empty)
    shown: str  # as a person reads it


@dataclass(frozen=True)
class FileRef:
    id: int
    name: str
    url: str
    size: int
    content_type: str
    comment_id: int | None


@dataclass(frozen=True)
class Mention:
    agent_id: int
    name: str


@dataclass(frozen=True)
class CommentRow:
    id: int
    kind: str  # note | reply
    body: str
    author_agent_id: int | None
    author_name: str
    at: datetime
    mentions: list[Mention]
    attachment_ids: list[int]


@dataclass(frozen=True)
class TicketRef:
    id: int
    number: int


@dataclass(frozen=True)
class TicketDetail:
    ticket: Ticket
    team_name: str
    assignee_name: str
    created_by_name: str
    requester: Requester
    conversations: list[LinkedConversation]
    orders: list[LinkedOrder]
    tags: list[str]
    fields: list[FieldValue]
    attachments: list[FileRef]
    comments: list[CommentRow]
    history: list[HistoryRow]
    merged_into: TicketRef | None
    split_from: TicketRef | None


def ticket_detail(session: Session, *, shop_id: int, ticket_id: int) -> TicketDetail:
    ticket = get_ticket(session, shop_id=shop_id, ticket_id=ticket_id)
    return TicketDetail(
        ticket=ticket,
        team_name=team_name(session, ticket.team_id),
        assignee_name=agent_name(session, ticket.assignee_id),
        created_by_name=agent_name(session, ticket.created_by_agent_id),
        requester=_requester(session, ticket),
        conversations=_conversations(session, ticket),
        orders=_orders(session, ticket),
        tags=list(
            session.scalars(
                select(TicketTag.tag)
                .where(TicketTag.shop_id == shop_id, TicketTag.ticket_id == ticket.id)
                .order_by(TicketTag.id)
            )
        ),
        fields=_fields(session, ticket),
        attachments=_files(session, ticket),
        comments=_comments(session, ticket),
        history=history_of(session, shop_id=shop_id, ticket_id=ticket.id),
        merged_into=_ref(session, ticket.shop_id, ticket.merged_into_id),
        split_from=_ref(session, ticket.shop_id, ticket.split_from_id),
    )


def _requester(session: Session, ticket: Ticket) -> Requester:
    if ticket.requester_customer_id is not None:
        customer = session.get(Customer, ticket.requester_customer_id)
        name = customer_display_name(customer) if customer is not None else ""
        return Requester("customer", ticket.requester_customer_id, name)
    if ticket.requester_team_id is not None:
        return Requester(
            "team", ticket.requester_team_id, team_name(session, ticket.requester_team_id)
        )
    return Requester("", None, "")


def _conversations(session: Session, ticket: Ticket) -> list[LinkedConversation]:
    rows = session.execute(
        select(Conversation, Customer)
        .join(TicketConversation, TicketConversation.conversation_id == Conversation.id)
        .join(Customer, Customer.id == Conversation.customer_id)
        .where(
            TicketConversation.shop_id == ticket.shop_id,
            TicketConversation.ticket_id == ticket.id,
        )
        .order_by(TicketConversation.id)
    ).all()
    ids = [conversation.id for conversation, _ in rows]
    last: dict[int, str] = {}
    if ids:
        newest = (
            select(Message.conversation_id, func.max(Message.seq).label("seq"))
            .where(Message.shop_id == ticket.shop_id, Message.conversation_id.in_(ids))
            .group_by(Message.conversation_id)
            .subquery()
        )
        for conversation_id, body, card in session.execute(
            select(Message.conversation_id, Message.body, Message.card).join(
                newest,
                (newest.c.conversation_id == Message.conversation_id)
                & (newest.c.seq == Message.seq),
            )
        ):
            text = " ".join((body or ("[卡片]" if card else "[图片]")).split())
            last[conversation_id] = (
                text if len(text) <= PREVIEW_LENGTH else text[: PREVIEW_LENGTH - 1] + "…"
            )
    return [
        LinkedConversation(
            id=conversation.id,
            status=conversation.status.value,
            customer_id=customer.id,
            customer_name=customer_display_name(customer),
            last_message_at=conversation.last_message_at,
            preview=last.get(conversation.id, ""),
        )
        for conversation, customer in rows
    ]


def _orders(session: Session, ticket: Ticket) -> list[LinkedOrder]:
    rows = session.scalars(
        select(Order)
        .join(TicketOrder, TicketOrder.order_id == Order.id)
        .where(TicketOrder.shop_id == ticket.shop_id, TicketOrder.ticket_id == ticket.id)
        .order_by(TicketOrder.id)
    )
    return [LinkedOrder(id=o.id, order_no=o.order_no, status=o.status.value) for o in rows]


def _fields(session: Session, ticket: Ticket) -> list[FieldValue]:
    values = field_defs.values_of(ticket.custom_fields)
    return [
        FieldValue(
            key=field.key,
            label=field.label,
            kind=field.kind.value,
            required=field.required,
            value=values.get(field.key),
            shown=field_defs.shown(values.get(field.key)),
        )
        for field in field_defs.fields_for(session, shop_id=ticket.shop_id, ticket_type=ticket.type)
    ]


def _files(session: Session, ticket: Ticket) -> list[FileRef]:
    rows = session.execute(
        select(Attachment, TicketAttachment.comment_id)
        .join(TicketAttachment, TicketAttachment.attachment_id == Attachment.id)
        .where(TicketAttachment.shop_id == ticket.shop_id, TicketAttachment.ticket_id == ticket.id)
        .order_by(TicketAttachment.id)
    ).all()
    return [
        FileRef(
            id=attachment.id,
            name=attachment.name,
            url=f"/uploads/{attachment.key}",
            size=attachment.size,
            content_type=attachment.content_type,
            comment_id=comment_id,
        )
        for attachment, comment_id in rows
    ]


def _comments(session: Session, ticket: Ticket) -> list[CommentRow]:
    rows = session.execute(
        select(TicketComment, Agent.display_name)
        .outerjoin(Agent, Agent.id == TicketComment.author_agent_id)
        .where(TicketComment.shop_id == ticket.shop_id, TicketComment.ticket_id == ticket.id)
        .order_by(TicketComment.id)
    ).all()
    ids = [comment.id for comment, _ in rows]
    mentions: dict[int, list[Mention]] = {}
    files: dict[int, list[int]] = {}
    if ids:
        for comment_id, agent_id, name in session.execute(
            select(TicketMention.comment_id, TicketMention.agent_id, Agent.display_name)
            .join(Agent, Agent.id == TicketMention.agent_id)
            .where(TicketMention.shop_id == ticket.shop_id, TicketMention.comment_id.in_(ids))
            .order_by(TicketMention.id)
        ):
            mentions.setdefault(comment_id, []).append(Mention(agent_id, name))
        for file_comment_id, attachment_id in session.execute(
            select(TicketAttachment.comment_id, TicketAttachment.attachment_id)
            .where(
                TicketAttachment.shop_id == ticket.shop_id,
                TicketAttachment.comment_id.in_(ids),
            )
            .order_by(TicketAttachment.id)
        ):
            if file_comment_id is not None:
                files.setdefault(file_comment_id, []).append(attachment_id)
    return [
        CommentRow(
            id=comment.id,
            kind=comment.kind.value,
            body=comment.body,
            author_agent_id=comment.author_agent_id,
            # No author: the bot or the system wrote it (an escalation's answer, a merge).
            author_name=name
            or ("" if comment.author_agent_id is None else f"#{comment.author_agent_id}"),
            at=comment.created_at,
            mentions=mentions.get(comment.id, []),
            attachment_ids=files.get(comment.id, []),
        )
        for comment, name in rows
    ]


def _ref(session: Session, shop_id: int, ticket_id: int | None) -> TicketRef | None:
    if ticket_id is None:
        return None
    number = session.scalar(
        select(Ticket.number).where(Ticket.shop_id == shop_id, Ticket.id == ticket_id)
    )
    return TicketRef(id=ticket_id, number=number) if number is not None else None
