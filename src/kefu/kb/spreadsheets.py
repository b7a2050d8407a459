"""The KB as a spreadsheet file (CSV or XLSX): its columns, and reading and writing files.

Columns, by their header in the first row (Chinese or English, any order; others ignored):

    编号 id          the entry's id (exports fill it; leave empty for new entries)
    问题 questions   phrasings, one per line or separated by "|"      (required)
    答案 answer      the answer, may use {customer_name} …            (required)
    分类 category
    启用 enabled     是/否 (also 1/0, true/false, yes/no); empty: 是
    商品SKU product_sku   only about this product

CSV files are read as UTF-8 (with or without BOM) or GB18030 (what Excel saves in China);
exports are UTF-8 with a BOM so Excel opens them correctly. A cell starting with = + - @
is exported with a leading apostrophe (so a spreadsheet does not run it as a formula) and
read back without it.

What the rows mean, and the import and export themselves, is :mod:`kefu.kb.transfer`.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime
from typing import Any

from kefu.errors import Invalid

MAX_IMPORT_BYTES = 1_000_000
MAX_IMPORT_ROWS = 2000
MAX_XLSX_UNPACKED_BYTES = 30_000_000  # a zip bomb is refused before it is opened
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

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
    **{name: column for column, name in HEADERS.items()},
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
    "商品sku": "product_sku",
    "商品编码": "product_sku",
}
YES = {"是", "启用", "1", "true", "yes", "y", "on", "开", "开启", "✓"}
NO = {"否", "停用", "禁用", "0", "false", "no", "n", "off", "关", "关闭"}


# --- reading files -----------------------------------------------------------------------


def _file_error(message: str, key: str, **params: Any) -> Invalid:
    return Invalid(message, field="file", key=f"errors.kb.{key}", **params)


def read_table(data: bytes, filename: str = "") -> list[tuple[int, list[str]]]:
    """The file's non-blank rows as (row number, cells); refuses what is not CSV or XLSX."""
    if not data:
        raise _file_error("the file is empty", "file_empty")
    if len(data) > MAX_IMPORT_BYTES:
        raise _file_error(
            f"the file is {len(data)} bytes; the limit is {MAX_IMPORT_BYTES}",
            "file_too_large",
            limit_kb=MAX_IMPORT_BYTES // 1000,
        )
    name = filename.lower()
    suffix = name.rsplit(".", 1)[-1] if "." in name else ""
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise _file_error("old Excel .xls files cannot be read: save as .xlsx or CSV", "file_xls")
    if data.startswith(b"PK\x03\x04"):
        if suffix not in ("", "xlsx", "xlsm"):
            raise _file_error("only CSV or XLSX files can be imported", "file_type")
        rows = _read_xlsx(data)
    else:
        if suffix not in ("", "csv", "txt", "tsv"):
            raise _file_error("only CSV or XLSX files can be imported", "file_type")
        rows = _read_csv(data)
    table = []
    for number, cells in enumerate(rows, start=1):
        if any(cell.strip() for cell in cells):
            table.append((number, cells))
            if len(table) > MAX_IMPORT_ROWS + 1:
                raise _file_error(
                    f"the file has more than {MAX_IMPORT_ROWS} rows",
                    "file_too_many_rows",
                    limit=MAX_IMPORT_ROWS,
                )
    if not table:
        raise _file_error("the file is empty", "file_empty")
    return table


def _read_csv(data: bytes) -> list[list[str]]:
    if b"\x00" in data[:4096]:
        raise _file_error("only CSV or XLSX files can be imported", "file_type")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes nearly anything; kept for clarity
        raise _file_error("only CSV or XLSX files can be imported", "file_type")
    first = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first.count) if first else ","
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise _file_error(f"the CSV file cannot be read: {exc}", "file_csv") from exc


def _read_xlsx(data: bytes) -> list[list[str]]:
    import openpyxl  # imported here: only imports of XLSX files pay for it

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_XLSX_UNPACKED_BYTES:
            raise _file_error("the XLSX file is too large once unpacked", "file_too_large_xlsx")
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Invalid:
        raise
    except Exception as exc:  # zipfile, openpyxl and XML errors: a damaged or foreign file
        raise _file_error("the XLSX file cannot be read", "file_xlsx") from exc
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for values in sheet.iter_rows(values_only=True):
            rows.append([_cell_text(v) for v in values])
            if len(rows) > MAX_IMPORT_ROWS * 2 + 10:
                break  # read_table counts the rows that matter and refuses
        return rows
    except Exception as exc:
        raise _file_error("the XLSX file cannot be read", "file_xlsx") from exc
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def unescape(value: str) -> str:
    """A cell as it was before ``escape`` guarded it."""
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_START:
        return value[1:]
    return value


def columns(header: list[str]) -> dict[int, tuple[str, str]]:
    """Column index -> (column, header as written) for the columns Kefu knows."""
    found: dict[int, tuple[str, str]] = {}
    taken: set[str] = set()
    for index, raw in enumerate(header):
        name = ALIASES.get(raw.strip().lower().replace(" ", "").lstrip("\ufeff"))
        if name and name not in taken:
            taken.add(name)
            found[index] = (name, raw.strip())
    missing = [HEADERS[c] for c in ("questions", "answer") if c not in taken]
    if missing:
        raise _file_error(
            "the first row must name the columns 问题 (questions) and 答案 (answer)",
            "file_header",
            missing="、".join(missing),
        )
    return found


# --- writing files -----------------------------------------------------------------------


def escape(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula."""
    return "'" + value if value.startswith(FORMULA_START) else value


def write_csv(rows: list[list[str | int]]) -> bytes:
    """UTF-8 with a BOM (so Excel opens it correctly), every text cell ``escape``d."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([escape(v) if isinstance(v, str) else v for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def write_xlsx(rows: list[list[str | int]]) -> bytes:
    """One sheet, the header row bold and frozen; text cells are never formulas."""
    import openpyxl
    from openpyxl.styles import Alignment, Font

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "知识库"
    wrap = Alignment(wrap_text=True, vertical="top")
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            cell.alignment = wrap
            if r == 1:
                cell.font = Font(bold=True)
    for letter, width in zip("ABCDEFG", (8, 40, 60, 12, 8, 16, 10), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
