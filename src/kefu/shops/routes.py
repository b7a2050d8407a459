"""The caller's shop and its teams."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from kefu.accounts.auth import Principal
from kefu.shops import service
from kefu.shops.schemas import ShopOut, TeamOut
from kefu.uow import UnitOfWork
from kefu.web.deps import ResourceId, api_principal, get_uow

router = APIRouter(prefix="/api/v1", tags=["shop"])


@router.get("/shop", response_model=ShopOut)
def get_shop(
    principal: Principal = Depends(api_principal), uow: UnitOfWork = Depends(get_uow)
) -> ShopOut:
    return ShopOut.model_validate(service.get_shop(uow.session, shop_id=principal.shop_id))


@router.get("/teams", response_model=list[TeamOut])
def list_teams(
    principal: Principal = Depends(api_principal), uow: UnitOfWork = Depends(get_uow)
) -> list[TeamOut]:
    return [
        TeamOut.model_validate(t)
        for t in service.list_teams(uow.session, shop_id=principal.shop_id)
    ]


@router.get("/teams/{team_id}", response_model=TeamOut)
def get_team(
    team_id: ResourceId,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> TeamOut:
    return TeamOut.model_validate(
        service.get_team(uow.session, shop_id=principal.shop_id, team_id=team_id)
    )
