"""The desk's view of the shop's commerce: an order's details and the product search
behind 「发送商品」. Plain JSON-ready dicts, like the rest of the desk read model.

Who may read an order: whoever may see a conversation of its buyer (the desk's access
rule), and supervisors and owners any. Anyone else is told it does not exist, as for
another shop's order: an order number and a buyer's address are not for every team.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kefu.commerce import service as commerce
from kefu.commerce.models import Order, Product
from kefu.conversations.desk import Viewer, iso
from kefu.conversations.models import Conversation
from kefu.errors import NotFound
from kefu.shops import service as shops

# The order's life as the shop's system reported it, in the order it happens.
TIMELINE = ("created", "paid", "shipped", "delivered", "closed", "refunded")
SEARCH_LIMIT = 20


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def may_see_buyer(session: Session, *, shop_id: int, customer_id: int, viewer: Viewer) -> bool:
    """Whether the viewer may see one of the buyer's conversations (any, open or closed)."""
    if viewer.team_ids is None:
        return True
    visible: Any = Conversation.team_id.in_(sorted(viewer.team_ids))
    if viewer.agent_id is not None:
        visible = or_(visible, Conversation.assignee_id == viewer.agent_id)
    found = session.scalar(
        select(Conversation.id)
        .where(
            Conversation.shop_id == shop_id,
            Conversation.customer_id == customer_id,
            visible,
        )
        .limit(1)
    )
    return found is not None


def visible_order(session: Session, *, shop_id: int, order_id: int, viewer: Viewer) -> Order:
    order = commerce.get_order(session, shop_id=shop_id, order_id=order_id)
    if not may_see_buyer(session, shop_id=shop_id, customer_id=order.customer_id, viewer=viewer):
        raise NotFound("order not found")
    return order


def _local(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def order_details(
    session: Session, *, shop_id: int, order_id: int, viewer: Viewer
) -> dict[str, Any]:
    """Everything the desk shows when an agent opens an order (「详情」)."""
    order = visible_order(session, shop_id=shop_id, order_id=order_id, viewer=viewer)
    zone = ZoneInfo(shops.get_shop(session, shop_id=shop_id).timezone)
    lines = commerce.order_lines(session, shop_id=shop_id, order_ids=[order.id])[order.id]
    product_ids = sorted({line.product_id for line in lines if line.product_id is not None})
    images: dict[int, str] = {}
    if product_ids:
        for product in session.scalars(
            select(Product).where(Product.shop_id == shop_id, Product.id.in_(product_ids))
        ):
            pictures = commerce.product_images(product)
            images[product.id] = pictures[0] if pictures else ""
    stamps: dict[str, datetime | None] = {
        "created": order.created_at,
        "paid": order.paid_at,
        "shipped": order.shipped_at,
        "delivered": order.delivered_at,
        "closed": order.closed_at,
        "refunded": order.refunded_at,
    }
    return {
        "id": order.id,
        "number": order.order_no,
        "customer_id": order.customer_id,
        "status": order.status.value,
        "items_total": _money(order.items_total),
        "discount": _money(order.discount),
        "shipping_fee": _money(order.shipping_fee),
        "total": _money(order.total),
        "coupon_code": order.coupon_code,
        "courier": order.courier,
        "tracking_no": order.tracking_no,
        "ship_to": {
            "name": order.ship_to_name,
            "phone": order.ship_to_phone,
            "address": order.ship_to_address,
        },
        "lines": [
            {
                "product_id": line.product_id,
                "sku": line.sku,
                "title": line.title,
                "size": line.size,
                "colour": line.colour,
                "quantity": line.quantity,
                "unit_price": _money(line.unit_price),
                "amount": _money(line.unit_price * line.quantity),
                "image": images.get(line.product_id or 0, ""),
            }
            for line in lines
        ],
        # In the shop's time (``local``), as the shop's staff and buyers speak of it.
        "timeline": [
            {"step": step, "at": iso(at), "local": _local(at, zone)}
            for step, at in stamps.items()
            if at is not None
        ],
        "created_at": iso(order.created_at),
    }


def product_results(
    session: Session, *, shop_id: int, query: str, limit: int = SEARCH_LIMIT
) -> list[dict[str, Any]]:
    """The products an agent may send as a card: on sale or not (an off-sale one is sent
    marked 已下架), with the main picture and the stock over all variants."""
    products = commerce.search_products(
        session, shop_id=shop_id, query=query[:100], limit=limit, on_sale_only=False
    )
    variants = commerce.variants_of(session, shop_id=shop_id, product_ids=[p.id for p in products])
    out = []
    for product in products:
        pictures = commerce.product_images(product)
        own = variants[product.id]
        out.append(
            {
                "id": product.id,
                "sku": product.sku,
                "title": product.title,
                "price": _money(product.price),
                "image": pictures[0] if pictures else "",
                "on_sale": product.on_sale,
                "tags": [tag for tag in product.tags.split(",") if tag],
                # None: the shop keeps no per-variant stock for it (no variants).
                "stock": sum(v.stock for v in own) if own else None,
                "variants": [
                    {"sku": v.sku, "size": v.size, "colour": v.colour, "stock": v.stock}
                    for v in own
                ],
            }
        )
    return out
