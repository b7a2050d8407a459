"""Recording orders as the shop's order system reports them, checked for consistency."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.commerce import fields
from kefu.commerce.events import OrderCreated
from kefu.commerce.models import Order, OrderLine, OrderStatus, Product, ProductVariant
from kefu.commerce.schemas import OrderLineSpec
from kefu.crm.models import Customer
from kefu.db import MAX_ID
from kefu.errors import Conflict, Invalid
from kefu.uow import UnitOfWork

MAX_LINE_QUANTITY = 9999
# The shop's order system and this server may disagree a little about the time.
CLOCK_SKEW = timedelta(minutes=5)
ORDER_NO_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
TRACKING_NO_PATTERN = re.compile(r"^[A-Za-z0-9-]{4,40}$")
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 -]{4,19}$")


# For each status: the timestamps it needs, and those it may have; any other is refused.
# A closed order (交易关闭) is one that was never paid; a paid one that is cancelled is refunded.
_TIMELINE: dict[OrderStatus, tuple[str, str]] = {
    OrderStatus.UNPAID: ("", ""),
    OrderStatus.PAID: ("paid_at", ""),
    OrderStatus.SHIPPED: ("paid_at shipped_at", ""),
    OrderStatus.DELIVERED: ("paid_at shipped_at delivered_at", ""),
    OrderStatus.CLOSED: ("closed_at", ""),
    OrderStatus.REFUNDING: ("paid_at", "shipped_at delivered_at"),
    OrderStatus.REFUNDED: ("paid_at refunded_at", "shipped_at delivered_at"),
}
# Each timestamp comes no earlier than the one it follows.
_FOLLOWS = {
    "paid_at": "created_at",
    "shipped_at": "paid_at",
    "delivered_at": "shipped_at",
    "refunded_at": "paid_at",
    "closed_at": "created_at",
}


def _check_timeline(
    status: OrderStatus, stamps: dict[str, datetime | None], *, now: datetime
) -> None:
    for name, value in stamps.items():
        if value is None:
            continue
        if value.tzinfo is None:
            raise Invalid(f"{name} must be timezone-aware", field=name)
        if value > now + CLOCK_SKEW:
            raise Invalid(f"{name} is in the future", field=name)
    needs, may = _TIMELINE[status]
    required = set(needs.split())
    allowed = required | set(may.split()) | {"created_at"}
    for name in stamps:  # in a fixed order, so the first problem is always the one reported
        if name in required and stamps[name] is None:
            raise Invalid(f"a {status.value} order needs {name}", field=name)
        if name not in allowed and stamps[name] is not None:
            raise Invalid(f"a {status.value} order cannot have {name}", field=name)
    for later, earlier in _FOLLOWS.items():
        later_value, earlier_value = stamps[later], stamps[earlier]
        if later_value is None:
            continue
        if earlier_value is None:
            raise Invalid(f"{later} needs {earlier}", field=later)
        if later_value < earlier_value:
            raise Invalid(f"{later} is before {earlier}", field=later)


def _check_shipping(
    *, shipped_at: datetime | None, courier: str | None, tracking_no: str | None
) -> tuple[str | None, str | None]:
    if courier is not None:
        courier = fields.text(courier, "courier", 40, required=True)
    if tracking_no is not None:
        tracking_no = tracking_no.strip()
        if not TRACKING_NO_PATTERN.match(tracking_no):
            raise Invalid(
                "tracking number must be 4–40 letters, digits or hyphens", field="tracking_no"
            )
    if shipped_at is not None and (courier is None or tracking_no is None):
        raise Invalid("a shipped order needs its courier and tracking number", field="courier")
    if shipped_at is None and (courier is not None or tracking_no is not None):
        raise Invalid("courier and tracking number need shipped_at", field="shipped_at")
    return courier, tracking_no


def _resolve_lines(
    session: Session, *, shop_id: int, lines: Sequence[OrderLineSpec]
) -> list[OrderLine]:
    if not lines:
        raise Invalid("an order needs at least one line", field="lines")
    skus = [fields.sku(line.sku, field="lines") for line in lines]
    variants = {
        variant.sku: (variant, product)
        for variant, product in session.execute(
            select(ProductVariant, Product)
            .join(Product, Product.id == ProductVariant.product_id)
            .where(ProductVariant.shop_id == shop_id, ProductVariant.sku.in_(skus))
        )
    }
    rest = [sku for sku in skus if sku not in variants]
    products: dict[str, Product] = {}
    if rest:  # SKUs of products sold without sizes or colours
        query = select(Product).where(Product.shop_id == shop_id, Product.sku.in_(rest))
        products = {product.sku: product for product in session.scalars(query)}
    if products:
        with_variants = session.scalar(
            select(ProductVariant.product_id).where(
                ProductVariant.product_id.in_([p.id for p in products.values()])
            )
        )
        if with_variants is not None:
            sku = next(s for s, p in products.items() if p.id == with_variants)
            raise Invalid(f"product {sku!r} has sizes/colours: order a variant SKU", field="lines")
    rows: list[OrderLine] = []
    for sku, spec in zip(skus, lines, strict=True):
        if not 1 <= spec.quantity <= MAX_LINE_QUANTITY:
            raise Invalid(f"quantity must be 1–{MAX_LINE_QUANTITY}", field="lines")
        if sku in variants:
            variant, product = variants[sku]
            catalogue_price, size, colour = variant.price, variant.size, variant.colour
            variant_id: int | None = variant.id
        elif sku in products:
            product = products[sku]
            catalogue_price, size, colour, variant_id = product.price, "", "", None
        else:
            raise Invalid(f"no product or variant with SKU {sku!r}", field="lines")
        unit_price = (
            catalogue_price
            if spec.unit_price is None
            else fields.money(spec.unit_price, "lines", allow_zero=True, what="unit price")
        )
        rows.append(
            OrderLine(
                shop_id=shop_id,
                product_id=product.id,
                variant_id=variant_id,
                sku=sku,
                title=product.title,
                size=size,
                colour=colour,
                quantity=spec.quantity,
                unit_price=unit_price,
            )
        )
    return rows


def create_order(
    uow: UnitOfWork,
    *,
    shop_id: int,
    order_no: str,
    customer_id: int,
    lines: Sequence[OrderLineSpec],
    status: OrderStatus,
    created_at: datetime,
    paid_at: datetime | None = None,
    shipped_at: datetime | None = None,
    delivered_at: datetime | None = None,
    closed_at: datetime | None = None,
    refunded_at: datetime | None = None,
    courier: str | None = None,
    tracking_no: str | None = None,
    coupon_code: str | None = None,
    discount: Decimal = Decimal(0),
    shipping_fee: Decimal = Decimal(0),
    ship_to_name: str,
    ship_to_phone: str,
    ship_to_address: str,
    commit: bool = True,
) -> Order:
    """Record an order as the shop's system reports it; the totals are computed here."""
    order_no = order_no.strip()
    if not ORDER_NO_PATTERN.match(order_no):
        raise Invalid("order number must be 1–40 letters, digits, - or _", field="order_no")
    stamps: dict[str, datetime | None] = {
        "created_at": created_at,
        "paid_at": paid_at,
        "shipped_at": shipped_at,
        "delivered_at": delivered_at,
        "closed_at": closed_at,
        "refunded_at": refunded_at,
    }
    _check_timeline(status, stamps, now=uow.clock.now())
    courier, tracking_no = _check_shipping(
        shipped_at=shipped_at, courier=courier, tracking_no=tracking_no
    )
    if coupon_code is not None:
        coupon_code = fields.text(coupon_code, "coupon_code", 40, required=True, what="coupon")
    discount = fields.money(discount, "discount", allow_zero=True)
    shipping_fee = fields.money(shipping_fee, "shipping_fee", allow_zero=True)
    ship_to_name = fields.text(ship_to_name, "ship_to_name", 60, required=True, what="recipient")
    ship_to_phone = ship_to_phone.strip()
    if not PHONE_PATTERN.match(ship_to_phone):
        raise Invalid("recipient's phone is not a phone number", field="ship_to_phone")
    ship_to_address = fields.text(
        ship_to_address, "ship_to_address", 255, required=True, what="address"
    )
    session = uow.session
    if not 1 <= customer_id <= MAX_ID:
        raise Invalid(f"customer {customer_id} does not exist in this shop", field="customer_id")
    owner = session.scalar(
        select(Customer.id).where(Customer.shop_id == shop_id, Customer.id == customer_id)
    )
    if owner is None:
        raise Invalid(f"customer {customer_id} does not exist in this shop", field="customer_id")
    rows = _resolve_lines(session, shop_id=shop_id, lines=lines)
    items_total = sum((row.unit_price * row.quantity for row in rows), Decimal(0))
    total = items_total - discount + shipping_fee
    if total < 0:
        raise Invalid(
            f"discount {discount} is more than the goods ({items_total}) plus shipping",
            field="discount",
        )
    if max(items_total, total) > fields.MAX_AMOUNT:
        raise Invalid(f"order total is larger than {fields.MAX_AMOUNT}", field="lines")
    taken = session.scalar(
        select(Order.id).where(Order.shop_id == shop_id, Order.order_no == order_no)
    )
    if taken is not None:
        raise Conflict(f"order {order_no} already exists", order_no=order_no)
    order = Order(
        shop_id=shop_id,
        order_no=order_no,
        customer_id=customer_id,
        status=status,
        items_total=items_total,
        discount=discount,
        shipping_fee=shipping_fee,
        total=total,
        coupon_code=coupon_code,
        courier=courier,
        tracking_no=tracking_no,
        ship_to_name=ship_to_name,
        ship_to_phone=ship_to_phone,
        ship_to_address=ship_to_address,
        **stamps,
    )
    session.add(order)
    session.flush()
    for row in rows:
        row.order_id = order.id
    session.add_all(rows)
    session.flush()
    uow.collect(
        OrderCreated(
            shop_id=shop_id,
            order_id=order.id,
            order_no=order_no,
            customer_id=customer_id,
            status=status.value,
            total=total,
            created_at=created_at,
        )
    )
    if commit:
        uow.commit()
    return order
