"""Import and export: a spreadsheet in, every row or none; the export reads back unchanged."""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl
import pytest

from kefu import spreadsheets
from kefu.errors import Invalid
from kefu.events import EventBus
from kefu.kb import service as kb
from kefu.kb.events import FaqImported
from tests.factories import ShopWithStaff, make_shop_with_staff
from tests.kb.conftest import UowFactory, add


def _csv(rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # as Excel keeps typed text: "=…" is not a formula
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _import(
    uow_factory: UowFactory,
    shop: ShopWithStaff,
    data: bytes,
    filename: str = "kb.csv",
    **kw: object,
) -> kb.ImportResult:
    with uow_factory() as uow:
        return kb.import_entries(
            uow,
            shop_id=shop.shop.id,
            data=data,
            filename=filename,
            acting_agent_id=shop.owner.id,
            **kw,  # type: ignore[arg-type]
        )


def _entries(
    uow_factory: UowFactory, shop: ShopWithStaff
) -> list[tuple[list[str], str, str, bool]]:
    with uow_factory() as uow:
        page = kb.search_entries(uow.session, shop_id=shop.shop.id, limit=200)
        return [
            (v.questions, v.entry.answer, v.entry.category, v.entry.enabled)
            for v in reversed(page.items)
        ]


GOOD = [
    ["问题", "答案", "分类", "启用", "商品SKU"],
    ["什么时候发货|几天能发货", "16点前付款当天发出", "发货", "是", ""],
    ["有运费险吗\n退货有运费险吗", "每单都送运费险", "运费险", "", ""],
    ["卫衣起球吗", "{customer_name},不起球哦", "", "否", "ML-HD001"],
]


def test_a_csv_adds_an_entry_per_row(
    uow_factory: UowFactory, shop: ShopWithStaff, bus: EventBus
) -> None:
    with bus.capture() as events:
        result = _import(uow_factory, shop, _csv(GOOD))
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    assert _entries(uow_factory, shop) == [
        (["什么时候发货", "几天能发货"], "16点前付款当天发出", "发货", True),
        (["有运费险吗", "退货有运费险吗"], "每单都送运费险", "运费险", True),
        (["卫衣起球吗"], "{customer_name},不起球哦", "", False),
    ]
    with uow_factory() as uow:
        [scoped] = kb.search_entries(uow.session, shop_id=shop.shop.id, query="起球").items
        assert scoped.product_sku == "ML-HD001"
        assert scoped.entry.created_by_id == shop.owner.id
    assert [e for e in events if isinstance(e, FaqImported)] == [
        FaqImported(shop_id=shop.shop.id, created=3, updated=0, unchanged=0)
    ]


def test_an_xlsx_with_english_headers_and_excel_cells_imports_too(
    uow_factory: UowFactory, shop: ShopWithStaff
) -> None:
    data = _xlsx(
        [
            ["Category", "Questions", "Answer", "Enabled", "Notes"],
            ["发货", "什么时候发货\n几天能发货", "当天发出", True, "ignored"],
            [None, "能开发票吗", "可以", False, None],
            [None, None, None, None, None],
            ["尺码", 160, "穿M码", 1, None],
        ]
    )
    result = _import(uow_factory, shop, data, "知识库.xlsx")
    assert result.created == 3
    assert _entries(uow_factory, shop) == [
        (["什么时候发货", "几天能发货"], "当天发出", "发货", True),
        (["能开发票吗"], "可以", "", False),
        (["160"], "穿M码", "尺码", True),
    ]


def test_one_broken_row_and_nothing_is_imported_with_every_broken_row_named(
    uow_factory: UowFactory, shop: ShopWithStaff, bus: EventBus
) -> None:
    existing = add(uow_factory, shop, ["能开发票吗"], "可以开电子发票")
    rows = [
        *GOOD,
        ["能便宜点吗", "", "优惠", "是", ""],  # row 5: no answer
        ["在吗", "您好{nickname}", "", "是", ""],  # row 6: not a variable
        ["几天能发货", "48小时", "", "是", ""],  # row 7: also in row 2
        ["可以退货吗", "支持", "", "也许", ""],  # row 8: not 是 or 否
        ["这件有XL吗", "有", "", "是", "NO-SUCH-SKU"],  # row 9
        ["", "只有答案", "", "", ""],  # row 10: no question
        [
            "可以开发票吗|能开发票吗",
            "可以",
            "",
            "",
            "",
        ],  # row 11: first phrasing is new, second taken
    ]
    with bus.capture() as events, pytest.raises(kb.ImportRejected) as rejected:
        _import(uow_factory, shop, _csv(rows))
    errors = [(e.row, e.column) for e in rejected.value.errors]
    assert errors == [
        (5, "答案"),
        (6, "答案"),
        (7, "问题"),
        (8, "启用"),
        (9, "商品SKU"),
        (10, "问题"),
        (11, "问题"),
    ]
    messages = {e.row: e.message for e in rejected.value.errors}
    assert "{nickname}" in messages[6]
    assert "row 2" in messages[7]
    assert f"entry {existing.id}" in messages[11]
    assert rejected.value.params["count"] == 7
    assert events == []
    assert _entries(uow_factory, shop) == [(["能开发票吗"], "可以开电子发票", "", True)]
    with uow_factory() as uow:
        assert kb.revision(uow.session, shop_id=shop.shop.id) == 1  # only the first add


@pytest.mark.parametrize("format", ["csv", "xlsx"])
def test_importing_an_export_changes_nothing_and_an_edited_export_updates_in_place(
    uow_factory: UowFactory, shop: ShopWithStaff, bus: EventBus, format: str
) -> None:
    _import(uow_factory, shop, _csv(GOOD))
    add(uow_factory, shop, ["公式?"], '=HYPERLINK("http://evil")')  # a cell a sheet would run
    with uow_factory() as uow:
        exported = kb.export_entries(uow.session, shop_id=shop.shop.id, format=format)  # type: ignore[arg-type]
        revision = kb.revision(uow.session, shop_id=shop.shop.id)
    before = _entries(uow_factory, shop)
    with bus.capture() as events:
        again = _import(uow_factory, shop, exported.data, exported.filename)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert events == []
    assert _entries(uow_factory, shop) == before
    with uow_factory() as uow:
        assert kb.revision(uow.session, shop_id=shop.shop.id) == revision
    # Edit the export as a person would: change one answer, move a phrasing, add a row.
    table = [row for _, row in spreadsheets.read_table(exported.data, exported.filename)]
    table[1][2] = "16点前付款当天发出,最晚48小时"
    table[1][1] = "什么时候发货"  # gives up 几天能发货 ...
    table[2][1] = table[2][1] + "\n几天能发货"  # ... which row 3 takes
    table.append(["", "能开发票吗", "可以开电子发票", "", "是", "", ""])
    edited = _csv(table) if format == "csv" else _xlsx(table)  # type: ignore[arg-type]
    changed = _import(uow_factory, shop, edited, f"edited.{format}")
    assert (changed.created, changed.updated, changed.unchanged) == (1, 2, 2)
    assert _entries(uow_factory, shop) == [
        (["什么时候发货"], "16点前付款当天发出,最晚48小时", "发货", True),
        (["有运费险吗", "退货有运费险吗", "几天能发货"], "每单都送运费险", "运费险", True),
        (["卫衣起球吗"], "{customer_name},不起球哦", "", False),
        (["公式?"], '=HYPERLINK("http://evil")', "", True),
        (["能开发票吗"], "可以开电子发票", "", True),
    ]


def test_an_export_never_hands_a_formula_to_a_spreadsheet(
    uow_factory: UowFactory, shop: ShopWithStaff
) -> None:
    add(uow_factory, shop, ["-1是什么"], "=1+1", "@分类")
    with uow_factory() as uow:
        as_csv = kb.export_entries(uow.session, shop_id=shop.shop.id, format="csv")
        as_xlsx = kb.export_entries(uow.session, shop_id=shop.shop.id, format="xlsx")
    assert as_csv.data.startswith("\ufeff".encode())  # Excel reads UTF-8 with the BOM
    [_, row] = list(csv.reader(io.StringIO(as_csv.data.decode("utf-8-sig"))))
    assert row[1:4] == ["'-1是什么", "'=1+1", "'@分类"]
    sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx.data)).active
    assert [sheet.cell(row=2, column=c).data_type for c in (2, 3, 4)] == ["s", "s", "s"]
    assert sheet.cell(row=2, column=3).value == "=1+1"
    assert sheet.cell(row=1, column=2).value == "问题"


def test_an_export_moved_to_another_shop_matches_by_question(
    uow_factory: UowFactory, shop: ShopWithStaff
) -> None:
    _import(uow_factory, shop, _csv(GOOD[:3]))
    with uow_factory() as uow:
        exported = kb.export_entries(uow.session, shop_id=shop.shop.id, format="csv")
    other = make_shop_with_staff(uow_factory, "other")
    add(uow_factory, other, ["什么时候发货"], "另一家的说法")
    result = _import(uow_factory, other, exported.data)
    assert (result.created, result.updated) == (1, 1)  # ids of shop A name nothing in B
    assert _import(uow_factory, other, exported.data).unchanged == 2
    assert len(_entries(uow_factory, shop)) == 2  # A untouched


def test_a_dry_run_counts_and_writes_nothing(uow_factory: UowFactory, shop: ShopWithStaff) -> None:
    result = _import(uow_factory, shop, _csv(GOOD), dry_run=True)
    assert (result.created, result.dry_run) == (3, True)
    assert _entries(uow_factory, shop) == []


def test_chinese_excel_csv_in_gb18030_is_read(uow_factory: UowFactory, shop: ShopWithStaff) -> None:
    result = _import(uow_factory, shop, _csv(GOOD, encoding="gb18030"))
    assert result.created == 3
    assert _entries(uow_factory, shop)[0][0] == ["什么时候发货", "几天能发货"]


def _zip_of(name: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "filename", "key"),
    [
        (b"", "kb.csv", "errors.spreadsheet.file_empty"),
        (b"\n\n ,, \n", "kb.csv", "errors.spreadsheet.file_empty"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100,
            "kb.xls",
            "errors.spreadsheet.file_xls",
        ),
        (b"%PDF-1.4 binary", "kb.pdf", "errors.spreadsheet.file_type"),
        (b"\x89PNG\r\n\x1a\n\0\0\0", "kb.csv", "errors.spreadsheet.file_type"),
        (_zip_of("hello.txt", b"hi"), "kb.xlsx", "errors.spreadsheet.file_xlsx"),
        (_zip_of("a.docx", b"x"), "report.docx", "errors.spreadsheet.file_type"),
        ("标题,内容\n在吗,在的\n".encode(), "kb.csv", "errors.spreadsheet.file_header"),
        (b"x" * (spreadsheets.MAX_IMPORT_BYTES + 1), "kb.csv", "errors.spreadsheet.file_too_large"),
    ],
)
def test_a_file_that_is_not_a_kb_spreadsheet_gets_a_clear_error(
    uow_factory: UowFactory, shop: ShopWithStaff, data: bytes, filename: str, key: str
) -> None:
    with pytest.raises(Invalid) as refused:
        _import(uow_factory, shop, data, filename)
    assert (refused.value.key, refused.value.field) == (key, "file")
    assert _entries(uow_factory, shop) == []


def test_too_many_rows_are_refused(
    uow_factory: UowFactory, shop: ShopWithStaff, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spreadsheets, "MAX_IMPORT_ROWS", 3)
    rows = [["问题", "答案"], *([f"问题{i}", "答案"] for i in range(4))]
    with pytest.raises(Invalid) as refused:
        _import(uow_factory, shop, _csv(rows))
    assert refused.value.key == "errors.spreadsheet.file_too_many_rows"
    assert _import(uow_factory, shop, _csv(rows[:4])).created == 3
