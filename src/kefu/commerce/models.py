"""Catalogue and orders: the minimum the desk needs to know about the shop's sales.

The commerce issue extends these (after-sales cases, reminders, imports); the columns
here are the ones every later feature reads.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db import Base, UTCDateTime, value_enum

Money = Numeric(12, 2)


class OrderStatus(enum.StrEnum):
    UNPAID = "unpaid"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CLOSED = "closed"
    REFUNDING = "refunding"
    REFUNDED = "refunded"


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("shop_id", "sku"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40), default="")
    price: Mapped[Decimal] = mapped_column(Money)
    # Comma-separated shop tags such as 新品 or 爆款; a tags table arrives with the CRM issue.
    tags: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    on_sale: Mapped[bool] = mapped_column(Boolean, default=True)
    # Picture addresses on the shop's own image host, a JSON list (the first is the main one).
    images: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class ProductVariant(Base):
    __tablename__ = "product_variants"
    __table_args__ = (UniqueConstraint("shop_id", "sku"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    sku: Mapped[str] = mapped_column(String(64))
    size: Mapped[str] = mapped_column(String(20), default="")
    colour: Mapped[str] = mapped_column(String(20), default="")
    price: Mapped[Decimal] = mapped_column(Money)
    stock: Mapped[int] = mapped_column(Integer, default=0)


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("shop_id", "order_no"),
        Index("ix_orders_shop_status", "shop_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    order_no: Mapped[str] = mapped_column(String(40))
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[OrderStatus] = mapped_column(value_enum(OrderStatus))
    items_total: Mapped[Decimal] = mapped_column(Money)
    discount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    shipping_fee: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(Money)
    coupon_code: Mapped[str | None] = mapped_column(String(40), default=None)
    courier: Mapped[str | None] = mapped_column(String(40), default=None)
    tracking_no: Mapped[str | None] = mapped_column(String(40), default=None)
    ship_to_name: Mapped[str] = mapped_column(String(60), default="")
    ship_to_phone: Mapped[str] = mapped_column(String(20), default="")
    ship_to_address: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # When Kefu last recorded a change the shop's system reported (not the order's own times).
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("products.id", ondelete="SET NULL"), default=None
    )
    variant_id: Mapped[int | None] = mapped_column(
        ForeignKey("product_variants.id", ondelete="SET NULL"), default=None
    )
    sku: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    size: Mapped[str] = mapped_column(String(20), default="")
    colour: Mapped[str] = mapped_column(String(20), default="")
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Money)


class CommerceSettings(Base):
    """How the shop's order system talks to Kefu, and what the shop promises buyers."""

    __tablename__ = "commerce_settings"

    shop_id: Mapped[int] = mapped_column(
        ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True
    )
    # The HMAC-SHA256 key the shop's system signs webhooks with (shown to the owner,
    # replaced on demand). Stored as is: verifying a signature needs the key itself.
    webhook_secret: Mapped[str] = mapped_column(String(64))
    # "Paid orders ship within N hours" (发货时效): the bot quotes it to buyers who ask.
    ships_within_hours: Mapped[int] = mapped_column(Integer, default=48)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookDelivery(Base):
    """A webhook delivery already applied: the same delivery id again is a no-op."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("shop_id", "delivery_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    delivery_id: Mapped[str] = mapped_column(String(80))
    event: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
