"""Importing products or orders from a spreadsheet (商品/订单 → 导入): every row or none.

Supervisors and owners only, as for the knowledge base's import. A refused file lands back
on the page with every problem found, each naming its row and column; nothing is imported.
The templates are CSV files with example rows.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from starlette.responses import HTMLResponse, Response

from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.commerce import import_rows
from kefu.commerce.import_rows import KINDS, Kind
from kefu.errors import DomainError
from kefu.spreadsheets import MAX_IMPORT_ROWS
from kefu.uow import UnitOfWork
from kefu.web.deps import ensure_role, get_uow, page_locale, page_principal
from kefu.web.errors import localised, status_of
from kefu.web.security import check_csrf
from kefu.web.templating import render

router = APIRouter(include_in_schema=False, prefix="/commerce")


def _kind(raw: str) -> Kind:
    return "orders" if raw == "orders" else "products"


@router.get("/import", response_class=HTMLResponse)
def import_page(
    request: Request,
    kind: str = Query(default="products", max_length=10),
    principal: Principal = Depends(page_principal),
    _: str = Depends(page_locale),
) -> HTMLResponse:
    ensure_role(principal, Role.SUPERVISOR)
    return _page(request, kind=_kind(kind))


@router.post("/import", response_class=HTMLResponse)
def import_file(
    request: Request,
    kind: str = Form(default="products", max_length=10),
    file: UploadFile | None = File(default=None),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> HTMLResponse:
    check_csrf(request, csrf_token)
    ensure_role(principal, Role.SUPERVISOR)
    chosen = _kind(kind)
    data = file.file.read(import_rows.MAX_IMPORT_BYTES + 1) if file is not None else b""
    filename = (file.filename or "") if file is not None else ""
    try:
        result = import_rows.import_file(
            uow, shop_id=principal.shop_id, kind=chosen, data=data, filename=filename
        )
    except import_rows.ImportRejected as exc:
        uow.rollback()
        problems = [(e.row, e.column, localised(locale, e.error)) for e in exc.errors]
        return _page(
            request,
            kind=chosen,
            error=localised(locale, exc),
            problems=problems,
            more=exc.total - len(exc.errors),
            filename=filename,
            status_code=422,
        )
    except DomainError as exc:
        uow.rollback()
        return _page(
            request,
            kind=chosen,
            error=localised(locale, exc),
            filename=filename,
            status_code=status_of(exc),
        )
    return _page(request, kind=chosen, result=result, filename=filename)


@router.get("/import/template.csv")
def template(
    kind: str = Query(default="products", max_length=10),
    principal: Principal = Depends(page_principal),
) -> Response:
    ensure_role(principal, Role.SUPERVISOR)
    chosen = _kind(kind)
    return Response(
        import_rows.template_csv(chosen),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{chosen}-template.csv"'},
    )


def _page(
    request: Request,
    *,
    kind: Kind,
    result: import_rows.ImportResult | None = None,
    error: str | None = None,
    problems: list[tuple[int | None, str, str]] | None = None,
    more: int = 0,
    filename: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "kind": kind,
        "kinds": KINDS,
        "result": result,
        "error": error,
        "problems": problems or [],
        "more": more,
        "filename": filename,
        "limit_kb": import_rows.MAX_IMPORT_BYTES // 1000,
        "limit_rows": MAX_IMPORT_ROWS,
        "columns": {k: list(import_rows.HEADERS[k].items()) for k in KINDS},
        "required": import_rows.REQUIRED,
    }
    return render(request, "commerce_import.html", context, status_code=status_code)
