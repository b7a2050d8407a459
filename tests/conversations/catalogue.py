"""A shop's catalogue and a buyer's orders for the desk's commerce tests (through the real
services; pictures written to the column, as an import would)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from kefu.commerce import service as commerce
from kefu.commerce.models import Order, OrderStatus, Product
from kefu.commerce.service import OrderLineSpec, VariantSpec
from tests.factories import UowFactory

IMAGE_HOST = "https://img.shop.example"


def add_product(
    uow_factory: UowFactory,
    shop_id: int,
    *,
    sku: str,
    title: str,
    price: str,
    stock: Sequence[tuple[str, str, int]] = (),  # (size, colour, stock) per variant
    on_sale: bool = True,
    tags: Sequence[str] = (),
    images: Sequence[str] | None = None,
) -> Product:
    with uow_factory() as uow:
        product = commerce.create_product(
            uow,
            shop_id=shop_id,
            sku=sku,
            title=title,
            category="女装",
            price=Decimal(price),
            variants=[
                VariantSpec(sku=f"{sku}-{i}", size=size, colour=colour, stock=count)
                for i, (size, colour, count) in enumerate(stock, start=1)
            ],
            tags=tags,
            on_sale=on_sale,
            commit=False,
        )
        pictures = [f"{IMAGE_HOST}/{sku}.jpg"] if images is None else list(images)
        product.images = json.dumps(pictures)
        uow.commit()
        return product


def add_order(
    uow_factory: UowFactory,
    shop_id: int,
    customer_id: int,
    *,
    order_no: str,
    lines: Sequence[tuple[str, int]],  # (SKU, quantity)
    status: OrderStatus,
    created_at: datetime,
    coupon_code: str | None = None,
    discount: str = "0",
) -> Order:
    shipped = status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED)
    with uow_factory() as uow:
        return commerce.create_order(
            uow,
            shop_id=shop_id,
            order_no=order_no,
            customer_id=customer_id,
            lines=[OrderLineSpec(sku=sku, quantity=qty) for sku, qty in lines],
            status=status,
            created_at=created_at,
            paid_at=None if status is OrderStatus.UNPAID else created_at + timedelta(minutes=5),
            shipped_at=created_at + timedelta(hours=20) if shipped else None,
            delivered_at=created_at + timedelta(days=2)
            if status is OrderStatus.DELIVERED
            else None,
            courier="顺丰速运" if shipped else None,
            tracking_no=f"SF{order_no[-10:]}" if shipped else None,
            coupon_code=coupon_code,
            discount=Decimal(discount),
            ship_to_name="王芳",
            ship_to_phone="13812345678",
            ship_to_address="浙江省杭州市西湖区文三路 90 号",
        )
