"""Signed webhooks from the shop's order system: verified, then applied exactly once.

The shop's system POSTs ``{"event": "product.upsert" | "order.upsert", "data": {...}}``
(or ``"data": [...]``, at most 1,000 items) with three headers:

- ``X-Kefu-Timestamp``: unix seconds; more than 5 minutes from Kefu's clock is refused,
  so a captured request cannot be replayed later;
- ``X-Kefu-Signature``: ``sha256=`` + hex HMAC-SHA256 of ``f"{timestamp}.{raw body}"``
  keyed with the shop's webhook secret (:mod:`kefu.commerce.integration`);
- ``X-Kefu-Delivery``: the delivery's unique id (≤ 80 characters); the same id again is
  answered "duplicate" and changes nothing, so the sender may retry freely.

Whatever is wrong with the signature (no headers, an unknown shop, a shop with no secret
yet, a wrong key), the answer is the same 401 and nothing is read or written. The
delivery is recorded in the same transaction as its data: a refused payload records
nothing and can be sent again once fixed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kefu.commerce import ingest, integration
from kefu.commerce.ingest_common import MAX_BATCH
from kefu.commerce.models import WebhookDelivery
from kefu.commerce.payloads import parse_order, parse_product
from kefu.commerce.schemas import OrderIn, ProductIn, UpsertReport
from kefu.errors import Conflict, Invalid, NotFound, Unauthenticated
from kefu.shops import service as shops
from kefu.uow import UnitOfWork

TIMESTAMP_HEADER = "X-Kefu-Timestamp"
SIGNATURE_HEADER = "X-Kefu-Signature"
DELIVERY_HEADER = "X-Kefu-Delivery"
REPLAY_WINDOW = timedelta(minutes=5)
EVENTS = ("product.upsert", "order.upsert")
MAX_SHOP_CODE = 40
_DELIVERY_ID = re.compile(r"^[\x21-\x7e]{1,80}$")  # visible ASCII: ids, UUIDs, hashes
_SIGNATURE = re.compile(r"^sha256=([0-9a-fA-F]{64})$")


@dataclass(frozen=True)
class WebhookResult:
    status: Literal["applied", "duplicate"]
    report: UpsertReport


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-Kefu-Signature`` value for a body sent at ``timestamp`` (what the shop computes)."""
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _refuse() -> Unauthenticated:
    return Unauthenticated(
        "the webhook's signature does not match this shop's secret",
        key="errors.webhook_signature",
    )


def _verify(
    uow: UnitOfWork, *, shop_code: str, timestamp: str | None, signature: str | None, body: bytes
) -> int:
    """The shop the delivery is for, once its signature and timestamp are good."""
    if not timestamp or not signature:
        raise Unauthenticated(
            f"a webhook needs the headers {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}",
            key="errors.webhook_headers",
        )
    sent = int(timestamp) if timestamp.isascii() and timestamp.isdigit() else None
    now = uow.clock.now().timestamp()
    if sent is None or abs(now - sent) > REPLAY_WINDOW.total_seconds():
        raise Unauthenticated(
            f"{TIMESTAMP_HEADER} must be unix seconds within 5 minutes of now ({int(now)})",
            key="errors.webhook_timestamp",
            now=int(now),
        )
    if not shop_code or len(shop_code) > MAX_SHOP_CODE:
        raise _refuse()
    try:
        shop_id = shops.get_shop_by_slug(uow.session, slug=shop_code).id
    except NotFound:
        raise _refuse() from None
    secret = integration.webhook_secret(uow.session, shop_id=shop_id)
    given = _SIGNATURE.match(signature.strip())
    if secret is None or given is None:
        raise _refuse()
    expected = sign(secret, timestamp, body)
    if not hmac.compare_digest(expected, "sha256=" + given.group(1).lower()):
        raise _refuse()
    return shop_id


@dataclass(frozen=True)
class _Payload:
    event: str
    products: list[ProductIn]
    orders: list[OrderIn]
    batch: bool  # "data" was a list


def _payload(body: bytes) -> _Payload:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Invalid("the body is not JSON", field="body") from None
    if not isinstance(document, dict):
        raise Invalid('the body must be {"event": …, "data": …}', field="body")
    event = document.get("event")
    if event not in EVENTS:
        raise Invalid(f"event must be one of {', '.join(EVENTS)}", field="event")
    extra = sorted(set(document) - {"event", "data"})
    if extra:
        raise Invalid(f"unknown field {extra[0]!r}", field=extra[0])
    data: Any = document.get("data")
    batch = isinstance(data, list)
    if batch:
        if not data:
            raise Invalid("data is an empty list", field="data")
        if len(data) > MAX_BATCH:
            raise Invalid(f"data has at most {MAX_BATCH:,} items; got {len(data):,}", field="data")
        named = [(f"data[{number}]", one) for number, one in enumerate(data)]
    elif isinstance(data, dict):
        named = [("data", data)]
    else:
        raise Invalid("data must be an object, or a list of them", field="data")
    if event == "product.upsert":
        products = [parse_product(one, prefix=where) for where, one in named]
        return _Payload(event=event, products=products, orders=[], batch=batch)
    orders = [parse_order(one, prefix=where) for where, one in named]
    return _Payload(event=event, products=[], orders=orders, batch=batch)


def _apply(uow: UnitOfWork, shop_id: int, payload: _Payload) -> UpsertReport:
    try:
        if payload.batch and payload.products:
            return ingest.upsert_products(
                uow, shop_id=shop_id, items=payload.products, commit=False
            )
        if payload.batch:
            return ingest.upsert_orders(uow, shop_id=shop_id, items=payload.orders, commit=False)
        if payload.products:
            [product] = payload.products
            _, outcome = ingest.upsert_product(uow, shop_id=shop_id, item=product, commit=False)
        else:
            [order] = payload.orders
            _, outcome = ingest.upsert_order(uow, shop_id=shop_id, item=order, commit=False)
        return UpsertReport(**{outcome: 1})
    except Invalid as exc:
        # Named as the payload names it: data[3].lines[0].sku, data.price.
        field = exc.field or ""
        if payload.batch and field.startswith("items["):
            field = "data" + field[len("items") :]
        elif not payload.batch:
            field = f"data.{field}" if field else "data"
        raise Invalid(exc.message, field=field or None, **exc.params) from exc


def receive(
    uow: UnitOfWork,
    *,
    shop_code: str,
    timestamp: str | None,
    signature: str | None,
    delivery_id: str | None,
    body: bytes,
) -> WebhookResult:
    """Verify a delivery and apply it (committed), or say it was applied before."""
    shop_id = _verify(uow, shop_code=shop_code, timestamp=timestamp, signature=signature, body=body)
    delivery_id = (delivery_id or "").strip()
    if not _DELIVERY_ID.match(delivery_id):
        raise Invalid(
            f"{DELIVERY_HEADER} must be 1–80 visible ASCII characters", field=DELIVERY_HEADER
        )
    if _seen(uow, shop_id, delivery_id):
        return WebhookResult(status="duplicate", report=UpsertReport())
    payload = _payload(body)
    session = uow.session
    try:
        # First, so that a second copy arriving at the same moment waits on this row's
        # unique key and then finds it (PostgreSQL), instead of applying the data twice.
        session.add(
            WebhookDelivery(
                shop_id=shop_id,
                delivery_id=delivery_id,
                event=payload.event,
                received_at=uow.clock.now(),
            )
        )
        session.flush()
        report = _apply(uow, shop_id, payload)
        uow.commit()
    except IntegrityError:
        uow.rollback()
        if _seen(uow, shop_id, delivery_id):
            return WebhookResult(status="duplicate", report=UpsertReport())
        raise Conflict(
            "another change to the same products or orders was saved at the same moment; "
            "send the delivery again",
            key="errors.webhook_retry",
        ) from None
    return WebhookResult(status="applied", report=report)


def _seen(uow: UnitOfWork, shop_id: int, delivery_id: str) -> bool:
    found = uow.session.scalar(
        select(WebhookDelivery.id).where(
            WebhookDelivery.shop_id == shop_id, WebhookDelivery.delivery_id == delivery_id
        )
    )
    return found is not None
