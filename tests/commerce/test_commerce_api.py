"""The commerce REST API as the shop's order system uses it: with an API token."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.accounts import auth
from kefu.accounts.models import Role
from kefu.clock import FrozenClock
from kefu.commerce.models import Order, Product
from kefu.events import EventBus
from kefu.uow import UnitOfWork
from tests.factories import ShopWithStaff, make_shop_with_staff

UowFactory = Callable[[], UnitOfWork]
API = "/api/v1/commerce"


def token(uow_factory: UowFactory, staff: ShopWithStaff, role: Role) -> dict[str, str]:
    owner = auth.Principal(
        shop_id=staff.shop.id,
        role=Role.OWNER,
        agent_id=staff.owner.id,
        name="掌柜",
        via="session",
        credential_id=0,
    )
    with uow_factory() as uow:
        raw = auth.create_api_token(
            uow, shop_id=staff.shop.id, name=f"ERP {role.value}", role=role, created_by=owner
        ).raw
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def staff(uow_factory: UowFactory) -> ShopWithStaff:
    return make_shop_with_staff(uow_factory, "mianli")


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def erp(uow_factory: UowFactory, staff: ShopWithStaff) -> dict[str, str]:
    """The shop's order system: a supervisor's token."""
    return token(uow_factory, staff, Role.SUPERVISOR)


HOODIE: dict[str, Any] = {
    "sku": "ML-HD001",
    "title": "棉里 加绒卫衣女 圆领宽松",
    "price": "139.00",
    "category": "卫衣",
    "tags": ["新品"],
    "images": ["https://img.mianli.example/hd001.jpg"],
    "variants": [
        {"sku": "ML-HD001-BK-M", "size": "M", "colour": "黑色", "stock": 20},
        {"sku": "ML-HD001-BK-L", "size": "L", "colour": "黑色", "stock": 15, "price": 149},
    ],
}


def order(clock: FrozenClock, **overrides: Any) -> dict[str, Any]:
    now = clock.now()
    body: dict[str, Any] = {
        "order_no": "202611230001",
        "customer_external_id": "u-10086",
        "customer_name": "王小丫",
        "status": "paid",
        "created_at": (now - timedelta(hours=3)).isoformat(),
        "paid_at": (now - timedelta(hours=2)).astimezone().isoformat(),
        "lines": [{"sku": "ML-HD001-BK-M", "quantity": 2}],
        "discount": 20,
        "shipping_fee": "0",
        "ship_to_name": "王小丫",
        "ship_to_phone": "13800138000",
        "ship_to_address": "浙江省杭州市西湖区文三路 1 号",
    }
    body.update(overrides)
    return body


def test_without_a_token_nothing_is_read_or_written(client: TestClient, staff: Any) -> None:
    for method, path in [
        ("GET", f"{API}/products"),
        ("POST", f"{API}/products"),
        ("POST", f"{API}/orders/batch"),
        ("GET", f"{API}/orders"),
    ]:
        response = client.request(method, path, json={"items": []})
        assert response.status_code == 401, path
    bad = client.get(f"{API}/products", headers={"Authorization": "Bearer kefu_nonsense"})
    assert bad.status_code == 401


def test_the_order_system_creates_updates_and_reads_products(
    client: TestClient, erp: dict[str, str], bus: EventBus
) -> None:
    created = client.post(f"{API}/products", json=HOODIE, headers=erp)
    assert created.status_code == 201, created.text
    product = created.json()
    assert product["outcome"] == "created"
    assert product["price"] == "139.00"
    assert [(v["sku"], v["price"], v["stock"]) for v in product["variants"]] == [
        ("ML-HD001-BK-M", "139.00", 20),
        ("ML-HD001-BK-L", "149.00", 15),
    ]
    assert product["images"] == ["https://img.mianli.example/hd001.jpg"]
    again = client.post(f"{API}/products", json=HOODIE, headers=erp)
    assert (again.status_code, again.json()["outcome"]) == (200, "unchanged")
    with bus.capture() as events:
        sold = client.post(f"{API}/products", json={**HOODIE, "on_sale": False}, headers=erp)
    assert sold.json()["outcome"] == "updated" and sold.json()["on_sale"] is False
    assert [getattr(e, "changed", None) for e in events] == [("on_sale",)]
    found = client.get(f"{API}/products", params={"q": "卫衣"}, headers=erp).json()
    assert [p["sku"] for p in found] == ["ML-HD001"]
    by_variant = client.get(f"{API}/products", params={"q": "ML-HD001-BK"}, headers=erp).json()
    assert [p["id"] for p in by_variant] == [product["id"]]
    one = client.get(f"{API}/products/{product['id']}", headers=erp)
    assert one.json()["title"] == "棉里 加绒卫衣女 圆领宽松"
    assert client.get(f"{API}/products/999999", headers=erp).status_code == 404


def test_a_batch_is_all_or_nothing_and_names_the_item(
    client: TestClient, erp: dict[str, str], uow_factory: UowFactory
) -> None:
    items = [{"sku": f"SOCK-{n}", "title": f"袜子 {n}", "price": 9.9} for n in range(4)]
    items[2]["price"] = "-9.90"
    refused = client.post(f"{API}/products/batch", json={"items": items}, headers=erp)
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["field"] == "items[2].price"
    assert "item 2" in error["message"]
    assert _count(uow_factory, Product) == 0
    items[2]["price"] = "9.90"
    done = client.post(f"{API}/products/batch", json={"items": items}, headers=erp)
    assert done.json() == {"created": 4, "updated": 0, "unchanged": 0}
    too_many = [{"sku": f"S-{n}", "title": "袜", "price": 1} for n in range(1001)]
    refused = client.post(f"{API}/products/batch", json={"items": too_many}, headers=erp)
    assert (refused.status_code, refused.json()["error"]["field"]) == (422, "items")


def _count(uow_factory: UowFactory, model: type[Any]) -> int:
    with uow_factory() as uow:
        return uow.session.scalar(select(func.count()).select_from(model)) or 0


def test_the_order_system_records_orders_and_reads_them_back(
    client: TestClient, erp: dict[str, str], clock: FrozenClock
) -> None:
    client.post(f"{API}/products", json=HOODIE, headers=erp)
    created = client.post(f"{API}/orders", json=order(clock), headers=erp)
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["outcome"], body["status"], body["total"]) == ("created", "paid", "258.00")
    assert body["customer_external_id"] == "u-10086"
    assert [(li["sku"], li["quantity"], li["unit_price"]) for li in body["lines"]] == [
        ("ML-HD001-BK-M", 2, "139.00")
    ]
    shipped = order(
        clock,
        status="shipped",
        shipped_at=clock.now().isoformat(),
        courier="中通快递",
        tracking_no="73100000000001",
    )
    moved = client.post(f"{API}/orders/batch", json={"items": [shipped]}, headers=erp)
    assert moved.json() == {"created": 0, "updated": 1, "unchanged": 0}
    back = client.post(f"{API}/orders", json=order(clock), headers=erp)
    assert back.status_code == 422
    assert back.json()["error"]["field"] == "status"
    assert "cannot go back from shipped to paid" in back.json()["error"]["message"]
    listed = client.get(f"{API}/orders", params={"status": "shipped"}, headers=erp).json()
    assert [(o["order_no"], o["tracking_no"]) for o in listed] == [
        ("202611230001", "73100000000001")
    ]
    assert client.get(f"{API}/orders", params={"status": "unpaid"}, headers=erp).json() == []
    mine = client.get(
        f"{API}/orders", params={"customer_id": body["customer_id"], "q": "2026"}, headers=erp
    ).json()
    assert [o["id"] for o in mine] == [body["id"]]
    one = client.get(f"{API}/orders/{body['id']}", headers=erp).json()
    assert one["courier"] == "中通快递" and one["lines"][0]["title"] == "棉里 加绒卫衣女 圆领宽松"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"created_at": "2026-11-23T01:00:00"}, "created_at", id="no zone"),
        pytest.param({"discount": "二十"}, "discount", id="not an amount"),
        pytest.param({"status": "lost"}, "status", id="unknown status"),
        pytest.param({"lines": [{"sku": "ML-HD001-BK-M", "qty": 1}]}, "lines.0.qty", id="extra"),
        pytest.param({"lines": [{"sku": "NOPE"}]}, "lines[0].sku", id="unknown SKU"),
        pytest.param({"discount": -1}, "discount", id="negative discount"),
        pytest.param({"discount": "1e400"}, "discount", id="astronomical discount"),
        pytest.param({"created_at": "2030-01-01T00:00:00+08:00"}, "created_at", id="future"),
    ],
)
def test_a_bad_order_is_refused_naming_the_field(
    client: TestClient,
    erp: dict[str, str],
    clock: FrozenClock,
    uow_factory: UowFactory,
    overrides: dict[str, Any],
    field: str,
) -> None:
    client.post(f"{API}/products", json=HOODIE, headers=erp)
    refused = client.post(f"{API}/orders", json=order(clock, **overrides), headers=erp)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    named = error.get("field") or error["details"][0]["field"]
    assert named == field, error
    assert _count(uow_factory, Order) == 0


def test_an_agents_token_reads_but_does_not_write(
    client: TestClient, uow_factory: UowFactory, staff: ShopWithStaff
) -> None:
    reader = token(uow_factory, staff, Role.AGENT)
    assert client.get(f"{API}/products", headers=reader).status_code == 200
    refused = client.post(f"{API}/products", json=HOODIE, headers=reader)
    assert refused.status_code == 403
    assert _count(uow_factory, Product) == 0


def test_another_shops_token_sees_none_of_this_shops_orders(
    client: TestClient,
    erp: dict[str, str],
    clock: FrozenClock,
    uow_factory: UowFactory,
) -> None:
    client.post(f"{API}/products", json=HOODIE, headers=erp)
    mine = client.post(f"{API}/orders", json=order(clock), headers=erp).json()
    other = token(uow_factory, make_shop_with_staff(uow_factory, "other"), Role.OWNER)
    assert client.get(f"{API}/orders/{mine['id']}", headers=other).status_code == 404
    assert client.get(f"{API}/orders", headers=other).json() == []
    # The same order sent by the other shop names a SKU it does not sell.
    refused = client.post(f"{API}/orders", json=order(clock), headers=other)
    assert refused.json()["error"]["field"] == "lines[0].sku"


def test_the_openapi_document_describes_the_commerce_api(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {
        f"{API}/products",
        f"{API}/products/batch",
        f"{API}/products/{{product_id}}",
        f"{API}/orders",
        f"{API}/orders/batch",
        f"{API}/orders/{{order_id}}",
        "/api/v1/hooks/commerce/{shop}",
    } <= set(paths)
