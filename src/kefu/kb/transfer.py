"""Import and export the KB as a spreadsheet (CSV or XLSX; its columns are
:mod:`kefu.kb.spreadsheets`, reading and writing the files :mod:`kefu.spreadsheets`).

A row updates the entry named by its 编号 when that is an entry of this shop; otherwise
the entry that already has the row's first phrasing; otherwise it adds a new entry. So
importing an export again changes nothing, and an export moved to another shop matches by
question. Every row is checked before anything is written: one broken row and nothing is
imported, and the error names every broken row (its number as the spreadsheet shows it,
the header being row 1) and column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kefu.commerce.models import Product
from kefu.errors import DomainError, Invalid
from kefu.kb import catalogue, entries, spreadsheets
from kefu.kb.catalogue import EntryView
from kefu.kb.events import FaqImported
from kefu.kb.models import FaqEntry, FaqQuestion
from kefu.kb.spreadsheets import HEADERS, NO, YES
from kefu.uow import UnitOfWork

Format = Literal["csv", "xlsx"]


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


# --- checking rows -----------------------------------------------------------------------


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
        values[name] = spreadsheets.unescape(cells[index].strip()) if index < len(cells) else ""
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
            row.target = catalogue.entry_for_question(
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
    table = spreadsheets.read_table(data, filename)
    (_, header), *body = table
    columns = spreadsheets.columns(header)
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
        for view in catalogue.views(
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


def export_rows(session: Session, *, shop_id: int) -> list[list[str | int]]:
    found = catalogue.all_entries(session, shop_id=shop_id)
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
        return ExportFile("kb.csv", "text/csv; charset=utf-8", spreadsheets.write_csv(rows))
    return ExportFile(
        "kb.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        spreadsheets.write_xlsx(rows),
    )
