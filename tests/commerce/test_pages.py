"""The catalogue and order pages, and the import page, as the shop's staff use them."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.commerce import ingest
from kefu.commerce.models import Order, OrderStatus
from kefu.commerce.schemas import OrderIn, OrderLineSpec, ProductIn, VariantSpec
from kefu.uow import UnitOfWork
from tests.conftest import START
from tests.factories import PASSWORD, ShopWithStaff, make_shop_with_staff

UowFactory = Callable[[], UnitOfWork]
HOSTILE = "<img src=x onerror=alert(1)>"


def _log_in(client: TestClient, email: str) -> str:
    shop = email.split("@")[1].removesuffix(".test")
    response = client.post(
        "/api/v1/auth/login", json={"shop": shop, "email": email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])


def _order(
    order_no: str,
    buyer: str,
    *,
    name: str,
    phone: str,
    status: str = "unpaid",
    hours_ago: int = 1,
    sku: str = "HD001-BK-M",
    **extra: object,
) -> OrderIn:
    created = START - timedelta(hours=hours_ago)
    return OrderIn(
        order_no=order_no,
        customer_external_id=buyer,
        customer_name=name,
        customer_phone=phone,
        status=status,
        created_at=created,
        lines=(OrderLineSpec(sku=sku, quantity=1),),
        ship_to_name=name,
        ship_to_phone=phone,
        ship_to_address="浙江省杭州市西湖区文三路 1 号",
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def shop(uow_factory: UowFactory) -> ShopWithStaff:
    staff = make_shop_with_staff(uow_factory, "mianli")
    with uow_factory() as uow:
        ingest.upsert_products(
            uow,
            shop_id=staff.shop.id,
            items=[
                ProductIn(
                    sku="HD001",
                    title="加绒卫衣 圆领宽松",
                    price=Decimal("139.00"),
                    variants=(
                        VariantSpec(sku="HD001-BK-M", size="M", colour="黑色", stock=20),
                        VariantSpec(sku="HD001-BK-L", size="L", colour="黑色", stock=15),
                    ),
                    tags=("新品", "加绒"),
                    images=("https://img.example.com/hd001.jpg",),
                ),
                ProductIn(sku="SOCK5", title=HOSTILE, price=Decimal("29.90"), on_sale=False),
            ],
        )
    paid = START - timedelta(hours=26)
    with uow_factory() as uow:
        ingest.upsert_orders(
            uow,
            shop_id=staff.shop.id,
            items=[
                _order(
                    "A1001", "u-1", name="王小丫", phone="13800138000", status="shipped",
                    hours_ago=27, paid_at=paid, shipped_at=paid + timedelta(hours=20),
                    courier="中通快递", tracking_no="731000001", coupon_code="满199减20",
                    discount=Decimal(20),
                ),
                _order("A1002", "u-2", name="李雷", phone="13900139000", hours_ago=2),
                _order("A1003", "u-1", name="王小丫", phone="13800138000", hours_ago=1),
            ],
        )  # fmt: skip
    return staff


@pytest.fixture
def owner(app: FastAPI, shop: ShopWithStaff) -> Iterator[tuple[TestClient, str]]:
    with TestClient(app) as client:
        yield client, _log_in(client, shop.owner.email)


@pytest.fixture
def agent(app: FastAPI, shop: ShopWithStaff) -> Iterator[TestClient]:
    with TestClient(app) as client:
        _log_in(client, shop.agent.email)
        yield client


def _order_numbers(html: str) -> list[str]:
    return re.findall(r'data-order="([^"]+)"', html)


def test_an_agent_browses_the_catalogue(agent: TestClient) -> None:
    page = agent.get("/commerce/products")
    assert page.status_code == 200
    assert 'data-testid="nav-products"' in page.text and 'data-testid="nav-orders"' in page.text
    assert "共 2 个商品" in page.text
    assert 'src="https://img.example.com/hd001.jpg"' in page.text
    assert "加绒卫衣 圆领宽松" in page.text and "¥139.00" in page.text
    hoodie = page.text.split('data-sku="HD001"')[1].split("</tr>")[0]
    assert ">35<" in hoodie  # stock over both variants
    assert "新品" in hoodie and "加绒" in hoodie and "在售" in hoodie
    assert HOSTILE not in page.text and "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert "已下架" in page.text
    assert "/commerce/import" not in page.text  # agents do not import
    for query, found in (("HD001-BK-L", "HD001"), ("圆领", "HD001"), ("新品", "HD001")):
        searched = agent.get("/commerce/products", params={"q": query})
        assert "共 1 个商品" in searched.text and f'data-sku="{found}"' in searched.text
    assert "共 0 个商品" in agent.get("/commerce/products", params={"q": "外套"}).text


def test_the_catalogue_comes_a_page_at_a_time(
    agent: TestClient, uow_factory: UowFactory, shop: ShopWithStaff
) -> None:
    with uow_factory() as uow:
        ingest.upsert_products(
            uow,
            shop_id=shop.shop.id,
            items=[
                ProductIn(sku=f"P{i:02}", title=f"商品{i}", price=Decimal(9)) for i in range(40)
            ],
        )
    first = agent.get("/commerce/products")
    assert "共 42 个商品" in first.text and "1 / 2" in first.text
    assert first.text.count("data-sku=") == 30
    second = agent.get("/commerce/products", params={"page": 2})
    assert second.text.count("data-sku=") == 12


def test_orders_latest_first_filtered_and_searched(agent: TestClient) -> None:
    page = agent.get("/commerce/orders")
    assert page.status_code == 200
    assert _order_numbers(page.text) == ["A1003", "A1002", "A1001"]
    assert "共 3 个订单" in page.text
    shipped = agent.get("/commerce/orders", params={"status": "shipped"})
    assert _order_numbers(shipped.text) == ["A1001"]
    unpaid = agent.get("/commerce/orders", params={"status": "unpaid", "q": "李"})
    assert _order_numbers(unpaid.text) == ["A1002"]
    for query, expected in (
        ("A1001", ["A1001"]),
        ("王小丫", ["A1003", "A1001"]),
        ("1390013", ["A1002"]),
        ("A100", ["A1003", "A1002", "A1001"]),
        ("%", []),
    ):
        found = agent.get("/commerce/orders", params={"q": query})
        assert _order_numbers(found.text) == expected, query
    assert _order_numbers(agent.get("/commerce/orders", params={"status": "bogus"}).text) == [
        "A1003", "A1002", "A1001",
    ]  # fmt: skip


def test_an_order_in_full_in_the_shops_time(agent: TestClient, uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        order_id = uow.session.scalar(select(Order.id).where(Order.order_no == "A1001"))
    page = agent.get(f"/commerce/orders/{order_id}")
    assert page.status_code == 200
    text = page.text
    assert "订单 A1001" in text and "已发货" in text
    assert "HD001-BK-M" in text and "加绒卫衣 圆领宽松" in text and "黑色 / M" in text
    assert "满199减20" in text and "−¥20.00" in text
    assert re.search(r'data-testid="order-total">¥119\.00<', text)
    # Ordered 27 h before 10:00 on 23 Nov in Shanghai: 07:00 on the 22nd, shop time.
    timeline = text.split('data-testid="order-timeline"')[1].split("</ol>")[0]
    assert re.findall(r">(\d{4}-\d\d-\d\d \d\d:\d\d)<", timeline) == [
        "2026-11-22 07:00", "2026-11-22 08:00", "2026-11-23 04:00",
    ]  # fmt: skip
    assert "中通快递" in text and "731000001" in text
    assert "浙江省杭州市西湖区文三路 1 号" in text and "u-1" in text and "13800138000" in text


def test_another_shops_order_is_not_found(
    app: FastAPI, uow_factory: UowFactory, shop: ShopWithStaff
) -> None:
    other = make_shop_with_staff(uow_factory, "other")
    with uow_factory() as uow:
        order_id = uow.session.scalar(select(Order.id).where(Order.order_no == "A1001"))
    with TestClient(app) as client:
        _log_in(client, other.owner.email)
        assert client.get(f"/commerce/orders/{order_id}").status_code == 404
        assert client.get("/commerce/orders/999999").status_code == 404
        assert _order_numbers(client.get("/commerce/orders").text) == []
        assert "共 0 个商品" in client.get("/commerce/products").text


def _csv(table: list[list[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(table)
    return buffer.getvalue().encode("utf-8-sig")


ORDERS = [
    ["订单号", "买家ID", "买家", "状态", "下单时间", "收货人", "收货电话", "收货地址", "商品SKU",
     "数量"],
    ["B2001", "u-9", "韩梅梅", "待付款", "2026-11-23 09:00", "韩梅梅", "13700137000", "北京市 1 号",
     "HD001-BK-L", "1"],
    ["B2001", "", "", "", "", "", "", "", "SOCK5", "两双"],
]  # fmt: skip


def test_an_owner_imports_orders_on_the_page(
    owner: tuple[TestClient, str], uow_factory: UowFactory
) -> None:
    client, csrf = owner
    page = client.get("/commerce/import", params={"kind": "orders"})
    assert page.status_code == 200 and "订单号" in page.text and "2000" in page.text
    files = {"file": ("orders.csv", _csv(ORDERS), "text/csv")}
    refused = client.post(
        "/commerce/import", data={"kind": "orders", "csrf_token": csrf}, files=files
    )
    assert refused.status_code == 422
    assert "有 1 处问题,没有导入任何内容" in refused.text
    assert "第 3 行「数量」:“两双”不是整数" in refused.text
    with uow_factory() as uow:
        assert uow.session.scalar(select(func.count(Order.id))) == 3
    fixed = [row[:] for row in ORDERS]
    fixed[2][9] = "2"
    files = {"file": ("orders.csv", _csv(fixed), "text/csv")}
    done = client.post("/commerce/import", data={"kind": "orders", "csrf_token": csrf}, files=files)
    assert done.status_code == 200
    assert "已导入 2 行,共 1 个订单" in done.text and "新增 1,更新 0,未变 0" in done.text
    assert _order_numbers(client.get("/commerce/orders").text)[0] == "B2001"


def test_a_refusal_by_the_catalogue_names_the_row_in_chinese_and_english(
    owner: tuple[TestClient, str],
) -> None:
    client, csrf = owner
    client.cookies.set("kefu_lang", "en")
    broken = [row[:] for row in ORDERS]
    broken[2][8], broken[2][9] = "NOPE-1", "2"
    files = {"file": ("orders.csv", _csv(broken), "text/csv")}
    refused = client.post(
        "/commerce/import", data={"kind": "orders", "csrf_token": csrf}, files=files
    )
    assert refused.status_code == 422
    assert "Row 3, “商品SKU”: no product or variant with SKU NOPE-1" in refused.text
    client.cookies.set("kefu_lang", "zh-CN")
    files = {"file": ("orders.csv", _csv(broken), "text/csv")}
    refused = client.post(
        "/commerce/import", data={"kind": "orders", "csrf_token": csrf}, files=files
    )
    assert "第 3 行「商品SKU」:没有货号为 NOPE-1 的商品或规格" in refused.text


def test_an_unreadable_file_is_refused_whole(owner: tuple[TestClient, str]) -> None:
    client, csrf = owner
    files = {"file": ("orders.pdf", b"%PDF-1.4", "application/pdf")}
    refused = client.post(
        "/commerce/import", data={"kind": "orders", "csrf_token": csrf}, files=files
    )
    assert refused.status_code == 422 and "只能导入 CSV 或 Excel" in refused.text


def test_only_supervisors_and_owners_import(
    agent: TestClient, app: FastAPI, shop: ShopWithStaff, uow_factory: UowFactory
) -> None:
    assert agent.get("/commerce/import").status_code == 403
    assert agent.get("/commerce/import/template.csv").status_code == 403
    csrf = agent.cookies.get("kefu_csrf") or ""
    files = {"file": ("orders.csv", _csv(ORDERS), "text/csv")}
    refused = agent.post(
        "/commerce/import", data={"kind": "orders", "csrf_token": csrf}, files=files
    )
    assert refused.status_code == 403
    with TestClient(app) as client:
        csrf = _log_in(client, shop.supervisor.email)
        assert client.get("/commerce/import").status_code == 200
        forged = client.post("/commerce/import", data={"kind": "orders"}, files=files)
        assert forged.status_code == 403  # no CSRF token
    with uow_factory() as uow:
        assert uow.session.scalar(select(func.count(Order.id))) == 3


def test_the_templates_download_with_example_rows(owner: tuple[TestClient, str]) -> None:
    client, _ = owner
    for kind, first in (("products", "商品SKU"), ("orders", "订单号")):
        response = client.get("/commerce/import/template.csv", params={"kind": kind})
        assert response.status_code == 200
        assert (
            response.headers["content-disposition"] == f'attachment; filename="{kind}-template.csv"'
        )
        table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert table[0][0] == first and len(table) >= 4


def test_an_order_status_filter_counts_each_status(agent: TestClient) -> None:
    page = agent.get("/commerce/orders")
    statuses = page.text.split('data-testid="order-statuses"')[1].split("</nav>")[0]
    assert re.search(r'data-status="unpaid">.*待付款 2', statuses)
    assert re.search(r'data-status="shipped">.*已发货 1', statuses)
    assert OrderStatus.REFUNDED.value in statuses
