"""Import and export the KB as a spreadsheet (CSV or XLSX).

Columns, by their header in the first row (Chinese or English, any order; others ignored):

    编号 id          the entry's id (exports fill it; leave empty for new entries)
    问题 questions   phrasings, one per line or separated by "|"      (required)
    答案 answer      the answer, may use {customer_name} …            (required)
    分类 category
    启用 enabled     是/否 (also 1/0, true/false, yes/no); empty: 是
    商品SKU product_sku   only about this product

A row updates the entry named by its 编号 when that is an entry of this shop; otherwise
the entry that already has the row's first phrasing; otherwise it adds a new entry. So
importing an export again changes nothing, and an export moved to another shop matches by
question. Every row is checked before anything is written: one broken row and nothing is
imported, and the error names every broken row (its number as the spreadsheet shows it,
the header being row 1) and column.

CSV files are read as UTF-8 (with or without BOM) or GB18030 (what Excel saves in China);
exports are UTF-8 with a BOM so Excel opens them correctly. A cell starting with = + - @
is exported with a leading apostrophe (so a spreadsheet does not run it as a formula) and
read back without it.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kefu.commerce.models import Product
from kefu.errors import DomainError, Invalid
from kefu.kb import entries
from kefu.kb.entries import EntryView
from kefu.kb.events import FaqImported
from kefu.kb.models import FaqEntry, FaqQuestion
from kefu.uow import UnitOfWork

MAX_IMPORT_BYTES = 1_000_000
MAX_IMPORT_ROWS = 2000
MAX_XLSX_UNPACKED_BYTES = 30_000_000  # a zip bomb is refused before it is opened
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Format = Literal["csv", "xlsx"]

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


@dataclass(frozen=True)
class RowError:
    row: int  # as the spreadsheet numbers it: the header is row 1
    column: str  # the header as written in the file
    error: DomainError

    @property
    def message(self) -> str:
        return self.error.message


class ImportRejected(Invalid):
    """Rows of an import are broken; nothing was imported."""

    code = "import_rejected"

    def __init__(self, errors: Sequence[RowError]) -> None:
        rows = sorted({e.row for e in errors})
        first = errors[0] if errors else None
        where = f"; row {first.row}, {first.column}: {first.message}" if first else ""
        super().__init__(
            f"{len(rows)} row(s) have errors (rows {', '.join(map(str, rows[:20]))}){where}; "
            "nothing was imported",
            field="file",
            key="errors.kb.import_rejected",
            count=len(rows),
        )
        self.errors = list(errors)


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    dry_run: bool = False

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass
class _Row:
    number: int
    columns: dict[str, str]  # column -> header as written
    target: int | None = None
    questions: list[tuple[str, str]] = field(default_factory=list)
    answer: str = ""
    category: str = ""
    enabled: bool = True
    product_id: int | None = None


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    data: bytes


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


def _unescape(value: str) -> str:
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_START:
        return value[1:]
    return value


# --- checking rows -----------------------------------------------------------------------


def _columns(header: list[str]) -> dict[int, tuple[str, str]]:
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


def _parse_row(
    session: Session,
    shop_id: int,
    number: int,
    cells: list[str],
    columns: dict[int, tuple[str, str]],
    skus: dict[str, int],
    errors: list[RowError],
) -> _Row:
    values: dict[str, str] = {}
    headers: dict[str, str] = {}
    for index, (name, header) in columns.items():
        values[name] = _unescape(cells[index].strip()) if index < len(cells) else ""
        headers[name] = header
    row = _Row(number=number, columns=headers)

    def fail(column: str, error: DomainError) -> None:
        errors.append(RowError(number, headers.get(column, HEADERS[column]), error))

    raw_id = values.get("id", "")
    if raw_id:
        if not raw_id.isdigit() or not 1 <= int(raw_id) <= 2**31 - 1:
            fail("id", Invalid(f"{raw_id!r} is not an entry number", key="errors.kb.bad_id"))
        else:
            row.target = session.scalar(
                select(FaqEntry.id).where(FaqEntry.shop_id == shop_id, FaqEntry.id == int(raw_id))
            )
    try:
        parts = [p for line in values.get("questions", "").splitlines() for p in line.split("|")]
        row.questions = entries.check_questions([p.replace("｜", "|") for p in parts])
    except DomainError as exc:
        fail("questions", exc)
    try:
        row.answer = entries.check_answer(values.get("answer", ""))
    except DomainError as exc:
        fail("answer", exc)
    try:
        row.category = entries.check_category(values.get("category", ""))
    except DomainError as exc:
        fail("category", exc)
    enabled = values.get("enabled", "").strip().lower()
    if enabled in YES or not enabled:
        row.enabled = True
    elif enabled in NO:
        row.enabled = False
    else:
        fail(
            "enabled",
            Invalid(f"{enabled!r} is not 是 or 否", key="errors.kb.bad_enabled", value=enabled),
        )
    sku = values.get("product_sku", "").strip()
    if sku:
        if sku in skus:
            row.product_id = skus[sku]
        else:
            fail(
                "product_sku",
                Invalid(f"no product with SKU {sku!r}", key="errors.kb.unknown_sku", sku=sku),
            )
    return row


def _check_rows(session: Session, shop_id: int, rows: list[_Row], errors: list[RowError]) -> None:
    """Rows that name the same entry twice, or share a phrasing with each other or the KB."""
    for row in rows:
        if row.target is None and row.questions:
            row.target = entries.entry_for_question(
                session, shop_id=shop_id, question=row.questions[0][0]
            )
    targeted: dict[int, int] = {}
    for row in rows:
        if row.target is None:
            continue
        if row.target in targeted:
            errors.append(
                RowError(
                    row.number,
                    row.columns.get("id", HEADERS["questions"]),
                    Invalid(
                        f"row {targeted[row.target]} already changes entry {row.target}",
                        key="errors.kb.same_entry_twice",
                        other_row=targeted[row.target],
                        entry_id=row.target,
                    ),
                )
            )
        else:
            targeted[row.target] = row.number
    in_file: dict[str, int] = {}
    keys = [key for row in rows for _, key in row.questions]
    owners = dict(
        session.execute(
            select(FaqQuestion.normalized, FaqQuestion.entry_id).where(
                FaqQuestion.shop_id == shop_id, FaqQuestion.normalized.in_(keys)
            )
        ).all()
    )
    for row in rows:
        column = row.columns["questions"]
        for text, key in row.questions:
            if key in in_file:
                errors.append(
                    RowError(
                        row.number,
                        column,
                        Invalid(
                            f"the phrasing {text!r} is also in row {in_file[key]}",
                            key="errors.kb.question_in_two_rows",
                            question=text,
                            other_row=in_file[key],
                        ),
                    )
                )
                continue
            in_file[key] = row.number
            owner = owners.get(key)
            # Owned by an entry this file also rewrites: that row decides where it goes.
            if owner is not None and owner != row.target and owner not in targeted:
                errors.append(
                    RowError(
                        row.number,
                        column,
                        Invalid(
                            f"the phrasing {text!r} already belongs to entry {owner}",
                            key="errors.kb.duplicate_question",
                            question=text,
                            entry_id=owner,
                        ),
                    )
                )


# --- importing ---------------------------------------------------------------------------


def import_entries(
    uow: UnitOfWork,
    *,
    shop_id: int,
    data: bytes,
    filename: str = "",
    acting_agent_id: int | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Import a CSV or XLSX file: every row, or nothing (``ImportRejected`` lists why).

    ``dry_run`` checks the file and counts what would change, writing nothing.
    """
    session = uow.session
    table = read_table(data, filename)
    (_, header), *body = table
    columns = _columns(header)
    skus = dict(
        session.execute(select(Product.sku, Product.id).where(Product.shop_id == shop_id)).all()
    )
    errors: list[RowError] = []
    rows = [
        _parse_row(session, shop_id, number, cells, columns, skus, errors) for number, cells in body
    ]
    _check_rows(session, shop_id, rows, errors)
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e.row))
    current = {
        view.id: view
        for view in entries.views(
            session,
            list(
                session.scalars(
                    select(FaqEntry).where(
                        FaqEntry.shop_id == shop_id,
                        FaqEntry.id.in_([r.target for r in rows if r.target is not None]),
                    )
                )
            ),
        )
    }
    changes = [r for r in rows if r.target is None or _differs(current[r.target], r)]
    created = sum(r.target is None for r in changes)
    result = ImportResult(
        created=created,
        updated=len(changes) - created,
        unchanged=len(rows) - len(changes),
        dry_run=dry_run,
    )
    if dry_run or not changes:
        return result
    try:
        _apply(uow, shop_id, changes, acting_agent_id)
    except DomainError as exc:  # checked above, so only a concurrent change gets here
        uow.rollback()
        raise ImportRejected([RowError(0, "", exc)]) from exc
    uow.collect(
        FaqImported(
            shop_id=shop_id,
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
        )
    )
    uow.commit()
    return result


def _differs(view: EntryView, row: _Row) -> bool:
    entry = view.entry
    return (
        view.questions != [text for text, _ in row.questions]
        or entry.answer != row.answer
        or entry.category != row.category
        or entry.enabled != row.enabled
        or entry.product_id != row.product_id
    )


def _apply(uow: UnitOfWork, shop_id: int, rows: list[_Row], acting_agent_id: int | None) -> None:
    session = uow.session
    # First take away the phrasings the updated entries lose, so one row may move a
    # phrasing to another entry without the two ever holding it at once.
    for row in rows:
        if row.target is not None:
            keep = [key for _, key in row.questions]
            session.execute(
                delete(FaqQuestion).where(
                    FaqQuestion.entry_id == row.target, FaqQuestion.normalized.not_in(keep)
                )
            )
    session.flush()
    for row in rows:
        questions = [text for text, _ in row.questions]
        if row.target is None:
            entries.create_entry(
                uow,
                shop_id=shop_id,
                questions=questions,
                answer=row.answer,
                category=row.category,
                product_id=row.product_id,
                enabled=row.enabled,
                acting_agent_id=acting_agent_id,
                commit=False,
            )
        else:
            entries.update_entry(
                uow,
                shop_id=shop_id,
                entry_id=row.target,
                questions=questions,
                answer=row.answer,
                category=row.category,
                product_id=row.product_id,
                enabled=row.enabled,
                acting_agent_id=acting_agent_id,
                commit=False,
            )


# --- exporting ---------------------------------------------------------------------------


def _escape(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def export_rows(session: Session, *, shop_id: int) -> list[list[str | int]]:
    found = entries.all_entries(session, shop_id=shop_id)
    rows: list[list[str | int]] = [list(HEADERS.values())]
    for view in found:
        entry = view.entry
        rows.append(
            [
                entry.id,
                "\n".join(view.questions),
                entry.answer,
                entry.category,
                "是" if entry.enabled else "否",
                view.product_sku or "",
                entry.hit_count,
            ]
        )
    return rows


def export_entries(session: Session, *, shop_id: int, format: Format = "xlsx") -> ExportFile:
    """The shop's whole KB as a file that ``import_entries`` reads back unchanged."""
    rows = export_rows(session, shop_id=shop_id)
    if format == "csv":
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\r\n")
        for row in rows:
            writer.writerow([_escape(v) if isinstance(v, str) else v for v in row])
        return ExportFile(
            "kb.csv", "text/csv; charset=utf-8", buffer.getvalue().encode("utf-8-sig")
        )
    return ExportFile(
        "kb.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _xlsx(rows),
    )


def _xlsx(rows: list[list[str | int]]) -> bytes:
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
