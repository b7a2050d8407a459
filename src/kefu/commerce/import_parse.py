"""Spreadsheet rows → ``ProductIn`` / ``OrderIn``: the columns of both imports, rows grouped
into products (by 商品SKU) and orders (by 订单号), and every cell problem named by its row
and column. What the columns mean is in :mod:`kefu.commerce.import_rows`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from kefu import spreadsheets
from kefu.commerce import import_cells as cells
from kefu.commerce.schemas import OrderIn, OrderLineSpec, ProductIn, VariantSpec
from kefu.errors import DomainError, Invalid

T = TypeVar("T")

# Column -> the Chinese header (templates, and errors about a column the file lacks).
PRODUCT_HEADERS: dict[str, str] = {
    "sku": "商品SKU",
    "title": "标题",
    "price": "价格",
    "category": "分类",
    "variant_sku": "规格SKU",
    "size": "尺码",
    "colour": "颜色",
    "stock": "库存",
    "variant_price": "规格价格",
    "tags": "标签",
    "images": "图片",
    "on_sale": "在售",
    "description": "描述",
}
ORDER_HEADERS: dict[str, str] = {
    "order_no": "订单号",
    "customer_id": "买家ID",
    "customer_name": "买家",
    "customer_phone": "买家电话",
    "status": "状态",
    "created_at": "下单时间",
    "paid_at": "付款时间",
    "shipped_at": "发货时间",
    "delivered_at": "签收时间",
    "closed_at": "关闭时间",
    "refunded_at": "退款时间",
    "courier": "快递公司",
    "tracking_no": "运单号",
    "coupon": "优惠券",
    "discount": "优惠",
    "shipping_fee": "运费",
    "ship_to_name": "收货人",
    "ship_to_phone": "收货电话",
    "ship_to_address": "收货地址",
    "sku": "商品SKU",
    "quantity": "数量",
    "unit_price": "单价",
}
# Columns of a variant or an order line (one per row); the others belong to the whole item.
PRODUCT_PART = ("variant_sku", "size", "colour", "stock", "variant_price")
ORDER_PART = ("sku", "quantity", "unit_price")


def _aliases(headers: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
    return {
        **{spreadsheets.header_key(h): c for c, h in headers.items()},
        **{c: c for c in headers},
        **{spreadsheets.header_key(h): c for h, c in extra.items()},
    }


PRODUCT_ALIASES = _aliases(
    PRODUCT_HEADERS,
    {"商品编码": "sku", "商品名称": "title", "售价": "price", "类目": "category",
     "规格编码": "variant_sku", "sku编码": "variant_sku", "尺寸": "size", "颜色分类": "colour",
     "color": "colour", "规格价": "variant_price", "图片链接": "images", "是否在售": "on_sale",
     "上架": "on_sale", "商品描述": "description"},
)  # fmt: skip
ORDER_ALIASES = _aliases(
    ORDER_HEADERS,
    {"订单编号": "order_no", "买家id": "customer_id", "会员ID": "customer_id",
     "buyer_id": "customer_id", "买家昵称": "customer_name", "买家手机": "customer_phone",
     "订单状态": "status", "创建时间": "created_at", "物流公司": "courier",
     "快递单号": "tracking_no", "物流单号": "tracking_no", "优惠金额": "discount",
     "收货人手机": "ship_to_phone", "coupon_code": "coupon", "商品编码": "sku",
     "规格SKU": "sku", "购买数量": "quantity", "price": "unit_price"},
)  # fmt: skip
PRODUCT_COLUMNS = (PRODUCT_ALIASES, {c: PRODUCT_HEADERS[c] for c in ("sku", "title", "price")})
ORDER_COLUMNS = (
    ORDER_ALIASES,
    {c: ORDER_HEADERS[c] for c in ("order_no", "customer_id", "status", "created_at", "sku")},
)
# A field of ProductIn / OrderIn (as ingest names it) -> the column it came from.
PRODUCT_FIELDS: dict[str, str] = {
    **{c: c for c in PRODUCT_HEADERS if c not in PRODUCT_PART},
    "variants": "variant_sku",
    "variants.sku": "variant_sku",
    "variants.size": "size",
    "variants.colour": "colour",
    "variants.stock": "stock",
    "variants.price": "variant_price",
}
ORDER_FIELDS: dict[str, str] = {
    **{c: c for c in ORDER_HEADERS if c not in ORDER_PART},
    "customer_external_id": "customer_id",
    "coupon_code": "coupon",
    "lines": "sku",
    "lines.sku": "sku",
    "lines.quantity": "quantity",
    "lines.unit_price": "unit_price",
}


@dataclass(frozen=True)
class RowError:
    row: int | None  # as the spreadsheet numbers it (the header is row 1); None: the file
    column: str  # the header as written in the file ("" when the whole row)
    error: DomainError

    @property
    def message(self) -> str:
        return self.error.message

    def describe(self) -> str:
        where = "the file" if self.row is None else f"row {self.row}"
        return f"{where}{f' “{self.column}”' if self.column else ''}: {self.message}"


@dataclass
class Group:
    """The rows of one product or one order."""

    key: str
    headers: dict[str, str]  # column -> header as written (or the Chinese one)
    rows: list[int] = field(default_factory=list)  # one per variant / order line
    values: dict[str, str] = field(default_factory=dict)  # the item's own columns
    sources: dict[str, int] = field(default_factory=dict)  # column -> row that gave it
    parts: list[dict[str, str]] = field(default_factory=list)  # per row: its part's cells

    def header(self, column: str) -> str:
        return self.headers.get(column, column)


@dataclass
class Parsed:
    groups: list[Group] = field(default_factory=list)
    problems: list[RowError] = field(default_factory=list)
    products: list[ProductIn] = field(default_factory=list)
    orders: list[OrderIn] = field(default_factory=list)


def _invalid(message: str, key: str, **params: Any) -> Invalid:
    return Invalid(message, key=f"errors.commerce_import.{key}", **params)


def _group(
    found: dict[int, tuple[str, str]],
    body: Sequence[tuple[int, list[str]]],
    canonical: dict[str, str],
    key: str,
    part: Sequence[str],
    parsed: Parsed,
) -> None:
    headers = {**canonical, **dict(found.values())}
    by_key: dict[str, Group] = {}
    for number, raw in body:
        row = spreadsheets.cells_of(raw, found)
        if not row.get(key):
            parsed.problems.append(
                RowError(number, headers[key], _invalid("this column is required", "required"))
            )
            continue
        group = by_key.get(row[key])
        if group is None:
            group = by_key[row[key]] = Group(row[key], headers)
            parsed.groups.append(group)
        group.rows.append(number)
        group.parts.append({c: row.get(c, "") for c in part})
        for column, value in row.items():
            if column in part or column == key or not value:
                continue
            if column not in group.values:
                group.values[column], group.sources[column] = value, number
            elif group.values[column] != value:
                first = group.sources[column]
                parsed.problems.append(
                    RowError(
                        number,
                        headers[column],
                        _invalid(
                            f"differs from row {first} of the same {headers[key]}",
                            "differs",
                            other_row=first,
                            key_column=headers[key],
                        ),
                    )
                )


class _Reader:
    """Reads cells of one group, recording each problem against its row and column."""

    def __init__(self, group: Group, problems: list[RowError]) -> None:
        self.group, self.problems, self.ok = group, problems, True

    def _run(self, row: int, column: str, read: Callable[[str], T], value: str) -> T | None:
        try:
            return read(value)
        except Invalid as exc:
            self.problems.append(RowError(row, self.group.header(column), exc))
            self.ok = False
            return None

    def item(self, column: str, read: Callable[[str], T]) -> T | None:
        group = self.group
        row = group.sources.get(column, group.rows[0])
        return self._run(row, column, read, group.values.get(column, ""))

    def part(self, index: int, column: str, read: Callable[[str], T]) -> T | None:
        group = self.group
        return self._run(group.rows[index], column, read, group.parts[index].get(column, ""))


def parse_products(
    found: dict[int, tuple[str, str]], body: Sequence[tuple[int, list[str]]]
) -> Parsed:
    parsed = Parsed()
    _group(found, body, PRODUCT_HEADERS, "sku", PRODUCT_PART, parsed)
    for group in parsed.groups:
        read = _Reader(group, parsed.problems)
        title = read.item("title", cells.required)
        price = read.item("price", lambda v: cells.amount(cells.required(v)))
        tags = read.item("tags", cells.tags)
        images = read.item("images", cells.images)
        on_sale = read.item("on_sale", lambda v: cells.yes_no(v, default=True))
        variants: list[VariantSpec] = []
        for index, part in enumerate(group.parts):
            if not part["variant_sku"]:
                if len(group.parts) > 1 or any(part[c] for c in PRODUCT_PART):
                    read.part(index, "variant_sku", partial(_needs_variant_sku, group))
                continue
            stock = read.part(index, "stock", lambda v: cells.integer(v, default=0, minimum=0))
            variant_price = read.part(index, "variant_price", cells.amount)
            variants.append(
                VariantSpec(
                    sku=part["variant_sku"],
                    size=part["size"],
                    colour=part["colour"],
                    stock=stock or 0,
                    price=variant_price,
                )
            )
        if not read.ok or title is None or price is None:
            continue
        parsed.products.append(
            ProductIn(
                sku=group.key,
                title=title,
                price=price,
                category=group.values.get("category", ""),
                variants=tuple(variants),
                tags=tags or (),
                images=images or (),
                description=group.values.get("description", ""),
                on_sale=True if on_sale is None else on_sale,
            )
        )
    return parsed


def _needs_variant_sku(group: Group, _value: str) -> None:
    raise _invalid(
        f"a product on several rows, or with a size, colour, stock or price of its own, "
        f"needs a {group.header('variant_sku')} on each row",
        "needs_variant_sku",
        column=group.header("variant_sku"),
    )


def parse_orders(
    found: dict[int, tuple[str, str]], body: Sequence[tuple[int, list[str]]], zone: ZoneInfo
) -> Parsed:
    parsed = Parsed()
    _group(found, body, ORDER_HEADERS, "order_no", ORDER_PART, parsed)
    for group in parsed.groups:
        read = _Reader(group, parsed.problems)
        customer = read.item("customer_id", cells.required)
        status = read.item("status", lambda v: cells.status(cells.required(v)))
        created_at = read.item("created_at", lambda v: cells.when(cells.required(v), zone))
        stamps = {
            name: read.item(name, lambda v: cells.when(v, zone))
            for name in ("paid_at", "shipped_at", "delivered_at", "closed_at", "refunded_at")
        }
        discount = read.item("discount", cells.amount)
        shipping_fee = read.item("shipping_fee", cells.amount)
        lines: list[OrderLineSpec] = []
        for index in range(len(group.parts)):
            sku = read.part(index, "sku", cells.required)
            quantity = read.part(
                index, "quantity", lambda v: cells.integer(v, default=1, minimum=1)
            )
            unit_price = read.part(index, "unit_price", cells.amount)
            if sku is not None and quantity is not None:
                lines.append(OrderLineSpec(sku=sku, quantity=quantity, unit_price=unit_price))
        if not read.ok or customer is None or status is None or created_at is None:
            continue
        values = group.values
        parsed.orders.append(
            OrderIn(
                order_no=group.key,
                customer_external_id=customer,
                status=status.value,
                created_at=created_at,
                lines=tuple(lines),
                customer_name=values.get("customer_name", ""),
                customer_phone=values.get("customer_phone") or None,
                courier=values.get("courier") or None,
                tracking_no=values.get("tracking_no") or None,
                coupon_code=values.get("coupon") or None,
                discount=discount or Decimal(0),
                shipping_fee=shipping_fee or Decimal(0),
                ship_to_name=values.get("ship_to_name", ""),
                ship_to_phone=values.get("ship_to_phone", ""),
                ship_to_address=values.get("ship_to_address", ""),
                **stamps,
            )
        )
    return parsed
