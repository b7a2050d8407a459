"""Product and order cards: what a buyer is shown of a product or an order, frozen as JSON
in the message when it is sent (a later price or status change does not rewrite history).

Shapes (``type`` tells them apart; amounts are strings in yuan, as the API gives them):

- product: ``{"type": "product", "product_id", "sku", "title", "price", "image",
  "on_sale", "tags"}``
- order: ``{"type": "order", "order_id", "order_no", "status", "total", "created_at",
  "courier", "tracking_no", "items": [{"title", "size", "colour", "quantity", "image"}]}``
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.commerce.models import Order, OrderLine, Product
from kefu.errors import NotFound

MAX_CARD_ITEMS = 5  # an order card lists its first lines; the rest is "等N件"


def _first_image(images: str) -> str:
    try:
        urls = json.loads(images or "[]")
    except ValueError:
        return ""
    return urls[0] if isinstance(urls, list) and urls and isinstance(urls[0], str) else ""


def product_card(session: Session, *, shop_id: int, product_id: int) -> str:
    product = session.scalar(
        select(Product).where(Product.shop_id == shop_id, Product.id == product_id)
    )
    if product is None:
        raise NotFound("product not found")
    card: dict[str, Any] = {
        "type": "product",
        "product_id": product.id,
        "sku": product.sku,
        "title": product.title,
        "price": str(product.price),
        "image": _first_image(product.images),
        "on_sale": product.on_sale,
        "tags": [tag for tag in product.tags.split(",") if tag],
    }
    return json.dumps(card, ensure_ascii=False)


def order_card(session: Session, *, shop_id: int, order_id: int) -> str:
    order = session.scalar(select(Order).where(Order.shop_id == shop_id, Order.id == order_id))
    if order is None:
        raise NotFound("order not found")
    lines = list(
        session.scalars(
            select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)
        )
    )
    images: dict[int, str] = {}
    product_ids = {line.product_id for line in lines if line.product_id is not None}
    if product_ids:
        images = {
            pid: _first_image(raw)
            for pid, raw in session.execute(
                select(Product.id, Product.images).where(Product.id.in_(product_ids))
            )
        }
    card: dict[str, Any] = {
        "type": "order",
        "order_id": order.id,
        "order_no": order.order_no,
        "status": order.status.value,
        "total": str(order.total),
        "created_at": order.created_at.isoformat(),
        "courier": order.courier,
        "tracking_no": order.tracking_no,
        "items": [
            {
                "title": line.title,
                "size": line.size,
                "colour": line.colour,
                "quantity": line.quantity,
                "image": images.get(line.product_id or 0, ""),
            }
            for line in lines[:MAX_CARD_ITEMS]
        ],
        "more_items": max(0, len(lines) - MAX_CARD_ITEMS),
    }
    return json.dumps(card, ensure_ascii=False)
