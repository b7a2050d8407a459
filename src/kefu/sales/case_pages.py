"""The after-sales pages (售后): the list of cases and one case with its order, the buyer's
reason and photos, its steps in shop time, and the forms for the next step.

Every member of staff may look; each form posts back and lands on the case with a notice,
or on the case again with the reason it was refused (and nothing changed).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.errors import DomainError, Invalid, NotFound, PermissionDenied
from kefu.sales import service
from kefu.sales.models import CaseKind, CaseStatus
from kefu.shops import service as shops
from kefu.uow import UnitOfWork
from kefu.web.deps import ResourceId, ensure_role, get_uow, page_locale, page_principal
from kefu.web.errors import localised, status_of
from kefu.web.security import check_csrf
from kefu.web.templating import render

router = APIRouter(include_in_schema=False, prefix="/aftersales")
PAGE_SIZE = 30
NOTICES = {"approved", "rejected", "goods_returned", "completed", "cancelled"}


def _zone(uow: UnitOfWork, principal: Principal) -> str:
    return shops.get_shop(uow.session, shop_id=principal.shop_id).timezone


def age(since: datetime, now: datetime) -> tuple[str, int]:
    """How long a case has waited, in the largest whole unit (for 「3 小时」)."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 60:
        return "minutes", minutes
    if minutes < 24 * 60:
        return "hours", minutes // 60
    return "days", minutes // (24 * 60)


@router.get("", response_class=HTMLResponse)
def case_list(
    request: Request,
    status: str = Query(default="", max_length=20),
    kind: str = Query(default="", max_length=20),
    page: int = Query(default=1, ge=1, le=10_000),
    saved: str = Query(default="", max_length=1),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    _: str = Depends(page_locale),
    error: str = "",
) -> HTMLResponse:
    # An unknown filter value shows everything rather than an error page.
    chosen_status = CaseStatus(status) if status in {s.value for s in CaseStatus} else None
    chosen_kind = CaseKind(kind) if kind in {k.value for k in CaseKind} else None
    session, shop_id = uow.session, principal.shop_id
    cases = service.list_cases(
        session,
        shop_id=shop_id,
        status=chosen_status,
        kind=chosen_kind,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    total = service.count_cases(session, shop_id=shop_id, status=chosen_status, kind=chosen_kind)
    now = uow.clock.now()
    filters = {
        "status": chosen_status.value if chosen_status else "",
        "kind": chosen_kind.value if chosen_kind else "",
    }
    context = {
        "rows": [
            {**row, "age": age(row["created_at"], now)}
            for row in service.case_rows(session, shop_id=shop_id, cases=cases)
        ],
        "total": total,
        "filters": filters,
        "statuses": list(CaseStatus),
        "kinds": list(CaseKind),
        "counts": {
            s: service.count_cases(session, shop_id=shop_id, status=s, kind=chosen_kind)
            for s in CaseStatus
        },
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "query_for": _pager(filters),
        "zone": _zone(uow, principal),
        "return_address": service.settings_of(session, shop_id=shop_id).return_address,
        "can_edit": principal.has_role(Role.SUPERVISOR),
        "saved": saved == "1",
        "error": error,
    }
    return render(request, "sales_cases.html", context)


@router.post("/return-address", response_class=HTMLResponse)
def save_return_address(
    request: Request,
    return_address: str = Form(default="", max_length=1000),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    """Where buyers send returns and exchanges: told to them when a case is approved."""
    check_csrf(request, csrf_token)
    ensure_role(principal, Role.SUPERVISOR)
    try:
        service.update_settings(uow, shop_id=principal.shop_id, return_address=return_address)
    except Invalid as exc:
        uow.rollback()
        return case_list(
            request, principal=principal, uow=uow, _=locale, error=localised(locale, exc)
        )
    return RedirectResponse("/aftersales?saved=1", status_code=303)


def _pager(filters: dict[str, str]) -> Callable[..., str]:
    def query(**changes: str | int) -> str:
        merged = {**filters, **changes}
        return urlencode({k: v for k, v in merged.items() if v})

    return query


@router.get("/{case_id}", response_class=HTMLResponse)
def case_page(
    request: Request,
    case_id: ResourceId,
    done: str | None = Query(default=None, max_length=20),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    _: str = Depends(page_locale),
) -> HTMLResponse:
    notice = done if done in NOTICES else None
    return _case_page(request, uow, principal, case_id, notice=notice)


def _case_page(
    request: Request,
    uow: UnitOfWork,
    principal: Principal,
    case_id: int,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    session, shop_id = uow.session, principal.shop_id
    case = service.case_detail(session, shop_id=shop_id, case_id=case_id)
    context = {
        "case": case,
        "order": service.order_summary(session, shop_id=shop_id, order_id=case["order_id"]),
        "age": age(case["created_at"], uow.clock.now()),
        "zone": _zone(uow, principal),
        "notice": notice,
        "error": error,
        "can_act": principal.agent_id is not None,
    }
    return render(request, "sales_case.html", context, status_code=status_code)


def _act(
    request: Request,
    uow: UnitOfWork,
    principal: Principal,
    *,
    case_id: int,
    locale: str,
    csrf_token: str,
    action: Callable[[int], CaseStatus],
) -> Response:
    check_csrf(request, csrf_token)
    # 404 before anything else: another shop's case is not there at all.
    service.get_case(uow.session, shop_id=principal.shop_id, case_id=case_id)
    if principal.agent_id is None:  # a page's caller is always an agent's session
        raise PermissionDenied("only a member of staff takes a step on a case")
    try:
        status = action(principal.agent_id)
    except NotFound:
        raise  # an id in the form that is not the shop's: 404, not a message on the page
    except DomainError as exc:
        uow.rollback()
        return _case_page(
            request,
            uow,
            principal,
            case_id,
            error=localised(locale, exc),
            status_code=status_of(exc),
        )
    return RedirectResponse(f"/aftersales/{case_id}?done={status.value}", status_code=303)


@router.post("/{case_id}/decision", response_class=HTMLResponse)
def decide(
    request: Request,
    case_id: ResourceId,
    decision: str = Form(default="", max_length=10),
    note: str = Form(default="", max_length=2000),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    def action(agent_id: int) -> CaseStatus:
        if decision not in ("approve", "reject"):
            raise Invalid("choose to approve or to reject", field="decision")
        return service.decide_case(
            uow,
            shop_id=principal.shop_id,
            case_id=case_id,
            agent_id=agent_id,
            approve=decision == "approve",
            note=note,
        ).status

    return _act(
        request, uow, principal, case_id=case_id, locale=locale, csrf_token=csrf_token,
        action=action,
    )  # fmt: skip


@router.post("/{case_id}/returned", response_class=HTMLResponse)
def goods_returned(
    request: Request,
    case_id: ResourceId,
    tracking_no: str = Form(default="", max_length=100),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    def action(agent_id: int) -> CaseStatus:
        return service.mark_goods_returned(
            uow,
            shop_id=principal.shop_id,
            case_id=case_id,
            tracking_no=tracking_no,
            agent_id=agent_id,
        ).status

    return _act(
        request, uow, principal, case_id=case_id, locale=locale, csrf_token=csrf_token,
        action=action,
    )  # fmt: skip


@router.post("/{case_id}/complete", response_class=HTMLResponse)
def complete(
    request: Request,
    case_id: ResourceId,
    reship_tracking_no: str = Form(default="", max_length=100),
    note: str = Form(default="", max_length=2000),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    def action(agent_id: int) -> CaseStatus:
        return service.complete_case(
            uow,
            shop_id=principal.shop_id,
            case_id=case_id,
            agent_id=agent_id,
            reship_tracking_no=reship_tracking_no,
            note=note,
        ).status

    return _act(
        request, uow, principal, case_id=case_id, locale=locale, csrf_token=csrf_token,
        action=action,
    )  # fmt: skip


@router.post("/{case_id}/cancel", response_class=HTMLResponse)
def cancel(
    request: Request,
    case_id: ResourceId,
    note: str = Form(default="", max_length=2000),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    def action(agent_id: int) -> CaseStatus:
        return service.cancel_case(
            uow, shop_id=principal.shop_id, case_id=case_id, agent_id=agent_id, note=note
        ).status

    return _act(
        request, uow, principal, case_id=case_id, locale=locale, csrf_token=csrf_token,
        action=action,
    )  # fmt: skip
