"""Around the tickets, over REST: saved views (an agent's own, or shared by a supervisor),
the shop's custom fields and ticket settings (supervisors and owners change them), and the
notifications a member of staff reads (/api/v1/notifications).

Included before ``routes.py``: /api/v1/tickets/views must not be read as a ticket id.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response

from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.errors import PermissionDenied
from kefu.tickets import custom_fields, notices, service
from kefu.tickets.models import SavedView, TicketFieldDef, TicketType
from kefu.tickets.setup_schemas import (
    FieldIn,
    FieldOut,
    FieldPatchIn,
    MarkReadIn,
    MarkReadOut,
    NotificationListOut,
    NotificationOut,
    TicketSettingsIn,
    TicketSettingsOut,
    ViewIn,
    ViewOut,
    ViewPatchIn,
)
from kefu.uow import UnitOfWork
from kefu.web.deps import ResourceId, api_principal, get_uow, require

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets 工单"])
notifications = APIRouter(prefix="/api/v1/notifications", tags=["notifications 通知"])
curator = require(Role.SUPERVISOR)


def view_out(view: SavedView) -> ViewOut:
    return ViewOut(
        id=view.id,
        name=view.name,
        shared=service.is_shared(view),
        owner_agent_id=view.owner_agent_id,
        filters=service.filter_to_json(service.filter_of(view)),
        created_at=view.created_at,
    )


def field_out(field: TicketFieldDef) -> FieldOut:
    return FieldOut(
        id=field.id,
        ticket_type=field.ticket_type,
        key=field.key,
        label=field.label,
        kind=field.kind,
        choices=custom_fields.choices_of(field),
        required=field.required,
        sort_order=field.sort_order,
    )


# --------------------------------------------------------------------------- saved views
@router.get("/views", response_model=list[ViewOut])
def list_views(
    principal: Principal = Depends(api_principal), uow: UnitOfWork = Depends(get_uow)
) -> list[ViewOut]:
    """The shop's shared views, then the caller's own (an API token: the shared ones)."""
    found = service.list_views(uow.session, shop_id=principal.shop_id, agent_id=principal.agent_id)
    return [view_out(v) for v in found]


@router.post("/views", response_model=ViewOut, status_code=201)
def create_view(
    body: ViewIn, principal: Principal = Depends(api_principal), uow: UnitOfWork = Depends(get_uow)
) -> ViewOut:
    """Save a filter under a name (unique per owner). ``shared``: every agent sees it —
    supervisors and owners only. Unknown filter keys are refused, named."""
    view = service.create_view(
        uow, shop_id=principal.shop_id, agent_id=principal.agent_id, name=body.name,
        filters=body.filters, shared=body.shared,
    )  # fmt: skip
    return view_out(view)


@router.patch("/views/{view_id}", response_model=ViewOut)
def update_view(
    view_id: ResourceId,
    body: ViewPatchIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> ViewOut:
    """Rename a view or replace its filters. Another agent's personal view is 404; a shared
    one needs a supervisor or the owner."""
    view = service.update_view(
        uow, shop_id=principal.shop_id, agent_id=principal.agent_id, view_id=view_id,
        name=body.name, filters=body.filters,
    )  # fmt: skip
    return view_out(view)


@router.delete("/views/{view_id}", status_code=204, response_class=Response)
def delete_view(
    view_id: ResourceId,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> Response:
    """Delete a view (the same rules as changing it)."""
    service.delete_view(
        uow, shop_id=principal.shop_id, agent_id=principal.agent_id, view_id=view_id
    )
    return Response(status_code=204)


# --------------------------------------------------------------------------- custom fields
@router.get("/fields", response_model=list[FieldOut])
def list_fields(
    ticket_type: TicketType | None = Query(default=None, description="one type; else all"),
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> list[FieldOut]:
    """The shop's custom fields, per ticket type in the order the form shows them."""
    types = [ticket_type] if ticket_type is not None else list(TicketType)
    return [
        field_out(field)
        for kind in types
        for field in service.fields_for(uow.session, shop_id=principal.shop_id, ticket_type=kind)
    ]


@router.post("/fields", response_model=FieldOut, status_code=201)
def create_field(
    body: FieldIn, principal: Principal = Depends(curator), uow: UnitOfWork = Depends(get_uow)
) -> FieldOut:
    """Add a field to one ticket type (障碍申告: 故障页面, 发生时间 …). Supervisors and owners."""
    field = service.create_field(uow, shop_id=principal.shop_id, **body.model_dump())
    return field_out(field)


@router.patch("/fields/{field_id}", response_model=FieldOut)
def update_field(
    field_id: ResourceId,
    body: FieldPatchIn,
    principal: Principal = Depends(curator),
    uow: UnitOfWork = Depends(get_uow),
) -> FieldOut:
    """Change a field's label, choices or whether it is required; tickets keep their
    values. Supervisors and owners."""
    field = service.update_field(
        uow, shop_id=principal.shop_id, field_id=field_id, **body.model_dump(exclude_none=True)
    )
    return field_out(field)


@router.delete("/fields/{field_id}", status_code=204, response_class=Response)
def delete_field(
    field_id: ResourceId,
    principal: Principal = Depends(curator),
    uow: UnitOfWork = Depends(get_uow),
) -> Response:
    """Stop asking for a field; the values on tickets stay. Supervisors and owners."""
    service.delete_field(uow, shop_id=principal.shop_id, field_id=field_id)
    return Response(status_code=204)


# --------------------------------------------------------------------------- settings
@router.get("/settings", response_model=TicketSettingsOut)
def get_settings(
    principal: Principal = Depends(curator), uow: UnitOfWork = Depends(get_uow)
) -> TicketSettingsOut:
    """What the buyer is told at each step (the shop's wording and the built-in one), the
    standing duty manager (值班经理) and whether unanswered questions escalate by themselves."""
    row = service.read_settings(uow.session, shop_id=principal.shop_id)
    return TicketSettingsOut(
        notice_templates=notices.own_templates(row),
        default_notices=dict(service.DEFAULT_NOTICES),
        duty_manager_id=row.duty_manager_id if row else None,
        auto_escalate_unanswered=row.auto_escalate_unanswered if row else False,
        updated_at=row.updated_at if row else None,
    )


@router.put("/settings", response_model=TicketSettingsOut)
def update_settings(
    body: TicketSettingsIn,
    principal: Principal = Depends(curator),
    uow: UnitOfWork = Depends(get_uow),
) -> TicketSettingsOut:
    """Change what is given; a field left out keeps its value. Supervisors and owners."""
    row = service.update_ticket_settings(
        uow, shop_id=principal.shop_id, notice_templates=body.notice_templates,
        duty_manager_id=body.duty_manager_id if "duty_manager_id" in body.model_fields_set
        else service.KEEP,
        auto_escalate_unanswered=body.auto_escalate_unanswered,
    )  # fmt: skip
    return TicketSettingsOut(
        notice_templates=notices.own_templates(row),
        default_notices=dict(service.DEFAULT_NOTICES),
        duty_manager_id=row.duty_manager_id,
        auto_escalate_unanswered=row.auto_escalate_unanswered,
        updated_at=row.updated_at,
    )


# --------------------------------------------------------------------------- notifications
@notifications.get("", response_model=NotificationListOut)
def list_notifications(
    unread_only: bool = False,
    limit: int = Query(default=50, ge=1, le=200),
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> NotificationListOut:
    """The caller's notifications, newest first (mentions, assignments, SLA warnings and
    breaches, escalations, handovers), and how many are unread. An API token has none."""
    if principal.agent_id is None:
        return NotificationListOut(unread=0, notifications=[])
    session, shop_id, agent_id = uow.session, principal.shop_id, principal.agent_id
    found = service.list_notifications(
        session, shop_id=shop_id, agent_id=agent_id, unread_only=unread_only, limit=limit
    )
    return NotificationListOut(
        unread=service.unread_count(session, shop_id=shop_id, agent_id=agent_id),
        notifications=[NotificationOut.model_validate(n) for n in found],
    )


@notifications.post("/read", response_model=MarkReadOut)
def mark_read(
    body: MarkReadIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> MarkReadOut:
    """Mark the caller's notifications read: these ``ids``, or all of them (null). An id
    that is not the caller's own is 404, and nothing is marked."""
    if principal.agent_id is None:
        raise PermissionDenied(
            "notifications belong to a member of staff (not an API token)",
            key="errors.tickets.notifications_need_person",
        )
    marked = service.mark_read(
        uow, shop_id=principal.shop_id, agent_id=principal.agent_id, notification_ids=body.ids
    )
    unread = service.unread_count(
        uow.session, shop_id=principal.shop_id, agent_id=principal.agent_id
    )
    return MarkReadOut(marked=marked, unread=unread)
