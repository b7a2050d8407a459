"""Writing the catalogue and orders: what gets stored, what is refused, what is announced."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from kefu.clock import FrozenClock
from kefu.commerce import service as commerce
from kefu.commerce.events import OrderCreated, ProductCreated
from kefu.commerce.models import Order, OrderLine, OrderStatus, Product, ProductVariant
from kefu.commerce.service import OrderLineSpec, VariantSpec
from kefu.crm import service as crm
from kefu.errors import Conflict, Invalid
from kefu.events import EventBus
from kefu.uow import UnitOfWork
from tests.factories import make_shop

UowFactory = Callable[[], UnitOfWork]


@dataclass
class Setup:
    shop_id: int
    customer_id: int
    other_shop_id: int
    other_customer_id: int


def _product(uow: UnitOfWork, shop_id: int, **overrides: Any) -> Product:
    args: dict[str, Any] = {
        "shop_id": shop_id,
        "sku": "PJ-001",
        "title": "纯棉家居服女长袖两件套",
        "category": "家居服",
        "price": Decimal("129.00"),
        "variants": [
            VariantSpec(sku="PJ-001-MB-M", size="M", colour="米白", stock=12),
            VariantSpec(sku="PJ-001-MB-L", size="L", colour="米白", stock=0),
            VariantSpec(
                sku="PJ-001-WB-XL", size="XL", colour="雾霾蓝", stock=5, price=Decimal(139)
            ),
        ],
        "tags": ("新品", "爆款"),
    }
    args.update(overrides)
    return commerce.create_product(uow, **args)


@pytest.fixture
def setup(uow_factory: UowFactory) -> Setup:
    shop = make_shop(uow_factory, "mianli")
    other = make_shop(uow_factory, "other-shop")
    with uow_factory() as uow:
        _product(uow, shop.id)
        commerce.create_product(
            uow,
            shop_id=shop.id,
            sku="SOCK-1",
            title="精梳棉中筒袜",
            category="袜子",
            price=Decimal("9.90"),
            variants=[],
        )
        customer = crm.create_customer(uow, shop_id=shop.id, name="林晓雨", phone="13812345678")
        stranger = crm.create_customer(uow, shop_id=other.id, name="王伟")
    return Setup(shop.id, customer.id, other.id, stranger.id)


def _count(uow_factory: UowFactory, model: type[Any]) -> int:
    with uow_factory() as uow:
        return uow.session.scalar(select(func.count()).select_from(model)) or 0


# --- products ---------------------------------------------------------------------------


def test_product_is_stored_with_variants_and_announced_after_commit(
    uow_factory: UowFactory, bus: EventBus
) -> None:
    shop = make_shop(uow_factory, "mianli")
    with bus.capture() as events, uow_factory() as uow:
        product = _product(uow, shop.id, title="  纯棉家居服女长袖两件套  ")
    with uow_factory() as uow:
        stored = uow.session.get(Product, product.id)
        assert stored is not None
        assert stored.title == "纯棉家居服女长袖两件套"
        assert stored.tags == "新品,爆款"
        assert stored.price == Decimal("129.00")
        variants = {
            v.sku: (v.size, v.colour, v.stock, v.price)
            for v in uow.session.scalars(
                select(ProductVariant).where(ProductVariant.product_id == product.id)
            )
        }
    assert variants == {
        "PJ-001-MB-M": ("M", "米白", 12, Decimal("129.00")),
        "PJ-001-MB-L": ("L", "米白", 0, Decimal("129.00")),
        "PJ-001-WB-XL": ("XL", "雾霾蓝", 5, Decimal("139.00")),
    }
    assert events == [ProductCreated(shop_id=shop.id, product_id=product.id, sku="PJ-001")]


def test_product_written_without_commit_is_neither_stored_nor_announced(
    uow_factory: UowFactory, bus: EventBus
) -> None:
    shop = make_shop(uow_factory, "mianli")
    with bus.capture() as events, uow_factory() as uow:
        _product(uow, shop.id, commit=False)
        assert events == []
    assert _count(uow_factory, Product) == 0
    assert _count(uow_factory, ProductVariant) == 0
    assert events == []


def test_off_sale_product_is_not_counted_as_on_sale(uow_factory: UowFactory) -> None:
    shop = make_shop(uow_factory, "mianli")
    with uow_factory() as uow:
        _product(uow, shop.id, on_sale=False)
        assert commerce.count_products(uow.session, shop_id=shop.id) == 0
        assert commerce.count_products(uow.session, shop_id=shop.id, on_sale_only=False) == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": "   "}, "title"),
        ({"title": "睡" * 201}, "title"),
        ({"sku": "PJ 001"}, "sku"),
        ({"sku": ""}, "sku"),
        ({"price": Decimal(0)}, "price"),
        ({"price": Decimal("-5")}, "price"),
        ({"price": Decimal("12.345")}, "price"),
        ({"category": "类" * 41}, "category"),
        ({"tags": ("新品,爆款",)}, "tags"),
        ({"tags": ("",)}, "tags"),
        (
            {"variants": [VariantSpec(sku="V-1", size="M"), VariantSpec(sku="V-1", size="L")]},
            "variants",
        ),
        ({"variants": [VariantSpec(sku="V-1", stock=-1)]}, "variants"),
        ({"variants": [VariantSpec(sku="V-1", price=Decimal(0))]}, "variants"),
        ({"variants": [VariantSpec(sku="V-1", size="特" * 21)]}, "variants"),
    ],
)
def test_invalid_product_is_refused_and_nothing_is_written(
    uow_factory: UowFactory, bus: EventBus, overrides: dict[str, Any], field: str
) -> None:
    shop = make_shop(uow_factory, "mianli")
    with bus.capture() as events, uow_factory() as uow, pytest.raises(Invalid) as error:
        _product(uow, shop.id, **overrides)
    assert error.value.field == field
    assert _count(uow_factory, Product) == 0
    assert _count(uow_factory, ProductVariant) == 0
    assert events == []


def test_sku_is_unique_per_shop_but_free_in_another_shop(uow_factory: UowFactory) -> None:
    shop = make_shop(uow_factory, "mianli")
    other = make_shop(uow_factory, "other-shop")
    with uow_factory() as uow:
        _product(uow, shop.id)
    with uow_factory() as uow, pytest.raises(Conflict):
        _product(uow, shop.id, title="另一款", variants=[])
    with uow_factory() as uow, pytest.raises(Conflict, match="PJ-001-MB-M"):
        _product(uow, shop.id, sku="PJ-002", variants=[VariantSpec(sku="PJ-001-MB-M")])
    with uow_factory() as uow:
        _product(uow, other.id)
    assert _count(uow_factory, Product) == 2
    assert _count(uow_factory, ProductVariant) == 6


# --- orders -----------------------------------------------------------------------------


def _order(uow: UnitOfWork, setup: Setup, now: datetime, **overrides: Any) -> Order:
    args: dict[str, Any] = {
        "shop_id": setup.shop_id,
        "order_no": "3587412598630781234",
        "customer_id": setup.customer_id,
        "lines": [OrderLineSpec(sku="PJ-001-MB-M", quantity=2), OrderLineSpec(sku="SOCK-1")],
        "status": OrderStatus.SHIPPED,
        "created_at": now - timedelta(days=2),
        "paid_at": now - timedelta(days=2) + timedelta(minutes=3),
        "shipped_at": now - timedelta(days=1),
        "courier": "顺丰速运",
        "tracking_no": "SF1234567890123",
        "coupon_code": "MJ199-20",
        "discount": Decimal(20),
        "shipping_fee": Decimal(6),
        "ship_to_name": "林晓雨",
        "ship_to_phone": "13812345678",
        "ship_to_address": "浙江省杭州市西湖区文三路 90 号 3 幢 501 室",
    }
    args.update(overrides)
    return commerce.create_order(uow, **args)


def test_order_totals_and_lines_come_from_the_catalogue(
    uow_factory: UowFactory, setup: Setup, clock: FrozenClock, bus: EventBus
) -> None:
    with bus.capture() as events, uow_factory() as uow:
        order = _order(uow, setup, clock.now())
    with uow_factory() as uow:
        stored = uow.session.get(Order, order.id)
        assert stored is not None
        # 2 × 129.00 + 9.90 − 20 coupon + 6 shipping
        assert (stored.items_total, stored.discount, stored.shipping_fee, stored.total) == (
            Decimal("267.90"),
            Decimal("20.00"),
            Decimal("6.00"),
            Decimal("253.90"),
        )
        assert (stored.courier, stored.tracking_no) == ("顺丰速运", "SF1234567890123")
        lines = list(
            uow.session.scalars(
                select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)
            )
        )
        assert [(li.title, li.size, li.colour, li.quantity, li.unit_price) for li in lines] == [
            ("纯棉家居服女长袖两件套", "M", "米白", 2, Decimal("129.00")),
            ("精梳棉中筒袜", "", "", 1, Decimal("9.90")),
        ]
        assert lines[0].variant_id is not None
        assert lines[1].variant_id is None
        assert lines[1].product_id is not None
        orders = commerce.list_orders_of_customer(
            uow.session, shop_id=setup.shop_id, customer_id=setup.customer_id
        )
        assert [o.order_no for o in orders] == ["3587412598630781234"]
        assert (
            commerce.count_orders_by_status(uow.session, shop_id=setup.shop_id)[OrderStatus.SHIPPED]
            == 1
        )
    assert events == [
        OrderCreated(
            shop_id=setup.shop_id,
            order_id=order.id,
            order_no="3587412598630781234",
            customer_id=setup.customer_id,
            status="shipped",
            total=Decimal("253.90"),
            created_at=clock.now() - timedelta(days=2),
        )
    ]


def test_order_line_may_carry_its_own_price_and_a_gift_costs_nothing(
    uow_factory: UowFactory, setup: Setup, clock: FrozenClock
) -> None:
    now = clock.now()
    with uow_factory() as uow:
        order = _order(
            uow,
            setup,
            now,
            status=OrderStatus.PAID,
            shipped_at=None,
            courier=None,
            tracking_no=None,
            coupon_code=None,
            discount=Decimal(0),
            shipping_fee=Decimal(0),
            lines=[
                OrderLineSpec(sku="PJ-001-WB-XL", unit_price=Decimal("119.00")),
                OrderLineSpec(sku="SOCK-1", unit_price=Decimal(0)),
            ],
        )
    assert order.total == Decimal("119.00")


def test_every_status_with_its_timeline_is_accepted(
    uow_factory: UowFactory, setup: Setup, clock: FrozenClock
) -> None:
    now = clock.now()
    day = timedelta(days=1)
    shipped = {"courier": "中通快递", "tracking_no": "75123456789012"}
    cases: dict[OrderStatus, dict[str, Any]] = {
        OrderStatus.UNPAID: {},
        OrderStatus.PAID: {"paid_at": now - 4 * day},
        OrderStatus.SHIPPED: {"paid_at": now - 4 * day, "shipped_at": now - 3 * day, **shipped},
        OrderStatus.DELIVERED: {
            "paid_at": now - 4 * day,
            "shipped_at": now - 3 * day,
            "delivered_at": now - day,
            **shipped,
        },
        OrderStatus.CLOSED: {"closed_at": now - 4 * day},
        OrderStatus.REFUNDING: {"paid_at": now - 4 * day},
        OrderStatus.REFUNDED: {"paid_at": now - 4 * day, "refunded_at": now - 2 * day},
    }
    with uow_factory() as uow:
        for number, (status, stamps) in enumerate(cases.items()):
            commerce.create_order(
                uow,
                shop_id=setup.shop_id,
                order_no=f"10{number}",
                customer_id=setup.customer_id,
                lines=[OrderLineSpec(sku="SOCK-1")],
                status=status,
                created_at=now - 5 * day,
                ship_to_name="林晓雨",
                ship_to_phone="13812345678",
                ship_to_address="上海市浦东新区张杨路 500 号",
                commit=False,
                **stamps,
            )
        uow.commit()
        counts = commerce.count_orders_by_status(uow.session, shop_id=setup.shop_id)
    assert counts == dict.fromkeys(OrderStatus, 1)


DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
SF = {"courier": "顺丰速运", "tracking_no": "SF1234567890123"}
NOT_SHIPPED = {"shipped_at": None, "courier": None, "tracking_no": None}

# Each case: the fields that differ from a valid shipped order (times relative to now),
# and the field the error must name.
BAD_ORDERS: list[tuple[str, Callable[[datetime], dict[str, Any]], str]] = [
    ("empty order number", lambda now: {"order_no": ""}, "order_no"),
    ("space in order number", lambda now: {"order_no": "3587 4125"}, "order_no"),
    ("no lines", lambda now: {"lines": []}, "lines"),
    (
        "zero quantity",
        lambda now: {"lines": [OrderLineSpec(sku="SOCK-1", quantity=0)]},
        "lines[0].quantity",
    ),
    (
        "unknown SKU",
        lambda now: {"lines": [OrderLineSpec(sku="SOCK-1"), OrderLineSpec(sku="NO-SUCH-SKU")]},
        "lines[1].sku",
    ),
    (
        "product SKU with variants",
        lambda now: {"lines": [OrderLineSpec(sku="PJ-001")]},
        "lines[0].sku",
    ),
    (
        "negative unit price",
        lambda now: {"lines": [OrderLineSpec(sku="SOCK-1", unit_price=Decimal(-1))]},
        "lines[0].unit_price",
    ),
    ("discount above the total", lambda now: {"discount": Decimal(500)}, "discount"),
    ("negative discount", lambda now: {"discount": Decimal(-1)}, "discount"),
    ("fraction of a fen", lambda now: {"shipping_fee": Decimal("6.001")}, "shipping_fee"),
    ("shipped without tracking number", lambda now: {"tracking_no": None}, "courier"),
    ("shipped without courier", lambda now: {"courier": None}, "courier"),
    ("malformed tracking number", lambda now: {"tracking_no": "SF 123"}, "tracking_no"),
    ("paid but shipped", lambda now: {"status": OrderStatus.PAID}, "shipped_at"),
    (
        "paid without paid_at",
        lambda now: {"status": OrderStatus.PAID, "paid_at": None, **NOT_SHIPPED},
        "paid_at",
    ),
    (
        "courier before shipping",
        lambda now: {"status": OrderStatus.PAID, **NOT_SHIPPED, **SF},
        "shipped_at",
    ),
    ("unpaid with paid_at", lambda now: {"status": OrderStatus.UNPAID}, "paid_at"),
    (
        "delivered without delivered_at",
        lambda now: {"status": OrderStatus.DELIVERED},
        "delivered_at",
    ),
    (
        "closed after payment",
        lambda now: {"status": OrderStatus.CLOSED, "closed_at": now, **NOT_SHIPPED},
        "paid_at",
    ),
    (
        "refunded without refunded_at",
        lambda now: {"status": OrderStatus.REFUNDED, **NOT_SHIPPED},
        "refunded_at",
    ),
    ("shipped before paid", lambda now: {"shipped_at": now - 3 * DAY}, "shipped_at"),
    ("paid before ordered", lambda now: {"paid_at": now - 3 * DAY}, "paid_at"),
    (
        "naive created_at",
        lambda now: {"created_at": now.replace(tzinfo=None) - 2 * DAY},
        "created_at",
    ),
    ("shipped in the future", lambda now: {"shipped_at": now + HOUR}, "shipped_at"),
    ("blank recipient", lambda now: {"ship_to_name": " "}, "ship_to_name"),
    ("phone that is not one", lambda now: {"ship_to_phone": "call me"}, "ship_to_phone"),
    ("no address", lambda now: {"ship_to_address": ""}, "ship_to_address"),
    ("blank coupon", lambda now: {"coupon_code": " "}, "coupon_code"),
]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [pytest.param(make, field, id=name) for name, make, field in BAD_ORDERS],
)
def test_invalid_order_is_refused_and_nothing_is_written(
    uow_factory: UowFactory,
    setup: Setup,
    clock: FrozenClock,
    bus: EventBus,
    overrides: Callable[[datetime], dict[str, Any]],
    field: str,
) -> None:
    now = clock.now()
    with bus.capture() as events, uow_factory() as uow, pytest.raises(Invalid) as error:
        _order(uow, setup, now, **overrides(now))
    assert error.value.field == field, error.value.message
    assert _count(uow_factory, Order) == 0
    assert _count(uow_factory, OrderLine) == 0
    assert events == []


def test_customer_of_another_shop_cannot_order_here(
    uow_factory: UowFactory, setup: Setup, clock: FrozenClock
) -> None:
    with uow_factory() as uow, pytest.raises(Invalid) as error:
        _order(uow, setup, clock.now(), customer_id=setup.other_customer_id)
    assert error.value.field == "customer_id"
    with uow_factory() as uow, pytest.raises(Invalid) as error:
        _order(uow, setup, clock.now(), customer_id=2**63)  # not a 500 on any database
    assert error.value.field == "customer_id"
    # Nor can the other shop order this shop's products.
    with uow_factory() as uow, pytest.raises(Invalid) as error:
        _order(
            uow,
            setup,
            clock.now(),
            shop_id=setup.other_shop_id,
            customer_id=setup.other_customer_id,
        )
    assert error.value.field == "lines[0].sku"
    assert _count(uow_factory, Order) == 0


def test_order_number_is_unique_per_shop(
    uow_factory: UowFactory, setup: Setup, clock: FrozenClock, bus: EventBus
) -> None:
    with uow_factory() as uow:
        _order(uow, setup, clock.now())
    with bus.capture() as events, uow_factory() as uow, pytest.raises(Conflict):
        _order(uow, setup, clock.now(), lines=[OrderLineSpec(sku="SOCK-1")], discount=Decimal(0))
    assert events == []
    assert _count(uow_factory, Order) == 1
    assert _count(uow_factory, OrderLine) == 2


def test_failed_order_in_a_batch_leaves_the_batch_unwritten(
    uow_factory: UowFactory, setup: Setup, clock: FrozenClock, bus: EventBus
) -> None:
    with bus.capture() as events, uow_factory() as uow:
        _order(uow, setup, clock.now(), commit=False)
        with pytest.raises(Invalid):
            _order(uow, setup, clock.now(), order_no="2", lines=[], commit=False)
    assert events == []
    assert _count(uow_factory, Order) == 0
