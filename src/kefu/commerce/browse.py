"""The catalogue and the order book as the shop's staff browse them (商品 and 订单 pages):
a page of products or orders at a time with the total, and one order in full.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from kefu.commerce.models import Order, OrderLine, OrderStatus, Product, ProductVariant
from kefu.commerce.queries import get_order, order_lines, product_images
from kefu.crm.models import Customer

T = TypeVar("T")
MAX_PAGE_SIZE = 100
# The steps of an order's life, in the order they happen, by the column that records each.
TIMELINE = ("created_at", "paid_at", "shipped_at", "delivered_at", "closed_at", "refunded_at")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int


@dataclass(frozen=True)
class ProductRow:
    product: Product
    image: str | None  # the main picture
    tags: list[str]
    variants: int
    stock: int | None  # over all variants; None for a product sold without variants


@dataclass(frozen=True)
class OrderRow:
    order: Order
    customer_name: str
    pieces: int  # the quantities of its lines added up
    first_title: str  # the first line's product, to recognise the order by


@dataclass(frozen=True)
class OrderDetail:
    order: Order
    customer: Customer
    lines: list[OrderLine]
    timeline: list[tuple[str, datetime]]  # (step, when), earliest first


def _page_bounds(limit: int, offset: int) -> tuple[int, int]:
    return max(1, min(limit, MAX_PAGE_SIZE)), max(0, offset)


def _like(text: str) -> str:
    """``text`` as a LIKE pattern matching it anywhere, its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_products(
    session: Session, *, shop_id: int, query: str = "", limit: int = 30, offset: int = 0
) -> Page[ProductRow]:
    """Products whose SKU or a variant's SKU starts with ``query``, or whose title or tags
    contain it; newest first."""
    limit, offset = _page_bounds(limit, offset)
    condition: ColumnElement[bool] = Product.shop_id == shop_id
    text = query.strip()
    if text:
        variant_match = select(ProductVariant.product_id).where(
            ProductVariant.shop_id == shop_id,
            ProductVariant.sku.startswith(text, autoescape=True),
        )
        condition = and_(
            condition,
            or_(
                Product.sku.startswith(text, autoescape=True),
                Product.id.in_(variant_match),
                func.lower(Product.title).like(_like(text.lower()), escape="\\"),
                Product.tags.like(_like(text), escape="\\"),
            ),
        )
    total = session.scalar(select(func.count(Product.id)).where(condition)) or 0
    products = list(
        session.scalars(
            select(Product)
            .where(condition)
            .order_by(Product.created_at.desc(), Product.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )
    stock: dict[int, tuple[int, int]] = {}
    if products:
        rows = session.execute(
            select(
                ProductVariant.product_id,
                func.count(ProductVariant.id),
                func.coalesce(func.sum(ProductVariant.stock), 0),
            )
            .where(
                ProductVariant.shop_id == shop_id,
                ProductVariant.product_id.in_([p.id for p in products]),
            )
            .group_by(ProductVariant.product_id)
        )
        stock = {product_id: (int(count), int(total)) for product_id, count, total in rows}
    items = []
    for product in products:
        count, pieces = stock.get(product.id, (0, 0))
        images = product_images(product)
        items.append(
            ProductRow(
                product=product,
                image=images[0] if images else None,
                tags=[tag for tag in product.tags.split(",") if tag],
                variants=count,
                stock=pieces if count else None,
            )
        )
    return Page(items, total)


def _order_conditions(
    *, shop_id: int, status: OrderStatus | None, query: str
) -> list[ColumnElement[bool]]:
    """What the listed orders (joined with their buyer) must meet."""
    conditions: list[ColumnElement[bool]] = [Order.shop_id == shop_id, Customer.shop_id == shop_id]
    if status is not None:
        conditions.append(Order.status == status)
    text = query.strip()
    if text:
        pattern = _like(text)
        conditions.append(
            or_(
                Order.order_no.startswith(text, autoescape=True),
                Customer.name.like(pattern, escape="\\"),
                Customer.nickname.like(pattern, escape="\\"),
                Customer.phone.startswith(text, autoescape=True),
                Order.ship_to_name.like(pattern, escape="\\"),
                Order.ship_to_phone.startswith(text, autoescape=True),
            )
        )
    return conditions


def list_orders(
    session: Session,
    *,
    shop_id: int,
    status: OrderStatus | None = None,
    query: str = "",
    limit: int = 30,
    offset: int = 0,
) -> Page[OrderRow]:
    """Orders, latest first; ``query`` finds an order number (its start), a buyer's name or
    nickname, or a phone number (the buyer's or the recipient's, its start)."""
    limit, offset = _page_bounds(limit, offset)
    conditions = _order_conditions(shop_id=shop_id, status=status, query=query)
    buyer = Customer.id == Order.customer_id
    total = (
        session.scalar(select(func.count(Order.id)).join(Customer, buyer).where(*conditions)) or 0
    )
    found = session.execute(
        select(Order, Customer.name, Customer.nickname)
        .join(Customer, buyer)
        .where(*conditions)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    lines = order_lines(session, shop_id=shop_id, order_ids=[row[0].id for row in found])
    items = [
        OrderRow(
            order=order,
            customer_name=name or nickname,
            pieces=sum(line.quantity for line in lines[order.id]),
            first_title=lines[order.id][0].title if lines[order.id] else "",
        )
        for order, name, nickname in found
    ]
    return Page(items, total)


def order_detail(session: Session, *, shop_id: int, order_id: int) -> OrderDetail:
    """One order with its buyer, lines and the times of its steps (NotFound if not the shop's)."""
    order = get_order(session, shop_id=shop_id, order_id=order_id)
    customer = session.scalars(
        select(Customer).where(Customer.shop_id == shop_id, Customer.id == order.customer_id)
    ).one()
    stamps: Sequence[tuple[str, datetime | None]] = [
        (step, getattr(order, step)) for step in TIMELINE
    ]
    timeline = sorted(
        ((step, when) for step, when in stamps if when is not None),
        key=lambda pair: (pair[1], TIMELINE.index(pair[0])),
    )
    return OrderDetail(
        order=order,
        customer=customer,
        lines=order_lines(session, shop_id=shop_id, order_ids=[order.id])[order.id],
        timeline=timeline,
    )
