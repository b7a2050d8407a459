"""Input shapes of the commerce services (plain dataclasses; the API's models may wrap them)."""

from __future__ import annotations

from dataclasses import dataclass
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
