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
