"""The KB as a spreadsheet: its columns. Reading and writing the files is the core's
:mod:`kefu.spreadsheets` (CSV UTF-8/BOM/GB18030 or XLSX, limits, formula-safe cells).

Columns, by their header in the first row (Chinese or English, any order; others ignored):

    编号 id          the entry's id (exports fill it; leave empty for new entries)
    问题 questions   phrasings, one per line or separated by "|"      (required)
    答案 answer      the answer, may use {customer_name} …            (required)
    分类 category
    启用 enabled     是/否 (also 1/0, true/false, yes/no); empty: 是
    商品SKU product_sku   only about this product

What the rows mean, and the import and export themselves, is :mod:`kefu.kb.transfer`.
"""

from __future__ import annotations

from kefu import spreadsheets
from kefu.spreadsheets import MAX_IMPORT_BYTES as MAX_IMPORT_BYTES
from kefu.spreadsheets import NO as NO
from kefu.spreadsheets import YES as YES
from kefu.spreadsheets import read_table as read_table
from kefu.spreadsheets import unescape as unescape
from kefu.spreadsheets import write_csv as write_csv

# Export headers (Chinese first: the shop's staff edit these files) and every accepted name.
HEADERS: dict[str, str] = {
    "id": "编号",
    "questions": "问题",
    "answer": "答案",
    "category": "分类",
    "enabled": "启用",
    "product_sku": "商品SKU",
    "hit_count": "命中次数",
}
ALIASES: dict[str, str] = {
    **{spreadsheets.header_key(name): column for column, name in HEADERS.items()},
    **{column: column for column in HEADERS},
    "问法": "questions",
    "问题/问法": "questions",
    "question": "questions",
    "回答": "answer",
    "答复": "answer",
    "类别": "category",
    "是否启用": "enabled",
    "状态": "enabled",
    "sku": "product_sku",
    "商品": "product_sku",
    "商品编码": "product_sku",
}
REQUIRED = {"questions": HEADERS["questions"], "answer": HEADERS["answer"]}
COLUMN_WIDTHS = (8, 40, 60, 12, 8, 16, 10)


def columns(header: list[str]) -> dict[int, tuple[str, str]]:
    """Column index -> (column, header as written) for the KB's columns."""
    return spreadsheets.columns(header, ALIASES, REQUIRED)


def write_xlsx(rows: list[list[str | int]]) -> bytes:
    return spreadsheets.write_xlsx(rows, title="知识库", widths=COLUMN_WIDTHS)
