"""Shops are created with the five default teams, and bad shop details are refused whole."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from kefu.errors import Conflict, Invalid, NotFound
from kefu.events import EventBus
from kefu.shops import service as shops
from kefu.shops.events import ShopCreated
from kefu.shops.models import Shop, Team
from kefu.uow import UnitOfWork

UowFactory = Callable[[], UnitOfWork]


def test_a_new_shop_gets_the_five_service_teams_in_order(
    uow_factory: UowFactory, bus: EventBus
) -> None:
    with bus.capture() as events, uow_factory() as uow:
        shop = shops.create_shop(
            uow, slug=" MianLi ", name=" 棉里旗舰店 ", timezone="Asia/Shanghai"
        )
    assert (shop.slug, shop.name) == ("mianli", "棉里旗舰店")
    with uow_factory() as uow:
        teams = shops.list_teams(uow.session, shop_id=shop.id)
        assert [t.name for t in teams] == ["售前", "售后", "投诉", "推广", "发货"]
        assert [t.code for t in teams] == [
            "presale",
            "aftersale",
            "complaints",
            "promotion",
            "shipping",
        ]
        assert all(t.description for t in teams)
        assert shops.get_shop_by_slug(uow.session, slug="MIANLI").id == shop.id
    assert events == [ShopCreated(shop_id=shop.id, slug="mianli")]


@pytest.mark.parametrize(
    ("slug", "name", "timezone", "field"),
    [
        ("ab", "店", "Asia/Shanghai", "slug"),
        ("has space", "店", "Asia/Shanghai", "slug"),
        ("-dash", "店", "Asia/Shanghai", "slug"),
        ("店铺", "店", "Asia/Shanghai", "slug"),
        ("okshop", "   ", "Asia/Shanghai", "name"),
        ("okshop", "店" * 121, "Asia/Shanghai", "name"),
        ("okshop", "店\x00", "Asia/Shanghai", "name"),
        ("okshop", "店", "Mars/Olympus", "timezone"),
    ],
)
def test_bad_shop_details_are_refused_and_nothing_is_written(
    uow_factory: UowFactory, slug: str, name: str, timezone: str, field: str
) -> None:
    with uow_factory() as uow, pytest.raises(Invalid) as refused:
        shops.create_shop(uow, slug=slug, name=name, timezone=timezone)
    assert refused.value.field == field
    with uow_factory() as uow:
        assert uow.session.scalar(select(func.count(Shop.id))) == 0
        assert uow.session.scalar(select(func.count(Team.id))) == 0


def test_a_shop_code_is_taken_once(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        shops.create_shop(uow, slug="mianli", name="一号店", timezone="Asia/Shanghai")
    with uow_factory() as uow, pytest.raises(Conflict):
        shops.create_shop(uow, slug="MIANLI", name="二号店", timezone="Asia/Shanghai")
    with uow_factory() as uow:
        assert shops.count_shops(uow.session) == 1


def test_teams_are_found_only_in_their_own_shop(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        a = shops.create_shop(uow, slug="shop-a", name="A", timezone="Asia/Shanghai")
        b = shops.create_shop(uow, slug="shop-b", name="B", timezone="Asia/Taipei")
    with uow_factory() as uow:
        b_team = shops.get_team_by_code(uow.session, shop_id=b.id, code="aftersale")
        with pytest.raises(NotFound):
            shops.get_team(uow.session, shop_id=a.id, team_id=b_team.id)
        with pytest.raises(NotFound):
            shops.get_team_by_code(uow.session, shop_id=a.id, code="nonexistent")
        with pytest.raises(NotFound):
            shops.get_shop_by_slug(uow.session, slug="shop-c")
        assert shops.get_shop(uow.session, shop_id=b.id).timezone == "Asia/Taipei"
