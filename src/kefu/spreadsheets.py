"""Spreadsheet files (CSV or XLSX) in and out, for every import and export.

What the columns mean belongs to each importer (the KB in :mod:`kefu.kb.spreadsheets`,
the catalogue and orders in :mod:`kefu.commerce.import_rows`); this module only reads and
writes the files, safely:

- CSV is read as UTF-8 (with or without BOM) or GB18030 (what Excel saves in China), with
  comma, tab or semicolon between cells; written as UTF-8 with a BOM so Excel opens it.
- XLSX: the first sheet; a zip that unpacks too large is refused before it is opened.
- At most ``MAX_IMPORT_BYTES`` and ``MAX_IMPORT_ROWS`` non-blank rows under the header.
- A text cell starting with = + - @ is written with a leading apostrophe (a spreadsheet
  would run it as a formula) and ``unescape`` reads it back without it.

Every refusal is ``Invalid`` on the field ``file`` with a key under ``errors.spreadsheet``.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from kefu.errors import Invalid

MAX_IMPORT_BYTES = 1_000_000
MAX_IMPORT_ROWS = 2000
MAX_XLSX_UNPACKED_BYTES = 30_000_000  # a zip bomb is refused before it is opened
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# How people write yes and no in a cell.
YES = {"是", "启用", "1", "true", "yes", "y", "on", "开", "开启", "✓"}
NO = {"否", "停用", "禁用", "0", "false", "no", "n", "off", "关", "关闭"}

Cell = str | int


def file_error(message: str, key: str, **params: Any) -> Invalid:
    """A refusal of the whole file (not of one row)."""
    return Invalid(message, field="file", key=f"errors.spreadsheet.{key}", **params)


# --- reading files -----------------------------------------------------------------------


def read_table(data: bytes, filename: str = "") -> list[tuple[int, list[str]]]:
    """The file's non-blank rows as (row number, cells); refuses what is not CSV or XLSX.

    Row numbers are the spreadsheet's own (the header is row 1, blank rows still count),
    so an error can name the row a person sees.
    """
    if not data:
        raise file_error("the file is empty", "file_empty")
    if len(data) > MAX_IMPORT_BYTES:
        raise file_error(
            f"the file is {len(data)} bytes; the limit is {MAX_IMPORT_BYTES}",
            "file_too_large",
            limit_kb=MAX_IMPORT_BYTES // 1000,
        )
    name = filename.lower()
    suffix = name.rsplit(".", 1)[-1] if "." in name else ""
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise file_error("old Excel .xls files cannot be read: save as .xlsx or CSV", "file_xls")
    if data.startswith(b"PK\x03\x04"):
        if suffix not in ("", "xlsx", "xlsm"):
            raise file_error("only CSV or XLSX files can be imported", "file_type")
        rows = _read_xlsx(data)
    else:
        if suffix not in ("", "csv", "txt", "tsv"):
            raise file_error("only CSV or XLSX files can be imported", "file_type")
        rows = _read_csv(data)
    table = []
    for number, cells in enumerate(rows, start=1):
        if any(cell.strip() for cell in cells):
            table.append((number, cells))
            if len(table) > MAX_IMPORT_ROWS + 1:
                raise file_error(
                    f"the file has more than {MAX_IMPORT_ROWS} rows",
                    "file_too_many_rows",
                    limit=MAX_IMPORT_ROWS,
                )
    if not table:
        raise file_error("the file is empty", "file_empty")
    return table


def _read_csv(data: bytes) -> list[list[str]]:
    if b"\x00" in data[:4096]:
        raise file_error("only CSV or XLSX files can be imported", "file_type")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes nearly anything; kept for clarity
        raise file_error("only CSV or XLSX files can be imported", "file_type")
    first = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first.count) if first else ","
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise file_error(f"the CSV file cannot be read: {exc}", "file_csv") from exc


def _read_xlsx(data: bytes) -> list[list[str]]:
    import openpyxl  # imported here: only imports of XLSX files pay for it

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_XLSX_UNPACKED_BYTES:
            raise file_error("the XLSX file is too large once unpacked", "file_too_large_xlsx")
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Invalid:
        raise
    except Exception as exc:  # zipfile, openpyxl and XML errors: a damaged or foreign file
        raise file_error("the XLSX file cannot be read", "file_xlsx") from exc
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for values in sheet.iter_rows(values_only=True):
            rows.append([_cell_text(v) for v in values])
            if len(rows) > MAX_IMPORT_ROWS * 2 + 10:
                break  # read_table counts the rows that matter and refuses
        return rows
    except Exception as exc:
        raise file_error("the XLSX file cannot be read", "file_xlsx") from exc
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
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return str(value)


def unescape(value: str) -> str:
    """A cell as it was before ``escape`` guarded it."""
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_START:
        return value[1:]
    return value


def header_key(raw: str) -> str:
    """A header cell as the alias tables spell it: lower case, no spaces, no BOM."""
    return raw.strip().lower().replace(" ", "").lstrip("\ufeff")


def columns(
    header: Sequence[str], aliases: Mapping[str, str], required: Mapping[str, str]
) -> dict[int, tuple[str, str]]:
    """Column index -> (column, header as written) for the columns the importer knows.

    ``aliases`` maps every accepted header (as ``header_key`` spells it) to a column;
    ``required`` maps the columns a file must have to the header shown when one is missing.
    A column named twice is read from its first place; unknown columns are ignored.
    """
    found: dict[int, tuple[str, str]] = {}
    taken: set[str] = set()
    for index, raw in enumerate(header):
        name = aliases.get(header_key(raw))
        if name and name not in taken:
            taken.add(name)
            found[index] = (name, raw.strip().lstrip("\ufeff"))
    missing = [shown for column, shown in required.items() if column not in taken]
    if missing:
        raise file_error(
            f"the first row must name the columns {', '.join(required.values())}; "
            f"missing: {', '.join(missing)}",
            "file_header",
            missing="、".join(missing),
        )
    return found


def cells_of(cells: Sequence[str], found: Mapping[int, tuple[str, str]]) -> dict[str, str]:
    """One row's cells by column, stripped and unescaped (a missing cell is empty)."""
    return {
        name: unescape(cells[index].strip()) if index < len(cells) else ""
        for index, (name, _) in found.items()
    }


# --- writing files -----------------------------------------------------------------------


def escape(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula."""
    return "'" + value if value.startswith(FORMULA_START) else value


def write_csv(rows: Sequence[Sequence[Cell]]) -> bytes:
    """UTF-8 with a BOM (so Excel opens it correctly), every text cell ``escape``d."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([escape(v) if isinstance(v, str) else v for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def write_xlsx(
    rows: Sequence[Sequence[Cell]], *, title: str = "Sheet1", widths: Sequence[int] = ()
) -> bytes:
    """One sheet, the header row bold and frozen; text cells are never formulas."""
    import openpyxl
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
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
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
