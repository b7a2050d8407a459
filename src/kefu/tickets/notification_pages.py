"""``/notifications``: what a member of staff was told (mentions, assignments, SLA warnings,
escalations, handovers), newest first; each marked read when opened or by hand.

The bell in every page's header (notify.js) shows how many are unread and adds new ones
live; this page is the full list.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from kefu.accounts.auth import Principal
from kefu.tickets import notifications
from kefu.tickets.models import NotificationKind
from kefu.tickets.page_parts import acting_agent, back_to, zone_of
from kefu.uow import UnitOfWork
from kefu.web.deps import ResourceId, get_uow, page_locale, page_principal
from kefu.web.security import check_csrf, safe_next
from kefu.web.templating import render

router = APIRouter(include_in_schema=False, prefix="/notifications")
PAGE_SIZE = 100


@router.get("", response_class=HTMLResponse)
def notification_list(
    request: Request,
    unread: str = Query(default="", max_length=1),
    done: str = Query(default="", max_length=10),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    _: str = Depends(page_locale),
) -> HTMLResponse:
    agent_id = acting_agent(principal)
    session, shop_id = uow.session, principal.shop_id
    items = notifications.list_notifications(
        session, shop_id=shop_id, agent_id=agent_id, unread_only=unread == "1", limit=PAGE_SIZE
    )
    context = {
        "items": items,
        "unread_only": unread == "1",
        "unread_count": notifications.unread_count(session, shop_id=shop_id, agent_id=agent_id),
        "kinds": list(NotificationKind),
        "zone": zone_of(uow, principal),
        "done": done if done in ("read", "all_read") else "",
    }
    return render(request, "notifications.html", context)


@router.post("/read", response_class=HTMLResponse)
def mark_all_read(
    request: Request,
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> Response:
    check_csrf(request, csrf_token)
    notifications.mark_read(uow, shop_id=principal.shop_id, agent_id=acting_agent(principal))
    return back_to("/notifications", done="all_read")


@router.post("/{notification_id}/read", response_class=HTMLResponse)
def mark_one_read(
    request: Request,
    notification_id: ResourceId,
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> Response:
    check_csrf(request, csrf_token)
    _mark(uow, principal, notification_id)
    return back_to("/notifications", done="read")


@router.post("/{notification_id}/open", response_class=HTMLResponse)
def open_notification(
    request: Request,
    notification_id: ResourceId,
    next: str = Form(default="", max_length=200),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> Response:
    """Go where the notification leads (a path on this site), marking it read on the way."""
    check_csrf(request, csrf_token)
    _mark(uow, principal, notification_id)
    return RedirectResponse(safe_next(next) if next else "/notifications", status_code=303)


def _mark(uow: UnitOfWork, principal: Principal, notification_id: int) -> None:
    # The caller's own only: a colleague's or another shop's id is not there (404).
    notifications.mark_read(
        uow,
        shop_id=principal.shop_id,
        agent_id=acting_agent(principal),
        notification_ids=[notification_id],
    )
