"""API tokens page: the owner issues tokens for the shop's own systems and revokes them.

A new token's secret is shown once, in the answer to the form that created it; the
database keeps only its hash, so it cannot be shown again.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from kefu.accounts import auth
from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.errors import DomainError
from kefu.shops import service as shops
from kefu.uow import UnitOfWork
from kefu.web.deps import ResourceId, ensure_role, get_uow, page_locale, page_principal
from kefu.web.errors import localised, status_of
from kefu.web.security import check_csrf
from kefu.web.templating import render

router = APIRouter(include_in_schema=False, prefix="/tokens")


def _page(
    request: Request,
    uow: UnitOfWork,
    principal: Principal,
    *,
    issued: str | None = None,
    revoked: bool = False,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "tokens": auth.list_api_tokens(uow.session, shop_id=principal.shop_id),
        "zone": shops.get_shop(uow.session, shop_id=principal.shop_id).timezone,
        "roles": list(Role),
        "issued": issued,
        "revoked": revoked,
        "error": error,
    }
    return render(request, "tokens.html", context, status_code=status_code)


@router.get("", response_class=HTMLResponse)
def tokens(
    request: Request,
    revoked: bool = False,
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    _: str = Depends(page_locale),
) -> HTMLResponse:
    ensure_role(principal, Role.OWNER)
    return _page(request, uow, principal, revoked=revoked)


@router.post("", response_class=HTMLResponse)
def issue_token(
    request: Request,
    name: str = Form(default="", max_length=80),
    role: Role = Form(default=Role.AGENT),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> HTMLResponse:
    check_csrf(request, csrf_token)
    ensure_role(principal, Role.OWNER)
    try:
        issued = auth.create_api_token(
            uow, shop_id=principal.shop_id, name=name, role=role, created_by=principal
        )
    except DomainError as exc:
        uow.rollback()
        return _page(
            request, uow, principal, error=localised(locale, exc), status_code=status_of(exc)
        )
    response = _page(request, uow, principal, issued=issued.raw, status_code=201)
    # The secret is on this page only: keep it out of every cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/{token_id}/revoke")
def revoke_token(
    request: Request,
    token_id: ResourceId,
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> Response:
    check_csrf(request, csrf_token)
    ensure_role(principal, Role.OWNER)
    auth.revoke_api_token(uow, shop_id=principal.shop_id, token_id=token_id)
    return RedirectResponse("/tokens?revoked=true", status_code=303)
