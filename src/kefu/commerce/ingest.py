"""Data intake from the shop's own systems (REST API, webhooks, spreadsheet import).

Products are keyed by SKU and orders by order number, the shop's own ids, so sending the
same data again changes nothing and announces nothing. A batch (at most 1,000 items) is
all or nothing: the first refused item raises :class:`~kefu.errors.Invalid` naming it
("item 3: unknown SKU 'X' on line 1", field ``items[3].lines[0].sku``) and nothing is
written. Events are collected for what changed and dispatched after the commit.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError

from kefu.commerce import ingest_orders, ingest_products
from kefu.commerce.ingest_common import MAX_BATCH as MAX_BATCH
from kefu.commerce.ingest_common import Outcome as Outcome
from kefu.commerce.models import Order, Product
from kefu.commerce.schemas import OrderIn, ProductIn, UpsertReport
from kefu.errors import Conflict
from kefu.uow import UnitOfWork


@contextmanager
def _raced(uow: UnitOfWork) -> Iterator[None]:
    """Two requests creating the same SKU or order number at the same moment: the second
    one's insert breaks a unique key. It is told to send again (it will then update)."""
    try:
        yield
    except IntegrityError:
        uow.rollback()
        raise Conflict(
            "the same products or orders were being written by another request; send again",
            key="errors.ingest_retry",
        ) from None


def _report(outcomes: Sequence[Outcome]) -> UpsertReport:
    return UpsertReport(
        created=outcomes.count("created"),
        updated=outcomes.count("updated"),
        unchanged=outcomes.count("unchanged"),
    )


def upsert_products(
    uow: UnitOfWork, *, shop_id: int, items: Sequence[ProductIn], commit: bool = True
) -> UpsertReport:
    """Create the products not known yet, update those that differ (fields, variants,
    pictures). ``commit=False`` leaves the commit to the caller (nothing is announced
    until then)."""
    with _raced(uow):
        results = ingest_products.upsert(uow, shop_id=shop_id, items=items, name_items=True)
        if commit:
            uow.commit()
    return _report([outcome for _, outcome in results])


def upsert_product(
    uow: UnitOfWork, *, shop_id: int, item: ProductIn, commit: bool = True
) -> tuple[Product, Outcome]:
    """One product; refusals name its field as it is (``variants[0].sku``)."""
    with _raced(uow):
        [(product, outcome)] = ingest_products.upsert(
            uow, shop_id=shop_id, items=[item], name_items=False
        )
        if commit:
            uow.commit()
    return product, outcome


def upsert_orders(
    uow: UnitOfWork, *, shop_id: int, items: Sequence[OrderIn], commit: bool = True
) -> UpsertReport:
    """Create the orders not known yet (and their buyers, by the shop's customer id), move
    the others on: status forward only, lines and amounts only while unpaid."""
    with _raced(uow):
        results = ingest_orders.upsert(uow, shop_id=shop_id, items=items, name_items=True)
        if commit:
            uow.commit()
    return _report([outcome for _, outcome in results])


def upsert_order(
    uow: UnitOfWork, *, shop_id: int, item: OrderIn, commit: bool = True
) -> tuple[Order, Outcome]:
    """One order; refusals name its field as it is (``lines[0].sku``)."""
    with _raced(uow):
        [(order, outcome)] = ingest_orders.upsert(
            uow, shop_id=shop_id, items=[item], name_items=False
        )
        if commit:
            uow.commit()
    return order, outcome
