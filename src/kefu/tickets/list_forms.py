"""The ticket list's forms: saving the filters as a view, deleting one, and bulk changes.

A bulk change is all or nothing: the first ticket it cannot change is named on the list it
came from, and none of them changed.
"""

from __future__ import annotations

from dataclasses import fields
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from kefu.accounts.auth import Principal
from kefu.errors import DomainError, Invalid, NotFound
from kefu.tickets import bulk, views
from kefu.tickets import service as tickets
from kefu.tickets.models import TicketPriority, TicketStatus
from kefu.tickets.page_parts import acting_agent, back_to, choice, form_id, tags_in
from kefu.tickets.pages import ListQuery, list_page, list_query
from kefu.uow import UnitOfWork
from kefu.web.deps import ResourceId, get_uow, page_locale, page_principal
from kefu.web.errors import localised, status_of
from kefu.web.security import check_csrf, safe_next

router = APIRouter(include_in_schema=False, prefix="/tickets")
MAX_BULK = 200


# --------------------------------------------------------------------------- saved views
@router.post("/views", response_class=HTMLResponse)
def save_view(
    request: Request,
    name: str = Form(default="", max_length=200),
    shared: str = Form(default=""),
    csrf_token: str = Form(default=""),
    asked: ListQuery = Depends(list_query),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    """Save the list's current filters (sent along as the query) under a name."""
    check_csrf(request, csrf_token)
    try:
        saved = views.create_view(
            uow,
            shop_id=principal.shop_id,
            agent_id=acting_agent(principal),
            name=name,
            filters=views.filter_to_json(asked.to_filter()),
            shared=bool(shared),
        )
    except DomainError as exc:
        uow.rollback()
        return list_page(
            request,
            uow,
            principal,
            asked,
            error=localised(locale, exc),
            status_code=status_of(exc),
        )
    return back_to("/tickets", view=saved.id, done="view_saved")


@router.post("/views/{view_id}/delete", response_class=HTMLResponse)
def delete_view(
    request: Request,
    view_id: ResourceId,
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    check_csrf(request, csrf_token)
    try:
        views.delete_view(
            uow, shop_id=principal.shop_id, agent_id=acting_agent(principal), view_id=view_id
        )
    except NotFound:
        raise
    except DomainError as exc:
        uow.rollback()
        return list_page(
            request,
            uow,
            principal,
            ListQuery(),
            view=str(view_id),
            error=localised(locale, exc),
            status_code=status_of(exc),
        )
    return back_to("/tickets", done="view_deleted")


# --------------------------------------------------------------------------- bulk
@router.post("/bulk", response_class=HTMLResponse)
def bulk_change(
    request: Request,
    ticket_ids: list[int] = Form(default=[], max_length=MAX_BULK),
    status: str = Form(default="", max_length=20),
    priority: str = Form(default="", max_length=20),
    team: str = Form(default="", max_length=12),
    assignee: str = Form(default="", max_length=12),
    add_tag: str = Form(default="", max_length=200),
    back: str = Form(default="", max_length=2000),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    """The same change to every ticket ticked, or — the first refused named — to none."""
    check_csrf(request, csrf_token)
    back = back if back.startswith("/tickets") and safe_next(back) == back else "/tickets"
    try:
        change = _bulk_change(status, priority, team, assignee, add_tag)
        if not ticket_ids:
            raise Invalid(
                "tick the tickets to change", field="ticket_ids", key="errors.tickets.none_ticked"
            )
        changed = bulk.bulk_update(
            uow,
            shop_id=principal.shop_id,
            ticket_ids=ticket_ids,
            change=change,
            actor_agent_id=acting_agent(principal),
        )
    except DomainError as exc:
        uow.rollback()
        return _again(request, uow, principal, back, localised(locale, exc), status_of(exc))
    separator = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{separator}done=bulk&n={changed}", status_code=303)


def _bulk_change(status: str, priority: str, team: str, assignee: str, tag: str) -> bulk.BulkChange:
    """The form's choices as a BulkChange; an empty choice leaves the field alone."""
    change = bulk.BulkChange(
        status=choice(TicketStatus, status, field="status") if status else None,
        priority=choice(TicketPriority, priority, field="priority") if priority else None,
        team_id=_keep_or(team, field="team"),
        assignee_id=_keep_or(assignee, field="assignee"),
        add_tags=tuple(tags_in(tag)),
    )
    if change == bulk.BulkChange():
        raise Invalid(
            "choose what to change", field="status", key="errors.tickets.nothing_to_change"
        )
    return change


def _keep_or(value: str, *, field: str) -> int | tickets._Keep | None:
    """A select with 「不变」 (empty: KEEP), 「无」 (none: clear it) and ids."""
    if not value:
        return tickets.KEEP
    return None if value == "none" else form_id(value, field=field)


def _again(
    request: Request, uow: UnitOfWork, principal: Principal, back: str, error: str, code: int
) -> HTMLResponse:
    """The list the bulk form came from, with the refusal on it."""
    query = parse_qs(urlsplit(back).query)
    one = {k: v[0] for k, v in query.items() if k != "status" and v}
    single = {f.name: one.get(f.name, "") for f in fields(ListQuery) if f.name != "status"}
    asked = list_query(status=query.get("status", []), **single)
    page = int(one["page"]) if one.get("page", "").isdigit() else 1
    return list_page(
        request,
        uow,
        principal,
        asked,
        view=one.get("view", ""),
        page=min(page, 10_000),
        error=error,
        status_code=code,
    )
