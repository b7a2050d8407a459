"""After-sales cases over REST (/api/v1/sales/cases).

Every member of staff lists and reads cases and registers a buyer's request; deciding and
the steps after it need a person (an agent's session): an API token may open and read
cases, never decide one.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from kefu.accounts.auth import Principal
from kefu.conversations import desk
from kefu.db import MAX_ID
from kefu.errors import PermissionDenied
from kefu.sales import service
from kefu.sales.schemas import (
    CaseCancelIn,
    CaseCompleteIn,
    CaseDecisionIn,
    CaseDetailOut,
    CaseList,
    CaseOpenIn,
    CaseOut,
    CaseReturnedIn,
)
from kefu.uow import UnitOfWork
from kefu.web.deps import ResourceId, api_principal, get_uow

router = APIRouter(prefix="/api/v1/sales/cases", tags=["after-sales cases"])


def _person(uow: UnitOfWork, principal: Principal, case_id: int) -> int:
    """The agent taking a step on the case. Another shop's case is 404 before anything."""
    service.get_case(uow.session, shop_id=principal.shop_id, case_id=case_id)
    if principal.agent_id is None:
        raise PermissionDenied(
            "only a member of staff decides an after-sales case (not an API token)",
            key="errors.case_needs_person",
        )
    return principal.agent_id


def _detail(uow: UnitOfWork, principal: Principal, case_id: int) -> dict[str, Any]:
    return service.case_detail(uow.session, shop_id=principal.shop_id, case_id=case_id)


@router.get("", response_model=CaseList)
def list_cases(
    status: service.CaseStatus | None = None,
    kind: service.CaseKind | None = None,
    order_id: int | None = Query(default=None, ge=1, le=MAX_ID),
    conversation_id: int | None = Query(default=None, ge=1, le=MAX_ID),
    customer_id: int | None = Query(default=None, ge=1, le=MAX_ID),
    limit: int = Query(default=50, ge=1, le=200),
    offset: int = Query(default=0, ge=0, le=MAX_ID),
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> CaseList:
    """Newest first; the filters combine."""
    filters: dict[str, Any] = {
        "status": status,
        "kind": kind,
        "order_id": order_id,
        "conversation_id": conversation_id,
        "customer_id": customer_id,
    }
    session, shop_id = uow.session, principal.shop_id
    cases = service.list_cases(session, shop_id=shop_id, limit=limit, offset=offset, **filters)
    return CaseList(
        total=service.count_cases(session, shop_id=shop_id, **filters),
        cases=[CaseOut(**row) for row in service.case_rows(session, shop_id=shop_id, cases=cases)],
    )


@router.get("/{case_id}", response_model=CaseDetailOut)
def get_case(
    case_id: ResourceId,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> dict[str, Any]:
    return _detail(uow, principal, case_id)


@router.post("", response_model=CaseDetailOut, status_code=201)
def open_case(
    body: CaseOpenIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> dict[str, Any]:
    """Register a buyer's refund, return or exchange request; the conversation goes to 售后
    and the buyer is told."""
    if body.conversation_id is not None:
        # An agent registers requests in the conversations they may work.
        desk.conversation_for(
            uow.session,
            shop_id=principal.shop_id,
            conversation_id=body.conversation_id,
            viewer=desk.viewer_of(uow.session, principal),
        )
    case = service.open_case(
        uow,
        shop_id=principal.shop_id,
        order_id=body.order_id,
        kind=body.kind,
        reason=body.reason,
        conversation_id=body.conversation_id,
        photo_attachment_ids=body.photo_attachment_ids,
        opened_by_agent_id=principal.agent_id,
        amount=body.amount,
    )
    return _detail(uow, principal, case.id)


@router.post("/{case_id}/decision", response_model=CaseDetailOut)
def decide(
    case_id: ResourceId,
    body: CaseDecisionIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> dict[str, Any]:
    service.decide_case(
        uow,
        shop_id=principal.shop_id,
        case_id=case_id,
        agent_id=_person(uow, principal, case_id),
        approve=body.approve,
        note=body.note,
    )
    return _detail(uow, principal, case_id)


@router.post("/{case_id}/returned", response_model=CaseDetailOut)
def goods_returned(
    case_id: ResourceId,
    body: CaseReturnedIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> dict[str, Any]:
    service.mark_goods_returned(
        uow,
        shop_id=principal.shop_id,
        case_id=case_id,
        tracking_no=body.tracking_no,
        agent_id=_person(uow, principal, case_id),
    )
    return _detail(uow, principal, case_id)


@router.post("/{case_id}/complete", response_model=CaseDetailOut)
def complete(
    case_id: ResourceId,
    body: CaseCompleteIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> dict[str, Any]:
    service.complete_case(
        uow,
        shop_id=principal.shop_id,
        case_id=case_id,
        agent_id=_person(uow, principal, case_id),
        reship_tracking_no=body.reship_tracking_no,
        note=body.note,
    )
    return _detail(uow, principal, case_id)


@router.post("/{case_id}/cancel", response_model=CaseDetailOut)
def cancel(
    case_id: ResourceId,
    body: CaseCancelIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> dict[str, Any]:
    """The buyer withdrew the request."""
    service.cancel_case(
        uow,
        shop_id=principal.shop_id,
        case_id=case_id,
        agent_id=_person(uow, principal, case_id),
        note=body.note,
    )
    return _detail(uow, principal, case_id)
