"""Reads of the catalogue and the order book, for the desk, the bot and the sales domain.

Every read is scoped to one shop: another shop's row is "not found", never an error that
reveals it exists. :mod:`kefu.commerce.service` re-exports these.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from kefu.commerce.models import (
    CommerceSettings,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    ProductVariant,
)
from kefu.db import MAX_ID
from kefu.errors import NotFound

DEFAULT_SHIPS_WITHIN_HOURS = 48
MAX_SEARCH_RESULTS = 100


def get_order(session: Session, *, shop_id: int, order_id: int) -> Order:
    order = (
        session.scalar(select(Order).where(Order.shop_id == shop_id, Order.id == order_id))
        if 1 <= order_id <= MAX_ID
        else None
    )
    if order is None:
        raise NotFound("order not found")
    return order


def find_order(session: Session, *, shop_id: int, order_no: str) -> Order | None:
    """The order with this number (exactly, case and all), or None."""
    order_no = order_no.strip()
    if not order_no or len(order_no) > 40:
        return None
    return session.scalar(select(Order).where(Order.shop_id == shop_id, Order.order_no == order_no))


def order_lines(
    session: Session, *, shop_id: int, order_ids: Sequence[int]
) -> dict[int, list[OrderLine]]:
    """The lines of each order (in the order they were recorded); every id gets a list."""
    found: dict[int, list[OrderLine]] = {order_id: [] for order_id in order_ids}
    if not found:
        return found
    query = (
        select(OrderLine)
        .where(OrderLine.shop_id == shop_id, OrderLine.order_id.in_(list(found)))
        .order_by(OrderLine.order_id, OrderLine.id)
    )
    for line in session.scalars(query):
        found[line.order_id].append(line)
    return found


def get_product(session: Session, *, shop_id: int, product_id: int) -> Product:
    product = (
        session.scalar(select(Product).where(Product.shop_id == shop_id, Product.id == product_id))
        if 1 <= product_id <= MAX_ID
        else None
    )
    if product is None:
        raise NotFound("product not found")
    return product


def variants_of(
    session: Session, *, shop_id: int, product_ids: Sequence[int]
) -> dict[int, list[ProductVariant]]:
    """The variants of each product (in the order they were added); every id gets a list."""
    found: dict[int, list[ProductVariant]] = {product_id: [] for product_id in product_ids}
    if not found:
        return found
    query = (
        select(ProductVariant)
        .where(ProductVariant.shop_id == shop_id, ProductVariant.product_id.in_(list(found)))
        .order_by(ProductVariant.product_id, ProductVariant.id)
    )
    for variant in session.scalars(query):
        found[variant.product_id].append(variant)
    return found


def search_products(
    session: Session,
    *,
    shop_id: int,
    query: str,
    limit: int = 20,
    on_sale_only: bool = False,
) -> list[Product]:
    """Products whose SKU (or a variant's SKU) starts with ``query`` or whose title contains
    it, ignoring case on every backend ("sock" finds SOCK-1), newest first; an empty query
    lists the newest products."""
    text = query.strip().lower()
    statement = select(Product).where(Product.shop_id == shop_id)
    if on_sale_only:
        statement = statement.where(Product.on_sale.is_(True))
    if text:
        variant_match = select(ProductVariant.product_id).where(
            ProductVariant.shop_id == shop_id,
            func.lower(ProductVariant.sku).startswith(text, autoescape=True),
        )
        statement = statement.where(
            or_(
                func.lower(Product.sku).startswith(text, autoescape=True),
                Product.id.in_(variant_match),
                func.lower(Product.title).contains(text, autoescape=True),
            )
        )
    statement = statement.order_by(Product.created_at.desc(), Product.id.desc()).limit(
        max(1, min(limit, MAX_SEARCH_RESULTS))
    )
    return list(session.scalars(statement))


def product_images(product: Product) -> list[str]:
    """The product's picture addresses, main one first ([] if the column holds no list)."""
    try:
        images = json.loads(product.images or "[]")
    except ValueError:
        return []
    if not isinstance(images, list):
        return []
    return [image for image in images if isinstance(image, str)]


def ships_within_hours(session: Session, *, shop_id: int) -> int:
    """How many hours after payment the shop promises to ship (发货时效)."""
    hours = session.scalar(
        select(CommerceSettings.ships_within_hours).where(CommerceSettings.shop_id == shop_id)
    )
    return DEFAULT_SHIPS_WITHIN_HOURS if hours is None else hours


def search_orders(
    session: Session,
    *,
    shop_id: int,
    status: OrderStatus | None = None,
    customer_id: int | None = None,
    query: str = "",
    limit: int = 50,
    offset: int = 0,
) -> list[Order]:
    """Orders, latest first, of a status and/or a buyer, whose number starts with ``query``."""
    statement = select(Order).where(Order.shop_id == shop_id)
    if status is not None:
        statement = statement.where(Order.status == status)
    if customer_id is not None:
        statement = statement.where(Order.customer_id == customer_id)
    text = query.strip()
    if text:
        statement = statement.where(Order.order_no.startswith(text, autoescape=True))
    statement = (
        statement.order_by(Order.created_at.desc(), Order.id.desc())
        .limit(max(1, min(limit, MAX_SEARCH_RESULTS)))
        .offset(max(0, offset))
    )
    return list(session.scalars(statement))
