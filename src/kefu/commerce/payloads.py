"""The JSON shapes the REST API and the webhooks accept, turned into ProductIn / OrderIn.

Amounts may be sent as strings ("129.00", exact) or numbers; times as ISO 8601 with a
zone ("2026-11-23T10:00:00+08:00"). Used by the routes (FastAPI validates the body with
them) and by the webhooks, which validate here and name the field that is wrong.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from kefu.commerce.schemas import OrderIn, OrderLineSpec, ProductIn, VariantSpec
from kefu.errors import Invalid

Amount = Annotated[Decimal, Field(allow_inf_nan=False, description='yuan: "129.00" or 129')]
Status = Literal["unpaid", "paid", "shipped", "delivered", "closed", "refunding", "refunded"]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=10_000)


class VariantPayload(_Shape):
    sku: str = Field(max_length=64)
    size: str = Field(default="", max_length=20)
    colour: str = Field(default="", max_length=20)
    stock: int = Field(default=0, ge=0, le=10_000_000)
    price: Amount | None = Field(default=None, description="defaults to the product's price")


class ProductPayload(_Shape):
    sku: str = Field(max_length=64, description="the shop's own id of the product")
    title: str = Field(max_length=200)
    price: Amount
    category: str = Field(default="", max_length=40)
    variants: list[VariantPayload] = Field(default=[], max_length=200)
    tags: list[str] = Field(default=[], max_length=20, description="such as 新品, 爆款")
    images: list[str] = Field(
        default=[], max_length=9, description="https addresses; the first is the main picture"
    )
    description: str = ""
    on_sale: bool = True

    def to_item(self) -> ProductIn:
        return ProductIn(
            sku=self.sku,
            title=self.title,
            price=self.price,
            category=self.category,
            variants=tuple(
                VariantSpec(sku=v.sku, size=v.size, colour=v.colour, stock=v.stock, price=v.price)
                for v in self.variants
            ),
            tags=tuple(self.tags),
            images=tuple(self.images),
            description=self.description,
            on_sale=self.on_sale,
        )


class LinePayload(_Shape):
    sku: str = Field(max_length=64, description="a variant's SKU, or a product's without any")
    quantity: int = Field(default=1, ge=1, le=9999)
    unit_price: Amount | None = Field(default=None, description="defaults to the catalogue's")


class OrderPayload(_Shape):
    order_no: str = Field(max_length=40, description="the shop's order number")
    customer_external_id: str = Field(max_length=80, description="the shop's id of the buyer")
    customer_name: str = Field(default="", max_length=60)
    customer_phone: str | None = Field(default=None, max_length=20)
    status: Status
    created_at: AwareDatetime
    paid_at: AwareDatetime | None = None
    shipped_at: AwareDatetime | None = None
    delivered_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = None
    refunded_at: AwareDatetime | None = None
    lines: list[LinePayload] = Field(min_length=1, max_length=200)
    courier: str | None = Field(default=None, max_length=40)
    tracking_no: str | None = Field(default=None, max_length=40)
    coupon_code: str | None = Field(default=None, max_length=40)
    discount: Amount = Decimal(0)
    shipping_fee: Amount = Decimal(0)
    ship_to_name: str = Field(default="", max_length=60)
    ship_to_phone: str = Field(default="", max_length=20)
    ship_to_address: str = Field(default="", max_length=255)

    def to_item(self) -> OrderIn:
        stamps: dict[str, datetime | None] = {
            "paid_at": self.paid_at,
            "shipped_at": self.shipped_at,
            "delivered_at": self.delivered_at,
            "closed_at": self.closed_at,
            "refunded_at": self.refunded_at,
        }
        return OrderIn(
            order_no=self.order_no,
            customer_external_id=self.customer_external_id,
            customer_name=self.customer_name,
            customer_phone=self.customer_phone,
            status=self.status,
            created_at=self.created_at,
            lines=tuple(
                OrderLineSpec(sku=line.sku, quantity=line.quantity, unit_price=line.unit_price)
                for line in self.lines
            ),
            courier=self.courier,
            tracking_no=self.tracking_no,
            coupon_code=self.coupon_code,
            discount=self.discount,
            shipping_fee=self.shipping_fee,
            ship_to_name=self.ship_to_name,
            ship_to_phone=self.ship_to_phone,
            ship_to_address=self.ship_to_address,
            **stamps,
        )


class ProductBatch(_Shape):
    items: list[ProductPayload] = Field(description="at most 1,000; all or nothing")


class OrderBatch(_Shape):
    items: list[OrderPayload] = Field(description="at most 1,000; all or nothing")


def field_path(location: tuple[int | str, ...], prefix: str = "") -> str:
    """``("items", 3, "lines", 0, "sku")`` → ``items[3].lines[0].sku`` (as ingest names it)."""
    path = prefix
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def _first_error(exc: ValidationError, prefix: str) -> Invalid:
    first = exc.errors(include_url=False)[0]
    field = field_path(tuple(first["loc"]), prefix) or prefix or None
    return Invalid(f"{field or 'body'}: {first['msg']}", field=field)


def parse_product(data: Any, *, prefix: str = "") -> ProductIn:
    """Validate one product of JSON; a refusal names the first wrong field."""
    try:
        return ProductPayload.model_validate(data).to_item()
    except ValidationError as exc:
        raise _first_error(exc, prefix) from None


def parse_order(data: Any, *, prefix: str = "") -> OrderIn:
    """Validate one order of JSON; a refusal names the first wrong field."""
    try:
        return OrderPayload.model_validate(data).to_item()
    except ValidationError as exc:
        raise _first_error(exc, prefix) from None
