"""The catalogue and the order book over REST (/api/v1/commerce), and the shop's webhooks.

The shop's own systems authenticate with an API token (``Authorization: Bearer …``);
anyone on the staff may read, supervisors and owners (and their tokens) write. Writes are
upserts keyed by the shop's own ids (SKU, order number): sending the same data again
changes nothing. Batches take up to 1,000 items, all or nothing.

``POST /api/v1/hooks/commerce/{shop}`` is the same intake for the shop's system to push
to, authenticated by an HMAC signature instead of a token (:mod:`kefu.commerce.webhooks`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field

from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.commerce import service, webhooks
from kefu.commerce.models import Order, OrderLine, OrderStatus, Product, ProductVariant
from kefu.commerce.payloads import OrderBatch, OrderPayload, ProductBatch, ProductPayload, Status
from kefu.crm import service as crm
from kefu.db import MAX_ID
from kefu.uow import UnitOfWork
from kefu.web.deps import ResourceId, api_principal, get_uow, require

router = APIRouter(prefix="/api/v1/commerce", tags=["commerce"])
hooks = APIRouter(prefix="/api/v1/hooks", tags=["webhooks"])
writer = require(Role.SUPERVISOR)
Outcome = Literal["created", "updated", "unchanged"]


class VariantOut(BaseModel):
    id: int
    sku: str
    size: str
    colour: str
    price: Decimal
    stock: int


class ProductOut(BaseModel):
    id: int
    sku: str
    title: str
    category: str
    price: Decimal
    tags: list[str]
    images: list[str]
    description: str
    on_sale: bool
    variants: list[VariantOut]
    created_at: datetime
    updated_at: datetime | None


class ProductWritten(ProductOut):
    outcome: Outcome = Field(description="created, updated, or unchanged (sent again as is)")


class LineOut(BaseModel):
    sku: str
    title: str
    size: str
    colour: str
    quantity: int
    unit_price: Decimal
    product_id: int | None
    variant_id: int | None


class OrderOut(BaseModel):
    id: int
    order_no: str
    customer_id: int
    customer_external_id: str | None
    status: Status
    items_total: Decimal
    discount: Decimal
    shipping_fee: Decimal
    total: Decimal
    coupon_code: str | None
    courier: str | None
    tracking_no: str | None
    ship_to_name: str
    ship_to_phone: str
    ship_to_address: str
    created_at: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    closed_at: datetime | None
    refunded_at: datetime | None
    updated_at: datetime | None
    lines: list[LineOut]


class OrderWritten(OrderOut):
    outcome: Outcome = Field(description="created, updated, or unchanged (sent again as is)")


class ReportOut(BaseModel):
    created: int
    updated: int
    unchanged: int


class WebhookOut(BaseModel):
    status: Literal["applied", "duplicate"]
    created: int
    updated: int
    unchanged: int


def _products_out(uow: UnitOfWork, shop_id: int, products: list[Product]) -> list[ProductOut]:
    variants = service.variants_of(
        uow.session, shop_id=shop_id, product_ids=[p.id for p in products]
    )
    return [
        ProductOut(
            id=p.id,
            sku=p.sku,
            title=p.title,
            category=p.category,
            price=p.price,
            tags=[tag for tag in p.tags.split(",") if tag],
            images=service.product_images(p),
            description=p.description,
            on_sale=p.on_sale,
            variants=[_variant_out(v) for v in variants[p.id]],
            created_at=p.created_at,
            updated_at=p.updated_at,
        )
        for p in products
    ]


def _variant_out(v: ProductVariant) -> VariantOut:
    return VariantOut(
        id=v.id, sku=v.sku, size=v.size, colour=v.colour, price=v.price, stock=v.stock
    )


def _line_out(line: OrderLine) -> LineOut:
    return LineOut(
        sku=line.sku,
        title=line.title,
        size=line.size,
        colour=line.colour,
        quantity=line.quantity,
        unit_price=line.unit_price,
        product_id=line.product_id,
        variant_id=line.variant_id,
    )


def _orders_out(uow: UnitOfWork, shop_id: int, orders: list[Order]) -> list[OrderOut]:
    session = uow.session
    lines = service.order_lines(session, shop_id=shop_id, order_ids=[o.id for o in orders])
    buyers = crm.customers_by_id(session, shop_id=shop_id, ids=[o.customer_id for o in orders])
    return [
        OrderOut(
            id=o.id,
            order_no=o.order_no,
            customer_id=o.customer_id,
            customer_external_id=buyers[o.customer_id].external_id
            if o.customer_id in buyers
            else None,
            status=o.status.value,
            items_total=o.items_total,
            discount=o.discount,
            shipping_fee=o.shipping_fee,
            total=o.total,
            coupon_code=o.coupon_code,
            courier=o.courier,
            tracking_no=o.tracking_no,
            ship_to_name=o.ship_to_name,
            ship_to_phone=o.ship_to_phone,
            ship_to_address=o.ship_to_address,
            created_at=o.created_at,
            paid_at=o.paid_at,
            shipped_at=o.shipped_at,
            delivered_at=o.delivered_at,
            closed_at=o.closed_at,
            refunded_at=o.refunded_at,
            updated_at=o.updated_at,
            lines=[_line_out(line) for line in lines[o.id]],
        )
        for o in orders
    ]


# --- products ---------------------------------------------------------------------------


@router.post("/products", response_model=ProductWritten)
def upsert_product(
    body: ProductPayload,
    response: Response,
    principal: Principal = Depends(writer),
    uow: UnitOfWork = Depends(get_uow),
) -> ProductWritten:
    """Create the product (201) or bring it up to date (200), by its SKU."""
    product, outcome = service.upsert_product(uow, shop_id=principal.shop_id, item=body.to_item())
    response.status_code = 201 if outcome == "created" else 200
    [out] = _products_out(uow, principal.shop_id, [product])
    return ProductWritten(**out.model_dump(), outcome=outcome)


@router.post("/products/batch", response_model=ReportOut)
def upsert_products(
    body: ProductBatch, principal: Principal = Depends(writer), uow: UnitOfWork = Depends(get_uow)
) -> ReportOut:
    """Up to 1,000 products, all or nothing: a refusal names the item (``items[3].price``)."""
    report = service.upsert_products(
        uow, shop_id=principal.shop_id, items=[item.to_item() for item in body.items]
    )
    return ReportOut(created=report.created, updated=report.updated, unchanged=report.unchanged)


@router.get("/products", response_model=list[ProductOut])
def search_products(
    q: str = Query(default="", max_length=100, description="SKU (its start) or title words"),
    on_sale: bool = Query(default=False, description="only products on sale"),
    limit: int = Query(default=20, ge=1, le=100),
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> list[ProductOut]:
    products = service.search_products(
        uow.session, shop_id=principal.shop_id, query=q, limit=limit, on_sale_only=on_sale
    )
    return _products_out(uow, principal.shop_id, products)


@router.get("/products/{product_id}", response_model=ProductOut)
def get_product(
    product_id: ResourceId,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> ProductOut:
    product = service.get_product(uow.session, shop_id=principal.shop_id, product_id=product_id)
    return _products_out(uow, principal.shop_id, [product])[0]


# --- orders -----------------------------------------------------------------------------


@router.post("/orders", response_model=OrderWritten)
def upsert_order(
    body: OrderPayload,
    response: Response,
    principal: Principal = Depends(writer),
    uow: UnitOfWork = Depends(get_uow),
) -> OrderWritten:
    """Create the order (201) or move it on (200), by its order number."""
    order, outcome = service.upsert_order(uow, shop_id=principal.shop_id, item=body.to_item())
    response.status_code = 201 if outcome == "created" else 200
    [out] = _orders_out(uow, principal.shop_id, [order])
    return OrderWritten(**out.model_dump(), outcome=outcome)


@router.post("/orders/batch", response_model=ReportOut)
def upsert_orders(
    body: OrderBatch, principal: Principal = Depends(writer), uow: UnitOfWork = Depends(get_uow)
) -> ReportOut:
    """Up to 1,000 orders, all or nothing: a refusal names the item (``items[3].lines[0].sku``)."""
    report = service.upsert_orders(
        uow, shop_id=principal.shop_id, items=[item.to_item() for item in body.items]
    )
    return ReportOut(created=report.created, updated=report.updated, unchanged=report.unchanged)


@router.get("/orders", response_model=list[OrderOut])
def search_orders(
    status: Status | None = None,
    customer_id: int | None = Query(default=None, ge=1, le=MAX_ID),
    q: str = Query(default="", max_length=40, description="an order number, or its start"),
    limit: int = Query(default=50, ge=1, le=100),
    offset: int = Query(default=0, ge=0, le=MAX_ID),
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> list[OrderOut]:
    """Orders, latest first."""
    orders = service.search_orders(
        uow.session,
        shop_id=principal.shop_id,
        status=OrderStatus(status) if status else None,
        customer_id=customer_id,
        query=q,
        limit=limit,
        offset=offset,
    )
    return _orders_out(uow, principal.shop_id, orders)


@router.get("/orders/{order_id}", response_model=OrderOut)
def get_order(
    order_id: ResourceId,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> OrderOut:
    order = service.get_order(uow.session, shop_id=principal.shop_id, order_id=order_id)
    return _orders_out(uow, principal.shop_id, [order])[0]


# --- webhooks ---------------------------------------------------------------------------


async def _raw_body(request: Request) -> bytes:
    """The body exactly as sent: the signature is over these bytes."""
    return await request.body()


@hooks.post(
    "/commerce/{shop}",
    response_model=WebhookOut,
    responses={401: {"description": "bad or missing signature, or a stale timestamp"}},
)
def commerce_webhook(
    request: Request,
    shop: Annotated[str, Path(description="the shop's code")],
    body: bytes = Depends(_raw_body),
    uow: UnitOfWork = Depends(get_uow),
) -> WebhookOut:
    """A signed push from the shop's system: ``{"event": "product.upsert" | "order.upsert",
    "data": {…} or [{…}, …]}`` (items as in ``POST /api/v1/commerce/…``)."""
    headers = request.headers
    result = webhooks.receive(
        uow,
        shop_code=shop,
        timestamp=headers.get(webhooks.TIMESTAMP_HEADER),
        signature=headers.get(webhooks.SIGNATURE_HEADER),
        delivery_id=headers.get(webhooks.DELIVERY_HEADER),
        body=body,
    )
    report = result.report
    return WebhookOut(
        status=result.status,
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
    )
