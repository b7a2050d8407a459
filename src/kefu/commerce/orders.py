"""Recording orders as the shop's order system reports them, checked for consistency."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from kefu.commerce import fields
from kefu.commerce.events import OrderCreated
from kefu.commerce.lines import SkuIndex
from kefu.commerce.models import Order, OrderLine, OrderStatus
from kefu.commerce.schemas import OrderLineSpec
from kefu.crm.models import Customer
from kefu.db import MAX_ID
from kefu.errors import Conflict, Invalid
from kefu.uow import UnitOfWork

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


# How an order moves on: each status and those that may follow it. A report may skip steps
# (a sync every hour sees an order unpaid, then shipped) but never goes back.
_FORWARD: dict[OrderStatus, tuple[OrderStatus, ...]] = {
    OrderStatus.UNPAID: (OrderStatus.PAID, OrderStatus.CLOSED),
    OrderStatus.PAID: (OrderStatus.SHIPPED, OrderStatus.REFUNDING, OrderStatus.REFUNDED),
    OrderStatus.SHIPPED: (OrderStatus.DELIVERED, OrderStatus.REFUNDING, OrderStatus.REFUNDED),
    OrderStatus.DELIVERED: (OrderStatus.REFUNDING, OrderStatus.REFUNDED),
    OrderStatus.REFUNDING: (OrderStatus.REFUNDED,),
    OrderStatus.CLOSED: (),
    OrderStatus.REFUNDED: (),
}
# A refund request withdrawn (or refused) puts the order back where it was.
_WITHDRAWN = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED)


def _later(status: OrderStatus) -> set[OrderStatus]:
    found: set[OrderStatus] = set()
    waiting = list(_FORWARD[status])
    while waiting:
        step = waiting.pop()
        if step not in found:
            found.add(step)
            waiting.extend(_FORWARD[step])
    return found


def check_status_change(order_no: str, old: OrderStatus, new: OrderStatus) -> None:
    """Refuse a report that moves an order backwards (shipped → paid) or out of a final
    status (closed, refunded)."""
    if old is new:
        return
    if not _FORWARD[old]:
        raise Invalid(
            f"order {order_no!r} is {old.value}, which is final: it cannot become {new.value}",
            field="status",
        )
    if new in _later(old) or (old is OrderStatus.REFUNDING and new in _WITHDRAWN):
        return
    raise Invalid(
        f"order {order_no!r} cannot go back from {old.value} to {new.value}", field="status"
    )


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
        raise Invalid(
            "a shipped order needs its courier and tracking number",
            field="courier",
            key="errors.commerce.needs_courier",
        )
    if shipped_at is None and (courier is not None or tracking_no is not None):
        raise Invalid("courier and tracking number need shipped_at", field="shipped_at")
    return courier, tracking_no


@dataclass(frozen=True)
class OrderFields:
    """An order's own fields, checked: all but its customer and its lines."""

    order_no: str
    status: OrderStatus
    stamps: dict[str, datetime | None]  # created_at, paid_at, … in _STAMPS order
    courier: str | None
    tracking_no: str | None
    coupon_code: str | None
    discount: Decimal
    shipping_fee: Decimal
    ship_to_name: str
    ship_to_phone: str
    ship_to_address: str


STAMPS = ("created_at", "paid_at", "shipped_at", "delivered_at", "closed_at", "refunded_at")


def check_order_no(order_no: str) -> str:
    order_no = order_no.strip()
    if not ORDER_NO_PATTERN.match(order_no):
        raise Invalid("order number must be 1–40 letters, digits, - or _", field="order_no")
    return order_no


def parse_status(value: str | OrderStatus) -> OrderStatus:
    try:
        return OrderStatus(value)
    except ValueError:
        known = ", ".join(s.value for s in OrderStatus)
        raise Invalid(f"status must be one of {known}", field="status") from None


def check_order_fields(
    *,
    order_no: str,
    status: OrderStatus,
    stamps: dict[str, datetime | None],
    courier: str | None,
    tracking_no: str | None,
    coupon_code: str | None,
    discount: Decimal,
    shipping_fee: Decimal,
    ship_to_name: str,
    ship_to_phone: str,
    ship_to_address: str,
    now: datetime,
) -> OrderFields:
    """Everything about an order that needs no database, checked in a fixed order."""
    order_no = check_order_no(order_no)
    stamps = {name: stamps.get(name) for name in STAMPS}
    _check_timeline(status, stamps, now=now)
    courier, tracking_no = _check_shipping(
        shipped_at=stamps["shipped_at"], courier=courier, tracking_no=tracking_no
    )
    if coupon_code is not None:
        coupon_code = fields.text(coupon_code, "coupon_code", 40, required=True, what="coupon")
    discount = fields.money(discount, "discount", allow_zero=True)
    shipping_fee = fields.money(shipping_fee, "shipping_fee", allow_zero=True)
    ship_to_name = fields.text(ship_to_name, "ship_to_name", 60, required=True, what="recipient")
    ship_to_phone = ship_to_phone.strip()
    if not PHONE_PATTERN.match(ship_to_phone):
        raise Invalid(
            "recipient's phone is not a phone number",
            field="ship_to_phone",
            key="errors.commerce.phone",
        )
    ship_to_address = fields.text(
        ship_to_address, "ship_to_address", 255, required=True, what="address"
    )
    return OrderFields(
        order_no=order_no,
        status=status,
        stamps=stamps,
        courier=courier,
        tracking_no=tracking_no,
        coupon_code=coupon_code,
        discount=discount,
        shipping_fee=shipping_fee,
        ship_to_name=ship_to_name,
        ship_to_phone=ship_to_phone,
        ship_to_address=ship_to_address,
    )


def order_totals(order: OrderFields, rows: Sequence[OrderLine]) -> tuple[Decimal, Decimal]:
    """The goods' total and what the buyer pays (goods − discount + shipping)."""
    items_total = sum((row.unit_price * row.quantity for row in rows), Decimal(0))
    total = items_total - order.discount + order.shipping_fee
    if total < 0:
        raise Invalid(
            f"discount {order.discount} is more than the goods ({items_total}) plus shipping",
            field="discount",
        )
    if max(items_total, total) > fields.MAX_AMOUNT:
        raise Invalid(f"order total is larger than {fields.MAX_AMOUNT}", field="lines")
    return items_total, total


def new_order(
    *,
    shop_id: int,
    customer_id: int,
    order: OrderFields,
    rows: Sequence[OrderLine],
    updated_at: datetime | None = None,
) -> Order:
    """The (unsaved) row of a checked order; its lines get its id once it is flushed."""
    items_total, total = order_totals(order, rows)
    return Order(
        shop_id=shop_id,
        order_no=order.order_no,
        customer_id=customer_id,
        status=order.status,
        items_total=items_total,
        discount=order.discount,
        shipping_fee=order.shipping_fee,
        total=total,
        coupon_code=order.coupon_code,
        courier=order.courier,
        tracking_no=order.tracking_no,
        ship_to_name=order.ship_to_name,
        ship_to_phone=order.ship_to_phone,
        ship_to_address=order.ship_to_address,
        updated_at=updated_at,
        **order.stamps,
    )


def created_event(order: Order) -> OrderCreated:
    return OrderCreated(
        shop_id=order.shop_id,
        order_id=order.id,
        order_no=order.order_no,
        customer_id=order.customer_id,
        status=order.status.value,
        total=order.total,
        created_at=order.created_at,
    )


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
    order = check_order_fields(
        order_no=order_no,
        status=status,
        stamps={
            "created_at": created_at,
            "paid_at": paid_at,
            "shipped_at": shipped_at,
            "delivered_at": delivered_at,
            "closed_at": closed_at,
            "refunded_at": refunded_at,
        },
        courier=courier,
        tracking_no=tracking_no,
        coupon_code=coupon_code,
        discount=discount,
        shipping_fee=shipping_fee,
        ship_to_name=ship_to_name,
        ship_to_phone=ship_to_phone,
        ship_to_address=ship_to_address,
        now=uow.clock.now(),
    )
    session = uow.session
    if not 1 <= customer_id <= MAX_ID:
        raise Invalid(f"customer {customer_id} does not exist in this shop", field="customer_id")
    owner = session.scalar(
        select(Customer.id).where(Customer.shop_id == shop_id, Customer.id == customer_id)
    )
    if owner is None:
        raise Invalid(f"customer {customer_id} does not exist in this shop", field="customer_id")
    index = SkuIndex.load(session, shop_id=shop_id, skus=[line.sku for line in lines])
    rows = index.lines(shop_id=shop_id, specs=lines)
    row = new_order(shop_id=shop_id, customer_id=customer_id, order=order, rows=rows)
    taken = session.scalar(
        select(Order.id).where(Order.shop_id == shop_id, Order.order_no == order.order_no)
    )
    if taken is not None:
        raise Conflict(f"order {order.order_no} already exists", order_no=order.order_no)
    session.add(row)
    session.flush()
    for line in rows:
        line.order_id = row.id
    session.add_all(rows)
    session.flush()
    uow.collect(created_event(row))
    if commit:
        uow.commit()
    return row
