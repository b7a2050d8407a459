"""Orders from the shop's system: created with their buyer, moved forward, sent again
unchanged; backwards moves, late line changes and bad lines refused, naming the order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from kefu.clock import FrozenClock
from kefu.commerce import service as commerce
from kefu.commerce.events import OrderCreated, OrderStatusChanged
from kefu.commerce.models import Order, OrderLine, OrderStatus
from kefu.commerce.schemas import OrderIn, OrderLineSpec, ProductIn, UpsertReport, VariantSpec
from kefu.crm import service as crm
from kefu.crm.models import Customer
from kefu.errors import Invalid
from kefu.events import EventBus
from kefu.uow import UnitOfWork
from tests.commerce.statements import statements
from tests.factories import make_shop

UowFactory = Callable[[], UnitOfWork]
HOUR = timedelta(hours=1)
CATALOGUE = [
    ProductIn(
        sku="ML-HD001",
        title="棉里 加绒卫衣女",
        price=Decimal("139.00"),
        variants=(
            VariantSpec(sku="ML-HD001-BK-M", size="M", colour="黑色", stock=20),
            VariantSpec(sku="ML-HD001-BK-L", size="L", colour="黑色", stock=15),
        ),
    ),
    ProductIn(sku="ML-SOCK5", title="纯棉中筒袜 5双装", price=Decimal("29.90")),
]


@pytest.fixture
def shop_id(uow_factory: UowFactory) -> int:
    shop = make_shop(uow_factory, "mianli")
    with uow_factory() as uow:
        commerce.upsert_products(uow, shop_id=shop.id, items=CATALOGUE)
    return shop.id


@pytest.fixture
def now(clock: FrozenClock) -> datetime:
    return clock.now()


def unpaid(now: datetime, number: str = "202611230001", **overrides: Any) -> OrderIn:
    order = OrderIn(
        order_no=number,
        customer_external_id="u-10086",
        customer_name="王小丫",
        customer_phone="13800138000",
        status="unpaid",
        created_at=now - 5 * HOUR,
        lines=(OrderLineSpec(sku="ML-HD001-BK-M"), OrderLineSpec(sku="ML-SOCK5", quantity=2)),
        coupon_code="满199减20",
        discount=Decimal("20.00"),
        ship_to_name="王小丫",
        ship_to_phone="13800138000",
        ship_to_address="浙江省杭州市西湖区文三路 1 号",
    )
    return replace(order, **overrides)


def paid(now: datetime, **overrides: Any) -> OrderIn:
    return unpaid(now, **{"status": "paid", "paid_at": now - 4 * HOUR, **overrides})


def shipped(now: datetime, **overrides: Any) -> OrderIn:
    return paid(
        now,
        **{
            "status": "shipped",
            "shipped_at": now - 2 * HOUR,
            "courier": "中通快递",
            "tracking_no": "73100000000001",
            **overrides,
        },
    )


def _send(uow_factory: UowFactory, shop_id: int, *items: OrderIn) -> UpsertReport:
    with uow_factory() as uow:
        return commerce.upsert_orders(uow, shop_id=shop_id, items=list(items))


def _order(uow_factory: UowFactory, shop_id: int, number: str = "202611230001") -> Order:
    with uow_factory() as uow:
        found = commerce.find_order(uow.session, shop_id=shop_id, order_no=number)
        assert found is not None
        return found


def _refused(uow_factory: UowFactory, shop_id: int, *items: OrderIn) -> Invalid:
    with uow_factory() as uow, pytest.raises(Invalid) as refused:
        commerce.upsert_orders(uow, shop_id=shop_id, items=list(items))
    return refused.value


def test_a_new_order_is_recorded_with_a_new_buyer_and_announced(
    uow_factory: UowFactory, shop_id: int, now: datetime, bus: EventBus
) -> None:
    with bus.capture() as events:
        assert _send(uow_factory, shop_id, unpaid(now)) == UpsertReport(created=1)
    order = _order(uow_factory, shop_id)
    # 139 + 2 × 29.90 − 20
    assert (order.status, order.items_total, order.total) == (
        OrderStatus.UNPAID,
        Decimal("198.80"),
        Decimal("178.80"),
    )
    assert order.updated_at == now
    with uow_factory() as uow:
        buyer = crm.get_customer(uow.session, shop_id=shop_id, customer_id=order.customer_id)
        lines = commerce.order_lines(uow.session, shop_id=shop_id, order_ids=[order.id])
    assert (buyer.external_id, buyer.name, buyer.phone) == ("u-10086", "王小丫", "13800138000")
    assert [(li.sku, li.title, li.size, li.quantity) for li in lines[order.id]] == [
        ("ML-HD001-BK-M", "棉里 加绒卫衣女", "M", 1),
        ("ML-SOCK5", "纯棉中筒袜 5双装", "", 2),
    ]
    assert [type(e).__name__ for e in events] == ["CustomerCreated", "OrderCreated"]
    assert events[1] == OrderCreated(
        shop_id=shop_id,
        order_id=order.id,
        order_no="202611230001",
        customer_id=buyer.id,
        status="unpaid",
        total=Decimal("178.80"),
        created_at=now - 5 * HOUR,
    )


def test_the_same_order_again_changes_nothing_even_after_a_price_change(
    uow_factory: UowFactory, shop_id: int, now: datetime, bus: EventBus, clock: FrozenClock
) -> None:
    _send(uow_factory, shop_id, paid(now))
    with uow_factory() as uow:  # the shop raises the hoodie's price after the order
        commerce.upsert_products(
            uow, shop_id=shop_id, items=[replace(CATALOGUE[0], price=Decimal("159.00"))]
        )
    clock.advance(HOUR)
    with bus.capture() as events:
        assert _send(uow_factory, shop_id, paid(now)) == UpsertReport(unchanged=1)
    assert events == []
    order = _order(uow_factory, shop_id)
    assert (order.total, order.updated_at) == (Decimal("178.80"), now)


def test_a_buyer_known_by_their_id_is_reused(
    uow_factory: UowFactory, shop_id: int, now: datetime
) -> None:
    with uow_factory() as uow:
        known = crm.create_customer(uow, shop_id=shop_id, name="王小丫", external_id="u-10086")
    _send(uow_factory, shop_id, unpaid(now), unpaid(now, "202611230002"))
    assert _order(uow_factory, shop_id).customer_id == known.id
    assert _order(uow_factory, shop_id, "202611230002").customer_id == known.id


def test_paying_and_shipping_move_the_order_on_and_say_when(
    uow_factory: UowFactory, shop_id: int, now: datetime, bus: EventBus, clock: FrozenClock
) -> None:
    _send(uow_factory, shop_id, unpaid(now))
    order = _order(uow_factory, shop_id)
    clock.advance(HOUR)
    with bus.capture() as events:
        assert _send(uow_factory, shop_id, paid(now)) == UpsertReport(updated=1)
    assert events == [
        OrderStatusChanged(
            shop_id=shop_id,
            order_id=order.id,
            order_no="202611230001",
            customer_id=order.customer_id,
            old_status="unpaid",
            new_status="paid",
            total=Decimal("178.80"),
            changed_at=now - 4 * HOUR,  # when the buyer paid, not when Kefu heard of it
        )
    ]
    assert _order(uow_factory, shop_id).updated_at == now + HOUR
    with bus.capture() as events:
        _send(uow_factory, shop_id, shipped(now))
    assert [(e.old_status, e.new_status, e.changed_at) for e in events] == [  # type: ignore[attr-defined]
        ("paid", "shipped", now - 2 * HOUR)
    ]
    stored = _order(uow_factory, shop_id)
    assert (stored.courier, stored.tracking_no) == ("中通快递", "73100000000001")


def test_a_sync_may_skip_steps(uow_factory: UowFactory, shop_id: int, now: datetime) -> None:
    _send(uow_factory, shop_id, unpaid(now))
    assert _send(uow_factory, shop_id, shipped(now)) == UpsertReport(updated=1)
    assert _order(uow_factory, shop_id).status is OrderStatus.SHIPPED


def test_a_withdrawn_refund_puts_the_order_back(
    uow_factory: UowFactory, shop_id: int, now: datetime, bus: EventBus
) -> None:
    _send(uow_factory, shop_id, shipped(now))
    _send(uow_factory, shop_id, shipped(now, status="refunding"))
    with bus.capture() as events:
        _send(uow_factory, shop_id, shipped(now))
    assert [(e.old_status, e.new_status, e.changed_at) for e in events] == [  # type: ignore[attr-defined]
        ("refunding", "shipped", now)  # no timestamp of its own: when Kefu heard of it
    ]


@pytest.mark.parametrize(
    ("first", "then", "says"),
    [
        pytest.param(shipped, paid, "cannot go back from shipped to paid", id="shipped→paid"),
        pytest.param(paid, unpaid, "cannot go back from paid to unpaid", id="paid→unpaid"),
        pytest.param(
            lambda now: unpaid(now, status="closed", closed_at=now - HOUR),
            paid,
            "is closed, which is final: it cannot become paid",
            id="closed→paid",
        ),
        pytest.param(
            lambda now: paid(now, status="refunded", refunded_at=now - HOUR),
            paid,
            "is refunded, which is final: it cannot become paid",
            id="refunded→paid",
        ),
    ],
)
def test_an_order_never_moves_backwards(
    uow_factory: UowFactory,
    shop_id: int,
    now: datetime,
    bus: EventBus,
    first: Callable[[datetime], OrderIn],
    then: Callable[[datetime], OrderIn],
    says: str,
) -> None:
    _send(uow_factory, shop_id, first(now))
    before = _order(uow_factory, shop_id)
    with bus.capture() as events:
        refused = _refused(uow_factory, shop_id, unpaid(now, "202611230009"), then(now))
    assert refused.message == f"item 1: order '202611230001' {says}"
    assert refused.field == "items[1].status"
    assert events == []
    assert _order(uow_factory, shop_id).status is before.status
    with uow_factory() as uow:  # nothing of the batch was written
        missing = commerce.find_order(uow.session, shop_id=shop_id, order_no="202611230009")
    assert missing is None


def test_lines_change_only_while_unpaid(
    uow_factory: UowFactory, shop_id: int, now: datetime
) -> None:
    _send(uow_factory, shop_id, unpaid(now))
    # 改价: before payment the shop may change lines and prices.
    repriced = unpaid(
        now,
        lines=(OrderLineSpec(sku="ML-HD001-BK-L", unit_price=Decimal("119.00")),),
        discount=Decimal(0),
    )
    assert _send(uow_factory, shop_id, repriced) == UpsertReport(updated=1)
    order = _order(uow_factory, shop_id)
    assert order.total == Decimal("119.00")
    with uow_factory() as uow:
        lines = commerce.order_lines(uow.session, shop_id=shop_id, order_ids=[order.id])
    assert [(li.sku, li.unit_price) for li in lines[order.id]] == [
        ("ML-HD001-BK-L", Decimal("119.00"))
    ]
    _send(uow_factory, shop_id, replace(repriced, status="paid", paid_at=now - HOUR))
    late = replace(repriced, status="paid", paid_at=now - HOUR, lines=CHANGED_LINES)
    refused = _refused(uow_factory, shop_id, late)
    assert refused.field == "items[0].lines"
    assert "'202611230001' is paid: its lines and amounts can no longer change" in refused.message
    late_discount = replace(repriced, status="paid", paid_at=now - HOUR, discount=Decimal(5))
    assert _refused(uow_factory, shop_id, late_discount).field == "items[0].discount"
    assert _order(uow_factory, shop_id).total == Decimal("119.00")


CHANGED_LINES = (OrderLineSpec(sku="ML-HD001-BK-L", quantity=2, unit_price=Decimal("119.00")),)


def test_unknown_sku_names_the_item_and_the_line(
    uow_factory: UowFactory, shop_id: int, now: datetime
) -> None:
    items = [unpaid(now, f"20261123000{n}") for n in range(5)]
    items[3] = replace(items[3], lines=(OrderLineSpec(sku="X"), OrderLineSpec(sku="ML-SOCK5")))
    refused = _refused(uow_factory, shop_id, *items)
    assert refused.message == "item 3: unknown SKU 'X' on line 1"
    assert refused.field == "items[3].lines[0].sku"
    _assert_nothing_written(uow_factory)


def _assert_nothing_written(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        counts = [
            uow.session.scalar(select(func.count()).select_from(model))
            for model in (Order, OrderLine, Customer)
        ]
    assert counts == [0, 0, 0]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"discount": Decimal("-1")}, "items[0].discount", id="negative discount"),
        pytest.param({"shipping_fee": Decimal("-6")}, "items[0].shipping_fee", id="negative fee"),
        pytest.param(
            {"lines": (OrderLineSpec(sku="ML-SOCK5", unit_price=Decimal("-29.90")),)},
            "items[0].lines[0].unit_price",
            id="negative unit price",
        ),
        pytest.param(
            {"lines": (OrderLineSpec(sku="ML-SOCK5", quantity=0),)},
            "items[0].lines[0].quantity",
            id="no pieces",
        ),
        pytest.param(
            {"lines": (OrderLineSpec(sku="ML-HD001"),)},
            "items[0].lines[0].sku",
            id="product with sizes",
        ),
        pytest.param({"status": "lost"}, "items[0].status", id="unknown status"),
        pytest.param({"customer_external_id": " "}, "items[0].customer_external_id", id="nobody"),
        pytest.param({"order_no": "2026 1123"}, "items[0].order_no", id="bad number"),
        pytest.param({"paid_at": None, "status": "paid"}, "items[0].paid_at", id="paid when?"),
    ],
)
def test_bad_orders_are_refused_with_the_field_named(
    uow_factory: UowFactory, shop_id: int, now: datetime, overrides: dict[str, Any], field: str
) -> None:
    refused = _refused(uow_factory, shop_id, unpaid(now, **overrides), unpaid(now, "2"))
    assert refused.field == field, refused.message
    assert refused.message.startswith("item 0: ")
    _assert_nothing_written(uow_factory)


def test_the_same_order_twice_in_a_batch_is_refused(
    uow_factory: UowFactory, shop_id: int, now: datetime
) -> None:
    refused = _refused(uow_factory, shop_id, unpaid(now), paid(now))
    assert (refused.field, refused.message) == (
        "items[1].order_no",
        "item 1: order '202611230001' is also item 0",
    )


def test_an_order_keeps_its_buyer_and_its_timestamps(
    uow_factory: UowFactory, shop_id: int, now: datetime
) -> None:
    _send(uow_factory, shop_id, shipped(now))
    other_buyer = shipped(now, customer_external_id="u-2")
    assert _refused(uow_factory, shop_id, other_buyer).field == "items[0].customer_external_id"
    # Refunding may keep or drop shipped_at (timeline), but a recorded time cannot vanish.
    forgetful = paid(now, status="refunding")
    refused = _refused(uow_factory, shop_id, forgetful)
    assert refused.field == "items[0].shipped_at"
    assert "already has shipped_at" in refused.message


def test_orders_of_two_shops_never_meet(
    uow_factory: UowFactory, shop_id: int, now: datetime
) -> None:
    other = make_shop(uow_factory, "other-shop").id
    with uow_factory() as uow:
        commerce.upsert_products(uow, shop_id=other, items=CATALOGUE)
    _send(uow_factory, shop_id, shipped(now))
    # The same order number and buyer id in another shop are that shop's own.
    assert _send(uow_factory, other, unpaid(now)) == UpsertReport(created=1)
    mine, theirs = _order(uow_factory, shop_id), _order(uow_factory, other)
    assert mine.id != theirs.id and mine.customer_id != theirs.customer_id
    assert mine.status is OrderStatus.SHIPPED
    _send(uow_factory, other, unpaid(now, "TB-2026A"))
    with uow_factory() as uow:
        found = [
            commerce.find_order(uow.session, shop_id=other, order_no=number)
            for number in (" 202611230001 ", "TB-2026A", "tb-2026a", "20261123000")
        ]
    assert [order.id if order else None for order in found] == [
        theirs.id,
        _order(uow_factory, other, "TB-2026A").id,
        None,  # order numbers are exact, case and all
        None,
    ]


def test_a_mixed_batch_announces_only_what_changed_after_commit(
    uow_factory: UowFactory, shop_id: int, now: datetime, bus: EventBus
) -> None:
    _send(uow_factory, shop_id, unpaid(now), unpaid(now, "B"))
    with bus.capture() as events, uow_factory() as uow:
        report = commerce.upsert_orders(
            uow, shop_id=shop_id, items=[unpaid(now), paid(now, order_no="B"), unpaid(now, "C")]
        )
    assert report == UpsertReport(created=1, updated=1, unchanged=1)
    assert sorted((type(e).__name__, getattr(e, "order_no", "")) for e in events) == [
        ("OrderCreated", "C"),
        ("OrderStatusChanged", "B"),
    ]


def test_1001_orders_are_refused(uow_factory: UowFactory, shop_id: int, now: datetime) -> None:
    refused = _refused(uow_factory, shop_id, *[unpaid(now, f"N{n}") for n in range(1001)])
    assert refused.field == "items"
    _assert_nothing_written(uow_factory)


def test_a_batch_of_1000_orders_takes_a_few_statements(
    uow_factory: UowFactory, shop_id: int, now: datetime, db: Engine
) -> None:
    items = [unpaid(now, f"N{n:04d}", customer_external_id=f"u-{n % 400}") for n in range(1000)]
    with statements(db) as created:
        assert _send(uow_factory, shop_id, *items) == UpsertReport(created=1000)
    with statements(db) as updated:
        report = _send(uow_factory, shop_id, *[paid(now, order_no=i.order_no,
                       customer_external_id=i.customer_external_id) for i in items])  # fmt: skip
    assert report == UpsertReport(updated=1000)
    with uow_factory() as uow:
        assert uow.session.scalar(select(func.count(Customer.id))) == 400
        assert uow.session.scalar(select(func.count(OrderLine.id))) == 2000
    assert len(created) <= 20, created
    assert len(updated) <= 20, updated
