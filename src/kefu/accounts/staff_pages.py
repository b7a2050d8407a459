"""The staff page: owners add agents, change roles and teams, deactivate, reset passwords.

Supervisors see the page; agents do not. Every form posts back here and lands on the
page again with a notice, or with the reason it was refused and nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from kefu.accounts import service
from kefu.accounts.auth import Principal
from kefu.accounts.models import Agent, Role
from kefu.errors import DomainError
from kefu.shops import service as shops
from kefu.uow import UnitOfWork
from kefu.web.deps import ResourceId, ensure_role, get_uow, page_locale, page_principal
from kefu.web.errors import localised, status_of
from kefu.web.security import check_csrf
from kefu.web.templating import render

router = APIRouter(include_in_schema=False, prefix="/staff")
NOTICES = ("added", "updated", "deactivated", "activated", "password")


def _page(
    request: Request,
    uow: UnitOfWork,
    principal: Principal,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "roster": service.roster(uow.session, shop_id=principal.shop_id),
        "zone": shops.get_shop(uow.session, shop_id=principal.shop_id).timezone,
        "can_manage": principal.has_role(Role.OWNER),
        "roles": list(Role),
        "notice": notice if notice in NOTICES else None,
        "error": error,
    }
    return render(request, "staff.html", context, status_code=status_code)


def _done(notice: str) -> Response:
    return RedirectResponse(f"/staff?done={notice}", status_code=303)


@router.get("", response_class=HTMLResponse)
def staff(
    request: Request,
    done: str | None = None,
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    _: str = Depends(page_locale),
) -> HTMLResponse:
    ensure_role(principal, Role.SUPERVISOR)
    return _page(request, uow, principal, notice=done)


@router.post("", response_class=HTMLResponse)
def add_agent(
    request: Request,
    display_name: str = Form(default="", max_length=60),
    email: str = Form(default="", max_length=254),
    role: Role = Form(default=Role.AGENT),
    password: str = Form(default="", max_length=256),
    team_ids: list[int] = Form(default=[]),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    return _change(
        request,
        uow,
        principal,
        locale=locale,
        csrf_token=csrf_token,
        notice="added",
        action=lambda: service.create_agent(
            uow,
            shop_id=principal.shop_id,
            email=email,
            display_name=display_name,
            password=password,
            role=role,
            team_ids=team_ids,
        ),
    )


def _agent_update(uow: UnitOfWork, principal: Principal, agent_id: int) -> partial[Agent]:
    """update_agent for one agent of the caller's shop, acted on by the caller."""
    return partial(
        service.update_agent,
        uow,
        shop_id=principal.shop_id,
        agent_id=agent_id,
        acting_agent_id=principal.agent_id,
    )


def _change(
    request: Request,
    uow: UnitOfWork,
    principal: Principal,
    *,
    locale: str,
    csrf_token: str,
    notice: str,
    action: Callable[[], object],
) -> Response:
    """Run one owner action on an agent; show the page again with the outcome."""
    check_csrf(request, csrf_token)
    ensure_role(principal, Role.OWNER)
    try:
        action()
    except DomainError as exc:
        uow.rollback()  # show the staff as they are, not as the refused change left them
        return _page(
            request, uow, principal, error=localised(locale, exc), status_code=status_of(exc)
        )
    return _done(notice)


@router.post("/{agent_id}", response_class=HTMLResponse)
def change_role_and_teams(
    request: Request,
    agent_id: ResourceId,
    role: Role = Form(...),
    team_ids: list[int] = Form(default=[]),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    return _change(
        request,
        uow,
        principal,
        locale=locale,
        csrf_token=csrf_token,
        notice="updated",
        action=lambda: _agent_update(uow, principal, agent_id)(role=role, team_ids=team_ids),
    )


@router.post("/{agent_id}/active", response_class=HTMLResponse)
def set_active(
    request: Request,
    agent_id: ResourceId,
    active: bool = Form(...),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    return _change(
        request,
        uow,
        principal,
        locale=locale,
        csrf_token=csrf_token,
        notice="activated" if active else "deactivated",
        action=lambda: _agent_update(uow, principal, agent_id)(is_active=active),
    )


@router.post("/{agent_id}/password", response_class=HTMLResponse)
def reset_password(
    request: Request,
    agent_id: ResourceId,
    password: str = Form(default="", max_length=256),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    return _change(
        request,
        uow,
        principal,
        locale=locale,
        csrf_token=csrf_token,
        notice="password",
        action=lambda: _agent_update(uow, principal, agent_id)(password=password),
    )
