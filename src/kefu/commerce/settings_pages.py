"""The owner's page for connecting the shop's order system (/settings/integrations):
the webhook address and signing secret, how to sign, and the shipping promise."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.commerce import service, webhooks
from kefu.errors import DomainError
from kefu.shops import service as shops
from kefu.uow import UnitOfWork
from kefu.web.deps import ensure_role, get_uow, page_locale, page_principal
from kefu.web.errors import localised, status_of
from kefu.web.security import check_csrf
from kefu.web.templating import render

router = APIRouter(prefix="/settings/integrations", include_in_schema=False)


def _page(
    request: Request,
    uow: UnitOfWork,
    principal: Principal,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    shop = shops.get_shop(uow.session, shop_id=principal.shop_id)
    settings = service.commerce_settings(uow, shop_id=shop.id)  # the secret, made on first need
    base = str(request.base_url).rstrip("/")
    return render(
        request,
        "integration_settings.html",
        {
            "shop": shop,
            "settings": settings,
            "hook_url": f"{base}/api/v1/hooks/commerce/{shop.slug}",
            "api_base": f"{base}/api/v1/commerce",
            "headers": (
                webhooks.TIMESTAMP_HEADER,
                webhooks.SIGNATURE_HEADER,
                webhooks.DELIVERY_HEADER,
            ),
            "notice": notice,
            "error": error,
        },
        status_code=status_code,
    )


@router.get("", response_class=HTMLResponse)
def integrations_page(
    request: Request,
    saved: bool = False,
    rotated: bool = False,
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    _: str = Depends(page_locale),
) -> HTMLResponse:
    ensure_role(principal, Role.OWNER)
    notice = "rotated" if rotated else "saved" if saved else None
    return _page(request, uow, principal, notice=notice)


@router.post("", response_class=HTMLResponse)
def save_integrations(
    request: Request,
    ships_within_hours: str = Form(default="", max_length=10),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    check_csrf(request, csrf_token)
    ensure_role(principal, Role.OWNER)
    try:
        hours = int(ships_within_hours) if ships_within_hours.strip().isdigit() else 0
        service.update_commerce_settings(uow, shop_id=principal.shop_id, ships_within_hours=hours)
    except DomainError as exc:
        uow.rollback()
        return _page(
            request, uow, principal, error=localised(locale, exc), status_code=status_of(exc)
        )
    return RedirectResponse("/settings/integrations?saved=true", status_code=303)


@router.post("/secret", response_class=HTMLResponse)
def rotate_secret(
    request: Request,
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    _: str = Depends(page_locale),
) -> Response:
    """A new secret; the shop's system must sign with it from now on."""
    check_csrf(request, csrf_token)
    ensure_role(principal, Role.OWNER)
    service.rotate_webhook_secret(uow, shop_id=principal.shop_id)
    return RedirectResponse("/settings/integrations?rotated=true", status_code=303)
