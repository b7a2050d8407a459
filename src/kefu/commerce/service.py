"""The catalogue and the order book: reads for the desk, writes for imports and the demo.

Orders are recorded as the shop's own order system reports them (status, timestamps,
courier); recording one does not touch stock, which stays the shop system's business.
Recording orders lives in :mod:`kefu.commerce.orders`, the reads in
:mod:`kefu.commerce.queries`, the intake from the shop's systems (API, webhooks, import) in
:mod:`kefu.commerce.ingest` and the integration settings in :mod:`kefu.commerce.integration`;
this module is the domain's public face and re-exports them.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.commerce import fields
from kefu.commerce.events import ProductCreated
from kefu.commerce.ingest import upsert_order as upsert_order
from kefu.commerce.ingest import upsert_orders as upsert_orders
from kefu.commerce.ingest import upsert_product as upsert_product
from kefu.commerce.ingest import upsert_products as upsert_products
from kefu.commerce.integration import commerce_settings as commerce_settings
from kefu.commerce.integration import rotate_webhook_secret as rotate_webhook_secret
from kefu.commerce.integration import update_commerce_settings as update_commerce_settings
from kefu.commerce.models import Order, OrderStatus, Product, ProductVariant
from kefu.commerce.orders import create_order as create_order
from kefu.commerce.queries import find_order as find_order
from kefu.commerce.queries import get_order as get_order
from kefu.commerce.queries import get_product as get_product
from kefu.commerce.queries import order_lines as order_lines
from kefu.commerce.queries import product_images as product_images
from kefu.commerce.queries import search_orders as search_orders
from kefu.commerce.queries import search_products as search_products
from kefu.commerce.queries import ships_within_hours as ships_within_hours
from kefu.commerce.queries import variants_of as variants_of
from kefu.commerce.schemas import OrderLineSpec as OrderLineSpec
from kefu.commerce.schemas import VariantSpec as VariantSpec
from kefu.errors import Conflict, Invalid
from kefu.uow import UnitOfWork

MAX_TITLE_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 10_000


def count_orders_by_status(session: Session, *, shop_id: int) -> dict[OrderStatus, int]:
    rows = session.execute(
        select(Order.status, func.count(Order.id))
        .where(Order.shop_id == shop_id)
        .group_by(Order.status)
    )
    counts = dict.fromkeys(OrderStatus, 0)
    counts.update({status: count for status, count in rows})  # noqa: C416 (Row, not tuple)
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


# --- products ---------------------------------------------------------------------------


def create_product(
    uow: UnitOfWork,
    *,
    shop_id: int,
    sku: str,
    title: str,
    category: str,
    price: Decimal,
    variants: Sequence[VariantSpec],
    tags: Sequence[str] = (),
    description: str = "",
    on_sale: bool = True,
    commit: bool = True,
) -> Product:
    """Add a product and its variants. ``commit=False`` lets a bulk caller commit once."""
    sku = fields.sku(sku, field="sku")
    title = fields.text(title, "title", MAX_TITLE_LENGTH, required=True)
    category = fields.text(category, "category", 40)
    description = fields.text(description, "description", MAX_DESCRIPTION_LENGTH)
    price = fields.money(price, "price", allow_zero=False)
    joined_tags = fields.tags(tags)
    rows: list[ProductVariant] = []
    for spec in variants:
        variant_sku = fields.sku(spec.sku, field="variants")
        if any(row.sku == variant_sku for row in rows):
            raise Invalid(f"variant SKU {variant_sku!r} is listed twice", field="variants")
        if spec.stock < 0:
            raise Invalid(f"stock of {variant_sku!r} must be 0 or more", field="variants")
        size = fields.text(spec.size, "variants", 20, what="size")
        colour = fields.text(spec.colour, "variants", 20, what="colour")
        variant_price = (
            price
            if spec.price is None
            else fields.money(spec.price, "variants", allow_zero=False, what="variant price")
        )
        rows.append(
            ProductVariant(
                shop_id=shop_id,
                sku=variant_sku,
                size=size,
                colour=colour,
                price=variant_price,
                stock=spec.stock,
            )
        )
    session = uow.session
    taken = session.scalar(select(Product.id).where(Product.shop_id == shop_id, Product.sku == sku))
    if taken is not None:
        raise Conflict(f"a product with SKU {sku!r} already exists", sku=sku)
    if rows:
        clash = session.scalar(
            select(ProductVariant.sku).where(
                ProductVariant.shop_id == shop_id,
                ProductVariant.sku.in_([row.sku for row in rows]),
            )
        )
        if clash is not None:
            raise Conflict(f"a variant with SKU {clash!r} already exists", sku=clash)
    product = Product(
        shop_id=shop_id,
        sku=sku,
        title=title,
        category=category,
        price=price,
        tags=joined_tags,
        description=description,
        on_sale=on_sale,
        created_at=uow.clock.now(),
    )
    session.add(product)
    session.flush()
    for row in rows:
        row.product_id = product.id
    session.add_all(rows)
    session.flush()
    uow.collect(ProductCreated(shop_id=shop_id, product_id=product.id, sku=sku))
    if commit:
        uow.commit()
    return product
