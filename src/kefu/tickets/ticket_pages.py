"""A new ticket (``/tickets/new``, also prefilled from a conversation) and one ticket
(``/tickets/{id}``): its header, SLA clocks in shop time, the conversation of notes and
replies, links, files, history and the forms that change it (handled in ticket_forms.py).

A refused form comes back with what was typed and the reason; nothing was written.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import HTMLResponse, Response

from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.commerce import service as commerce
from kefu.errors import DomainError, Invalid, NotFound
from kefu.tickets import custom_fields, sla
from kefu.tickets import service as tickets
from kefu.tickets.models import TicketPriority, TicketStatus, TicketType
from kefu.tickets.page_parts import (
    acting_agent,
    back_to,
    choice,
    custom_values,
    form_id,
    ids_in,
    staff_choices,
    tags_in,
    zone_of,
)
from kefu.uow import UnitOfWork
from kefu.web.context import AppContext
from kefu.web.deps import ResourceId, ensure_role, get_context, get_uow, page_locale, page_principal
from kefu.web.errors import localised, status_of
from kefu.web.security import check_csrf
from kefu.web.templating import render

router = APIRouter(include_in_schema=False, prefix="/tickets")
# Notices a form's redirect names (?done=…), shown translated on the ticket page.
NOTICES = {
    "status",
    "reopened",
    "assigned",
    "edited",
    "note",
    "reply",
    "attached",
    "linked",
    "unlinked",
    "merged",
    "split",
    "answered",
    "kb",
}


@dataclass
class NewTicketForm:
    """What the new-ticket form shows: blank, a draft from a conversation, or what was
    typed before a refusal."""

    type: str = TicketType.COMPLAINT.value
    title: str = ""
    description: str = ""
    priority: str = TicketPriority.NORMAL.value
    team: str = ""
    assignee: str = ""
    requester_team: str = ""
    tags: str = ""
    conversation_ids: list[int] = field(default_factory=list)
    order_ids: list[int] = field(default_factory=list)
    order_nos: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    customer_name: str = ""


@router.get("/new", response_class=HTMLResponse)
def new_ticket(
    request: Request,
    conversation_id: int | None = Query(default=None, ge=1, le=2**31 - 1),
    type: str = Query(default="", max_length=20),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    _: str = Depends(page_locale),
) -> HTMLResponse:
    ensure_role(principal, Role.AGENT)
    form = NewTicketForm()
    if conversation_id is not None:
        draft = tickets.draft_from_conversation(
            uow.session, shop_id=principal.shop_id, conversation_id=conversation_id
        )
        form = NewTicketForm(
            type=draft.type.value,
            title=draft.title,
            description=draft.description,
            priority=draft.priority.value,
            team=str(draft.team_id or ""),
            conversation_ids=[draft.conversation_id],
            order_ids=list(draft.order_ids),
            customer_name=draft.customer_name,
        )
    if type in {t.value for t in TicketType}:
        form.type = type
    return _new_page(request, uow, principal, form)


def _new_page(
    request: Request,
    uow: UnitOfWork,
    principal: Principal,
    form: NewTicketForm,
    *,
    error: str = "",
    error_field: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    session, shop_id = uow.session, principal.shop_id
    orders = [
        commerce.get_order(session, shop_id=shop_id, order_id=order_id)
        for order_id in form.order_ids
    ]
    context = {
        "form": form,
        "orders": orders,
        "choices": staff_choices(session, shop_id=shop_id),
        "types": list(TicketType),
        "priorities": list(TicketPriority),
        "fields_by_type": {
            t.value: tickets.fields_for(session, shop_id=shop_id, ticket_type=t) for t in TicketType
        },
        "choices_of": custom_fields.choices_of,
        "error": error,
        "error_field": error_field,
    }
    return render(request, "ticket_new.html", context, status_code=status_code)


@router.post("/new", response_class=HTMLResponse)
def create(
    request: Request,
    type: str = Form(default="", max_length=20),
    title: str = Form(default="", max_length=1000),
    description: str = Form(default="", max_length=20_000),
    priority: str = Form(default="", max_length=20),
    team: str = Form(default="", max_length=12),
    assignee: str = Form(default="", max_length=12),
    requester_team: str = Form(default="", max_length=12),
    tags: str = Form(default="", max_length=1000),
    conversation_ids: list[str] = Form(default=[], max_length=20),
    order_ids: list[str] = Form(default=[], max_length=50),
    order_nos: str = Form(default="", max_length=1000),
    csrf_token: str = Form(default=""),
    fields: dict[str, str] = Depends(custom_values),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    check_csrf(request, csrf_token)
    ensure_role(principal, Role.AGENT)
    typed = NewTicketForm(
        type=type,
        title=title,
        description=description,
        priority=priority,
        team=team,
        assignee=assignee,
        requester_team=requester_team,
        tags=tags,
        order_nos=order_nos,
        fields=fields,
    )
    shop_id = principal.shop_id
    try:
        typed.conversation_ids = ids_in(conversation_ids, field="conversation_ids")
        typed.order_ids = ids_in(order_ids, field="order_ids")
        ticket_type = choice(TicketType, type, field="type")
        ticket = tickets.create_ticket(
            uow,
            shop_id=shop_id,
            type=ticket_type,
            title=title,
            description=description,
            priority=choice(TicketPriority, priority, field="priority"),
            team_id=form_id(team, field="team_id"),
            assignee_id=form_id(assignee, field="assignee_id"),
            requester_team_id=form_id(requester_team, field="requester_team_id")
            if ticket_type is TicketType.INTERNAL
            else None,
            conversation_ids=typed.conversation_ids,
            order_ids=typed.order_ids + _orders_named(uow, shop_id, order_nos),
            tags=tags_in(tags),
            custom_fields={k: v for k, v in fields.items() if v.strip()} or None,
            actor_agent_id=acting_agent(principal),
        )
    except DomainError as exc:
        uow.rollback()
        return _new_page(
            request,
            uow,
            principal,
            _known_links(uow, shop_id, typed),
            error=localised(locale, exc),
            error_field=getattr(exc, "field", "") or "",
            status_code=status_of(exc),
        )
    return back_to(f"/tickets/{ticket.id}", created=1)


def _orders_named(uow: UnitOfWork, shop_id: int, order_nos: str) -> list[int]:
    """Order numbers typed by hand (comma or space separated) → the shop's orders."""
    found = []
    for order_no in tags_in(order_nos.replace(" ", ",")):
        order = commerce.find_order(uow.session, shop_id=shop_id, order_no=order_no)
        if order is None:
            raise Invalid(
                f"no order {order_no} in this shop",
                field="order_nos",
                key="errors.tickets.unknown_order_no",
                order_no=order_no,
            )
        found.append(order.id)
    return found


def _known_links(uow: UnitOfWork, shop_id: int, form: NewTicketForm) -> NewTicketForm:
    """The form again after a refusal, without ids that name nothing of the shop's (so
    showing it again cannot fail too)."""
    kept = []
    for order_id in form.order_ids:
        try:
            commerce.get_order(uow.session, shop_id=shop_id, order_id=order_id)
        except NotFound:
            continue
        kept.append(order_id)
    form.order_ids = kept
    return form


# --------------------------------------------------------------------------- one ticket
@router.get("/{ticket_id:int}", response_class=HTMLResponse)
def ticket_page(
    request: Request,
    ticket_id: ResourceId,
    done: str = Query(default="", max_length=20),
    created: str = Query(default="", max_length=1),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    context: AppContext = Depends(get_context),
    _: str = Depends(page_locale),
) -> HTMLResponse:
    notice = "created" if created == "1" else done if done in NOTICES else ""
    return show_ticket(request, uow, principal, ticket_id, notice=notice, app=context)


def show_ticket(
    request: Request,
    uow: UnitOfWork,
    principal: Principal,
    ticket_id: int,
    *,
    app: AppContext,
    notice: str = "",
    error: str = "",
    error_form: str = "",
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The ticket page; after a refused form, with the reason next to that form
    (``error_form``) and what was typed (``typed``) still in it."""
    session, shop_id = uow.session, principal.shop_id
    detail = tickets.ticket_detail(session, shop_id=shop_id, ticket_id=ticket_id)
    ticket = detail.ticket
    if ticket.status is TicketStatus.CLOSED and error_form != "comment":
        error_form = ""  # that form is not on a closed ticket's page: the reason goes on top
    now = uow.clock.now()
    clocks = sla.clocks_of(session, shop_id=shop_id, ticket_ids=[ticket.id], now=now)
    context = {
        "d": detail,
        "ticket": ticket,
        "clocks": clocks.get(ticket.id, []),
        "choices": staff_choices(session, shop_id=shop_id),
        "field_defs": tickets.fields_for(session, shop_id=shop_id, ticket_type=ticket.type),
        "field_values": {f.key: f.value for f in detail.fields},
        "choices_of": custom_fields.choices_of,
        "types": list(TicketType),
        "priorities": list(TicketPriority),
        "statuses": [s for s in TicketStatus if s is not ticket.status],
        "zone": zone_of(uow, principal),
        "now": now,
        "notice": notice,
        "error": error,
        "error_form": error_form,
        "typed": typed or {},
        "can_act": principal.agent_id is not None,
        "max_upload_bytes": app.settings.max_upload_bytes,
        "max_attachments": tickets.MAX_ATTACHMENTS,
    }
    return render(request, "ticket.html", context, status_code=status_code)
