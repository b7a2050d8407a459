"""Builders for test data, going through the real services."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kefu.accounts import service as accounts
from kefu.accounts.models import Agent, Role
from kefu.shops import service as shops
from kefu.shops.models import Shop
from kefu.uow import UnitOfWork

PASSWORD = "correct horse battery"

UowFactory = Callable[[], UnitOfWork]


@dataclass
class ShopWithStaff:
    shop: Shop
    owner: Agent
    supervisor: Agent
    agent: Agent


def make_shop(uow_factory: UowFactory, slug: str, name: str = "测试店铺") -> Shop:
    with uow_factory() as uow:
        return shops.create_shop(uow, slug=slug, name=name, timezone="Asia/Shanghai")


def make_agent(
    uow_factory: UowFactory,
    shop: Shop,
    *,
    email: str,
    role: Role = Role.AGENT,
    name: str = "小美",
    team_codes: Sequence[str] = ("presale",),
) -> Agent:
    with uow_factory() as uow:
        team_ids = [
            shops.get_team_by_code(uow.session, shop_id=shop.id, code=c).id for c in team_codes
        ]
        return accounts.create_agent(
            uow,
            shop_id=shop.id,
            email=email,
            display_name=name,
            password=PASSWORD,
            role=role,
            team_ids=team_ids,
        )


def make_shop_with_staff(uow_factory: UowFactory, slug: str) -> ShopWithStaff:
    shop = make_shop(uow_factory, slug, name=f"{slug} 旗舰店")
    return ShopWithStaff(
        shop=shop,
        owner=make_agent(
            uow_factory, shop, email=f"owner@{slug}.test", role=Role.OWNER, name="掌柜"
        ),
        supervisor=make_agent(
            uow_factory, shop, email=f"lead@{slug}.test", role=Role.SUPERVISOR, name="主管"
        ),
        agent=make_agent(
            uow_factory, shop, email=f"agent@{slug}.test", role=Role.AGENT, name="小美"
        ),
    )
