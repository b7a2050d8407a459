"""FAQ entries: what an owner can save, what is refused (and why), and finding them again."""

from __future__ import annotations

import pytest

from kefu.errors import Conflict, Invalid, NotFound
from kefu.events import EventBus
from kefu.kb import service as kb
from kefu.kb.events import FaqEntryCreated, FaqEntryDeleted, FaqEntryUpdated
from tests.factories import ShopWithStaff, make_shop_with_staff
from tests.kb.conftest import UowFactory, add


def test_an_entry_keeps_its_phrasings_in_order_and_raises_the_kb_revision(
    uow_factory: UowFactory, shop: ShopWithStaff, bus: EventBus
) -> None:
    with uow_factory() as uow:
        assert kb.revision(uow.session, shop_id=shop.shop.id) == 0
    with bus.capture() as events:
        view = add(
            uow_factory,
            shop,
            ["  运费险有吗 ", "", "送运费险吗", "运费险有吗"],  # blanks dropped, repeats merged
            "有的亲,每单都送运费险~",
            "运费险",
        )
    assert view.questions == ["运费险有吗", "送运费险吗"]
    with uow_factory() as uow:
        again = kb.get_entry(uow.session, shop_id=shop.shop.id, entry_id=view.id)
        assert again.questions == ["运费险有吗", "送运费险吗"]
        assert again.entry.answer == "有的亲,每单都送运费险~"
        assert again.entry.category == "运费险"
        assert again.entry.enabled and again.entry.hit_count == 0
        assert again.entry.created_by_id == shop.owner.id
        assert kb.revision(uow.session, shop_id=shop.shop.id) == 1
    assert events == [FaqEntryCreated(shop_id=shop.shop.id, entry_id=view.id)]


@pytest.mark.parametrize(
    ("questions", "answer", "field", "says"),
    [
        ([], "答案", "questions", "at least one phrasing"),
        (["", "   "], "答案", "questions", "at least one phrasing"),
        (["😀😀"], "答案", "questions", "no words"),
        (["问" * 201], "答案", "questions", "the limit is 200"),
        (["在吗\x00"], "答案", "questions", "control character"),
        (["在吗"], "   ", "answer", "answer is empty"),
        (["在吗"], "答" * 2001, "answer", "the limit is 2000"),
        (["在吗"], "亲,您的订单{order_no}已发出", "answer", "{order_no}"),
        (["在吗"], "{客户名}您好", "answer", "{客户名}"),
    ],
)
def test_a_broken_entry_is_refused_naming_the_field_and_nothing_is_saved(
    uow_factory: UowFactory,
    shop: ShopWithStaff,
    questions: list[str],
    answer: str,
    field: str,
    says: str,
) -> None:
    with pytest.raises(Invalid) as refused:
        add(uow_factory, shop, questions, answer)
    assert refused.value.field == field
    assert says in refused.value.message
    with uow_factory() as uow:
        assert kb.count_entries(uow.session, shop_id=shop.shop.id) == 0
        assert kb.revision(uow.session, shop_id=shop.shop.id) == 0


def test_an_unknown_variable_is_named_and_the_known_ones_are_listed(
    uow_factory: UowFactory, shop: ShopWithStaff
) -> None:
    with pytest.raises(Invalid) as refused:
        add(uow_factory, shop, ["在吗"], "{customer_name}您好,{coupon}送您")
    assert refused.value.params["variable"] == "{coupon}"
    assert "{customer_name}" in refused.value.params["known"]
    view = add(
        uow_factory, shop, ["在吗"], "{customer_name}您好,欢迎来到{shop_name} {customer_surname}"
    )
    assert view.entry.answer.startswith("{customer_name}您好")


def test_a_phrasing_belongs_to_one_entry_of_a_shop_in_any_script_or_width(
    uow_factory: UowFactory, shop: ShopWithStaff, bus: EventBus
) -> None:
    first = add(uow_factory, shop, ["什么时候发货", "有XL吗"], "48小时内发货")
    for phrasing in ("什麼時候發貨", "有ＸＬ吗", "  什么时候发货 "):
        with pytest.raises(Conflict) as refused:
            add(uow_factory, shop, ["别的问题", phrasing], "另一个答案")
        assert refused.value.params["entry_id"] == first.id
    # Another shop may have the same question.
    other = make_shop_with_staff(uow_factory, "other")
    add(uow_factory, other, ["什么时候发货"], "72小时内发货")
    with uow_factory() as uow:
        assert kb.count_entries(uow.session, shop_id=shop.shop.id) == 1


def test_changing_an_entry_replaces_its_phrasings_and_says_what_changed(
    uow_factory: UowFactory, shop: ShopWithStaff, bus: EventBus
) -> None:
    view = add(uow_factory, shop, ["发什么快递", "用什么快递"], "默认中通")
    with uow_factory() as uow, bus.capture() as events:
        changed = kb.update_entry(
            uow,
            shop_id=shop.shop.id,
            entry_id=view.id,
            acting_agent_id=shop.supervisor.id,
            questions=["用什么快递", "能发顺丰吗", "發什麼快遞"],  # reorder, add, drop one
            answer="默认中通,顺丰补差价",
        )
    assert changed.questions == ["用什么快递", "能发顺丰吗", "發什麼快遞"]
    assert changed.entry.updated_by_id == shop.supervisor.id
    assert events == [
        FaqEntryUpdated(shop_id=shop.shop.id, entry_id=view.id, changed=("questions", "answer"))
    ]
    # The dropped phrasing is free for another entry.
    add(uow_factory, shop, ["发什么快递呀"], "中通")
    with uow_factory() as uow:
        revision = kb.revision(uow.session, shop_id=shop.shop.id)
    # Saving the same again changes nothing: no event, no new revision.
    with uow_factory() as uow, bus.capture() as events:
        kb.update_entry(
            uow,
            shop_id=shop.shop.id,
            entry_id=view.id,
            questions=["用什么快递", "能发顺丰吗", "發什麼快遞"],
            answer="默认中通,顺丰补差价",
            enabled=True,
        )
        assert kb.revision(uow.session, shop_id=shop.shop.id) == revision
    assert events == []


def test_enabling_disabling_and_the_product_an_entry_is_about(
    uow_factory: UowFactory, shop: ShopWithStaff
) -> None:
    with uow_factory() as uow:
        product_id = kb.product_by_sku(uow.session, shop_id=shop.shop.id, sku="ML-HD001")
    view = add(uow_factory, shop, ["卫衣起球吗"], "不起球", product_id=product_id)
    assert (view.product_sku, view.entry.product_id) == ("ML-HD001", product_id)
    with uow_factory() as uow:
        off = kb.set_enabled(uow, shop_id=shop.shop.id, entry_id=view.id, enabled=False)
        assert not off.entry.enabled
        kept = kb.update_entry(uow, shop_id=shop.shop.id, entry_id=view.id, answer="不会起球")
        assert kept.entry.product_id == product_id  # not given: unchanged
        cleared = kb.update_entry(uow, shop_id=shop.shop.id, entry_id=view.id, product_id=None)
        assert cleared.entry.product_id is None and cleared.product_sku is None


def test_another_shops_product_image_or_entry_is_not_there(
    uow_factory: UowFactory, shop: ShopWithStaff
) -> None:
    other = make_shop_with_staff(uow_factory, "other")
    with uow_factory() as uow:
        product_id = kb.product_by_sku(uow.session, shop_id=shop.shop.id, sku="ML-HD001")
    with pytest.raises(Invalid) as refused:
        add(uow_factory, other, ["卫衣起球吗"], "不起球", product_id=product_id)
    assert refused.value.field == "product_id"
    mine = add(uow_factory, shop, ["卫衣起球吗"], "不起球")
    with uow_factory() as uow:
        with pytest.raises(NotFound):
            kb.get_entry(uow.session, shop_id=other.shop.id, entry_id=mine.id)
        with pytest.raises(NotFound):
            kb.update_entry(uow, shop_id=other.shop.id, entry_id=mine.id, answer="改了")
        with pytest.raises(NotFound):
            kb.delete_entry(uow, shop_id=other.shop.id, entry_id=mine.id)
    with uow_factory() as uow:
        assert (
            kb.get_entry(uow.session, shop_id=shop.shop.id, entry_id=mine.id).entry.answer
            == "不起球"
        )


def test_deleting_an_entry_frees_its_phrasings(
    uow_factory: UowFactory, shop: ShopWithStaff, bus: EventBus
) -> None:
    view = add(uow_factory, shop, ["能开发票吗"], "可以")
    with uow_factory() as uow, bus.capture() as events:
        kb.delete_entry(uow, shop_id=shop.shop.id, entry_id=view.id)
    assert events == [FaqEntryDeleted(shop_id=shop.shop.id, entry_id=view.id)]
    with uow_factory() as uow, pytest.raises(NotFound):
        kb.get_entry(uow.session, shop_id=shop.shop.id, entry_id=view.id)
    add(uow_factory, shop, ["能开发票吗"], "可以开电子发票")


def test_search_finds_words_in_phrasings_answers_and_categories(
    uow_factory: UowFactory, shop: ShopWithStaff
) -> None:
    freight = add(uow_factory, shop, ["运费险有吗"], "每单都送运费险", "运费险")
    ship = add(uow_factory, shop, ["什么时候发货"], "16点前付款当天发出", "发货")
    size = add(uow_factory, shop, ["这件卫衣有XL吗"], "有的,100%纯棉", "尺码")
    off = add(uow_factory, shop, ["能发顺丰吗"], "顺丰补差价", "快递")
    with uow_factory() as uow:
        kb.set_enabled(uow, shop_id=shop.shop.id, entry_id=off.id, enabled=False)
    other = make_shop_with_staff(uow_factory, "other")
    add(uow_factory, other, ["运费险怎么赔"], "别家的运费险")

    def ids(**kwargs: object) -> list[int]:
        with uow_factory() as uow:
            page = kb.search_entries(uow.session, shop_id=shop.shop.id, **kwargs)  # type: ignore[arg-type]
            assert page.total == len(page.items)
            return [v.id for v in page.items]

    assert ids() == [off.id, size.id, ship.id, freight.id]  # newest first
    assert ids(query="运费险") == [freight.id]
    assert ids(query="運費險") == [freight.id]  # traditional finds simplified
    assert ids(query="ｘｌ") == [size.id]  # full width and case
    assert ids(query="当天") == [ship.id]  # in the answer
    assert ids(query="发货 当天") == [ship.id]  # every word must be there
    assert ids(query="发货 运费险") == []
    assert ids(query="100%") == [size.id]  # % is a character, not a wildcard
    assert ids(query="%") == [size.id]
    assert ids(category="发货") == [ship.id]
    assert ids(enabled=False) == [off.id]
    assert ids(enabled=True, query="顺丰") == []
    with uow_factory() as uow:
        page = kb.search_entries(uow.session, shop_id=shop.shop.id, limit=2, offset=2)
        assert (page.total, [v.id for v in page.items]) == (4, [ship.id, freight.id])
        categories = kb.list_categories(uow.session, shop_id=shop.shop.id)
        assert sorted(categories) == [("发货", 1), ("尺码", 1), ("快递", 1), ("运费险", 1)]


def test_hits_are_counted(uow_factory: UowFactory, shop: ShopWithStaff) -> None:
    view = add(uow_factory, shop, ["在吗"], "在的亲")
    with uow_factory() as uow:
        kb.record_hit(uow, shop_id=shop.shop.id, entry_id=view.id)
        kb.record_hit(uow, shop_id=shop.shop.id, entry_id=view.id)
        assert (
            kb.get_entry(uow.session, shop_id=shop.shop.id, entry_id=view.id).entry.hit_count == 2
        )
