"""API shapes of the sales domain. One section per concept; each adds its own."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from kefu.db import MAX_ID
from kefu.sales.models import CaseKind, CaseStatus

# --- settings and 催付 reminders ---------------------------------------------------------


class SalesSettingsIn(BaseModel):
    """A change of the shop's sales settings; a field left out keeps its value."""

    model_config = ConfigDict(extra="forbid")

    reminders_enabled: bool | None = None
    reminder_delay_minutes: int | None = Field(default=None, ge=5, le=1440)
    quiet_start: str | None = Field(default=None, max_length=5, description="HH:MM, shop time")
    quiet_end: str | None = Field(default=None, max_length=5, description="HH:MM, shop time")
    reminder_template: str | None = Field(
        default=None,
        max_length=500,
        description="may hold {customer_name} {customer_surname} {product} {order_no} "
        "{total} {coupon_hint} {shop_name}",
    )
    coupon_hint: str | None = Field(default=None, max_length=200)
    conversion_window_days: int | None = Field(default=None, ge=1, le=30)


class SalesSettingsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    reminders_enabled: bool
    reminder_delay_minutes: int
    quiet_start: str
    quiet_end: str
    reminder_template: str
    coupon_hint: str
    conversion_window_days: int


class ReminderOut(BaseModel):
    id: int
    order_id: int
    order_no: str
    customer_id: int
    customer_name: str
    status: str  # pending | sent | cancelled | skipped
    reason: str  # why cancelled or skipped: paid, closed …, disabled, no_channel, expired
    due_at: datetime
    sent_at: datetime | None
    conversation_id: int | None
    paid_at: datetime | None
    paid_amount: Decimal | None


class ReminderReportOut(BaseModel):
    since: datetime
    until: datetime
    sent: int
    paid_after_reminder: int
    paid_rate: float | None  # paid_after_reminder / sent; None when nothing was sent
    recovered_revenue: Decimal
    cancelled: int
    skipped: int
    pending: int  # waiting now, whatever the period


# --- after-sales cases --------------------------------------------------------------------


class CaseOpenIn(BaseModel):
    """A buyer's request, registered by an agent (from a conversation or an order)."""

    model_config = ConfigDict(extra="forbid")

    order_id: int = Field(ge=1, le=MAX_ID)
    kind: CaseKind
    reason: str = Field(max_length=1000)
    conversation_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    photo_attachment_ids: list[int] = Field(default_factory=list, max_length=9)
    amount: Decimal | None = Field(
        default=None, description="yuan; default the order's total (refund, return)"
    )


class CaseDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approve: bool
    note: str = Field(default="", max_length=1000, description="required when rejecting")


class CaseReturnedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tracking_no: str = Field(max_length=40)


class CaseCompleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reship_tracking_no: str = Field(default="", max_length=40, description="exchange only")
    note: str = Field(default="", max_length=1000)


class CaseCancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=1000)


class CaseOut(BaseModel):
    id: int
    kind: CaseKind
    status: CaseStatus
    order_id: int
    order_no: str
    order_total: Decimal | None
    customer_id: int
    customer_name: str
    conversation_id: int | None
    reason: str
    amount: Decimal | None
    opened_by_agent_id: int | None
    opened_by: str
    decided_by_agent_id: int | None
    decided_by: str
    decision_note: str
    decided_at: datetime | None
    return_tracking_no: str
    reship_tracking_no: str
    created_at: datetime
    updated_at: datetime


class CaseList(BaseModel):
    total: int
    cases: list[CaseOut]


class CaseStepOut(BaseModel):
    status: CaseStatus
    agent_id: int | None
    agent_name: str
    note: str
    created_at: datetime


class CasePhotoOut(BaseModel):
    id: int
    url: str
    content_type: str
    name: str


class CaseDetailOut(CaseOut):
    steps: list[CaseStepOut]
    photos: list[CasePhotoOut]


# --- inquiries and conversion -------------------------------------------------------------


class ConversionRowOut(BaseModel):
    """One agent's or team's inquiries (询单) of the period and how many were paid."""

    id: int | None  # the agent or team; null: nobody of 售前 had these inquiries
    name: str
    inquiries: int
    converted: int
    rate: float | None  # converted / inquiries, 0–1; null without inquiries
    amount: Decimal  # what the converted inquiries' orders came to


class ConversionOut(BaseModel):
    by: str  # agent | team
    since: datetime
    until: datetime
    window_days: int  # a payment within this many days after the inquiry converts it
    rows: list[ConversionRowOut]
    total: ConversionRowOut | None  # the whole shop; null for an agent, who sees their row
