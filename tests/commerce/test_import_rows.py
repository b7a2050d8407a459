"""Importing the catalogue and orders from a spreadsheet: every row or none, and every
problem named by the row and column a person sees in the file."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import func, select

from kefu.commerce import import_rows as rows
from kefu.commerce import ingest, ingest_common
from kefu.commerce.events import OrderCreated
from kefu.commerce.models import Order, OrderLine, OrderStatus, Product, ProductVariant
from kefu.crm.models import Customer
from kefu.errors import Invalid
from kefu.events import EventBus
from kefu.uow import UnitOfWork
from tests.factories import make_shop

UowFactory = Callable[[], UnitOfWork]

PRODUCTS = [
    ["商品SKU", "标题", "价格", "分类", "规格SKU", "尺码", "颜色", "库存", "规格价格", "标签",
     "图片", "在售"],
    ["HD001", "加绒卫衣", "139.00", "卫衣", "HD001-BK-M", "M", "黑色", "20", "", "新品、加绒",
     "https://img.example.com/1.jpg|https://img.example.com/2.jpg", "是"],
    ["HD001", "", "", "", "HD001-BK-L", "L", "黑色", "15", "", "", "", ""],
    ["HD001", "", "", "", "HD001-WH-L", "L", "白色", "8", "149", "", "", ""],
    ["SOCK5", "棉袜 5双装", "¥29.90", "配件", "", "", "", "", "", "爆款", "", "否"],
]  # fmt: skip
ORDER_HEADER = [
    "订单号", "买家ID", "买家", "买家电话", "状态", "下单时间", "付款时间", "发货时间",
    "快递公司", "运单号", "优惠券", "优惠", "运费", "收货人", "收货电话", "收货地址",
    "商品SKU", "数量", "单价",
]  # fmt: skip
ORDERS = [
    ORDER_HEADER,
    ["A1001", "u-1", "王小丫", "13800138000", "已发货", "2026-11-20 10:02", "2026/11/20 10:05",
     "2026-11-21 16:30", "中通快递", "731000001", "满199减20", "20", "0", "王小丫",
     "13800138000", "杭州市西湖区文三路 1 号", "HD001-BK-M", "1", "139.00"],
    ["A1001", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "SOCK5", "2", "0"],
    ["A1002", "u-2", "李雷", "", "待付款", "2026-11-22 21:40", "", "", "", "", "", "", "10",
     "李雷", "13900139000", "上海市徐汇区漕溪北路 88 号", "HD001-WH-L", "1", ""],
]  # fmt: skip


def _csv(table: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(table)
    return buffer.getvalue().encode(encoding)


def _xlsx(table: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in table:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def shop_id(uow_factory: UowFactory) -> int:
    return make_shop(uow_factory, "mianli").id


def _import(
    uow_factory: UowFactory, shop_id: int, kind: rows.Kind, data: bytes, name: str = "x.csv"
) -> rows.ImportResult:
    with uow_factory() as uow:
        return rows.import_file(uow, shop_id=shop_id, kind=kind, data=data, filename=name)


def _refused(
    uow_factory: UowFactory, shop_id: int, kind: rows.Kind, data: bytes, name: str = "x.csv"
) -> list[tuple[int | None, str, str]]:
    with pytest.raises(rows.ImportRejected) as refused:
        _import(uow_factory, shop_id, kind, data, name)
    return [(e.row, e.column, e.message) for e in refused.value.errors]


def _count(uow_factory: UowFactory, model: type[Product] | type[Order]) -> int:
    with uow_factory() as uow:
        return uow.session.scalar(select(func.count(model.id))) or 0


def test_rows_with_the_same_sku_form_one_product_with_its_variants(
    uow_factory: UowFactory, shop_id: int
) -> None:
    result = _import(uow_factory, shop_id, "products", _csv(PRODUCTS))
    assert (result.rows, result.items, result.created, result.updated) == (4, 2, 2, 0)
    with uow_factory() as uow:
        hoodie, socks = uow.session.scalars(select(Product).order_by(Product.sku)).all()
        variants = uow.session.scalars(
            select(ProductVariant).where(ProductVariant.product_id == hoodie.id)
        ).all()
    assert (hoodie.sku, hoodie.title, hoodie.price, hoodie.category) == (
        "HD001", "加绒卫衣", Decimal("139.00"), "卫衣",
    )  # fmt: skip
    assert hoodie.tags == "新品,加绒" and hoodie.on_sale
    assert json.loads(hoodie.images) == [
        "https://img.example.com/1.jpg",
        "https://img.example.com/2.jpg",
    ]
    assert sorted((v.sku, v.size, v.colour, v.stock, v.price) for v in variants) == [
        ("HD001-BK-L", "L", "黑色", 15, Decimal("139.00")),
        ("HD001-BK-M", "M", "黑色", 20, Decimal("139.00")),
        ("HD001-WH-L", "L", "白色", 8, Decimal("149.00")),
    ]
    assert (socks.sku, socks.price, socks.tags, socks.on_sale) == (
        "SOCK5", Decimal("29.90"), "爆款", False,
    )  # fmt: skip


def test_the_same_file_twice_changes_nothing_and_an_edit_updates(
    uow_factory: UowFactory, shop_id: int, bus: EventBus
) -> None:
    _import(uow_factory, shop_id, "products", _csv(PRODUCTS))
    _import(uow_factory, shop_id, "orders", _csv(ORDERS))
    with bus.capture() as events:
        again = _import(uow_factory, shop_id, "products", _csv(PRODUCTS))
        orders = _import(uow_factory, shop_id, "orders", _csv(ORDERS))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert (orders.created, orders.updated, orders.unchanged) == (0, 0, 2)
    assert events == []
    edited = [row[:] for row in PRODUCTS]
    edited[4][2] = "25.00"
    result = _import(uow_factory, shop_id, "products", _csv(edited))
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)


def test_orders_from_a_gb18030_csv_in_the_shops_time(
    uow_factory: UowFactory, shop_id: int, bus: EventBus
) -> None:
    _import(uow_factory, shop_id, "products", _csv(PRODUCTS))
    with bus.capture() as events:
        result = _import(uow_factory, shop_id, "orders", _csv(ORDERS, encoding="gb18030"))
    assert (result.rows, result.items, result.created) == (3, 2, 2)
    assert sorted(e.order_no for e in events if isinstance(e, OrderCreated)) == ["A1001", "A1002"]
    with uow_factory() as uow:
        shipped = uow.session.scalars(select(Order).where(Order.order_no == "A1001")).one()
        lines = uow.session.scalars(
            select(OrderLine).where(OrderLine.order_id == shipped.id).order_by(OrderLine.id)
        ).all()
        buyer = uow.session.get(Customer, shipped.customer_id)
        unpaid = uow.session.scalars(select(Order).where(Order.order_no == "A1002")).one()
    assert shipped.status is OrderStatus.SHIPPED
    # 10:05 in Shanghai is 02:05 UTC.
    assert shipped.paid_at == datetime(2026, 11, 20, 2, 5, tzinfo=UTC)
    assert shipped.shipped_at == datetime(2026, 11, 21, 8, 30, tzinfo=UTC)
    assert (shipped.courier, shipped.tracking_no, shipped.coupon_code) == (
        "中通快递", "731000001", "满199减20",
    )  # fmt: skip
    assert [(line.sku, line.quantity, line.unit_price) for line in lines] == [
        ("HD001-BK-M", 1, Decimal("139.00")),
        ("SOCK5", 2, Decimal("0.00")),  # a gift
    ]
    assert (shipped.discount, shipped.total) == (Decimal("20.00"), Decimal("119.00"))
    assert buyer is not None and (buyer.external_id, buyer.name) == ("u-1", "王小丫")
    assert unpaid.status is OrderStatus.UNPAID and unpaid.total == Decimal("159.00")


def test_an_xlsx_with_english_headers_in_any_order_and_real_dates(
    uow_factory: UowFactory, shop_id: int
) -> None:
    _import(uow_factory, shop_id, "products", _csv(PRODUCTS))
    # Excel's date cells hold the time as the shop wrote it, without a zone.
    ordered = datetime(2026, 11, 22, 9, 0)  # noqa: DTZ001
    paid = datetime(2026, 11, 22, 9, 1)  # noqa: DTZ001
    table: list[list[object]] = [
        ["quantity", "sku", "order_no", "status", "created_at", "paid_at", "customer_id",
         "ship_to_name", "ship_to_phone", "ship_to_address", "unit_price", "Remarks"],
        [2, "HD001-BK-L", 20261122001, "paid", ordered, paid, 10086, "韩梅梅", 13700137000,
         "北京市海淀区 1 号", 129.5, "ignored"],
    ]  # fmt: skip
    result = _import(uow_factory, shop_id, "orders", _xlsx(table), "orders.xlsx")
    assert result.created == 1
    with uow_factory() as uow:
        order = uow.session.scalars(select(Order)).one()
        line = uow.session.scalars(select(OrderLine)).one()
    assert (order.order_no, order.status, order.ship_to_phone) == (
        "20261122001", OrderStatus.PAID, "13700137000",
    )  # fmt: skip
    assert order.created_at == datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
    assert (line.quantity, line.unit_price, order.items_total) == (
        2, Decimal("129.50"), Decimal("259.00"),
    )  # fmt: skip


def test_every_broken_row_is_named_and_nothing_is_imported(
    uow_factory: UowFactory, shop_id: int
) -> None:
    _import(uow_factory, shop_id, "products", _csv(PRODUCTS))
    broken = [row[:] for row in ORDERS]
    broken[1][4] = "发货了"  # row 2: not a status
    broken[2][17] = "两件"  # row 3: not a quantity
    broken[3][5] = "昨天晚上"  # row 4: not a time
    broken[3][12] = "-5"  # row 4: a negative shipping fee
    broken.append(["A1003", "", "", "", "已付款", "2026-11-22 10:00", "", "", "", "", "", "",
                   "", "", "", "", "SOCK5", "1", ""])  # fmt: skip
    broken.append(["A1003", "u-3", "", "", "已关闭", "", "", "", "", "", "", "", "", "", "", "",
                   "SOCK5", "1", ""])  # fmt: skip
    problems = _refused(uow_factory, shop_id, "orders", _csv(broken))
    assert [(row, column) for row, column, _ in problems] == [
        (2, "状态"), (3, "数量"), (4, "下单时间"), (4, "运费"), (6, "状态"),
    ]  # fmt: skip
    messages = {(row, column): message for row, column, message in problems}
    assert messages[(2, "状态")] == "'发货了' is not an order status"
    assert messages[(6, "状态")] == "differs from row 5 of the same 订单号"
    assert _count(uow_factory, Order) == 0


def test_a_row_the_catalogue_refuses_is_named_and_nothing_is_imported(
    uow_factory: UowFactory, shop_id: int
) -> None:
    _import(uow_factory, shop_id, "products", _csv(PRODUCTS))
    broken = [row[:] for row in ORDERS]
    broken[3][16] = "NO-SUCH-SKU"  # row 4: the second order's only line
    assert _refused(uow_factory, shop_id, "orders", _csv(broken)) == [
        (4, "商品SKU", "unknown SKU 'NO-SUCH-SKU'")
    ]
    assert _count(uow_factory, Order) == 0  # the first order, fine on its own, is not stored
    with uow_factory() as uow:
        assert uow.session.scalar(select(func.count(Customer.id))) == 0
    shipped = [row[:] for row in ORDERS]
    shipped[1][8] = ""  # no courier on a shipped order: the row that gives its order fields
    [(row, column, _)] = _refused(uow_factory, shop_id, "orders", _csv(shipped))
    assert (row, column) == (2, "快递公司")


def test_a_product_refused_by_the_catalogue_names_its_row_and_column(
    uow_factory: UowFactory, shop_id: int
) -> None:
    broken = [row[:] for row in PRODUCTS]
    broken[3][8] = "149.999"  # row 4: the third variant's price
    assert _refused(uow_factory, shop_id, "products", _csv(broken)) == [
        (4, "规格价格", "variant price has more than 2 decimal places")
    ]
    broken = [row[:] for row in PRODUCTS]
    broken[4][2] = "29.901"  # row 5: the socks' price
    [(row, column, _)] = _refused(uow_factory, shop_id, "products", _csv(broken))
    assert (row, column) == (5, "价格")
    assert _count(uow_factory, Product) == 0


def test_cell_problems_of_products(uow_factory: UowFactory, shop_id: int) -> None:
    broken = [row[:] for row in PRODUCTS]
    broken[1][10] = "http://img.example.com/1.jpg"  # row 2: not https
    broken[2][4] = ""  # row 3: a product on several rows without its variant SKU
    broken[3][7] = "很多"  # row 4: stock
    broken[4][11] = "也许"  # row 5: on sale?
    broken.append(["", "无SKU", "1", "", "", "", "", "", "", "", "", ""])  # row 6
    problems = _refused(uow_factory, shop_id, "products", _csv(broken))
    assert sorted((row, column) for row, column, _ in problems) == [
        (2, "图片"), (3, "规格SKU"), (4, "库存"), (5, "在售"), (6, "商品SKU"),
    ]  # fmt: skip
    assert _count(uow_factory, Product) == 0


def test_problems_are_listed_up_to_twenty_with_the_total(
    uow_factory: UowFactory, shop_id: int
) -> None:
    table = [PRODUCTS[0]] + [[f"P{i}", f"商品{i}", "贵", *[""] * 9] for i in range(25)]
    with pytest.raises(rows.ImportRejected) as refused:
        _import(uow_factory, shop_id, "products", _csv(table))
    assert (len(refused.value.errors), refused.value.total) == (20, 25)
    assert refused.value.errors[0].row == 2 and refused.value.errors[-1].row == 21
    assert refused.value.params == {"count": 25}


def test_a_long_file_is_imported_in_batches_all_or_nothing(
    uow_factory: UowFactory, shop_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest, "MAX_BATCH", 2)
    monkeypatch.setattr(ingest_common, "MAX_BATCH", 2)
    table = [PRODUCTS[0]] + [[f"P{i}", f"商品{i}", "10", *[""] * 9] for i in range(5)]
    table[4][2] = "10.001"  # row 5: the fourth product, in the second batch
    [(row, column, _)] = _refused(uow_factory, shop_id, "products", _csv(table))
    assert (row, column) == (5, "价格")
    assert _count(uow_factory, Product) == 0
    table[4][2] = "10"
    assert _import(uow_factory, shop_id, "products", _csv(table)).created == 5


@pytest.mark.parametrize(
    ("kind", "data", "key"),
    [
        ("products", _csv([["标题", "价格"], ["卫衣", "1"]]), "errors.spreadsheet.file_header"),
        ("orders", _csv([PRODUCTS[0], PRODUCTS[1]]), "errors.spreadsheet.file_header"),
        ("products", _csv([PRODUCTS[0]]), "errors.spreadsheet.file_no_rows"),
        ("orders", b"", "errors.spreadsheet.file_empty"),
    ],
)
def test_a_file_that_is_not_the_kind_chosen_is_refused_as_a_whole(
    uow_factory: UowFactory, shop_id: int, kind: rows.Kind, data: bytes, key: str
) -> None:
    with pytest.raises(Invalid) as refused:
        _import(uow_factory, shop_id, kind, data)
    assert (refused.value.key, refused.value.field) == (key, "file")


def test_the_templates_import_as_they_are(uow_factory: UowFactory, shop_id: int) -> None:
    products = _import(uow_factory, shop_id, "products", rows.template_csv("products"))
    orders = _import(uow_factory, shop_id, "orders", rows.template_csv("orders"))
    assert (products.items, products.created) == (2, 2)
    assert (orders.items, orders.created) == (2, 2)
    header = rows.template_rows("orders")[0]
    assert header[:2] == ["订单号", "买家ID"] and "单价" in header
