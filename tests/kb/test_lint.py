"""KB lint: what a shop owner should fix before the bot answers wrongly."""

from __future__ import annotations

import pytest

from kefu.kb import lint
from kefu.kb import service as kb
from tests.factories import ShopWithStaff
from tests.kb.conftest import UowFactory, add


def test_lint_finds_duplicates_contradictions_and_misplaced_phrasings(
    uow_factory: UowFactory, shop: ShopWithStaff
) -> None:
    ship = add(uow_factory, shop, ["什么时候发货", "多久发货"], "亲,48小时内发货")
    ship_again = add(uow_factory, shop, ["什么时候发货呢"], "付款后72小时内发货")
    invoice = add(uow_factory, shop, ["可以开发票吗"], "可以开电子发票")
    invoice_again = add(uow_factory, shop, ["可以开发票不"], "可以开电子发票哦")
    refund = add(uow_factory, shop, ["退款多久到账", "钱什么时候退回来"], "24小时内原路退回")
    insurance = add(uow_factory, shop, ["运费险怎么理赔", "运费险多久到账"], "签收后自动理赔")
    with uow_factory() as uow:
        report = kb.lint(uow.session, shop_id=shop.shop.id)
    assert report.entries == 6
    assert [(p.first_id, p.second_id, p.detail) for p in report.contradictions] == [
        (ship.id, ship_again.id, "48小时 / 72小时")
    ]
    assert report.contradictions[0].first_question == "什么时候发货"
    assert report.contradictions[0].second_question == "什么时候发货呢"
    assert [(p.first_id, p.second_id) for p in report.duplicates] == [
        (invoice.id, invoice_again.id)
    ]
    misplaced = {(m.entry_id, m.question, m.other_id) for m in report.misplaced}
    assert (insurance.id, "运费险多久到账", refund.id) in misplaced
    for m in report.misplaced:
        assert m.other_score > m.own_score
    assert report.problems == 2 + len(report.misplaced)


def test_a_question_narrowed_by_more_words_is_another_question(
    uow_factory: UowFactory, shop: ShopWithStaff
) -> None:
    add(uow_factory, shop, ["什么时候发货"], "48小时内发货")
    add(uow_factory, shop, ["预售什么时候发货"], "付款后7-15天发货")
    with uow_factory() as uow:
        report = kb.lint(uow.session, shop_id=shop.shop.id)
    assert report.problems == 0
    assert lint.narrows("什么时候发货", "预售什么时候发货")
    assert not lint.narrows("什么时候发货", "什么时候发货呢")


def test_disabled_entries_and_other_shops_are_not_linted(
    uow_factory: UowFactory, shop: ShopWithStaff
) -> None:
    add(uow_factory, shop, ["什么时候发货"], "48小时内发货")
    off = add(uow_factory, shop, ["什么时候发货呢"], "72小时内发货")
    with uow_factory() as uow:
        kb.set_enabled(uow, shop_id=shop.shop.id, entry_id=off.id, enabled=False)
        report = kb.lint(uow.session, shop_id=shop.shop.id)
    assert (report.entries, report.problems) == (1, 0)


def test_an_empty_kb_is_clean(uow_factory: UowFactory, shop: ShopWithStaff) -> None:
    with uow_factory() as uow:
        report = kb.lint(uow.session, shop_id=shop.shop.id)
    assert (report.entries, report.problems) == (0, 0)


@pytest.mark.parametrize(
    ("first", "second", "detail"),
    [
        ("48小时内发货", "72小时内发货", "48小时 / 72小时"),
        ("支持七天无理由退换", "支持15天无理由退换", "7天 / 15天"),
        ("满199减20", "满199减30", "减20 / 减30"),
        ("VIP3是9.8折", "VIP3是9.5折", "9.8折 / 9.5折"),
        ("看一下尺码表,一件就包邮", "拍两件以上包邮", ""),  # 一下, 一件: not amounts
        ("满39元包邮,不满收6元", "偏远地区加收15元", "6元 / 15元"),
        ("可以开专票", "暂不支持开专票", "支持 / 不支持"),
        ("可以开电子发票", "可以开电子发票哦", ""),
        ("16点前付款当天发出", "16点前付款,当天就发出~", ""),
        ("亲,48小时内发货", "亲,48小时内发货", ""),
    ],
)
def test_answers_contradict_on_numbers_or_on_yes_and_no(
    first: str, second: str, detail: str
) -> None:
    assert lint.contradiction(first, second) == detail
