"""The knowledge base's import page (知识库 → 导入): a CSV or XLSX file in, every row or none.

Supervisors and owners only. A refused file lands back on the page with every broken row;
nothing is imported. (The export is a plain download from the API.)
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from starlette.responses import HTMLResponse

from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.errors import DomainError
from kefu.kb import service
from kefu.uow import UnitOfWork
from kefu.web.deps import ensure_role, get_uow, page_locale, page_principal
from kefu.web.errors import localised, status_of
from kefu.web.security import check_csrf
from kefu.web.templating import render

router = APIRouter(include_in_schema=False, prefix="/kb")


@router.get("/import", response_class=HTMLResponse)
def import_page(
    request: Request,
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    _: str = Depends(page_locale),
) -> HTMLResponse:
    ensure_role(principal, Role.SUPERVISOR)
    return _import_page(request, uow, principal)


@router.post("/import", response_class=HTMLResponse)
def import_file(
    request: Request,
    file: UploadFile | None = File(default=None),
    dry_run: bool = Form(default=False),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> HTMLResponse:
    check_csrf(request, csrf_token)
    ensure_role(principal, Role.SUPERVISOR)
    data = file.file.read(service.MAX_IMPORT_BYTES + 1) if file is not None else b""
    filename = (file.filename or "") if file is not None else ""
    try:
        result = service.import_entries(
            uow,
            shop_id=principal.shop_id,
            data=data,
            filename=filename,
            acting_agent_id=principal.agent_id,
            dry_run=dry_run,
        )
    except service.ImportRejected as exc:
        uow.rollback()
        rows = [(e.row, e.column, localised(locale, e.error)) for e in exc.errors]
        return _import_page(
            request,
            uow,
            principal,
            error=localised(locale, exc),
            rows=rows,
            filename=filename,
            status_code=422,
        )
    except DomainError as exc:
        uow.rollback()
        return _import_page(
            request,
            uow,
            principal,
            error=localised(locale, exc),
            filename=filename,
            status_code=status_of(exc),
        )
    return _import_page(request, uow, principal, result=result, filename=filename)


def _import_page(
    request: Request,
    uow: UnitOfWork,
    principal: Principal,
    *,
    result: service.ImportResult | None = None,
    error: str | None = None,
    rows: list[tuple[int, str, str]] | None = None,
    filename: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "result": result,
        "error": error,
        "rows": rows or [],
        "filename": filename,
        "limit_kb": service.MAX_IMPORT_BYTES // 1000,
        "entries": service.count_entries(uow.session, shop_id=principal.shop_id),
    }
    return render(request, "kb_import.html", context, status_code=status_code)
