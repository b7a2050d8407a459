"""API shapes of the tickets domain (/api/v1/tickets, /api/v1/notifications).

Inputs forbid unknown fields, so a misspelt field is a 422 naming it rather than silently
ignored. Lengths and business rules are the services' (their messages are precise and
translated); here only the types, id ranges and list sizes that bound a request.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from kefu.db import MAX_ID
from kefu.tickets.detail import CommentRow, TicketDetail
from kefu.tickets.models import CommentKind, TicketPriority, TicketStatus, TicketType
from kefu.tickets.sla import SlaClock

RowId = Annotated[int, Field(ge=1, le=MAX_ID)]
NullableId = Annotated[int | None, Field(ge=1, le=MAX_ID)]
Text = Annotated[str, Field(max_length=20_000)]
Tag = Annotated[str, Field(max_length=400)]
_M = TypeVar("_M", bound=BaseModel)


class StrictIn(BaseModel):
    """An input: unknown fields are refused (a typo is an error, not silently ignored)."""

    model_config = ConfigDict(extra="forbid")


# --- tickets: input ------------------------------------------------------------------------


class TicketCreateIn(StrictIn):
    """A new ticket. The requester defaults to the first linked conversation's buyer, who
    is told the ticket number in that chat (unless ``tell_buyer`` is false)."""

    type: TicketType = Field(
        description="complaint 投诉 | aftersale 售后 | fault 障碍申告 | escalation 升级 | "
        "internal 内部请求 | other 其他"
    )
    title: Text = Field(description="1–200 characters")
    description: Text = ""
    priority: TicketPriority = TicketPriority.NORMAL
    team_id: NullableId = Field(default=None, description="the team that handles it")
    assignee_id: NullableId = Field(
        default=None, description="a member of that team; a new ticket with one is open"
    )
    requester_customer_id: NullableId = Field(default=None, description="the buyer who asked")
    requester_team_id: NullableId = Field(
        default=None, description="the team that asked (internal requests)"
    )
    conversation_ids: list[RowId] = Field(default_factory=list, max_length=50)
    order_ids: list[RowId] = Field(default_factory=list, max_length=50)
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    custom_fields: dict[str, Any] | None = Field(
        default=None, description="values of the shop's custom fields for the type, by key"
    )
    attachment_ids: list[RowId] = Field(
        default_factory=list, max_length=20, description="uploads (POST /api/v1/uploads)"
    )
    tell_buyer: bool = True


class FromConversationIn(StrictIn):
    """A ticket from a conversation: anything left out is taken from the draft
    (GET /api/v1/tickets/from-conversation/{conversation_id})."""

    type: TicketType | None = None
    title: Text | None = None
    description: Text | None = None
    priority: TicketPriority | None = None
    team_id: NullableId = None
    assignee_id: NullableId = None
    order_ids: list[RowId] | None = Field(default=None, max_length=50)
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    custom_fields: dict[str, Any] | None = None
    attachment_ids: list[RowId] = Field(default_factory=list, max_length=20)
    tell_buyer: bool = True


class TicketUpdateIn(StrictIn):
    """Fields to change; a field left out (or null) keeps its value. Each change is a
    history row; a new type or priority re-applies the SLA policy."""

    title: Text | None = None
    description: Text | None = None
    type: TicketType | None = None
    priority: TicketPriority | None = None
    tags: list[Tag] | None = Field(default=None, max_length=50, description="the whole new set")
    custom_fields: dict[str, Any] | None = None


class StatusIn(StrictIn):
    status: TicketStatus
    tell_buyer: bool = Field(default=True, description="tell the buyer in the chat (templates)")


class ReopenIn(StrictIn):
    reason: Text = Field(default="", description="why it is not solved after all")


class AssignIn(StrictIn):
    """Leave a field out to keep it; null clears it. A new team without an assignee drops
    an assignee who is not in it."""

    team_id: NullableId = None
    assignee_id: NullableId = None


class CommentIn(StrictIn):
    kind: CommentKind = Field(
        default=CommentKind.NOTE,
        description="note: staff only, @显示名 or @email mentions notify; reply: sent to the "
        "buyer in the ticket's latest conversation (answers the SLA)",
    )
    body: Text
    attachment_ids: list[RowId] = Field(default_factory=list, max_length=20)


class AttachmentsIn(StrictIn):
    attachment_ids: list[RowId] = Field(min_length=1, max_length=20)


class MergeIn(StrictIn):
    target_id: RowId = Field(description="the ticket this one is merged into (and closed)")


class SplitIn(StrictIn):
    title: Text
    comment_ids: list[RowId] = Field(default_factory=list, max_length=200)
    conversation_ids: list[RowId] = Field(default_factory=list, max_length=50)
    order_ids: list[RowId] = Field(default_factory=list, max_length=50)


class BulkIn(StrictIn):
    """One change to many tickets, all or nothing. Leave ``team_id`` / ``assignee_id`` out
    to keep them; null clears them."""

    ticket_ids: list[RowId] = Field(min_length=1, max_length=200)
    status: TicketStatus | None = None
    priority: TicketPriority | None = None
    team_id: NullableId = None
    assignee_id: NullableId = None
    add_tags: list[Tag] = Field(default_factory=list, max_length=20)
    remove_tags: list[Tag] = Field(default_factory=list, max_length=20)


# --- tickets: output -----------------------------------------------------------------------


class SlaClockOut(BaseModel):
    metric: str = Field(description="first_response | next_response | resolution")
    state: str = Field(description="ok | warning | breached | paused | met")
    due_at: datetime | None
    minutes_left: int | None = Field(
        description="counted minutes (business hours if the policy says so); negative once breached"
    )
    breached: bool


class TicketRowOut(BaseModel):
    id: int
    number: int = Field(description="the shop's ticket number, shown as #1001")
    type: TicketType
    title: str
    status: TicketStatus
    priority: TicketPriority
    team_id: int | None
    team_name: str
    assignee_id: int | None
    assignee_name: str
    requester_customer_id: int | None
    requester_team_id: int | None
    requester_name: str
    tags: list[str]
    sla_state: str = Field(
        description="the worst clock: breached | warning | ok | paused | met | none"
    )
    next_due_at: datetime | None = Field(description="the nearest running SLA deadline")
    minutes_left: int | None
    updated_at: datetime
    created_at: datetime


class TicketListOut(BaseModel):
    total: int = Field(description="tickets matching the filters, all pages together")
    tickets: list[TicketRowOut]


class BulkOut(BaseModel):
    updated: int


class HistoryRowOut(BaseModel):
    id: int
    actor: str = Field(description="agent | bot | system | api")
    actor_agent_id: int | None
    actor_name: str
    field: str
    old: str
    new: str
    at: datetime


class DraftOut(BaseModel):
    """A ticket drafted from a conversation, to be checked and sent back (POST)."""

    conversation_id: int
    customer_id: int
    customer_name: str
    type: TicketType
    title: str
    description: str
    priority: TicketPriority
    team_id: int | None
    order_ids: list[int]


# --- one ticket ----------------------------------------------------------------------------


class RequesterOut(BaseModel):
    kind: str = Field(description="customer | team | '' (nobody: a fault staff noticed)")
    id: int | None
    name: str


class LinkedConversationOut(BaseModel):
    id: int
    status: str
    customer_id: int
    customer_name: str
    last_message_at: datetime
    preview: str = Field(description="the last message, shortened")


class LinkedOrderOut(BaseModel):
    id: int
    order_no: str
    status: str


class FieldValueOut(BaseModel):
    key: str
    label: str
    kind: str
    required: bool
    value: Any = Field(description="as stored; null when empty")
    shown: str = Field(description="as a person reads it")


class FileOut(BaseModel):
    id: int
    name: str
    url: str = Field(description="/uploads/<key>; the key is the file's capability")
    size: int
    content_type: str
    comment_id: int | None


class MentionOut(BaseModel):
    agent_id: int
    name: str


class CommentOut(BaseModel):
    id: int
    kind: CommentKind
    body: str
    author_agent_id: int | None
    author_name: str
    at: datetime
    mentions: list[MentionOut]
    attachment_ids: list[int]


class TicketRefOut(BaseModel):
    id: int
    number: int


class TicketDetailOut(BaseModel):
    id: int
    number: int
    type: TicketType
    title: str
    description: str
    priority: TicketPriority
    status: TicketStatus
    team_id: int | None
    team_name: str
    assignee_id: int | None
    assignee_name: str
    created_by_agent_id: int | None = Field(description="null: the bot, the system or the API")
    created_by_name: str
    requester: RequesterOut
    tags: list[str]
    custom_fields: list[FieldValueOut] = Field(description="the shop's fields for the type")
    conversations: list[LinkedConversationOut]
    orders: list[LinkedOrderOut]
    attachments: list[FileOut]
    comments: list[CommentOut]
    history: list[HistoryRowOut]
    sla: list[SlaClockOut] = Field(description="first response, next response, resolution")
    merged_into: TicketRefOut | None
    split_from: TicketRefOut | None
    answer: str = Field(description="an escalation's answer from the duty manager")
    kb_entry_id: int | None = Field(description="the KB entry the answer became")
    created_at: datetime
    updated_at: datetime
    first_replied_at: datetime | None
    solved_at: datetime | None
    closed_at: datetime | None


def _out(model: type[_M], value: object) -> _M:
    return model.model_validate(value, from_attributes=True)


def comment_out(comment: CommentRow) -> CommentOut:
    return _out(CommentOut, comment)


def detail_out(detail: TicketDetail, clocks: Sequence[SlaClock]) -> TicketDetailOut:
    ticket = detail.ticket
    return TicketDetailOut(
        id=ticket.id,
        number=ticket.number,
        type=ticket.type,
        title=ticket.title,
        description=ticket.description,
        priority=ticket.priority,
        status=ticket.status,
        team_id=ticket.team_id,
        team_name=detail.team_name,
        assignee_id=ticket.assignee_id,
        assignee_name=detail.assignee_name,
        created_by_agent_id=ticket.created_by_agent_id,
        created_by_name=detail.created_by_name,
        requester=_out(RequesterOut, detail.requester),
        tags=detail.tags,
        custom_fields=[_out(FieldValueOut, f) for f in detail.fields],
        conversations=[_out(LinkedConversationOut, c) for c in detail.conversations],
        orders=[_out(LinkedOrderOut, o) for o in detail.orders],
        attachments=[_out(FileOut, a) for a in detail.attachments],
        comments=[comment_out(c) for c in detail.comments],
        history=[_out(HistoryRowOut, h) for h in detail.history],
        sla=[_out(SlaClockOut, c) for c in clocks],
        merged_into=_out(TicketRefOut, detail.merged_into) if detail.merged_into else None,
        split_from=_out(TicketRefOut, detail.split_from) if detail.split_from else None,
        answer=ticket.answer,
        kb_entry_id=ticket.kb_entry_id,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        first_replied_at=ticket.first_replied_at,
        solved_at=ticket.solved_at,
        closed_at=ticket.closed_at,
    )
