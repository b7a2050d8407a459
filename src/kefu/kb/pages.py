"""The knowledge base pages (知识库).

Every member of staff sees the list (agents answer from it); supervisors and owners add
and edit entries. Each form posts back and lands on a page with a notice, or with the
reason it was refused and nothing changed. Import is :mod:`kefu.kb.import_pages`; the
unanswered questions and the lint are :mod:`kefu.kb.unanswered_pages`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from starlette.responses import HTMLResponse, RedirectResponse, Response

from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.errors import Conflict, Invalid
from kefu.kb import service
from kefu.shops import service as shops
from kefu.uow import UnitOfWork
from kefu.web.context import AppContext
from kefu.web.deps import ResourceId, ensure_role, get_context, get_uow, page_locale, page_principal
from kefu.web.errors import localised, status_of
from kefu.web.security import check_csrf, safe_next
from kefu.web.templating import render

router = APIRouter(include_in_schema=False, prefix="/kb")
PAGE_SIZE = 30
NOTICES = ("added", "saved", "deleted", "enabled", "disabled", "to_entry", "to_phrasing", "ignored")
STATUSES = ("all", "enabled", "disabled")


def shop_zone(uow: UnitOfWork, principal: Principal) -> str:
    return shops.get_shop(uow.session, shop_id=principal.shop_id).timezone


def notice_of(done: str | None) -> str | None:
    return done if done in NOTICES else None


# --- the list ----------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def kb_list(
    request: Request,
    q: str = Query(default="", max_length=100),
    category: str | None = Query(default=None, max_length=40),
    status: str = Query(default="all", max_length=10),
    page: int = Query(default=1, ge=1, le=10_000),
    done: str | None = Query(default=None, max_length=20),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    _: str = Depends(page_locale),
) -> HTMLResponse:
    status = status if status in STATUSES else "all"
    found = service.search_entries(
        uow.session,
        shop_id=principal.shop_id,
        query=q,
        category=category or None,
        enabled=None if status == "all" else status == "enabled",
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    can_edit = principal.has_role(Role.SUPERVISOR)
    filters = {"q": q, "category": category or "", "status": status}
    context = {
        "page_of": found,
        "filters": filters,
        "categories": service.list_categories(uow.session, shop_id=principal.shop_id),
        "statuses": STATUSES,
        "page": page,
        "pages": max(1, -(-found.total // PAGE_SIZE)),
        "query_for": lambda n: urlencode({**{k: v for k, v in filters.items() if v}, "page": n}),
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "can_edit": can_edit,
        "open_questions": service.count_open_groups(uow.session, shop_id=principal.shop_id)
        if can_edit
        else 0,
        "zone": shop_zone(uow, principal),
        "notice": notice_of(done),
    }
    return render(request, "kb_list.html", context)


@router.post("/{entry_id}/enabled")
def toggle(
    request: Request,
    entry_id: ResourceId,
    enabled: bool = Form(...),
    next: str = Form(default="/kb", max_length=2000),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> Response:
    check_csrf(request, csrf_token)
    ensure_role(principal, Role.SUPERVISOR)
    service.set_enabled(
        uow,
        shop_id=principal.shop_id,
        entry_id=entry_id,
        enabled=enabled,
        acting_agent_id=principal.agent_id,
    )
    target = safe_next(next)
    if not target.startswith("/kb"):
        target = "/kb"
    joiner = "&" if "?" in target else "?"
    done = "enabled" if enabled else "disabled"
    return RedirectResponse(f"{target}{joiner}done={done}#entry-{entry_id}", status_code=303)


# --- one entry ---------------------------------------------------------------------------


def _blank_form() -> dict[str, Any]:
    return {
        "questions": ["", ""],
        "answer": "",
        "category": "",
        "product_id": None,
        "enabled": True,
    }


def _entry_page(
    request: Request,
    uow: UnitOfWork,
    principal: Principal,
    *,
    view: service.EntryView | None,
    form: dict[str, Any],
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "view": view,
        "form": form,
        "error": error,
        "notice": notice,
        "products": service.product_choices(uow.session, shop_id=principal.shop_id),
        "categories": [
            c for c, _ in service.list_categories(uow.session, shop_id=principal.shop_id)
        ],
        "variables": service.VARIABLES,
        "max_question": service.MAX_QUESTION_LENGTH,
        "max_answer": service.MAX_ANSWER_LENGTH,
        "zone": shop_zone(uow, principal),
    }
    return render(request, "kb_entry.html", context, status_code=status_code)


def _form_of(view: service.EntryView) -> dict[str, Any]:
    return {
        "questions": [*view.questions, ""],
        "answer": view.entry.answer,
        "category": view.entry.category,
        "product_id": view.entry.product_id,
        "enabled": view.entry.enabled,
    }


def _product_id(raw: str) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise Invalid("choose a product from the list", field="product_id")
    return int(raw)


@router.get("/new", response_class=HTMLResponse)
def new_entry(
    request: Request,
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    _: str = Depends(page_locale),
) -> HTMLResponse:
    ensure_role(principal, Role.SUPERVISOR)
    return _entry_page(request, uow, principal, view=None, form=_blank_form())


@router.post("/new", response_class=HTMLResponse)
def create_entry(
    request: Request,
    questions: list[str] = Form(default=[]),
    answer: str = Form(default="", max_length=10_000),
    category: str = Form(default="", max_length=200),
    product_id: str = Form(default="", max_length=20),
    enabled: bool = Form(default=False),
    image: UploadFile | None = File(default=None),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    context: AppContext = Depends(get_context),
    locale: str = Depends(page_locale),
) -> Response:
    return _save(
        request,
        uow,
        principal,
        context,
        locale=locale,
        csrf_token=csrf_token,
        entry_id=None,
        form={
            "questions": questions,
            "answer": answer,
            "category": category,
            "product_id": product_id,
            "enabled": enabled,
        },
        image=image,
        remove_image=False,
    )


@router.get("/{entry_id}", response_class=HTMLResponse)
def edit_entry(
    request: Request,
    entry_id: ResourceId,
    done: str | None = Query(default=None, max_length=20),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    _: str = Depends(page_locale),
) -> HTMLResponse:
    ensure_role(principal, Role.SUPERVISOR)
    view = service.get_entry(uow.session, shop_id=principal.shop_id, entry_id=entry_id)
    return _entry_page(
        request, uow, principal, view=view, form=_form_of(view), notice=notice_of(done)
    )


@router.post("/{entry_id}", response_class=HTMLResponse)
def save_entry(
    request: Request,
    entry_id: ResourceId,
    questions: list[str] = Form(default=[]),
    answer: str = Form(default="", max_length=10_000),
    category: str = Form(default="", max_length=200),
    product_id: str = Form(default="", max_length=20),
    enabled: bool = Form(default=False),
    remove_image: bool = Form(default=False),
    image: UploadFile | None = File(default=None),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    context: AppContext = Depends(get_context),
    locale: str = Depends(page_locale),
) -> Response:
    return _save(
        request,
        uow,
        principal,
        context,
        locale=locale,
        csrf_token=csrf_token,
        entry_id=entry_id,
        form={
            "questions": questions,
            "answer": answer,
            "category": category,
            "product_id": product_id,
            "enabled": enabled,
        },
        image=image,
        remove_image=remove_image,
    )


def _save(
    request: Request,
    uow: UnitOfWork,
    principal: Principal,
    context: AppContext,
    *,
    locale: str,
    csrf_token: str,
    entry_id: int | None,
    form: dict[str, Any],
    image: UploadFile | None,
    remove_image: bool,
) -> Response:
    check_csrf(request, csrf_token)
    ensure_role(principal, Role.SUPERVISOR)
    settings = context.settings
    upload = None
    if image is not None and image.filename:
        upload = service.ImageUpload(
            data=image.file.read(settings.max_upload_bytes + 1),
            filename=image.filename,
            directory=settings.uploads_path,
            max_bytes=settings.max_upload_bytes,
        )
    try:
        view = service.save_entry(
            uow,
            shop_id=principal.shop_id,
            entry_id=entry_id,
            questions=form["questions"],
            answer=form["answer"],
            category=form["category"],
            product_id=_product_id(form["product_id"]),
            enabled=form["enabled"],
            image=upload,
            remove_image=remove_image,
            acting_agent_id=principal.agent_id,
        )
    except (Invalid, Conflict) as exc:
        uow.rollback()
        current = None
        if entry_id is not None:
            current = service.get_entry(uow.session, shop_id=principal.shop_id, entry_id=entry_id)
        form["questions"] = [*form["questions"], ""]
        return _entry_page(
            request,
            uow,
            principal,
            view=current,
            form=form,
            error=localised(locale, exc),
            status_code=status_of(exc),
        )
    done = "added" if entry_id is None else "saved"
    return RedirectResponse(f"/kb/{view.id}?done={done}", status_code=303)


@router.post("/{entry_id}/delete")
def delete_entry(
    request: Request,
    entry_id: ResourceId,
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> Response:
    check_csrf(request, csrf_token)
    ensure_role(principal, Role.SUPERVISOR)
    service.delete_entry(
        uow, shop_id=principal.shop_id, entry_id=entry_id, acting_agent_id=principal.agent_id
    )
    return RedirectResponse("/kb?done=deleted", status_code=303)
