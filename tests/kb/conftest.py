"""Fixtures for the knowledge base: a shop with staff and a few products, and the KB's
process-wide matcher cache emptied around every test (ids repeat across tests)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest

from kefu.commerce import service as commerce
from kefu.commerce.service import VariantSpec
from kefu.kb import index
from kefu.kb import service as kb
from kefu.uow import UnitOfWork
from tests.factories import ShopWithStaff, make_shop_with_staff

UowFactory = Callable[[], UnitOfWork]


@pytest.fixture(autouse=True)
def _fresh_matchers() -> Iterator[None]:
    index.clear()
    yield
    index.clear()


@pytest.fixture
def shop(uow_factory: UowFactory) -> ShopWithStaff:
    staff = make_shop_with_staff(uow_factory, "mianli")
    with uow_factory() as uow:
        commerce.create_product(
            uow,
            shop_id=staff.shop.id,
            sku="ML-HD001",
            title="棉里 加绒卫衣女秋冬 圆领套头宽松加厚上衣",
            category="卫衣",
            price=Decimal("139.00"),
            variants=[VariantSpec(sku="ML-HD001-HS-XL", size="XL", colour="黑色", stock=5)],
        )
    return staff


def add(
    uow_factory: UowFactory,
    shop: ShopWithStaff,
    questions: list[str],
    answer: str,
    category: str = "",
    **extra: object,
) -> kb.EntryView:
    with uow_factory() as uow:
        return kb.create_entry(
            uow,
            shop_id=shop.shop.id,
            questions=questions,
            answer=answer,
            category=category,
            acting_agent_id=shop.owner.id,
            **extra,  # type: ignore[arg-type]
        )


# A small shop KB the matching tests share.
BASICS: list[tuple[list[str], str, str]] = [
    (["什么时候发货", "几天能发货", "多久发货"], "亲,16点前付款当天发出,最晚48小时内发货~", "发货"),
    (["发什么快递", "用什么快递", "能发顺丰吗"], "默认中通,顺丰需补差价哦~", "快递"),
    (["这件卫衣有XL吗", "卫衣XL还有货吗"], "有的亲,页面能选的尺码都有现货~", "尺码"),
    (["能便宜点吗", "可以优惠吗", "少点吧"], "亲,价格是统一的~ 可以领满199减20的券哦", "优惠"),
    (["支持七天无理由吗", "可以退货吗"], "支持7天无理由退换,还送运费险~", "退换"),
    (["怎么还没发货", "为什么还不发货"], "{customer_name},让您久等了,马上帮您查~", "发货"),
]


@pytest.fixture
def basics(uow_factory: UowFactory, shop: ShopWithStaff) -> dict[str, int]:
    """The BASICS entries; first phrasing -> entry id."""
    return {qs[0]: add(uow_factory, shop, qs, answer, cat).id for qs, answer, cat in BASICS}
