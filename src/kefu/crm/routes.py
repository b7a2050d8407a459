"""Customers over REST."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from kefu.accounts.auth import Principal
from kefu.crm import service
from kefu.crm.schemas import CustomerOut
from kefu.db import MAX_ID
from kefu.uow import UnitOfWork
from kefu.web.deps import ResourceId, api_principal, get_uow

router = APIRouter(prefix="/api/v1", tags=["customers"])


@router.get("/customers", response_model=list[CustomerOut])
def list_customers(
    q: str = Query(
        default="", max_length=60, description="name, nickname, phone or shop id contains"
    ),
    limit: int = Query(default=50, ge=1, le=service.MAX_PAGE_SIZE),
    offset: int = Query(default=0, ge=0, le=MAX_ID),
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> list[CustomerOut]:
    customers = service.list_customers(
        uow.session, shop_id=principal.shop_id, search=q, limit=limit, offset=offset
    )
    return [CustomerOut.model_validate(c) for c in customers]


@router.get("/customers/{customer_id}", response_model=CustomerOut)
def get_customer(
    customer_id: ResourceId,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> CustomerOut:
    customer = service.get_customer(uow.session, shop_id=principal.shop_id, customer_id=customer_id)
    return CustomerOut.model_validate(customer)
