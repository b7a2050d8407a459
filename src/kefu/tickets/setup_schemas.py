"""API shapes around the tickets: saved views, custom fields, the shop's ticket settings
and the staff's notifications (``setup_routes.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from kefu.tickets.models import FieldKind, NotificationKind, TicketType
from kefu.tickets.schemas import NullableId, RowId, StrictIn

# --- saved views ---------------------------------------------------------------------------


class ViewIn(StrictIn):
    name: str = Field(max_length=600, description="1–60 characters, unique per owner")
    shared: bool = Field(default=False, description="every agent sees it (supervisor+ only)")
    filters: dict[str, Any] = Field(
        default_factory=dict,
        description="status (list), open_only, type, priority, team_id, assignee (agent id, "
        "'me' or 'none'), sla, tag, q, customer_id, conversation_id, order_id",
    )


class ViewPatchIn(StrictIn):
    name: str | None = Field(default=None, max_length=600)
    filters: dict[str, Any] | None = None


class ViewOut(BaseModel):
    id: int
    name: str
    shared: bool
    owner_agent_id: int | None
    filters: dict[str, Any]
    created_at: datetime


# --- custom fields -------------------------------------------------------------------------


class FieldIn(StrictIn):
    ticket_type: TicketType
    key: str = Field(max_length=400, description="a-z, 0-9 and _, unique per type")
    label: str = Field(max_length=600)
    kind: FieldKind = Field(description="text | number | choice | date")
    choices: list[str] = Field(default_factory=list, max_length=100)
    required: bool = False


class FieldPatchIn(StrictIn):
    label: str | None = Field(default=None, max_length=600)
    choices: list[str] | None = Field(default=None, max_length=100)
    required: bool | None = None


class FieldOut(BaseModel):
    id: int
    ticket_type: TicketType
    key: str
    label: str
    kind: FieldKind
    choices: list[str]
    required: bool
    sort_order: int


# --- settings ------------------------------------------------------------------------------


class TicketSettingsIn(StrictIn):
    """Leave a field out to keep it; ``duty_manager_id`` null clears it."""

    notice_templates: dict[str, Annotated[str, Field(max_length=2000)]] | None = Field(
        default=None,
        description="what the buyer is told, by notice: created, open, pending_buyer, "
        "pending_internal, solved, closed; may hold {number} {title} {team} {status}; an "
        "empty text restores the built-in wording",
    )
    duty_manager_id: NullableId = Field(
        default=None, description="escalations go here when no shift's duty manager is on"
    )
    auto_escalate_unanswered: bool | None = None


class TicketSettingsOut(BaseModel):
    notice_templates: dict[str, str] = Field(description="the shop's own wording, by notice")
    default_notices: dict[str, str] = Field(description="the built-in wording, by notice")
    duty_manager_id: int | None
    auto_escalate_unanswered: bool
    updated_at: datetime | None = Field(description="null: never changed (all defaults)")


# --- notifications -------------------------------------------------------------------------


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: NotificationKind
    text: str
    link: str = Field(description="the page it is about: /tickets/…, /handovers/…")
    ticket_id: int | None
    handover_id: int | None
    created_at: datetime
    read_at: datetime | None


class NotificationListOut(BaseModel):
    unread: int
    notifications: list[NotificationOut]


class MarkReadIn(StrictIn):
    ids: list[RowId] | None = Field(
        default=None, max_length=500, description="the notifications to mark; null: all"
    )


class MarkReadOut(BaseModel):
    marked: int
    unread: int
