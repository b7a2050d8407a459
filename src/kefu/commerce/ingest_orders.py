"""Orders as the shop's system sends them, created or brought up to date by order number.

As for products, a batch is checked whole before anything is written, from rows loaded a
few queries per batch. An order already recorded may move forward in its lifecycle
(``orders.check_status_change``), gain timestamps, courier and address changes; its lines
and amounts change only while it is unpaid (改价), and it never changes customer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from kefu.commerce.events import OrderStatusChanged
from kefu.commerce.ingest_common import Outcome, check_batch, naming
from kefu.commerce.lines import SkuIndex, chunks
from kefu.commerce.models import Order, OrderLine, OrderStatus
from kefu.commerce.orders import (
    STAMPS,
    OrderFields,
    check_order_fields,
    check_status_change,
    created_event,
    new_order,
    order_totals,
    parse_status,
)
from kefu.commerce.schemas import OrderIn
from kefu.crm import service as crm
from kefu.crm.models import Customer
from kefu.errors import Invalid
from kefu.uow import UnitOfWork
from kefu.validation import clean_text

# The columns an update may change, besides the timestamps and the lines.
_COLUMNS = (
    "status",
    "courier",
    "tracking_no",
    "coupon_code",
    "discount",
    "shipping_fee",
    "ship_to_name",
    "ship_to_phone",
    "ship_to_address",
)
# What the buyer agreed to pay for: fixed once the order is paid.
_AMOUNTS = ("coupon_code", "discount", "shipping_fee")
# The timestamp that says when an order reached the status.
_STAMP_OF = {
    OrderStatus.PAID: "paid_at",
    OrderStatus.SHIPPED: "shipped_at",
    OrderStatus.DELIVERED: "delivered_at",
    OrderStatus.CLOSED: "closed_at",
    OrderStatus.REFUNDED: "refunded_at",
}


@dataclass
class _Plan:
    fields: OrderFields
    buyer: str  # the shop's id of the customer
    buyer_details: crm.ExternalBuyer
    rows: list[OrderLine]
    order: Order | None = None  # None until a new order is written
    is_new: bool = True
    lines_changed: bool = False
    changed: bool = False


def _line_key(line: OrderLine) -> tuple[str, int, object]:
    return (line.sku, line.quantity, line.unit_price)


def _changed_at(plan: _Plan, old_stamps: dict[str, datetime | None], now: datetime) -> datetime:
    """When the order reached its new status, as the shop says (its timestamp, if this report
    sets it); otherwise (refunding, a refund withdrawn) when Kefu heard of it."""
    name = _STAMP_OF.get(plan.fields.status)
    stamp = plan.fields.stamps[name] if name else None
    if name is not None and stamp is not None and stamp != old_stamps[name]:
        return stamp
    return now


def _check_update(plan: _Plan, order: Order, recorded: Sequence[OrderLine], buyer: str) -> None:
    new = plan.fields
    no = new.order_no
    if buyer != plan.buyer:
        raise Invalid(
            f"order {no!r} belongs to another customer ({buyer!r})", field="customer_external_id"
        )
    check_status_change(no, order.status, new.status)
    for name in STAMPS:
        if getattr(order, name) is not None and new.stamps[name] is None:
            raise Invalid(f"order {no!r} already has {name}; it cannot be removed", field=name)
    plan.lines_changed = [_line_key(line) for line in recorded] != [
        _line_key(line) for line in plan.rows
    ]
    amounts_changed = any(getattr(order, name) != getattr(new, name) for name in _AMOUNTS)
    if order.status is not OrderStatus.UNPAID and (plan.lines_changed or amounts_changed):
        raise Invalid(
            f"order {no!r} is {order.status.value}: its lines and amounts can no longer change",
            field="lines"
            if plan.lines_changed
            else next(name for name in _AMOUNTS if getattr(order, name) != getattr(new, name)),
        )
    plan.changed = (
        plan.lines_changed
        or any(getattr(order, name) != getattr(new, name) for name in _COLUMNS)
        or any(getattr(order, name) != new.stamps[name] for name in STAMPS)
    )


def upsert(
    uow: UnitOfWork, *, shop_id: int, items: Sequence[OrderIn], name_items: bool
) -> list[tuple[Order, Outcome]]:
    """Check every item, then write; nothing is written if one is refused. Not committed."""
    check_batch(items)
    session = uow.session
    numbers = sorted({item.order_no.strip() for item in items if isinstance(item.order_no, str)})
    existing: dict[str, Order] = {}
    for some in chunks(numbers):
        found = session.scalars(
            select(Order).where(Order.shop_id == shop_id, Order.order_no.in_(some))
        )
        existing.update({order.order_no: order for order in found})
    recorded: dict[int, list[OrderLine]] = {order.id: [] for order in existing.values()}
    for ids in chunks(sorted(recorded)):
        their = session.scalars(
            select(OrderLine)
            .where(OrderLine.shop_id == shop_id, OrderLine.order_id.in_(ids))
            .order_by(OrderLine.id)
        )
        for line in their:
            recorded[line.order_id].append(line)
    buyers = crm.customers_by_id(
        session, shop_id=shop_id, ids=[order.customer_id for order in existing.values()]
    )
    index = SkuIndex.load(
        session, shop_id=shop_id, skus=[line.sku for item in items for line in item.lines]
    )
    now = uow.clock.now()
    plans: list[_Plan] = []
    item_of_number: dict[str, int] = {}
    for number, item in enumerate(items):
        with naming(number if name_items else None):
            checked = check_order_fields(
                order_no=item.order_no,
                status=parse_status(item.status),
                stamps={name: getattr(item, name) for name in STAMPS},
                courier=item.courier,
                tracking_no=item.tracking_no,
                coupon_code=item.coupon_code,
                discount=item.discount,
                shipping_fee=item.shipping_fee,
                ship_to_name=item.ship_to_name,
                ship_to_phone=item.ship_to_phone,
                ship_to_address=item.ship_to_address,
                now=now,
            )
            no = checked.order_no
            if no in item_of_number:
                raise Invalid(f"order {no!r} is also item {item_of_number[no]}", field="order_no")
            item_of_number[no] = number
            buyer = clean_text(
                item.customer_external_id, field="customer_external_id", min_length=1, max_length=80
            )
            details = crm.ExternalBuyer(
                name=clean_text(item.customer_name, field="customer_name", max_length=60),
                phone=None
                if item.customer_phone is None
                else clean_text(item.customer_phone, field="customer_phone", max_length=20),
            )
            order = existing.get(no)
            lines = recorded.get(order.id, []) if order else []
            rows = index.lines(shop_id=shop_id, specs=item.lines, recorded=lines)
            order_totals(checked, rows)
            plan = _Plan(fields=checked, buyer=buyer, buyer_details=details, rows=rows)
            if order is not None:
                plan.order, plan.is_new = order, False
                owner = buyers.get(order.customer_id)
                _check_update(plan, order, lines, owner.external_id or "" if owner else "")
            plans.append(plan)
    return _write(uow, shop_id=shop_id, plans=plans, recorded=recorded)


def _write(
    uow: UnitOfWork, *, shop_id: int, plans: list[_Plan], recorded: dict[int, list[OrderLine]]
) -> list[tuple[Order, Outcome]]:
    session = uow.session
    now = uow.clock.now()
    fresh = [plan for plan in plans if plan.is_new]
    customers: dict[str, Customer] = {}
    if fresh:
        wanted: dict[str, crm.ExternalBuyer] = {}
        for plan in fresh:
            wanted.setdefault(plan.buyer, plan.buyer_details)
        customers = crm.customers_by_external_id(uow, shop_id=shop_id, buyers=wanted)
    results: list[tuple[Order, Outcome]] = []
    new_rows: list[OrderLine] = []
    stale_lines: list[int] = []
    status_changes: list[tuple[Order, OrderStatus, datetime]] = []
    for plan in plans:
        if plan.is_new:
            order = new_order(
                shop_id=shop_id,
                customer_id=customers[plan.buyer].id,
                order=plan.fields,
                rows=plan.rows,
                updated_at=now,
            )
            plan.order = order
            session.add(order)
            results.append((order, "created"))
            continue
        assert plan.order is not None
        order = plan.order
        if not plan.changed:
            results.append((order, "unchanged"))
            continue
        old_status = order.status
        old_stamps = {name: getattr(order, name) for name in STAMPS}
        for name in _COLUMNS:
            if getattr(order, name) != getattr(plan.fields, name):
                setattr(order, name, getattr(plan.fields, name))
        for name in STAMPS:
            if old_stamps[name] != plan.fields.stamps[name]:
                setattr(order, name, plan.fields.stamps[name])
        if plan.lines_changed:
            stale_lines += [line.id for line in recorded[order.id]]
            items_total, total = order_totals(plan.fields, plan.rows)
            order.items_total, order.total = items_total, total
        order.updated_at = now
        if old_status is not order.status:
            status_changes.append((order, old_status, _changed_at(plan, old_stamps, now)))
        results.append((order, "updated"))
    for ids in chunks(stale_lines):
        session.execute(delete(OrderLine).where(OrderLine.id.in_(ids)))
    session.flush()  # the new orders' ids, for their lines
    for plan in plans:
        assert plan.order is not None
        if plan.is_new or plan.lines_changed:
            for line in plan.rows:
                line.order_id = plan.order.id
                new_rows.append(line)
    session.add_all(new_rows)
    session.flush()
    for order, outcome in results:
        if outcome == "created":
            uow.collect(created_event(order))
    for order, old_status, changed_at in status_changes:
        uow.collect(
            OrderStatusChanged(
                shop_id=shop_id,
                order_id=order.id,
                order_no=order.order_no,
                customer_id=order.customer_id,
                old_status=old_status.value,
                new_status=order.status.value,
                total=order.total,
                changed_at=changed_at,
            )
        )
    return results
