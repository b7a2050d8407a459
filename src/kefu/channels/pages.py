"""Buyer-facing pages: the chat page (standalone and in the widget's iframe), widget.js,
and the owner's page with the snippet and identity secret."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from starlette.responses import HTMLResponse

from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.channels import service as channels
from kefu.channels.visitors import (
    MAX_IDENTITY_LENGTH,
    encode_identity,
    sign_identity,
    widget_secret,
)
from kefu.conversations import service as conversations
from kefu.shops import service as shops
from kefu.uow import UnitOfWork
from kefu.web.context import AppContext
from kefu.web.deps import ensure_role, get_context, get_uow, page_locale, page_principal
from kefu.web.i18n import pick_locale
from kefu.web.middleware import EMBEDDABLE_CONTENT_SECURITY_POLICY
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)
WIDGET_JS = Path(__file__).parents[1] / "web" / "static" / "widget.js"


@router.get("/chat/{shop}", response_class=HTMLResponse)
def chat_page(
    request: Request,
    shop: str,
    embed: bool = False,
    identity: str | None = Query(default=None, max_length=MAX_IDENTITY_LENGTH),
    signature: str | None = Query(default=None, max_length=128),
    lang: str | None = Query(default=None, max_length=20),
    uow: UnitOfWork = Depends(get_uow),
    context: AppContext = Depends(get_context),
) -> HTMLResponse:
    found = shops.get_shop_by_slug(uow.session, slug=shop)
    request.state.locale = pick_locale(lang, request.headers.get("accept-language"))
    response = render(
        request,
        "chat.html",
        {
            "shop": found,
            "embed": embed,
            "identity": identity,
            "signature": signature,
            "max_length": conversations.MAX_MESSAGE_LENGTH,
            "max_upload_bytes": context.settings.max_upload_bytes,
        },
    )
    response.headers["Content-Security-Policy"] = EMBEDDABLE_CONTENT_SECURITY_POLICY
    return response


@router.get("/widget.js")
def widget_js() -> FileResponse:
    """The embeddable script; shops include it with <script src=…/widget.js data-shop=…>."""
    return FileResponse(
        WIDGET_JS,
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )


@router.get("/settings/widget", response_class=HTMLResponse)
def widget_settings(
    request: Request,
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    context: AppContext = Depends(get_context),
    _: str = Depends(page_locale),
) -> HTMLResponse:
    """How to put the chat on the shop's site, and the secret to sign buyers' identities."""
    ensure_role(principal, Role.OWNER)
    shop = shops.get_shop(uow.session, shop_id=principal.shop_id)
    base = str(request.base_url).rstrip("/")
    secret = widget_secret(secret=context.settings.secret_key, shop_id=shop.id)
    now = int(uow.clock.now().timestamp())
    previews = []
    for buyer in channels.preview_buyers(uow.session, shop_id=shop.id):
        # Signed here like the shop's site would sign it; valid for a day (IDENTITY_MAX_AGE).
        identity = encode_identity(external_id=buyer.external_id, name=buyer.name, ts=now)
        query = urlencode(
            {"identity": identity, "signature": sign_identity(key=secret, identity=identity)}
        )
        previews.append((buyer, f"/chat/{shop.slug}?{query}"))
    return render(
        request,
        "widget_settings.html",
        {"shop": shop, "base": base, "secret": secret, "previews": previews},
    )
