"""Customers: one per shop id, addressed properly, searchable, never mixed across shops."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kefu.crm import service as crm
from kefu.errors import Conflict, Invalid
from kefu.uow import UnitOfWork
from tests.factories import make_shop

UowFactory = Callable[[], UnitOfWork]


@pytest.mark.parametrize(
    ("name", "gender", "nickname", "expected"),
    [
        ("王芳", "F", "", "王女士"),
        ("李雷", "M", "lilei88", "李先生"),
        ("张伟", None, "tb_zw", "tb_zw"),  # gender unknown: never guess 先生/女士
        ("", None, "", "亲"),
    ],
)
def test_agents_address_the_buyer_by_surname_and_title_when_known(
    uow_factory: UowFactory, name: str, gender: str | None, nickname: str, expected: str
) -> None:
    shop = make_shop(uow_factory, "mianli")
    with uow_factory() as uow:
        customer = crm.create_customer(
            uow, shop_id=shop.id, name=name, gender=gender, nickname=nickname
        )
    assert crm.salutation(customer) == expected


def test_the_shops_own_customer_id_is_unique_per_shop(uow_factory: UowFactory) -> None:
    a, b = make_shop(uow_factory, "shop-a"), make_shop(uow_factory, "shop-b")
    with uow_factory() as uow:
        crm.create_customer(uow, shop_id=a.id, external_id="tb_1001", name="王芳")
        crm.create_customer(uow, shop_id=b.id, external_id="tb_1001", name="别的店的王芳")
    with uow_factory() as uow, pytest.raises(Conflict):
        crm.create_customer(uow, shop_id=a.id, external_id="tb_1001", name="重复")
    with uow_factory() as uow:
        assert crm.count_customers(uow.session, shop_id=a.id) == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"gender": "X"}, "gender"),
        ({"vip_level": 11}, "vip_level"),
        ({"name": "名" * 61}, "name"),
        ({"nickname": "bad\x00nick"}, "nickname"),
        ({"external_id": ""}, "external_id"),
    ],
)
def test_bad_customer_details_are_refused(
    uow_factory: UowFactory, changes: dict[str, object], field: str
) -> None:
    shop = make_shop(uow_factory, "mianli")
    with uow_factory() as uow, pytest.raises(Invalid) as refused:
        crm.create_customer(uow, shop_id=shop.id, **changes)  # type: ignore[arg-type]
    assert refused.value.field == field
    with uow_factory() as uow:
        assert crm.count_customers(uow.session, shop_id=shop.id) == 0


def test_search_finds_by_name_nickname_phone_or_shop_id_within_the_shop(
    uow_factory: UowFactory,
) -> None:
    a, b = make_shop(uow_factory, "shop-a"), make_shop(uow_factory, "shop-b")
    with uow_factory() as uow:
        fang = crm.create_customer(
            uow,
            shop_id=a.id,
            name="王芳",
            nickname="芳芳爱购物",
            phone="13800138000",
            external_id="tb_fang",
        )
        crm.create_customer(uow, shop_id=a.id, name="李雷", nickname="lilei")
        crm.create_customer(uow, shop_id=b.id, name="王芳", phone="13800138000")
    with uow_factory() as uow:
        for query in ("王", "芳芳", "138001", "tb_fang"):
            found = crm.list_customers(uow.session, shop_id=a.id, search=query)
            assert [c.id for c in found] == [fang.id], query
        assert len(crm.list_customers(uow.session, shop_id=a.id)) == 2
        assert crm.list_customers(uow.session, shop_id=a.id, limit=1, offset=1)[0].name == "李雷"
        assert crm.customers_by_id(uow.session, shop_id=b.id, ids=[fang.id]) == {}
