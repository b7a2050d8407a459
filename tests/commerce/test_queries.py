"""Reads of the catalogue and the order book, each scoped to one shop."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest

from kefu.clock import FrozenClock
from kefu.commerce import service as commerce
from kefu.commerce.models import Product
from kefu.commerce.schemas import OrderIn, OrderLineSpec, ProductIn, VariantSpec
from kefu.errors import NotFound
from kefu.uow import UnitOfWork
from tests.factories import make_shop

UowFactory = Callable[[], UnitOfWork]


@pytest.fixture
def shops(uow_factory: UowFactory, clock: FrozenClock) -> tuple[int, int]:
    mine, other = make_shop(uow_factory, "mianli").id, make_shop(uow_factory, "other").id
    for shop_id, title in ((mine, "加绒卫衣女"), (other, "别家卫衣")):
        for number, (sku, name, on_sale) in enumerate(
            [("ML-HD001", title, True), ("ML-SOCK5", "纯棉中筒袜", False), ("50%_OFF", "Tee", True)]
        ):
            clock.advance(timedelta(minutes=1))  # listed one after another
            variants = (VariantSpec(sku=f"V-{sku}-M", size="M"),) if number == 0 else ()
            with uow_factory() as uow:
                commerce.upsert_product(
                    uow,
                    shop_id=shop_id,
                    item=ProductIn(
                        sku=sku,
                        title=name,
                        price=Decimal("10"),
                        on_sale=on_sale,
                        variants=variants,
                    ),
                )
    return mine, other


def _skus(products: list[Product]) -> list[str]:
    return [product.sku for product in products]


def test_search_finds_by_sku_start_variant_sku_or_title(
    uow_factory: UowFactory, shops: tuple[int, int]
) -> None:
    mine, _ = shops
    with uow_factory() as uow:

        def search(query: str, **options: object) -> list[str]:
            found = commerce.search_products(uow.session, shop_id=mine, query=query, **options)  # type: ignore[arg-type]
            return _skus(found)

        assert search("") == ["50%_OFF", "ML-SOCK5", "ML-HD001"]  # newest first
        assert search("", limit=1) == ["50%_OFF"]
        assert search("ML-") == ["ML-SOCK5", "ML-HD001"]
        assert search("V-ML-HD") == ["ML-HD001"]  # by a variant's SKU
        assert search("卫衣") == ["ML-HD001"]  # not the other shop's 别家卫衣
        assert search("tee") == ["50%_OFF"]  # title, any case
        assert search("50%") == ["50%_OFF"] and search("5_%") == []  # wildcards are literal
        assert search("ML-", on_sale_only=True) == ["ML-HD001"]
        assert search("HD001") == []  # a SKU matches from its start


def test_another_shops_product_or_order_is_not_found(
    uow_factory: UowFactory, shops: tuple[int, int], clock: FrozenClock
) -> None:
    mine, other = shops
    with uow_factory() as uow:
        theirs = commerce.search_products(uow.session, shop_id=other, query="ML-HD001")[0]
        order, _ = commerce.upsert_order(
            uow,
            shop_id=other,
            item=OrderIn(
                order_no="B1",
                customer_external_id="u-1",
                status="unpaid",
                created_at=clock.now(),
                lines=(OrderLineSpec(sku="ML-SOCK5", quantity=3),),
                ship_to_name="王",
                ship_to_phone="13800138000",
                ship_to_address="杭州",
            ),
        )
    with uow_factory() as uow:
        session = uow.session
        with pytest.raises(NotFound):
            commerce.get_product(session, shop_id=mine, product_id=theirs.id)
        with pytest.raises(NotFound):
            commerce.get_order(session, shop_id=mine, order_id=order.id)
        with pytest.raises(NotFound):
            commerce.get_order(session, shop_id=mine, order_id=2**40)
        assert commerce.find_order(session, shop_id=mine, order_no="B1") is None
        assert commerce.order_lines(session, shop_id=mine, order_ids=[order.id]) == {order.id: []}
        assert commerce.variants_of(session, shop_id=mine, product_ids=[theirs.id]) == {
            theirs.id: []
        }
        # The other shop reads its own.
        assert commerce.get_order(session, shop_id=other, order_id=order.id).order_no == "B1"
        lines = commerce.order_lines(session, shop_id=other, order_ids=[order.id])[order.id]
        assert [(line.sku, line.quantity) for line in lines] == [("ML-SOCK5", 3)]
        variants = commerce.variants_of(session, shop_id=other, product_ids=[theirs.id])
        assert [v.sku for v in variants[theirs.id]] == ["V-ML-HD001-M"]


def test_pictures_and_the_shipping_promise(uow_factory: UowFactory, shops: tuple[int, int]) -> None:
    mine, other = shops
    assert commerce.product_images(Product(images='["https://a.example/1.jpg"]')) == [
        "https://a.example/1.jpg"
    ]
    assert commerce.product_images(Product(images="not json")) == []
    assert commerce.product_images(Product(images='{"a": 1}')) == []
    with uow_factory() as uow:
        assert commerce.ships_within_hours(uow.session, shop_id=mine) == 48
        commerce.update_commerce_settings(uow, shop_id=mine, ships_within_hours=24)
    with uow_factory() as uow:
        assert commerce.ships_within_hours(uow.session, shop_id=mine) == 24
        assert commerce.ships_within_hours(uow.session, shop_id=other) == 48
