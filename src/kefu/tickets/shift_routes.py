"""Shifts, handover reports and escalations over REST: /api/v1/shifts, /api/v1/handovers,
/api/v1/tickets/escalations and an escalation's answer.

Every member of staff reads shifts and reports; supervisors and owners set shifts up.
Handing over, acknowledging and answering are a person's acts (an API token may escalate a
question, recorded as the actor "api", but not speak for somebody).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.conversations import desk
from kefu.db import MAX_ID
from kefu.errors import PermissionDenied
from kefu.tickets import escalation, handover, handover_reads, shifts
from kefu.tickets.checks import KEEP, _Keep
from kefu.tickets.routes import actor_of, detail, found
from kefu.tickets.schemas import TicketDetailOut
from kefu.tickets.shift_schemas import (
    AcknowledgeIn,
    EscalateIn,
    EscalationAnswerIn,
    EscalationToKbIn,
    HandoverDetailOut,
    HandOverIn,
    HandoverListOut,
    ShiftDeletedOut,
    ShiftIn,
    ShiftOut,
    ShiftPatch,
    handover_detail_out,
    handover_out,
    shift_out,
)
from kefu.uow import UnitOfWork
from kefu.web.deps import ResourceId, api_principal, ensure_role, get_uow, require

shift_router = APIRouter(prefix="/api/v1/shifts", tags=["shifts 班次"])
handover_router = APIRouter(prefix="/api/v1/handovers", tags=["handovers 交班"])
escalation_router = APIRouter(prefix="/api/v1/tickets", tags=["tickets 工单"])
supervisor = require(Role.SUPERVISOR)


def person(principal: Principal, what: str) -> int:
    if principal.agent_id is None:
        raise PermissionDenied(
            f"only a member of staff {what} (not an API token)",
            key="errors.tickets.person_only",
        )
    return principal.agent_id


# --- shifts ------------------------------------------------------------------------------------


def _shift(uow: UnitOfWork, shop_id: int, shift_id: int) -> ShiftOut:
    shift = shifts.get_shift(uow.session, shop_id=shop_id, shift_id=shift_id)
    [view] = shifts.shift_views(uow.session, shop_id=shop_id, shifts=[shift])
    return shift_out(view)


@shift_router.get("", response_model=list[ShiftOut])
def list_shifts(
    team_id: int | None = Query(default=None, ge=1, le=MAX_ID),
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> list[ShiftOut]:
    """Active shifts first, then by team and start time; times are in the shop's zone."""
    session, shop_id = uow.session, principal.shop_id
    listed = shifts.list_shifts(session, shop_id=shop_id, team_id=team_id)
    return [shift_out(v) for v in shifts.shift_views(session, shop_id=shop_id, shifts=listed)]


@shift_router.get("/{shift_id}", response_model=ShiftOut)
def get_shift(
    shift_id: ResourceId,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> ShiftOut:
    return _shift(uow, principal.shop_id, shift_id)


@shift_router.post("", response_model=ShiftOut, status_code=201)
def create_shift(
    body: ShiftIn, principal: Principal = Depends(supervisor), uow: UnitOfWork = Depends(get_uow)
) -> ShiftOut:
    shift = shifts.create_shift(uow, shop_id=principal.shop_id, **body.model_dump())
    return _shift(uow, principal.shop_id, shift.id)


@shift_router.patch("/{shift_id}", response_model=ShiftOut)
def update_shift(
    shift_id: ResourceId,
    body: ShiftPatch,
    principal: Principal = Depends(supervisor),
    uow: UnitOfWork = Depends(get_uow),
) -> ShiftOut:
    manager: int | _Keep | None = (
        body.duty_manager_id if "duty_manager_id" in body.model_fields_set else KEEP
    )
    shifts.update_shift(
        uow,
        shop_id=principal.shop_id,
        shift_id=shift_id,
        **body.model_dump(exclude={"duty_manager_id"}),
        duty_manager_id=manager,
    )
    return _shift(uow, principal.shop_id, shift_id)


@shift_router.delete("/{shift_id}", response_model=ShiftDeletedOut)
def delete_shift(
    shift_id: ResourceId,
    principal: Principal = Depends(supervisor),
    uow: UnitOfWork = Depends(get_uow),
) -> ShiftDeletedOut:
    """Removes the shift, or retires it when it has handover reports (they stay readable)."""
    return ShiftDeletedOut(
        removed=shifts.delete_shift(uow, shop_id=principal.shop_id, shift_id=shift_id)
    )


# --- handovers ---------------------------------------------------------------------------------


def _report(uow: UnitOfWork, shop_id: int, handover_id: int) -> HandoverDetailOut:
    return handover_detail_out(
        handover_reads.handover_detail(uow.session, shop_id=shop_id, handover_id=handover_id)
    )


@handover_router.get("", response_model=HandoverListOut)
def list_handovers(
    team_id: int | None = Query(default=None, ge=1, le=MAX_ID),
    limit: int = Query(default=50, ge=1, le=200),
    offset: int = Query(default=0, ge=0, le=MAX_ID),
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> HandoverListOut:
    """Newest shift end first."""
    session, shop_id = uow.session, principal.shop_id
    listed = handover_reads.list_handovers(
        session, shop_id=shop_id, team_id=team_id, limit=limit, offset=offset
    )
    return HandoverListOut(
        total=handover_reads.count_handovers(session, shop_id=shop_id, team_id=team_id),
        handovers=[
            handover_out(r)
            for r in handover_reads.handover_rows(session, shop_id=shop_id, handovers=listed)
        ],
    )


@handover_router.get("/{handover_id}", response_model=HandoverDetailOut)
def get_handover(
    handover_id: ResourceId,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> HandoverDetailOut:
    return _report(uow, principal.shop_id, handover_id)


@handover_router.post("", response_model=HandoverDetailOut, status_code=201)
def hand_over(
    body: HandOverIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> HandoverDetailOut:
    """交班: the report of the shift's occurrence on now (or ending at ``period_end``)."""
    shifts.get_shift(uow.session, shop_id=principal.shop_id, shift_id=body.shift_id)
    report = handover.hand_over(
        uow,
        shop_id=principal.shop_id,
        shift_id=body.shift_id,
        period_end=body.period_end,
        note=body.note,
        actor_agent_id=person(principal, "hands a shift over"),
    )
    return _report(uow, principal.shop_id, report.id)


@handover_router.post("/{handover_id}/acknowledge", response_model=HandoverDetailOut)
def acknowledge(
    handover_id: ResourceId,
    body: AcknowledgeIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> HandoverDetailOut:
    handover_reads.get_handover(uow.session, shop_id=principal.shop_id, handover_id=handover_id)
    handover.acknowledge(
        uow,
        shop_id=principal.shop_id,
        handover_id=handover_id,
        agent_id=person(principal, "acknowledges a handover"),
        item_ids=body.item_ids,
    )
    return _report(uow, principal.shop_id, handover_id)


# --- escalations -------------------------------------------------------------------------------


@escalation_router.post("/escalations", response_model=TicketDetailOut, status_code=201)
def escalate(
    body: EscalateIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> TicketDetailOut:
    """升级: a question the KB lacks, for the duty manager (from a chat, or an unanswered
    group of the KB's inbox)."""
    if body.conversation_id is not None and principal.agent_id is not None:
        # An agent escalates from the chats they may work.
        desk.conversation_for(
            uow.session,
            shop_id=principal.shop_id,
            conversation_id=body.conversation_id,
            viewer=desk.viewer_of(uow.session, principal),
        )
    actor_agent_id, actor = actor_of(principal)
    ticket = escalation.escalate_question(
        uow,
        shop_id=principal.shop_id,
        question=body.question,
        conversation_id=body.conversation_id,
        unanswered_group_id=body.unanswered_group_id,
        actor_agent_id=actor_agent_id,
        actor=actor,
    )
    return detail(uow, principal, ticket.id)


@escalation_router.post("/{ticket_id}/escalation/answer", response_model=TicketDetailOut)
def answer(
    ticket_id: ResourceId,
    body: EscalationAnswerIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> TicketDetailOut:
    """The duty manager's answer: sent to the buyer in the linked chat; the ticket solved."""
    found(uow, principal, ticket_id)
    escalation.answer_escalation(
        uow,
        shop_id=principal.shop_id,
        ticket_id=ticket_id,
        answer=body.answer,
        actor_agent_id=person(principal, "answers an escalation"),
    )
    return detail(uow, principal, ticket_id)


@escalation_router.post("/{ticket_id}/escalation/kb", response_model=TicketDetailOut)
def answer_to_kb(
    ticket_id: ResourceId,
    body: EscalationToKbIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> TicketDetailOut:
    """加入知识库: the answer becomes a KB entry (``kb_entry_id`` in the answer). Like any
    KB entry, supervisors and owners add it."""
    found(uow, principal, ticket_id)
    ensure_role(principal, Role.SUPERVISOR)
    escalation.answer_to_kb(
        uow,
        shop_id=principal.shop_id,
        ticket_id=ticket_id,
        actor_agent_id=person(principal, "adds an answer to the knowledge base"),
        questions=body.questions,
        category=body.category,
    )
    return detail(uow, principal, ticket_id)


routers = (shift_router, handover_router, escalation_router)
