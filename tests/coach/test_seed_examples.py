"""Seed 001's answers to "你们的东西质量真的太差了…": the three it calls wrong break a
complaint rule, the three it recommends break none — read from the seed file when
../shared/seeds is there, and from the copies kept in the repository always."""

from __future__ import annotations

import pytest

from kefu.coach import evaluation
from kefu.coach.defaults import DEFAULT_RULES
from kefu.coach.readings import read_buyer

COMPLAINT = (
    "你们的东西质量真的太差了,和介绍来的差那么多,我要退款,你自己用用你们的东西,"
    "看能不能用,这么差的东西还敢卖给别人,缺不缺德?"
)
WRONG = {
    "那请你退款好了。": {"refund_first", "no_apology_angry", "no_greeting"},
    "我们产品质量一直很好的,怎么可能很差呢?请问是哪方面的质量问题?": {
        "quality_denial",
        "no_apology_angry",
        "no_greeting",
    },
    "哦,那可能是物流公司在运输过程中弄坏的。": {
        "blame_shifting",
        "no_apology_angry",
        "no_greeting",
    },
}
RIGHT = (
    "亲您好,请稍安勿躁,我们给您发的货存在一些什么样的质量问题呢?如果有质量问题,"
    "我们是可以帮您换货(退款)的。",
    "亲,非常抱歉我们的商品给您带来的困扰,现在我来处理一下您的问题,请您先将您的订单号告诉我好吗?",
    "非常抱歉亲,可能是我们的疏忽,没有认真检查货再发给您,您看这样好不好,如果…那么我们一定承担责任。",
)


def _judged(examples: evaluation.SeedExamples) -> dict[str, set[str]]:
    verdicts = evaluation.check_seed(examples, DEFAULT_RULES, read_buyer=read_buyer)
    assert all(verdict.agrees for verdict in verdicts), verdicts
    return {verdict.reply: set(verdict.rules) for verdict in verdicts}


def _same(text: str) -> str:
    """Seed punctuation is half-width, the labelled copies' full-width: compare either."""
    return text.translate(str.maketrans("，？（）", ",?()"))


def test_the_seed_file_examples_are_judged_as_the_seed_judges_them() -> None:
    seed = evaluation.find_seed_001()
    if seed is None:
        pytest.skip("../shared/seeds is not here")
    examples = evaluation.parse_seed_001(seed.read_text(encoding="utf-8"), origin=str(seed))
    assert examples is not None
    assert examples.complaint == COMPLAINT
    assert examples.wrong == tuple(WRONG)
    assert examples.right == RIGHT
    judged = _judged(examples)
    for reply, rules in WRONG.items():
        assert judged[reply] == rules
    for reply in RIGHT:
        assert judged[reply] == set()


def test_the_copies_in_this_test_are_judged_the_same_way() -> None:
    examples = evaluation.SeedExamples("test", COMPLAINT, tuple(WRONG), RIGHT)
    judged = _judged(examples)
    assert {reply: judged[reply] for reply in WRONG} == WRONG


def test_the_labelled_set_keeps_the_six_examples_and_judges_them_the_same_way() -> None:
    items = evaluation.load_items()
    examples = evaluation.seed_from_items(items)
    assert examples is not None
    assert len(examples.wrong) == 3 and len(examples.right) == 3
    assert {_same(reply) for reply in examples.wrong} == set(WRONG)
    assert {_same(reply) for reply in examples.right} == set(RIGHT)
    judged = _judged(examples)
    for reply in examples.wrong:
        assert judged[reply] == WRONG[_same(reply)]


def test_the_seed_parser_strips_glosses_and_converts_to_simplified() -> None:
    text = (
        "客戶:你們的東西質(zhì)量真的太差了\n"
        "我們:1、那請你退款好了。(錯誤)2、哦,那可能是物流公司弄壞的。(錯誤)\n"
        "以上\n"
        "我們:1、親您好,請稍安勿躁。2、非常抱歉親。\n"
    )
    examples = evaluation.parse_seed_001(text, origin="inline")
    assert examples is not None
    assert examples.complaint == "你们的东西质量真的太差了"
    assert examples.wrong == ("那请你退款好了。", "哦,那可能是物流公司弄坏的。")
    assert examples.right == ("亲您好,请稍安勿躁。", "非常抱歉亲。")
    assert evaluation.parse_seed_001("nothing here", origin="inline") is None
