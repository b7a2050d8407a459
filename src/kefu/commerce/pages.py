"""The catalogue and the orders as the shop's staff browse them (商品, 订单).

Every member of staff may look (agents answer buyers from them); nothing here changes
anything. Importing is :mod:`kefu.commerce.import_pages`.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import HTMLResponse

from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.commerce import browse
from kefu.commerce import service as commerce
from kefu.commerce.models import OrderStatus
from kefu.shops import service as shops
from kefu.uow import UnitOfWork
from kefu.web.deps import ResourceId, get_uow, page_locale, page_principal
from kefu.web.templating import render

router = APIRouter(include_in_schema=False, prefix="/commerce")
PAGE_SIZE = 30


def _zone(uow: UnitOfWork, principal: Principal) -> str:
    return shops.get_shop(uow.session, shop_id=principal.shop_id).timezone


def _pager(filters: dict[str, str]) -> Callable[[int], str]:
    return lambda n: urlencode({**{k: v for k, v in filters.items() if v}, "page": n})


@router.get("/products", response_class=HTMLResponse)
def products(
    request: Request,
    q: str = Query(default="", max_length=100),
    page: int = Query(default=1, ge=1, le=10_000),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    _: str = Depends(page_locale),
) -> HTMLResponse:
    found = browse.list_products(
        uow.session,
        shop_id=principal.shop_id,
        query=q,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    context = {
        "found": found,
        "q": q,
        "page": page,
        "pages": max(1, -(-found.total // PAGE_SIZE)),
        "query_for": _pager({"q": q}),
        "can_import": principal.has_role(Role.SUPERVISOR),
    }
    return render(request, "commerce_products.html", context)


@router.get("/orders", response_class=HTMLResponse)
def orders(
    request: Request,
    q: str = Query(default="", max_length=100),
    status: str = Query(default="", max_length=20),
    page: int = Query(default=1, ge=1, le=10_000),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    _: str = Depends(page_locale),
) -> HTMLResponse:
    chosen = OrderStatus(status) if status in {s.value for s in OrderStatus} else None
    found = browse.list_orders(
        uow.session,
        shop_id=principal.shop_id,
        status=chosen,
        query=q,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    filters = {"q": q, "status": chosen.value if chosen else ""}
    context = {
        "found": found,
        "filters": filters,
        "statuses": list(OrderStatus),
        "counts": commerce.count_orders_by_status(uow.session, shop_id=principal.shop_id),
        "page": page,
        "pages": max(1, -(-found.total // PAGE_SIZE)),
        "query_for": _pager(filters),
        "zone": _zone(uow, principal),
        "can_import": principal.has_role(Role.SUPERVISOR),
    }
    return render(request, "commerce_orders.html", context)


@router.get("/orders/{order_id}", response_class=HTMLResponse)
def order(
    request: Request,
    order_id: ResourceId,
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    _: str = Depends(page_locale),
) -> HTMLResponse:
    detail = browse.order_detail(uow.session, shop_id=principal.shop_id, order_id=order_id)
    context = {"detail": detail, "order": detail.order, "zone": _zone(uow, principal)}
    return render(request, "commerce_order.html", context)
