"""Products from the shop's system: created, updated, sent again unchanged; batches all or
nothing with the refused item named; events only for what changed, only after commit."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from kefu.commerce import ingest_products
from kefu.commerce import service as commerce
from kefu.commerce.events import ProductCreated, ProductUpdated
from kefu.commerce.models import Product, ProductVariant
from kefu.commerce.schemas import ProductIn, UpsertReport, VariantSpec
from kefu.errors import Conflict, Invalid
from kefu.events import EventBus
from kefu.uow import UnitOfWork
from tests.commerce.statements import statements
from tests.factories import make_shop

UowFactory = Callable[[], UnitOfWork]
IMAGE = "https://img.mianli.example/hd001-1.jpg"


def hoodie(**overrides: Any) -> ProductIn:
    item = ProductIn(
        sku="ML-HD001",
        title="棉里 加绒卫衣女 圆领宽松",
        price=Decimal("139.00"),
        category="卫衣",
        variants=(
            VariantSpec(sku="ML-HD001-BK-M", size="M", colour="黑色", stock=20),
            VariantSpec(sku="ML-HD001-BK-L", size="L", colour="黑色", stock=15),
            VariantSpec(
                sku="ML-HD001-WH-L", size="L", colour="白色", stock=8, price=Decimal("149.00")
            ),
        ),
        tags=("新品", "加绒"),
        images=(IMAGE, "https://img.mianli.example/hd001-2.jpg"),
        description="秋冬加绒,不起球\n机洗 30°",
    )
    return replace(item, **overrides)


def sock(number: int, **overrides: Any) -> ProductIn:
    return replace(
        ProductIn(sku=f"SOCK-{number}", title=f"精梳棉中筒袜 {number} 号", price=Decimal("9.90")),
        **overrides,
    )


@pytest.fixture
def shop_id(uow_factory: UowFactory) -> int:
    return make_shop(uow_factory, "mianli").id


def _count(uow_factory: UowFactory, model: type[Any]) -> int:
    with uow_factory() as uow:
        return uow.session.scalar(select(func.count()).select_from(model)) or 0


def _product(uow_factory: UowFactory, shop_id: int, sku: str) -> tuple[Product, dict[str, Any]]:
    with uow_factory() as uow:
        product = uow.session.scalars(
            select(Product).where(Product.shop_id == shop_id, Product.sku == sku)
        ).one()
        variants = commerce.variants_of(uow.session, shop_id=shop_id, product_ids=[product.id])
        return product, {v.sku: (v.size, v.colour, v.price, v.stock) for v in variants[product.id]}


def test_a_new_product_is_created_with_its_variants_pictures_and_tags(
    uow_factory: UowFactory, shop_id: int, bus: EventBus
) -> None:
    with bus.capture() as events, uow_factory() as uow:
        report = commerce.upsert_products(uow, shop_id=shop_id, items=[hoodie(), sock(1)])
    assert report == UpsertReport(created=2)
    product, variants = _product(uow_factory, shop_id, "ML-HD001")
    assert (product.title, product.category, product.tags) == (
        "棉里 加绒卫衣女 圆领宽松",
        "卫衣",
        "新品,加绒",
    )
    assert product.description == "秋冬加绒,不起球\n机洗 30°"
    assert commerce.product_images(product) == [IMAGE, "https://img.mianli.example/hd001-2.jpg"]
    assert variants == {
        "ML-HD001-BK-M": ("M", "黑色", Decimal("139.00"), 20),
        "ML-HD001-BK-L": ("L", "黑色", Decimal("139.00"), 15),
        "ML-HD001-WH-L": ("L", "白色", Decimal("149.00"), 8),
    }
    sock_row, _ = _product(uow_factory, shop_id, "SOCK-1")
    assert events == [
        ProductCreated(shop_id=shop_id, product_id=product.id, sku="ML-HD001"),
        ProductCreated(shop_id=shop_id, product_id=sock_row.id, sku="SOCK-1"),
    ]


def test_the_same_products_sent_again_change_nothing_and_announce_nothing(
    uow_factory: UowFactory, shop_id: int, bus: EventBus, clock: Any
) -> None:
    with uow_factory() as uow:
        commerce.upsert_products(uow, shop_id=shop_id, items=[hoodie(), sock(1)])
    before, _ = _product(uow_factory, shop_id, "ML-HD001")
    clock.advance(timedelta(minutes=5))
    with bus.capture() as events, uow_factory() as uow:
        # Spaces around the SKU and a variant price equal to the product's are no change.
        again = hoodie(sku=" ML-HD001 ")
        report = commerce.upsert_products(uow, shop_id=shop_id, items=[again, sock(1)])
    assert report == UpsertReport(unchanged=2)
    assert events == []
    after, _ = _product(uow_factory, shop_id, "ML-HD001")
    assert after.updated_at == before.updated_at


def test_a_changed_product_is_updated_and_says_what_changed(
    uow_factory: UowFactory, shop_id: int, bus: EventBus
) -> None:
    with uow_factory() as uow:
        commerce.upsert_products(uow, shop_id=shop_id, items=[hoodie()])
    product, _ = _product(uow_factory, shop_id, "ML-HD001")
    variant_ids = {v.sku: v.id for v in _variants(uow_factory, product.id)}
    changed = hoodie(
        title="棉里 加绒卫衣女 圆领宽松 新款",
        images=(IMAGE,),
        on_sale=False,
        variants=(
            VariantSpec(sku="ML-HD001-BK-M", size="M", colour="黑色", stock=3),  # sold 17
            VariantSpec(
                sku="ML-HD001-WH-L", size="L", colour="白色", stock=8, price=Decimal("149.00")
            ),
            VariantSpec(sku="ML-HD001-WH-XL", size="XL", colour="白色", stock=4),  # new
        ),  # BK-L no longer sold
    )
    with bus.capture() as events, uow_factory() as uow:
        report = commerce.upsert_products(uow, shop_id=shop_id, items=[changed])
    assert report == UpsertReport(updated=1)
    assert events == [
        ProductUpdated(
            shop_id=shop_id,
            product_id=product.id,
            sku="ML-HD001",
            changed=("title", "on_sale", "images", "variants", "stock"),
        )
    ]
    after, variants = _product(uow_factory, shop_id, "ML-HD001")
    assert (after.title, after.on_sale, commerce.product_images(after)) == (
        "棉里 加绒卫衣女 圆领宽松 新款",
        False,
        [IMAGE],
    )
    assert variants == {
        "ML-HD001-BK-M": ("M", "黑色", Decimal("139.00"), 3),
        "ML-HD001-WH-L": ("L", "白色", Decimal("149.00"), 8),
        "ML-HD001-WH-XL": ("XL", "白色", Decimal("139.00"), 4),
    }
    # Variants kept are the same rows (order lines keep pointing at them).
    kept = {v.sku: v.id for v in _variants(uow_factory, product.id)}
    assert kept["ML-HD001-BK-M"] == variant_ids["ML-HD001-BK-M"]
    assert after.updated_at is not None


def _variants(uow_factory: UowFactory, product_id: int) -> list[ProductVariant]:
    with uow_factory() as uow:
        return list(
            uow.session.scalars(
                select(ProductVariant).where(ProductVariant.product_id == product_id)
            )
        )


def test_only_stock_changing_is_reported_as_stock(
    uow_factory: UowFactory, shop_id: int, bus: EventBus
) -> None:
    with uow_factory() as uow:
        commerce.upsert_products(uow, shop_id=shop_id, items=[hoodie()])
    variants = list(hoodie().variants)
    variants[0] = replace(variants[0], stock=0)
    with bus.capture() as events, uow_factory() as uow:
        commerce.upsert_products(uow, shop_id=shop_id, items=[hoodie(variants=tuple(variants))])
    assert [e.changed for e in events if isinstance(e, ProductUpdated)] == [("stock",)]


@pytest.mark.parametrize(
    ("bad", "field", "says"),
    [
        pytest.param({"price": Decimal("-5")}, "items[3].price", "price", id="negative price"),
        pytest.param({"price": Decimal(0)}, "items[3].price", "price", id="free"),
        pytest.param({"sku": "SOCK 3"}, "items[3].sku", "SKU", id="SKU with a space"),
        pytest.param({"title": " "}, "items[3].title", "title", id="no title"),
        pytest.param(
            {"images": ("http://img.mianli.example/a.jpg",)},
            "items[3].images[0]",
            "https",
            id="plain http picture",
        ),
        pytest.param(
            {"images": (IMAGE, "javascript:alert(1)")},
            "items[3].images[1]",
            "https",
            id="script picture",
        ),
        pytest.param({"images": (IMAGE,) * 10}, "items[3].images", "9", id="ten pictures"),
        pytest.param(
            {"images": ("https://img.mianli.example/" + "a" * 480,)},
            "items[3].images[0]",
            "500",
            id="long picture address",
        ),
        pytest.param(
            {"variants": (VariantSpec(sku="V-1"), VariantSpec(sku="V-2", stock=-1))},
            "items[3].variants[1].stock",
            "stock",
            id="negative stock",
        ),
        pytest.param(
            {"variants": (VariantSpec(sku="V-1"), VariantSpec(sku="V-1"))},
            "items[3].variants[1].sku",
            "twice",
            id="variant twice",
        ),
        pytest.param(
            {"variants": (VariantSpec(sku="V-1", price=Decimal("-1")),)},
            "items[3].variants[0].price",
            "price",
            id="negative variant price",
        ),
        pytest.param({"sku": "SOCK-1"}, "items[3].sku", "item 1", id="SKU twice in the batch"),
    ],
)
def test_one_bad_item_refuses_the_whole_batch_and_names_it(
    uow_factory: UowFactory,
    shop_id: int,
    bus: EventBus,
    bad: dict[str, Any],
    field: str,
    says: str,
) -> None:
    items = [sock(0), sock(1), sock(2), sock(3, **bad), sock(4)]
    with bus.capture() as events, uow_factory() as uow, pytest.raises(Invalid) as refused:
        commerce.upsert_products(uow, shop_id=shop_id, items=items)
    assert refused.value.field == field
    assert refused.value.message.startswith("item 3: ")
    assert says in refused.value.message
    assert _count(uow_factory, Product) == 0
    assert events == []


def test_a_variant_sku_of_another_product_is_refused(uow_factory: UowFactory, shop_id: int) -> None:
    with uow_factory() as uow:
        commerce.upsert_products(uow, shop_id=shop_id, items=[hoodie()])
    thief = sock(9, variants=(VariantSpec(sku="ML-HD001-BK-M"),))
    with uow_factory() as uow, pytest.raises(Invalid) as refused:
        commerce.upsert_products(uow, shop_id=shop_id, items=[sock(8), thief])
    assert refused.value.field == "items[1].variants[0].sku"
    assert "another product" in refused.value.message
    assert _count(uow_factory, Product) == 1


def test_a_single_product_names_its_field_without_an_item(
    uow_factory: UowFactory, shop_id: int
) -> None:
    with uow_factory() as uow, pytest.raises(Invalid) as refused:
        commerce.upsert_product(uow, shop_id=shop_id, item=sock(1, price=Decimal("-1")))
    assert refused.value.field == "price"
    with uow_factory() as uow:
        product, outcome = commerce.upsert_product(uow, shop_id=shop_id, item=sock(1))
    assert (product.sku, outcome) == ("SOCK-1", "created")


def test_more_than_1000_items_are_refused(uow_factory: UowFactory, shop_id: int) -> None:
    with uow_factory() as uow, pytest.raises(Invalid) as refused:
        commerce.upsert_products(uow, shop_id=shop_id, items=[sock(n) for n in range(1001)])
    assert refused.value.field == "items"
    assert "1,000" in refused.value.message
    assert _count(uow_factory, Product) == 0


def test_without_commit_nothing_is_announced_until_the_caller_commits(
    uow_factory: UowFactory, shop_id: int, bus: EventBus
) -> None:
    with bus.capture() as events, uow_factory() as uow:
        commerce.upsert_products(uow, shop_id=shop_id, items=[sock(1)], commit=False)
        assert events == []
    assert events == []  # left without commit: rolled back
    assert _count(uow_factory, Product) == 0
    with bus.capture() as events, uow_factory() as uow:
        commerce.upsert_products(uow, shop_id=shop_id, items=[sock(1)], commit=False)
        uow.commit()
    assert [type(e) for e in events] == [ProductCreated]


def test_a_batch_of_1000_products_takes_a_few_statements(
    uow_factory: UowFactory, shop_id: int, db: Engine
) -> None:
    items = [
        sock(n, variants=(VariantSpec(sku=f"SOCK-{n}-A"), VariantSpec(sku=f"SOCK-{n}-B")))
        for n in range(1000)
    ]
    with statements(db) as created, uow_factory() as uow:
        assert commerce.upsert_products(uow, shop_id=shop_id, items=items).created == 1000
    with statements(db) as unchanged, uow_factory() as uow:
        assert commerce.upsert_products(uow, shop_id=shop_id, items=items).unchanged == 1000
    restocked = [
        replace(item, variants=(replace(item.variants[0], stock=5), item.variants[1]))
        for item in items
    ]
    with statements(db) as updated, uow_factory() as uow:
        assert commerce.upsert_products(uow, shop_id=shop_id, items=restocked).updated == 1000
    assert _count(uow_factory, ProductVariant) == 2000
    assert max(len(created), len(unchanged), len(updated)) <= 20, (created, unchanged, updated)


def test_images_are_stored_as_a_json_list(uow_factory: UowFactory, shop_id: int) -> None:
    with uow_factory() as uow:
        commerce.upsert_products(uow, shop_id=shop_id, items=[hoodie(images=())])
    product, _ = _product(uow_factory, shop_id, "ML-HD001")
    assert json.loads(product.images) == []
    assert commerce.product_images(product) == []


def test_a_product_created_by_another_request_meanwhile_is_a_conflict_to_retry(
    uow_factory: UowFactory, shop_id: int, bus: EventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    with uow_factory() as uow:
        commerce.upsert_products(uow, shop_id=shop_id, items=[sock(1)])
    # As if the other request's product were committed just after this one looked.
    monkeypatch.setattr(ingest_products, "chunks", lambda values: iter(()))
    with bus.capture() as events, uow_factory() as uow, pytest.raises(Conflict):
        commerce.upsert_products(uow, shop_id=shop_id, items=[sock(2), sock(1)])
    assert events == []
    assert _count(uow_factory, Product) == 1
