"""The agent home page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse

from kefu.accounts.auth import Principal
from kefu.analytics import service
from kefu.uow import UnitOfWork
from kefu.web.context import AppContext
from kefu.web.deps import get_context, get_uow, page_locale, page_principal
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request,
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    context: AppContext = Depends(get_context),
    _: str = Depends(page_locale),
) -> HTMLResponse:
    overview = service.shop_overview(
        uow.session, shop_id=principal.shop_id, agent_id=principal.agent_id
    )
    return render(
        request,
        "home.html",
        {"overview": overview, "zone": overview.shop.timezone, "now": context.clock.now()},
    )
