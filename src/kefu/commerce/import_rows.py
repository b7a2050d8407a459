"""The catalogue and the order book from a spreadsheet (CSV or XLSX): every row, or nothing.

Columns are found by their header in the first row, Chinese or English, in any order
(others are ignored). Products, one row per variant (rows with the same 商品SKU form one
product; its own columns may be left empty after its first row):

    商品SKU sku*  标题 title*  价格 price*  分类 category  规格SKU variant_sku  尺码 size
    颜色 colour  库存 stock  规格价格 variant_price  标签 tags (、 or , between)
    图片 images (https addresses, | between)  在售 on_sale (是/否)  描述 description

Orders, one row per order line (rows with the same 订单号 form one order):

    订单号 order_no*  买家ID customer_id* (the shop's own id of the buyer)  买家 customer_name
    买家电话 customer_phone  状态 status* (待付款 已付款 已发货 已签收 已关闭 退款中 已退款,
    or unpaid … refunded)  下单时间 created_at*  付款时间 paid_at  发货时间 shipped_at
    签收时间 delivered_at  关闭时间 closed_at  退款时间 refunded_at  快递公司 courier
    运单号 tracking_no  优惠券 coupon  优惠 discount  运费 shipping_fee  收货人 ship_to_name
    收货电话 ship_to_phone  收货地址 ship_to_address  商品SKU sku*  数量 quantity  单价 unit_price

Times without an offset are the shop's local time. At most 1 MB and 2,000 rows under the
header (:mod:`kefu.spreadsheets`). Every problem names its row (as the spreadsheet numbers
it: the header is row 1) and column; the rows are written by
:mod:`kefu.commerce.ingest` in one transaction, whose first refusal is mapped back to a row.
Sending the same file again changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from kefu import spreadsheets
from kefu.commerce import ingest
from kefu.commerce.import_parse import (
    ORDER_COLUMNS,
    ORDER_FIELDS,
    ORDER_HEADERS,
    PRODUCT_COLUMNS,
    PRODUCT_FIELDS,
    PRODUCT_HEADERS,
    Parsed,
    RowError,
    parse_orders,
    parse_products,
)
from kefu.errors import DomainError, Invalid
from kefu.shops import service as shops
from kefu.uow import UnitOfWork

Kind = Literal["products", "orders"]
KINDS: tuple[Kind, ...] = ("products", "orders")
MAX_IMPORT_BYTES = spreadsheets.MAX_IMPORT_BYTES
MAX_PROBLEMS = 20  # a file with more is shown by its first problems; the count says the rest
HEADERS: dict[Kind, dict[str, str]] = {"products": PRODUCT_HEADERS, "orders": ORDER_HEADERS}
REQUIRED: dict[Kind, tuple[str, ...]] = {
    "products": tuple(PRODUCT_COLUMNS[1]),
    "orders": tuple(ORDER_COLUMNS[1]),
}
_FIELD = re.compile(r"^items\[(\d+)\](?:\.(\w+)(?:\[(\d+)\])?(?:\.(\w+))?)?$")

__all__ = ["KINDS", "ImportRejected", "ImportResult", "Kind", "RowError", "import_file"]


class ImportRejected(Invalid):
    """Rows of an import are wrong; nothing was imported. ``errors`` holds the first ones."""

    code = "import_rejected"

    def __init__(self, errors: Sequence[RowError], *, total: int | None = None) -> None:
        total = len(errors) if total is None else total
        first = f"; {errors[0].describe()}" if errors else ""
        super().__init__(
            f"{total} problem(s) in the file{first}; nothing was imported",
            field="file",
            key="errors.commerce_import.rejected",
            count=total,
        )
        self.errors = list(errors)
        self.total = total


@dataclass(frozen=True)
class ImportResult:
    kind: Kind
    rows: int  # data rows read
    items: int  # products or orders they form
    created: int
    updated: int
    unchanged: int


def import_file(
    uow: UnitOfWork, *, shop_id: int, kind: Kind, data: bytes, filename: str = ""
) -> ImportResult:
    """Import products or orders from a CSV or XLSX file, all rows or none.

    A file that cannot be read at all raises ``Invalid`` on ``file``; wrong rows raise
    ``ImportRejected`` listing them (up to ``MAX_PROBLEMS``); either way nothing is written.
    """
    table = spreadsheets.read_table(data, filename)
    (_, header), *body = table
    if kind == "products":
        columns = spreadsheets.columns(header, *PRODUCT_COLUMNS)
    else:
        columns = spreadsheets.columns(header, *ORDER_COLUMNS)
    if not body:
        raise spreadsheets.file_error("the file has no rows under the header", "file_no_rows")
    if kind == "products":
        parsed: Parsed = parse_products(columns, body)
    else:
        zone = ZoneInfo(shops.get_shop(uow.session, shop_id=shop_id).timezone)
        parsed = parse_orders(columns, body, zone)
    if parsed.problems:
        problems = sorted(parsed.problems, key=lambda e: e.row or 0)
        raise ImportRejected(problems[:MAX_PROBLEMS], total=len(problems))
    created = updated = unchanged = 0
    # An API batch holds at most ingest.MAX_BATCH items: a long file is several batches in
    # one transaction, committed once (so still all or nothing).
    for start in range(0, len(parsed.groups), ingest.MAX_BATCH):
        try:
            if kind == "products":
                report = ingest.upsert_products(
                    uow, shop_id=shop_id, items=parsed.products[start : start + ingest.MAX_BATCH],
                    commit=False,
                )  # fmt: skip
            else:
                report = ingest.upsert_orders(
                    uow, shop_id=shop_id, items=parsed.orders[start : start + ingest.MAX_BATCH],
                    commit=False,
                )  # fmt: skip
        except DomainError as exc:
            uow.rollback()  # ingest writes nothing on a refusal; this makes sure of it
            raise ImportRejected([locate(parsed, exc, kind, offset=start)]) from exc
        created += report.created
        updated += report.updated
        unchanged += report.unchanged
    uow.commit()
    return ImportResult(
        kind=kind,
        rows=len(body),
        items=len(parsed.groups),
        created=created,
        updated=updated,
        unchanged=unchanged,
    )


def locate(parsed: Parsed, error: DomainError, kind: Kind, *, offset: int = 0) -> RowError:
    """The row and column of the file an ingestion error is about.

    ``items[3].lines[0].sku`` is the first line of the fourth order: the row it came from,
    column 商品SKU; ``items[3].discount`` is the row that gave the order its 优惠. The
    message shown is the innermost error's: the outer ones only add where it was.
    """
    fields = PRODUCT_FIELDS if kind == "products" else ORDER_FIELDS
    match = _FIELD.match(getattr(error, "field", None) or "")
    shown = _innermost(error)
    if match is None or offset + int(match.group(1)) >= len(parsed.groups):
        return RowError(None, "", error)
    group = parsed.groups[offset + int(match.group(1))]
    name, index, leaf = match.group(2), match.group(3), match.group(4)
    if name is None:
        return RowError(group.rows[0], "", shown)
    if name in ("lines", "variants"):  # a line of an order, a variant of a product: its row
        part = int(index) if index is not None else 0
        row = group.rows[part] if part < len(group.rows) else group.rows[0]
        return RowError(row, group.header(fields.get(f"{name}.{leaf or 'sku'}", "")), shown)
    column = fields.get(name, "")
    return RowError(group.sources.get(column, group.rows[0]), group.header(column), shown)


def _innermost(error: DomainError) -> DomainError:
    while isinstance(error.__cause__, DomainError):
        error = error.__cause__
    return error


# --- templates ---------------------------------------------------------------------------

_PRODUCT_EXAMPLES = [
    ["ML-HD001", "棉里 加绒卫衣女 圆领宽松", "139.00", "卫衣", "ML-HD001-BK-M", "M", "黑色",
     "20", "", "新品、加绒", "https://img.example.com/hd001-1.jpg|https://img.example.com/hd001-2.jpg",
     "是", "秋冬加绒,不起球"],
    ["ML-HD001", "", "", "", "ML-HD001-BK-L", "L", "黑色", "15", "", "", "", "", ""],
    ["ML-HD001", "", "", "", "ML-HD001-WH-L", "L", "白色", "8", "149.00", "", "", "", ""],
    ["ML-SOCK5", "纯棉中筒袜 5双装", "29.90", "配件", "", "", "", "", "", "爆款", "", "是", ""],
]  # fmt: skip
_ORDER_EXAMPLES = [
    ["202506180001", "u-10086", "王小丫", "13800138000", "已发货", "2025-06-18 10:02",
     "2025-06-18 10:05", "2025-06-19 16:30", "", "", "", "中通快递", "73100000000001",
     "满199减20", "20.00", "0", "王小丫", "13800138000", "浙江省杭州市西湖区文三路 1 号",
     "ML-HD001-BK-M", "1", "139.00"],
    ["202506180001", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
     "ML-SOCK5", "2", "29.90"],
    ["202506190002", "u-10010", "李雷", "", "待付款", "2025-06-19 21:40", "", "", "", "", "",
     "", "", "", "", "10.00", "李雷", "13900139000", "上海市徐汇区漕溪北路 88 号",
     "ML-HD001-WH-L", "1", ""],
]  # fmt: skip


def template_rows(kind: Kind) -> list[list[str]]:
    """The header and example rows of a file ``import_file`` reads."""
    examples = _PRODUCT_EXAMPLES if kind == "products" else _ORDER_EXAMPLES
    return [list(HEADERS[kind].values()), *examples]


def template_csv(kind: Kind) -> bytes:
    return spreadsheets.write_csv(template_rows(kind))
