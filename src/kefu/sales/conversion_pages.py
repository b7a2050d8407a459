"""The page ``/sales/conversion``: 询单转化率 of the last 7 or 30 days, per agent and per
team. Supervisors and owners see the shop; an agent sees their own row."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse

from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.sales import service
from kefu.shops import service as shops
from kefu.uow import UnitOfWork
from kefu.web.deps import get_uow, page_locale, page_principal
from kefu.web.templating import render

router = APIRouter(prefix="/sales/conversion", include_in_schema=False)
PERIODS = (7, 30)  # days


@router.get("", response_class=HTMLResponse)
def conversion_page(
    request: Request,
    days: int = PERIODS[0],
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    _: str = Depends(page_locale),
) -> HTMLResponse:
    days = days if days in PERIODS else PERIODS[0]
    whole_shop = principal.has_role(Role.SUPERVISOR)
    zone = shops.get_shop(uow.session, shop_id=principal.shop_id).timezone
    since, until = service.recent_days(now=uow.clock.now(), timezone=zone, days=days)
    groupings = ("agent", "team") if whole_shop else ("agent",)
    reports = [
        service.conversion_rates(
            uow.session,
            shop_id=principal.shop_id,
            since=since,
            until=until,
            by=by,
            agent_id=None if whole_shop else principal.agent_id,
        )
        for by in groupings
    ]
    return render(
        request,
        "sales_conversion.html",
        {
            "days": days,
            "periods": PERIODS,
            "reports": reports,
            "window_days": reports[0].window_days,
        },
    )
