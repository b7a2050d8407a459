"""Signed webhooks from the shop's order system: applied once when signed with the shop's
secret within five minutes; refused with 401, writing nothing, otherwise."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.clock import FrozenClock
from kefu.commerce import service as commerce
from kefu.commerce import webhooks
from kefu.commerce.events import OrderCreated, ProductCreated
from kefu.commerce.models import Order, Product, WebhookDelivery
from kefu.events import EventBus
from kefu.shops import service as shops
from kefu.uow import UnitOfWork
from tests.factories import make_shop

UowFactory = Callable[[], UnitOfWork]
HOOK = "/api/v1/hooks/commerce/mianli"
SOCK = {"sku": "ML-SOCK5", "title": "纯棉中筒袜 5双装", "price": "29.90"}


@pytest.fixture
def secret(uow_factory: UowFactory) -> str:
    shop = make_shop(uow_factory, "mianli")
    with uow_factory() as uow:
        return commerce.commerce_settings(uow, shop_id=shop.id).webhook_secret


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def deliver(
    client: TestClient,
    clock: FrozenClock,
    secret: str,
    document: Any,
    *,
    delivery: str = "d-0001",
    path: str = HOOK,
    timestamp: int | None = None,
    signature: str | None = None,
) -> Any:
    body = json.dumps(document, ensure_ascii=False).encode()
    sent = int(clock.now().timestamp()) if timestamp is None else timestamp
    headers = {
        "Content-Type": "application/json",
        "X-Kefu-Timestamp": str(sent),
        "X-Kefu-Signature": signature or webhooks.sign(secret, sent, body),
        "X-Kefu-Delivery": delivery,
    }
    return client.post(path, content=body, headers=headers)


def _count(uow_factory: UowFactory, model: type[Any]) -> int:
    with uow_factory() as uow:
        return uow.session.scalar(select(func.count()).select_from(model)) or 0


def test_a_signed_delivery_is_applied_and_announced(
    client: TestClient, clock: FrozenClock, secret: str, bus: EventBus, uow_factory: UowFactory
) -> None:
    with bus.capture() as events:
        answer = deliver(client, clock, secret, {"event": "product.upsert", "data": SOCK})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "applied", "created": 1, "updated": 0, "unchanged": 0}
    assert [type(e) for e in events] == [ProductCreated]
    assert _count(uow_factory, Product) == 1
    assert _count(uow_factory, WebhookDelivery) == 1


def test_an_order_batch_arrives_by_webhook(
    client: TestClient, clock: FrozenClock, secret: str, bus: EventBus
) -> None:
    deliver(client, clock, secret, {"event": "product.upsert", "data": [SOCK]}, delivery="p")
    now = clock.now()
    order = {
        "order_no": "202611230001",
        "customer_external_id": "u-10086",
        "status": "unpaid",
        "created_at": (now - timedelta(minutes=40)).isoformat(),
        "lines": [{"sku": "ML-SOCK5"}],
        "ship_to_name": "王小丫",
        "ship_to_phone": "13800138000",
        "ship_to_address": "浙江省杭州市西湖区文三路 1 号",
    }
    with bus.capture() as events:
        answer = deliver(client, clock, secret, {"event": "order.upsert", "data": [order]})
    assert answer.json()["created"] == 1
    assert [type(e) for e in events if isinstance(e, OrderCreated)] == [OrderCreated]
    broken = {**order, "order_no": "2", "lines": [{"sku": "NOPE"}]}
    refused = deliver(
        client, clock, secret, {"event": "order.upsert", "data": [order, broken]}, delivery="o2"
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "data[1].lines[0].sku"
    assert "unknown SKU 'NOPE'" in refused.json()["error"]["message"]


def test_the_same_delivery_twice_is_a_no_op(
    client: TestClient, clock: FrozenClock, secret: str, bus: EventBus, uow_factory: UowFactory
) -> None:
    deliver(client, clock, secret, {"event": "product.upsert", "data": SOCK})
    changed = {**SOCK, "title": "纯棉中筒袜 5双装 新款"}
    with bus.capture() as events:
        again = deliver(client, clock, secret, {"event": "product.upsert", "data": changed})
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate", "created": 0, "updated": 0, "unchanged": 0}
    assert events == []
    with uow_factory() as uow:
        assert uow.session.scalars(select(Product.title)).one() == "纯棉中筒袜 5双装"
    assert _count(uow_factory, WebhookDelivery) == 1


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param({"signature": "sha256=" + "0" * 64}, id="wrong signature"),
        pytest.param({"signature": "md5=abc"}, id="malformed signature"),
        pytest.param({"timestamp": -1}, id="stale timestamp"),  # replaced below
        pytest.param({"timestamp": +1}, id="future timestamp"),
        pytest.param({"path": "/api/v1/hooks/commerce/nosuchshop"}, id="unknown shop"),
        pytest.param({"path": "/api/v1/hooks/commerce/" + "m" * 60}, id="overlong shop code"),
        pytest.param({"secret": "someone else's secret"}, id="another secret"),
    ],
)
def test_a_delivery_not_signed_by_the_shop_is_refused_and_writes_nothing(
    client: TestClient,
    clock: FrozenClock,
    secret: str,
    uow_factory: UowFactory,
    tamper: dict[str, Any],
) -> None:
    options = dict(tamper)
    if "timestamp" in options:  # six minutes off, either way
        options["timestamp"] = int(clock.now().timestamp()) + options["timestamp"] * 360
    key = options.pop("secret", secret)
    answer = deliver(client, clock, key, {"event": "product.upsert", "data": SOCK}, **options)
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"]["code"] == "unauthenticated"
    assert _count(uow_factory, Product) == 0
    assert _count(uow_factory, WebhookDelivery) == 0


def test_unknown_shop_and_wrong_secret_look_the_same(
    client: TestClient, clock: FrozenClock, secret: str
) -> None:
    document = {"event": "product.upsert", "data": SOCK}
    nowhere = deliver(client, clock, secret, document, path="/api/v1/hooks/commerce/nosuch")
    wrong = deliver(client, clock, "not the secret", document)
    assert nowhere.json() == wrong.json()


def test_a_delivery_without_headers_is_refused(client: TestClient, secret: str) -> None:
    answer = client.post(HOOK, json={"event": "product.upsert", "data": SOCK})
    assert answer.status_code == 401


def test_within_five_minutes_is_fine(client: TestClient, clock: FrozenClock, secret: str) -> None:
    late = int(clock.now().timestamp()) - 290
    document = {"event": "product.upsert", "data": SOCK}
    assert deliver(client, clock, secret, document, timestamp=late).status_code == 200


def test_a_rotated_secret_refuses_the_old_one(
    client: TestClient, clock: FrozenClock, secret: str, uow_factory: UowFactory
) -> None:
    other = make_shop(uow_factory, "other").id
    with uow_factory() as uow:
        others = commerce.commerce_settings(uow, shop_id=other).webhook_secret
    with uow_factory() as uow:
        own = shops.get_shop_by_slug(uow.session, slug="mianli").id
        new = commerce.rotate_webhook_secret(uow, shop_id=own).webhook_secret
    with uow_factory() as uow:  # the other shop's secret is left alone
        assert commerce.commerce_settings(uow, shop_id=other).webhook_secret == others
    assert new != secret
    document = {"event": "product.upsert", "data": SOCK}
    assert deliver(client, clock, secret, document).status_code == 401
    assert deliver(client, clock, new, document).status_code == 200


@pytest.mark.parametrize(
    ("document", "field"),
    [
        pytest.param({"event": "order.cancel", "data": SOCK}, "event", id="unknown event"),
        pytest.param({"event": "product.upsert", "data": "袜子"}, "data", id="data not object"),
        pytest.param({"event": "product.upsert", "data": []}, "data", id="empty list"),
        pytest.param(
            {"event": "product.upsert", "data": {**SOCK, "price": "-1"}},
            "data.price",
            id="negative price",
        ),
        pytest.param(
            {"event": "product.upsert", "data": [SOCK, {**SOCK, "sku": "B", "price": "x"}]},
            "data[1].price",
            id="not an amount in a list",
        ),
        pytest.param(
            {"event": "product.upsert", "data": [{**SOCK, "sku": f"S{n}"} for n in range(1001)]},
            "data",
            id="1001 items",
        ),
        pytest.param([1, 2], "body", id="not an object"),
    ],
)
def test_a_bad_payload_is_refused_naming_the_field_and_can_be_sent_again(
    client: TestClient,
    clock: FrozenClock,
    secret: str,
    uow_factory: UowFactory,
    document: Any,
    field: str,
) -> None:
    answer = deliver(client, clock, secret, document)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field
    assert _count(uow_factory, Product) == 0
    # The refusal recorded nothing: the fixed delivery, with the same id, is applied.
    fixed = deliver(client, clock, secret, {"event": "product.upsert", "data": SOCK})
    assert fixed.json()["status"] == "applied"


def test_a_body_that_is_not_json_is_refused(
    client: TestClient, clock: FrozenClock, secret: str
) -> None:
    sent = int(clock.now().timestamp())
    body = b"\xff\xfe not json"
    answer = client.post(
        HOOK,
        content=body,
        headers={
            "X-Kefu-Timestamp": str(sent),
            "X-Kefu-Signature": webhooks.sign(secret, sent, body),
            "X-Kefu-Delivery": "d-1",
        },
    )
    assert (answer.status_code, answer.json()["error"]["field"]) == (422, "body")


def test_a_delivery_needs_an_id(client: TestClient, clock: FrozenClock, secret: str) -> None:
    document = {"event": "product.upsert", "data": SOCK}
    for bad in (" ", "x" * 81, "has space"):
        answer = deliver(client, clock, secret, document, delivery=bad)
        assert answer.status_code == 422
        assert answer.json()["error"]["field"] == "X-Kefu-Delivery"


def test_an_order_of_the_shop_is_moved_on_by_webhook(
    client: TestClient, clock: FrozenClock, secret: str, uow_factory: UowFactory
) -> None:
    deliver(client, clock, secret, {"event": "product.upsert", "data": SOCK}, delivery="p")
    now = clock.now()
    order: dict[str, Any] = {
        "order_no": "A1",
        "customer_external_id": "u-1",
        "status": "unpaid",
        "created_at": (now - timedelta(hours=1)).isoformat(),
        "lines": [{"sku": "ML-SOCK5"}],
        "ship_to_name": "王小丫",
        "ship_to_phone": "13800138000",
        "ship_to_address": "杭州",
    }
    deliver(client, clock, secret, {"event": "order.upsert", "data": order}, delivery="o1")
    order.update(status="paid", paid_at=now.isoformat())
    answer = deliver(client, clock, secret, {"event": "order.upsert", "data": order}, delivery="o2")
    assert answer.json()["updated"] == 1
    with uow_factory() as uow:
        assert uow.session.scalars(select(Order.status)).one().value == "paid"


def test_two_copies_arriving_at_once_apply_once(
    client: TestClient,
    clock: FrozenClock,
    secret: str,
    uow_factory: UowFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second copy passes the "seen?" check before the first commits; the delivery's
    unique key stops it, and it is answered as the duplicate it is."""
    document = {"event": "product.upsert", "data": SOCK}
    deliver(client, clock, secret, document)
    real_seen = webhooks._seen
    calls: list[str] = []

    def racing(uow: UnitOfWork, shop_id: int, delivery_id: str) -> bool:
        calls.append(delivery_id)
        return False if len(calls) == 1 else real_seen(uow, shop_id, delivery_id)

    monkeypatch.setattr(webhooks, "_seen", racing)
    again = deliver(client, clock, secret, {**document, "data": {**SOCK, "title": "改"}})
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "duplicate"
    assert calls == ["d-0001", "d-0001"]
    with uow_factory() as uow:
        assert uow.session.scalars(select(Product.title)).one() == "纯棉中筒袜 5双装"
