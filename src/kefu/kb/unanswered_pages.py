"""The knowledge base's to-do pages: the questions the bot could not answer (未解决问题),
each group turned into an entry, added to one or ignored, and the lint report.

Supervisors and owners only. Each form posts back and lands on the page with a notice, or
with the reason it was refused and nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.errors import Conflict, Invalid
from kefu.kb import service
from kefu.kb.pages import notice_of, shop_zone
from kefu.uow import UnitOfWork
from kefu.web.deps import ResourceId, ensure_role, get_uow, page_locale, page_principal
from kefu.web.errors import localised, status_of
from kefu.web.security import check_csrf
from kefu.web.templating import render

router = APIRouter(include_in_schema=False, prefix="/kb")


@router.get("/unanswered", response_class=HTMLResponse)
def unanswered(
    request: Request,
    done: str | None = Query(default=None, max_length=20),
    entry: int | None = Query(default=None, ge=1, le=2**31 - 1),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    _: str = Depends(page_locale),
) -> HTMLResponse:
    ensure_role(principal, Role.SUPERVISOR)
    return _unanswered_page(request, uow, principal, notice=notice_of(done), entry_id=entry)


def _unanswered_page(
    request: Request,
    uow: UnitOfWork,
    principal: Principal,
    *,
    notice: str | None = None,
    entry_id: int | None = None,
    error: str | None = None,
    error_group: int | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    session = uow.session
    page = service.list_groups(session, shop_id=principal.shop_id, limit=50)
    context = {
        "groups": page.items,
        "total": page.total,
        "fresh": {
            g.id: service.group_questions(session, shop_id=principal.shop_id, group_id=g.id)
            for g in page.items
        },
        "zone": shop_zone(uow, principal),
        "notice": notice,
        "entry_id": entry_id,
        "error": error,
        "error_group": error_group,
    }
    return render(request, "kb_unanswered.html", context, status_code=status_code)


def _resolve(
    request: Request,
    uow: UnitOfWork,
    principal: Principal,
    *,
    locale: str,
    csrf_token: str,
    group_id: int,
    notice: str,
    action: Callable[[], int | None],
) -> Response:
    check_csrf(request, csrf_token)
    ensure_role(principal, Role.SUPERVISOR)
    try:
        entry_id = action()
    except (Invalid, Conflict) as exc:
        uow.rollback()
        return _unanswered_page(
            request,
            uow,
            principal,
            error=localised(locale, exc),
            error_group=group_id,
            status_code=status_of(exc),
        )
    query = {"done": notice, **({"entry": entry_id} if entry_id else {})}
    return RedirectResponse(f"/kb/unanswered?{urlencode(query)}", status_code=303)


@router.post("/unanswered/{group_id}/entry", response_class=HTMLResponse)
def group_to_entry(
    request: Request,
    group_id: ResourceId,
    questions: str = Form(default="", max_length=20_000),
    answer: str = Form(default="", max_length=10_000),
    category: str = Form(default="", max_length=200),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    return _resolve(
        request,
        uow,
        principal,
        locale=locale,
        csrf_token=csrf_token,
        group_id=group_id,
        notice="to_entry",
        action=lambda: (
            service.resolve_as_new_entry(
                uow,
                shop_id=principal.shop_id,
                group_id=group_id,
                answer=answer,
                questions=questions.splitlines(),
                category=category,
                acting_agent_id=principal.agent_id,
            ).id
        ),
    )


@router.post("/unanswered/{group_id}/phrasing", response_class=HTMLResponse)
def group_to_phrasing(
    request: Request,
    group_id: ResourceId,
    entry_id: str = Form(default="", max_length=20),
    other_entry_id: str = Form(default="", max_length=20),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    def add() -> int:
        chosen = (other_entry_id.strip().lstrip("#") or entry_id).strip()
        if not chosen.isdigit() or not 1 <= int(chosen) <= 2**31 - 1:
            raise Invalid(
                "choose the entry to add the question to",
                field="entry_id",
                key="errors.kb.no_entry",
            )
        return service.resolve_as_phrasing(
            uow,
            shop_id=principal.shop_id,
            group_id=group_id,
            entry_id=int(chosen),
            acting_agent_id=principal.agent_id,
        ).id

    return _resolve(
        request,
        uow,
        principal,
        locale=locale,
        csrf_token=csrf_token,
        group_id=group_id,
        notice="to_phrasing",
        action=add,
    )


@router.post("/unanswered/{group_id}/ignore", response_class=HTMLResponse)
def ignore_group(
    request: Request,
    group_id: ResourceId,
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    def ignore() -> None:
        service.ignore_group(
            uow, shop_id=principal.shop_id, group_id=group_id, acting_agent_id=principal.agent_id
        )

    return _resolve(
        request,
        uow,
        principal,
        locale=locale,
        csrf_token=csrf_token,
        group_id=group_id,
        notice="ignored",
        action=ignore,
    )


@router.get("/lint", response_class=HTMLResponse)
def lint(
    request: Request,
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    _: str = Depends(page_locale),
) -> HTMLResponse:
    ensure_role(principal, Role.SUPERVISOR)
    report = service.lint(uow.session, shop_id=principal.shop_id)
    return render(request, "kb_lint.html", {"report": report})
