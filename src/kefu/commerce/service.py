"""The catalogue and the order book: reads for the desk, writes for imports and the demo.

Orders are recorded as the shop's own order system reports them (status, timestamps,
courier); recording one does not touch stock, which stays the shop system's business.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.commerce.events import OrderCreated, ProductCreated
from kefu.commerce.models import Order, OrderLine, OrderStatus, Product, ProductVariant
from kefu.commerce.schemas import OrderLineSpec as OrderLineSpec
from kefu.commerce.schemas import VariantSpec as VariantSpec
from kefu.crm.models import Customer
from kefu.errors import Conflict, Invalid
from kefu.uow import UnitOfWork

MAX_TITLE_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 10_000
MAX_TAGS_LENGTH = 200
MAX_LINE_QUANTITY = 9999
MAX_AMOUNT = Decimal("9999999999.99")  # what Numeric(12, 2) holds
CENT = Decimal("0.01")
MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL
# The shop's order system and this server may disagree a little about the time.
CLOCK_SKEW = timedelta(minutes=5)

SKU_PATTERN = re.compile(r"^\S{1,64}$")
ORDER_NO_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
TRACKING_NO_PATTERN = re.compile(r"^[A-Za-z0-9-]{4,40}$")
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 -]{4,19}$")


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


# --- validation helpers ---------------------------------------------------------------


def _money(value: Decimal, field: str, *, allow_zero: bool, what: str = "") -> Decimal:
    what = what or field.replace("_", " ")
    if not isinstance(value, Decimal) or not value.is_finite():
        raise Invalid(f"{what} must be an amount in yuan", field=field)
    if value < 0 or (value == 0 and not allow_zero):
        raise Invalid(f"{what} must be {'0 or more' if allow_zero else 'more than 0'}", field=field)
    if value != value.quantize(CENT):
        raise Invalid(f"{what} has more than 2 decimal places", field=field)
    if value > MAX_AMOUNT:
        raise Invalid(f"{what} is larger than {MAX_AMOUNT}", field=field)
    return value.quantize(CENT)


def _sku(value: str, *, field: str) -> str:
    value = value.strip()
    if not SKU_PATTERN.match(value):
        raise Invalid("SKU must be 1–64 characters without spaces", field=field)
    return value


def _text(value: str, field: str, limit: int, *, required: bool = False, what: str = "") -> str:
    what = what or field.replace("_", " ")
    value = value.strip()
    if required and not value:
        raise Invalid(f"{what} is required", field=field)
    if len(value) > limit:
        raise Invalid(f"{what} is {len(value)} characters; the limit is {limit}", field=field)
    return value


def _tags(tags: Sequence[str]) -> str:
    cleaned: list[str] = []
    for tag in tags:
        tag = tag.strip()
        if not tag or "," in tag:
            raise Invalid("a tag must be non-empty and contain no comma", field="tags")
        if tag not in cleaned:
            cleaned.append(tag)
    joined = ",".join(cleaned)
    if len(joined) > MAX_TAGS_LENGTH:
        raise Invalid(f"tags take more than {MAX_TAGS_LENGTH} characters", field="tags")
    return joined


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
    sku = _sku(sku, field="sku")
    title = _text(title, "title", MAX_TITLE_LENGTH, required=True)
    category = _text(category, "category", 40)
    description = _text(description, "description", MAX_DESCRIPTION_LENGTH)
    price = _money(price, "price", allow_zero=False)
    joined_tags = _tags(tags)
    rows: list[ProductVariant] = []
    for spec in variants:
        variant_sku = _sku(spec.sku, field="variants")
        if any(row.sku == variant_sku for row in rows):
            raise Invalid(f"variant SKU {variant_sku!r} is listed twice", field="variants")
        if spec.stock < 0:
            raise Invalid(f"stock of {variant_sku!r} must be 0 or more", field="variants")
        size = _text(spec.size, "variants", 20, what="size")
        colour = _text(spec.colour, "variants", 20, what="colour")
        variant_price = (
            price
            if spec.price is None
            else _money(spec.price, "variants", allow_zero=False, what="variant price")
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


# --- orders -----------------------------------------------------------------------------

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
        courier = _text(courier, "courier", 40, required=True)
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
    skus = [_sku(line.sku, field="lines") for line in lines]
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
            else _money(spec.unit_price, "lines", allow_zero=True, what="unit price")
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
        coupon_code = _text(coupon_code, "coupon_code", 40, required=True, what="coupon")
    discount = _money(discount, "discount", allow_zero=True)
    shipping_fee = _money(shipping_fee, "shipping_fee", allow_zero=True)
    ship_to_name = _text(ship_to_name, "ship_to_name", 60, required=True, what="recipient")
    ship_to_phone = ship_to_phone.strip()
    if not PHONE_PATTERN.match(ship_to_phone):
        raise Invalid("recipient's phone is not a phone number", field="ship_to_phone")
    ship_to_address = _text(ship_to_address, "ship_to_address", 255, required=True, what="address")
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
    if max(items_total, total) > MAX_AMOUNT:
        raise Invalid(f"order total is larger than {MAX_AMOUNT}", field="lines")
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
