"""Read access to the catalogue and orders (writes arrive with the commerce issue)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.commerce.models import Order, OrderStatus, Product


def count_orders_by_status(session: Session, *, shop_id: int) -> dict[OrderStatus, int]:
    rows = session.execute(
        select(Order.status, func.count(Order.id))
        .where(Order.shop_id == shop_id)
        .group_by(Order.status)
    )
    counts = dict.fromkeys(OrderStatus, 0)
    counts.update({status: count for status, count in rows})
    return counts


def count_products(session: Session, *, shop_id: int, on_sale_only: bool = True) -> int:
    query = select(func.count(Product.id)).where(Product.shop_id == shop_id)
    if on_sale_only:
        query = query.where(Product.on_sale.is_(True))
    return session.scalar(query) or 0


def list_orders_of_customer(
    session: Session, *, shop_id: int, customer_id: int, limit: int = 20
) -> list[Order]:
    query = (
        select(Order)
        .where(Order.shop_id == shop_id, Order.customer_id == customer_id)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(max(1, min(limit, 100)))
    )
    return list(session.scalars(query))
