"""Input shapes of the commerce services (plain dataclasses; the API's models may wrap them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class VariantSpec:
    """One size/colour of a product. ``price`` defaults to the product's price."""

    sku: str
    size: str = ""
    colour: str = ""
    stock: int = 0
    price: Decimal | None = None


@dataclass(frozen=True)
class OrderLineSpec:
    """A line of an order, by the SKU of a variant (or of a product without variants).

    ``unit_price`` is what the buyer paid for one piece; it defaults to the catalogue
    price and may be 0 for a gift (赠品).
    """

    sku: str
    quantity: int = 1
    unit_price: Decimal | None = None


# --- what the shop's system sends (REST API, spreadsheet import, webhooks) ---------------


@dataclass(frozen=True)
class ProductIn:
    """A product as the shop's system describes it; the SKU is the shop's own id for it,
    so sending the same product again updates it (or changes nothing)."""

    sku: str
    title: str
    price: Decimal
    category: str = ""
    variants: tuple[VariantSpec, ...] = ()
    tags: tuple[str, ...] = ()
    images: tuple[str, ...] = ()  # https addresses on the shop's image host
    description: str = ""
    on_sale: bool = True


@dataclass(frozen=True)
class OrderIn:
    """An order as the shop's system describes it, keyed by its order number.

    The buyer is named by the shop's own customer id (``customer_external_id``); an unknown
    one becomes a new customer with ``customer_name`` and ``customer_phone``.
    """

    order_no: str
    customer_external_id: str
    status: str  # an OrderStatus value
    created_at: datetime
    lines: tuple[OrderLineSpec, ...]
    customer_name: str = ""
    customer_phone: str | None = None
    paid_at: datetime | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    closed_at: datetime | None = None
    refunded_at: datetime | None = None
    courier: str | None = None
    tracking_no: str | None = None
    coupon_code: str | None = None
    discount: Decimal = Decimal(0)
    shipping_fee: Decimal = Decimal(0)
    ship_to_name: str = ""
    ship_to_phone: str = ""
    ship_to_address: str = ""


@dataclass(frozen=True)
class UpsertReport:
    """What a batch did: items created, updated, and sent again unchanged (a no-op)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
