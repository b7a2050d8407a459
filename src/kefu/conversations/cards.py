"""Product and order cards: what a buyer is shown of a product or an order, frozen as JSON
in the message when it is sent (a later price or status change does not rewrite history).

Shapes (``type`` tells them apart; amounts are strings in yuan, as the API gives them):

- product: ``{"type": "product", "product_id", "sku", "title", "price", "image",
  "on_sale", "tags"}``
- order: ``{"type": "order", "order_id", "order_no", "status", "total", "created_at",
  "courier", "tracking_no", "items": [{"title", "size", "colour", "quantity", "image"}],
  "more_items"}``

:func:`send_card` is what the desk calls: an agent sends one to the buyer of a conversation
they may work. The message's body is a short text fallback ("[商品] 标题 ¥价格", "[订单]
订单号 状态") for notifications, previews and anything that cannot draw the card.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.accounts import service as accounts
from kefu.commerce.models import Order, OrderLine, OrderStatus, Product
from kefu.conversations import desk
from kefu.conversations.messages import send_reply
from kefu.conversations.models import Message, SenderType
from kefu.errors import Invalid, NotFound
from kefu.uow import UnitOfWork

MAX_CARD_ITEMS = 5  # an order card lists its first lines; the rest is "等N件"
CARD_KINDS = ("product", "order")
# What the buyer reads in the text fallback (the shop's language is Chinese; the cards
# themselves are drawn in the reader's language from the status code).
STATUS_LABELS = {
    OrderStatus.UNPAID: "待付款",
    OrderStatus.PAID: "待发货",
    OrderStatus.SHIPPED: "已发货",
    OrderStatus.DELIVERED: "已签收",
    OrderStatus.CLOSED: "已关闭",
    OrderStatus.REFUNDING: "退款中",
    OrderStatus.REFUNDED: "已退款",
}


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


def card_text(card: dict[str, Any]) -> str:
    """The one-line text of a card: the message body, for wherever the card is not drawn."""
    if card.get("type") == "product":
        text = f"[商品] {card['title']} ¥{card['price']}"
        return text if card.get("on_sale", True) else f"{text} 已下架"
    status = STATUS_LABELS.get(OrderStatus(card["status"]), card["status"])
    text = f"[订单] {card['order_no']} {status}"
    if card.get("tracking_no"):
        text += f" {card.get('courier') or ''} {card['tracking_no']}".rstrip()
    return text


def send_card(
    uow: UnitOfWork,
    *,
    shop_id: int,
    conversation_id: int,
    agent_id: int,
    kind: Literal["product", "order"],
    ref_id: int,
    client_msg_id: str | None = None,
    commit: bool = True,
) -> Message:
    """An agent sends the buyer a product card (any of the shop's products; one off sale
    says 已下架) or an order card (only an order of this conversation's buyer).

    The agent must be allowed to work the conversation (the desk's access rule: their
    teams and their own; supervisors and owners all). ``client_msg_id`` makes a retry
    idempotent; without one every call sends a new card.
    """
    session = uow.session
    if kind not in CARD_KINDS:
        raise Invalid("kind must be product or order", field="kind")
    agent = accounts.get_agent(session, shop_id=shop_id, agent_id=agent_id)
    viewer = desk.viewer_of_agent(session, agent=agent)
    conversation = desk.conversation_for(
        session, shop_id=shop_id, conversation_id=conversation_id, viewer=viewer
    )
    if kind == "order":
        buyer = session.scalar(
            select(Order.customer_id).where(Order.shop_id == shop_id, Order.id == ref_id)
        )
        if buyer is None or buyer != conversation.customer_id:
            # Another buyer's order is no order of this conversation: ids reveal nothing.
            raise NotFound("order not found")
        card = order_card(session, shop_id=shop_id, order_id=ref_id)
    else:
        card = product_card(session, shop_id=shop_id, product_id=ref_id)
    return send_reply(
        uow,
        shop_id=shop_id,
        conversation_id=conversation.id,
        client_msg_id=client_msg_id or f"card-{uuid.uuid4().hex}",
        body=card_text(json.loads(card)),
        sender_type=SenderType.AGENT,
        sender_agent_id=agent.id,
        sender_name=agent.display_name,
        card=card,
        commit=commit,
    )
