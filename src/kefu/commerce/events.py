"""What happened in the catalogue and the order book (dispatched after commit)."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from kefu.events import Event


@dataclass(frozen=True, kw_only=True)
class ProductCreated(Event):
    product_id: int
    sku: str


@dataclass(frozen=True, kw_only=True)
class OrderCreated(Event):
    """An order entered the desk (the 催付 reminders react to unpaid ones)."""

    order_id: int
    order_no: str
    customer_id: int
    status: str
    total: Decimal
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class ProductUpdated(Event):
    """A product (or its variants) changed: title, price, stock, pictures, on sale …"""

    product_id: int
    sku: str
    changed: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class OrderStatusChanged(Event):
    """The shop's system reported an order's new status (paid, shipped, closed …).

    ``changed_at`` is when it happened in the shop (the paid/shipped/… time), not when
    Kefu heard of it; reminders are cancelled and conversions counted from it.
    """

    order_id: int
    order_no: str
    customer_id: int
    old_status: str
    new_status: str
    total: Decimal
    changed_at: datetime
