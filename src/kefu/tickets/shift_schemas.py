"""API shapes of shifts, handover reports and escalations (/api/v1/shifts,
/api/v1/handovers, /api/v1/tickets/escalations)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from kefu.db import MAX_ID
from kefu.tickets.handover_reads import HandoverDetail, HandoverRow
from kefu.tickets.models import HandoverItemKind
from kefu.tickets.shifts import ShiftView

_Id = Field(ge=1, le=MAX_ID)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- shifts ------------------------------------------------------------------------------------


class ShiftIn(_In):
    team_id: int = _Id
    name: str = Field(max_length=400)
    start_time: str = Field(max_length=10, description='shop time, "HH:MM"', examples=["09:00"])
    end_time: str = Field(
        max_length=10,
        description='shop time; at or before the start means the next day ("24:00" = midnight)',
        examples=["18:00"],
    )
    weekdays: str = Field(
        default="1234567", max_length=20, description="ISO weekdays it starts on (1 = Monday)"
    )
    member_ids: list[int] = Field(default_factory=list, max_length=200)
    duty_manager_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    ack_within_minutes: int = Field(default=30, ge=1, le=24 * 60)


class ShiftPatch(_In):
    """Only the fields sent change; ``duty_manager_id: null`` clears it."""

    name: str | None = Field(default=None, max_length=400)
    start_time: str | None = Field(default=None, max_length=10)
    end_time: str | None = Field(default=None, max_length=10)
    weekdays: str | None = Field(default=None, max_length=20)
    member_ids: list[int] | None = Field(default=None, max_length=200)
    duty_manager_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    ack_within_minutes: int | None = Field(default=None, ge=1, le=24 * 60)
    is_active: bool | None = None


class MemberOut(BaseModel):
    id: int
    name: str


class ShiftOut(BaseModel):
    id: int
    team_id: int
    team_name: str
    name: str
    start_time: str
    end_time: str
    weekdays: str
    members: list[MemberOut]
    duty_manager_id: int | None
    duty_manager_name: str
    ack_within_minutes: int
    is_active: bool = Field(description="false: retired (kept for its handover reports)")


class ShiftDeletedOut(BaseModel):
    removed: bool = Field(description="false: it has handover reports, so it was retired")


def shift_out(view: ShiftView) -> ShiftOut:
    s = view.shift
    return ShiftOut(
        id=s.id,
        team_id=s.team_id,
        team_name=view.team_name,
        name=s.name,
        start_time=s.start_time,
        end_time=s.end_time,
        weekdays=s.weekdays,
        members=[MemberOut(id=agent_id, name=name) for agent_id, name in view.members],
        duty_manager_id=s.duty_manager_id,
        duty_manager_name=view.duty_manager_name,
        ack_within_minutes=s.ack_within_minutes,
        is_active=s.is_active,
    )


# --- handovers ---------------------------------------------------------------------------------


class HandOverIn(_In):
    shift_id: int = _Id
    period_end: datetime | None = Field(
        default=None, description="the end of the occurrence; default: the one on now"
    )
    note: str = Field(default="", max_length=20_000, description="交班日记 for the next shift")


class AcknowledgeIn(_In):
    item_ids: list[int] | None = Field(
        default=None, max_length=1000, description="null: every item not yet acknowledged"
    )


class HandoverOut(BaseModel):
    id: int
    shift_id: int
    shift_name: str
    team_id: int
    team_name: str
    next_shift_id: int | None
    next_shift_name: str
    period_start: datetime
    period_end: datetime
    note: str
    created_by_agent_id: int | None = Field(description="null: written by the app at the end")
    created_by_name: str
    created_at: datetime
    ack_due_at: datetime
    acknowledged_at: datetime | None
    items: int
    acknowledged: int
    flagged: int = Field(description="items flagged and still not acknowledged")


class HandoverItemOut(BaseModel):
    id: int
    kind: HandoverItemKind
    conversation_id: int | None
    ticket_id: int | None
    title: str
    state: str
    last_note: str
    deadline: datetime | None
    outgoing_agent_id: int | None
    outgoing_name: str
    acknowledged_at: datetime | None
    acknowledged_by_id: int | None
    acknowledged_by_name: str
    flagged_at: datetime | None
    link: str


class HandoverDetailOut(HandoverOut):
    item_list: list[HandoverItemOut]


class HandoverListOut(BaseModel):
    total: int
    handovers: list[HandoverOut]


def handover_out(row: HandoverRow) -> HandoverOut:
    return HandoverOut(**_handover_fields(row))


def handover_detail_out(detail: HandoverDetail) -> HandoverDetailOut:
    return HandoverDetailOut(
        **_handover_fields(detail.row),
        item_list=[
            HandoverItemOut(
                id=v.item.id,
                kind=v.item.kind,
                conversation_id=v.item.conversation_id,
                ticket_id=v.item.ticket_id,
                title=v.item.title,
                state=v.item.state,
                last_note=v.item.last_note,
                deadline=v.item.deadline,
                outgoing_agent_id=v.item.outgoing_agent_id,
                outgoing_name=v.outgoing_name,
                acknowledged_at=v.item.acknowledged_at,
                acknowledged_by_id=v.item.acknowledged_by_id,
                acknowledged_by_name=v.acknowledged_by_name,
                flagged_at=v.item.flagged_at,
                link=v.link,
            )
            for v in detail.items
        ],
    )


def _handover_fields(row: HandoverRow) -> dict[str, object]:
    h = row.handover
    return {
        "id": h.id,
        "shift_id": h.shift_id,
        "shift_name": row.shift_name,
        "team_id": h.team_id,
        "team_name": row.team_name,
        "next_shift_id": h.next_shift_id,
        "next_shift_name": row.next_shift_name,
        "period_start": h.period_start,
        "period_end": h.period_end,
        "note": h.note,
        "created_by_agent_id": h.created_by_agent_id,
        "created_by_name": row.author_name,
        "created_at": h.created_at,
        "ack_due_at": h.ack_due_at,
        "acknowledged_at": h.acknowledged_at,
        "items": row.items,
        "acknowledged": row.acknowledged,
        "flagged": row.flagged,
    }


# --- escalations -------------------------------------------------------------------------------


class EscalateIn(_In):
    question: str = Field(
        default="",
        max_length=20_000,
        description="the buyer's question; may be empty with unanswered_group_id (its wording)",
    )
    conversation_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    unanswered_group_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class EscalationAnswerIn(_In):
    answer: str = Field(max_length=20_000)


class EscalationToKbIn(_In):
    questions: list[str] | None = Field(
        default=None,
        max_length=50,
        description="the entry's phrasings; default: the group's wordings or the question",
    )
    category: str = Field(default="", max_length=400)
