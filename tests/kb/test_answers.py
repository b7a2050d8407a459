"""What the KB tells the bot and the desk: an answer, two to choose from, or nothing."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, text

from kefu.crm import service as crm
from kefu.kb import index
from kefu.kb import service as kb
from tests.factories import ShopWithStaff, make_shop_with_staff
from tests.kb.conftest import UowFactory, add


def _decide(
    uow_factory: UowFactory, shop: ShopWithStaff, question: str, **kw: object
) -> kb.Decision:
    with uow_factory() as uow:
        return kb.find_answer(uow.session, shop_id=shop.shop.id, text=question, **kw)  # type: ignore[arg-type]


def test_a_close_question_gets_its_entrys_answer(
    uow_factory: UowFactory, shop: ShopWithStaff, basics: dict[str, int]
) -> None:
    decision = _decide(uow_factory, shop, "怎么还没发货啊??")
    assert decision.kind == "answer"
    assert decision.answer is not None
    assert decision.answer.entry_id == basics["怎么还没发货"]
    assert decision.answer.answer == "{customer_name},让您久等了,马上帮您查~"
    assert decision.answer.question == "怎么还没发货"
    assert 0.5 <= decision.answer.score <= 1
    assert decision.ranked[0] == decision.answer
    # Traditional characters and full-width letters are the same question.
    size = _decide(uow_factory, shop, "這件衛衣有ＸＬ嗎")
    assert size.answer is not None and size.answer.entry_id == basics["这件卫衣有XL吗"]


def test_small_talk_and_unknown_questions_get_nothing(
    uow_factory: UowFactory, shop: ShopWithStaff, basics: dict[str, int]
) -> None:
    for question in ("在吗", "你们老板是谁", "", "   ", "😀"):
        decision = _decide(uow_factory, shop, question)
        assert (decision.kind, decision.answer, decision.choices) == ("none", None, ())


def test_the_threshold_can_be_set_per_call(
    uow_factory: UowFactory, shop: ShopWithStaff, basics: dict[str, int]
) -> None:
    assert _decide(uow_factory, shop, "还没发货啊").kind == "answer"
    assert _decide(uow_factory, shop, "还没发货啊", threshold=0.99).kind == "none"
    loose = _decide(uow_factory, shop, "可以退吗", threshold=0.05)
    assert loose.answer is not None and loose.answer.entry_id == basics["支持七天无理由吗"]


def test_two_entries_too_close_to_pick_between_are_both_offered(
    uow_factory: UowFactory, shop: ShopWithStaff
) -> None:
    hoodie = add(uow_factory, shop, ["卫衣怎么洗"], "卫衣30度以下机洗")
    pyjamas = add(uow_factory, shop, ["睡衣怎么洗"], "睡衣建议手洗")
    decision = _decide(uow_factory, shop, "怎么洗")
    assert decision.kind == "ambiguous" and decision.answer is None
    assert {c.entry_id for c in decision.choices} == {hoodie.id, pyjamas.id}
    # The same answer twice is no dilemma.
    with uow_factory() as uow:
        kb.update_entry(uow, shop_id=shop.shop.id, entry_id=pyjamas.id, answer="卫衣30度以下机洗")
    assert _decide(uow_factory, shop, "怎么洗").kind == "answer"


def test_disabled_entries_never_answer_and_changes_show_at_once(
    uow_factory: UowFactory, shop: ShopWithStaff, basics: dict[str, int]
) -> None:
    entry_id = basics["能便宜点吗"]
    assert _decide(uow_factory, shop, "能便宜点吗").kind == "answer"
    with uow_factory() as uow:
        kb.set_enabled(uow, shop_id=shop.shop.id, entry_id=entry_id, enabled=False)
    assert _decide(uow_factory, shop, "能便宜点吗").kind == "none"
    with uow_factory() as uow:
        suggested = kb.suggest(uow.session, shop_id=shop.shop.id, text="能便宜点吗")
        assert entry_id not in {s.entry_id for s in suggested}
        kb.set_enabled(uow, shop_id=shop.shop.id, entry_id=entry_id, enabled=True)
    decision = _decide(uow_factory, shop, "能便宜点吗")
    assert decision.answer is not None and decision.answer.entry_id == entry_id


def test_a_change_made_by_another_process_is_seen_through_the_kb_revision(
    uow_factory: UowFactory, shop: ShopWithStaff, basics: dict[str, int], db: Engine
) -> None:
    """The cache is checked against the revision in the database, not against this process."""
    assert _decide(uow_factory, shop, "开发票吗").kind == "none"
    entry_id = basics["能便宜点吗"]
    # Another process rewrote a phrasing but has not raised the revision yet: this process
    # still answers from its cached matcher ...
    with db.begin() as connection:
        connection.execute(
            text(
                "UPDATE kb_questions SET text = '开发票吗', normalized = '开发票吗' "
                "WHERE entry_id = :e AND position = 0"
            ),
            {"e": entry_id},
        )
    assert _decide(uow_factory, shop, "开发票吗").kind == "none"
    # ... and rebuilds it as soon as the revision moves.
    with db.begin() as connection:
        connection.execute(
            text("UPDATE kb_state SET revision = revision + 1 WHERE shop_id = :s"),
            {"s": shop.shop.id},
        )
    decision = _decide(uow_factory, shop, "开发票吗")
    assert decision.answer is not None and decision.answer.entry_id == entry_id


def test_threads_asking_at_once_share_one_build(
    uow_factory: UowFactory,
    shop: ShopWithStaff,
    basics: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    builds = []
    original = index._build

    def counting(*args: object) -> index.ShopIndex:
        builds.append(1)
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(index, "_build", counting)
    answers: list[int | None] = []
    lock = threading.Lock()

    def ask() -> None:
        decision = _decide(uow_factory, shop, "几天能发货")
        with lock:
            answers.append(decision.answer.entry_id if decision.answer else None)

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [basics["什么时候发货"]] * 6
    assert len(builds) == 1


def test_entries_about_another_product_stay_out_of_that_products_answers(
    uow_factory: UowFactory, shop: ShopWithStaff
) -> None:
    with uow_factory() as uow:
        hoodie = kb.product_by_sku(uow.session, shop_id=shop.shop.id, sku="ML-HD001")
    scoped = add(uow_factory, shop, ["会起球吗"], "卫衣不起球", product_id=hoodie)
    assert _decide(uow_factory, shop, "会起球吗", product_id=hoodie).answer is not None
    assert _decide(uow_factory, shop, "会起球吗").answer is not None  # no product: shop-wide
    other = _decide(uow_factory, shop, "会起球吗", product_id=hoodie + 1000)
    assert other.kind == "none" and scoped.id not in {a.entry_id for a in other.ranked}


def test_suggestions_are_the_best_few_enabled_entries(
    uow_factory: UowFactory, shop: ShopWithStaff, basics: dict[str, int]
) -> None:
    with uow_factory() as uow:
        found = kb.suggest(uow.session, shop_id=shop.shop.id, text="这个卫衣XL有货吗", limit=2)
        assert found and found[0].entry_id == basics["这件卫衣有XL吗"]
        assert len(found) <= 2
        assert found == sorted(found, key=lambda s: -s.score)
        assert found[0].answer == "有的亲,页面能选的尺码都有现货~"
        assert kb.suggest(uow.session, shop_id=shop.shop.id, text="  ") == []
    other = make_shop_with_staff(uow_factory, "other")
    with uow_factory() as uow:
        assert kb.suggest(uow.session, shop_id=other.shop.id, text="这个卫衣XL有货吗") == []


@pytest.mark.parametrize(
    ("answer", "variables", "expected"),
    [
        ("{customer_name}您好", {"customer_name": "王女士"}, "王女士您好"),
        ("{customer_name}您好", {}, "亲您好"),
        ("{customer_name}您好", {"customer_name": "  "}, "亲您好"),
        ("欢迎光临{shop_name}", {"shop_name": "棉里旗舰店"}, "欢迎光临棉里旗舰店"),
        ("欢迎光临{shop_name}", {}, "欢迎光临本店"),
        ("{customer_surname}先生好", {}, "先生好"),
        ("订单{order_no}已发出", {"order_no": "A1"}, "订单A1已发出"),  # filled if given
        ("订单{order_no}已发出", {}, "订单已发出"),  # never shown as {order_no}
        ("花括号{ 和 }还有{{x}} {", {}, "花括号{ 和 }还有{} {"),
        ("{客户}你好", {}, "{客户}你好"),  # not a variable name: left as written
    ],
)
def test_answers_render_with_their_variables_and_never_fail(
    answer: str, variables: dict[str, str], expected: str
) -> None:
    assert kb.render_answer(answer, variables) == expected


def test_answer_variables_address_the_buyer_as_an_agent_would(
    uow_factory: UowFactory, shop: ShopWithStaff
) -> None:
    with uow_factory() as uow:
        lady = crm.create_customer(uow, shop_id=shop.shop.id, name="王芳", gender="F")
        anonymous = crm.create_customer(uow, shop_id=shop.shop.id, nickname="小棉花")
    with uow_factory() as uow:
        session = uow.session
        assert kb.answer_variables(session, shop_id=shop.shop.id, customer_id=lady.id) == {
            "shop_name": "mianli 旗舰店",
            "customer_name": "王女士",
            "customer_surname": "王",
        }
        assert kb.answer_variables(session, shop_id=shop.shop.id, customer_id=anonymous.id) == {
            "shop_name": "mianli 旗舰店",
            "customer_name": "小棉花",
        }
        other = make_shop_with_staff(uow_factory, "other")
        assert kb.answer_variables(session, shop_id=other.shop.id, customer_id=lady.id) == {
            "shop_name": "other 旗舰店"
        }
    rendered = kb.render_answer("{customer_name},欢迎来到{shop_name}", {"customer_name": "王女士"})
    assert rendered == "王女士,欢迎来到本店"


def test_an_entry_added_in_the_same_unit_of_work_answers_at_once(
    uow_factory: UowFactory, shop: ShopWithStaff
) -> None:
    """The index key is read once per session, and a KB write in that session forgets it."""
    with uow_factory() as uow:
        before = kb.find_answer(uow.session, shop_id=shop.shop.id, text="可以开发票吗")
        assert before.answer is None
        kb.create_entry(
            uow, shop_id=shop.shop.id, questions=["可以开发票吗"], answer="可以开电子发票",
            commit=False,
        )  # fmt: skip
        after = kb.find_answer(uow.session, shop_id=shop.shop.id, text="可以开发票吗")
        assert after.answer is not None and after.answer.answer == "可以开电子发票"
