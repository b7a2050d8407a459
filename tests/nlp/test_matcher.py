"""FaqMatcher: the interface the knowledge base and the bot code against, and robustness to
how buyers really type (rewording, homophone typos, traditional characters)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kefu.nlp.matcher import (
    ARTIFACTS,
    FaqMatcher,
    Hit,
    MatcherModel,
    default_model,
    load_model,
    trained_model,
)
from kefu.nlp.segment import Vocabulary
from kefu.nlp.similarity import Embedder
from kefu.nlp.training import atec

SHOP_FAQ: list[tuple[str, list[str]]] = [
    ("express", ["发什么快递", "默认发哪家快递"]),
    ("ship-time", ["多久发货", "下单后几天能发货"]),
    ("address", ["能改地址吗", "收货地址填错了怎么修改"]),
    ("return", ["怎么退货", "退货流程是什么"]),
    ("coupon", ["有没有优惠券", "有什么优惠活动吗"]),
    ("invoice", ["可以开发票吗"]),
    ("size", ["尺码怎么选", "身高170穿什么码"]),
]


@pytest.fixture(scope="module")
def matcher() -> FaqMatcher:
    return FaqMatcher.build(SHOP_FAQ)


def test_rank_is_best_first_one_hit_per_entry_with_scores_between_0_and_1(
    matcher: FaqMatcher,
) -> None:
    ranked = matcher.rank("多久能发货", limit=10)
    assert len(matcher) == len(SHOP_FAQ)
    assert all(isinstance(hit, Hit) for hit in ranked)
    ids = [hit.id for hit in ranked]
    assert len(ids) == len(set(ids))
    scores = [hit.score for hit in ranked]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= score <= 1.0 for score in scores)
    assert ranked[0].id == "ship-time"
    assert ranked[0].question in dict(SHOP_FAQ)["ship-time"]


def test_limit_caps_the_number_of_hits(matcher: FaqMatcher) -> None:
    assert len(matcher.rank("怎么退货", limit=3)) == 3
    assert len(matcher.rank("怎么退货", limit=100)) == len(SHOP_FAQ)
    assert matcher.rank("怎么退货", limit=0) == []


def test_the_best_phrasing_of_an_entry_is_reported(matcher: FaqMatcher) -> None:
    top = matcher.rank("收货地址填错了")[0]
    assert top.id == "address"
    assert top.question == "收货地址填错了怎么修改"


def test_an_empty_knowledge_base_ranks_nothing() -> None:
    empty = FaqMatcher.build([])
    assert len(empty) == 0
    assert empty.rank("怎么退货") == []
    assert empty.confident([]) is None
    assert not empty.ambiguous([])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("你们一般用哪个快递公司", "express"),
        ("付款以后什么时候发出", "ship-time"),
        ("地址写错了能换吗", "address"),
        ("不想要了要退怎么弄", "return"),
        ("有优惠卷吗", "coupon"),
        ("能开票吗", "invoice"),
    ],
)
def test_reworded_questions_pick_the_right_entry(query: str, expected: str) -> None:
    """The model trained on ATEC's paraphrase pairs knows rewordings with no word shared."""
    matcher = FaqMatcher.build(SHOP_FAQ, model=trained_model())
    assert matcher.rank(query)[0].id == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("你们一般用哪个快递公司", "express"),
        ("地址写错了能换吗", "address"),
        ("不想要了要退怎么弄", "return"),
        ("有优惠卷吗", "coupon"),
        ("能开票吗", "invoice"),
    ],
)
def test_the_shops_model_ranks_rewordings_that_share_words(
    matcher: FaqMatcher, query: str, expected: str
) -> None:
    """The shops' default (overlap) model needs a shared character, word or sound; it
    ranks these first but is not sure enough to answer most of them on its own."""
    assert matcher.rank(query)[0].id == expected


def test_the_shop_model_is_the_default_and_the_atec_one_is_kept() -> None:
    assert default_model() == MatcherModel.fallback()
    assert trained_model().embedder is not None  # the artifact ships and loads


def test_traditional_characters_match_simplified_entries(matcher: FaqMatcher) -> None:
    ranked = matcher.rank("發甚麼快遞")
    assert ranked[0].id == "express"
    assert matcher.confident(ranked) is not None


def test_homophone_typos_still_match(matcher: FaqMatcher) -> None:
    assert matcher.rank("多久发获")[0].id == "ship-time"
    assert matcher.rank("怎么推货")[0].id == "return"


def test_homophone_typo_scores_higher_than_an_unrelated_entry() -> None:
    matcher = FaqMatcher.build([("huabei", ["花呗怎么还款"]), ("jiebei", ["借呗怎么借钱"])])
    assert matcher.rank("花被怎么还款")[0].id == "huabei"
    assert matcher.similarity("花被怎么还款", "花呗怎么还款") > matcher.similarity(
        "花被怎么还款", "借呗怎么借钱"
    )


def test_confident_returns_the_top_hit_for_a_clear_question(matcher: FaqMatcher) -> None:
    ranked = matcher.rank("怎么退货呢")
    best = matcher.confident(ranked)
    assert best is not None
    assert best == ranked[0]
    assert best.id == "return"


def test_confident_returns_none_for_an_unrelated_question(matcher: FaqMatcher) -> None:
    assert matcher.confident(matcher.rank("今天天气怎么样")) is None
    assert matcher.confident(matcher.rank("你是机器人吗")) is None


def test_confident_respects_an_explicit_threshold(matcher: FaqMatcher) -> None:
    ranked = matcher.rank("怎么退货")
    assert matcher.confident(ranked, threshold=1.01) is None
    assert matcher.confident(ranked, threshold=0.0) == ranked[0]


def test_ambiguous_when_two_entries_are_near_identical() -> None:
    matcher = FaqMatcher.build(
        [
            ("a", ["怎么申请退款"]),
            ("b", ["怎么申请退款呢"]),
            ("c", ["发什么快递"]),
        ]
    )
    ranked = matcher.rank("怎么申请退款啊")
    assert {ranked[0].id, ranked[1].id} == {"a", "b"}
    assert matcher.ambiguous(ranked)


def test_not_ambiguous_when_one_entry_clearly_wins(matcher: FaqMatcher) -> None:
    assert not matcher.ambiguous(matcher.rank("怎么退货"))
    assert not matcher.ambiguous(matcher.rank("怎么退货")[:1])


def test_similarity_is_symmetric_and_on_the_score_scale(matcher: FaqMatcher) -> None:
    same = matcher.similarity("怎么退货", "退货怎么弄")
    other = matcher.similarity("怎么退货", "发什么快递")
    assert 0.0 <= other < same <= 1.0
    assert matcher.similarity("发什么快递", "怎么退货") == pytest.approx(other, abs=1e-6)
    assert matcher.similarity("怎么退货", "怎么退货") > 0.9


def test_the_shops_own_words_are_kept_whole() -> None:
    vocabulary = Vocabulary(["小白鞋", "星空蓝"])
    matcher = FaqMatcher.build(
        [
            ("shoes", ["小白鞋会掉色吗"]),
            ("colour", ["星空蓝有现货吗"]),
            ("white", ["白色的会不会显脏"]),
        ],
        vocabulary=vocabulary,
    )
    assert matcher.rank("小白鞋掉不掉色")[0].id == "shoes"
    assert matcher.rank("星空蓝还有货吗")[0].id == "colour"


def test_integer_ids_are_returned_as_given() -> None:
    matcher = FaqMatcher.build([(1, ["怎么退货"]), (2, ["发什么快递"])])
    assert matcher.rank("退货")[0].id == 1


def test_without_the_trained_artifact_the_fallback_still_matches(tmp_path: Path) -> None:
    assert load_model(tmp_path) is None
    matcher = FaqMatcher.build(SHOP_FAQ, model=MatcherModel.fallback())
    assert matcher.rank("多久发货啊")[0].id == "ship-time"
    assert matcher.rank("發甚麼快遞")[0].id == "express"
    assert matcher.rank("怎么推货")[0].id == "return"
    assert matcher.confident(matcher.rank("今天天气怎么样")) is None


def test_the_shipped_artifact_is_compact() -> None:
    files = [ARTIFACTS / "matcher.json", ARTIFACTS / "matcher.npz"]
    assert all(path.exists() for path in files)
    assert sum(path.stat().st_size for path in files) <= 10_000_000


def test_a_written_model_loads_back_and_ranks_the_same(tmp_path: Path) -> None:
    from kefu.nlp.training.matcher import write_artifact

    rng = np.random.default_rng(0)
    terms = ["发", "货", "退", "w:发货", "w:退货", "p:fa", "p:huo"]
    model = MatcherModel(
        first_stage=(0.4, 0.3, 0.3, 1.0),
        weights=(1.0, 0.5, 1.0, 0.5, 0.2, 0.2, 0.3, 1.0, 2.0),
        bias=-3.0,
        scale=0.8,
        shift=0.5,
        threshold=0.6,
        candidates=32,
        embedder=Embedder(terms, np.ones(len(terms)), rng.normal(size=(len(terms), 4))),
        term_weights={"w:发货": (1.5, -0.5), "p:tui": (0.5, -1.0)},
    )
    write_artifact(model, tmp_path)
    loaded = load_model(tmp_path)
    assert loaded is not None
    assert loaded.threshold == 0.6
    assert loaded.term_weights == model.term_weights
    before = FaqMatcher.build(SHOP_FAQ, model=model).rank("多久发货")
    after = FaqMatcher.build(SHOP_FAQ, model=loaded).rank("多久发货")
    assert [h.id for h in after] == [h.id for h in before]
    # The embedding is stored in half precision: scores agree closely, not exactly.
    assert [h.score for h in after] == pytest.approx([h.score for h in before], abs=1e-2)


def _pairs() -> list[atec.Pair]:
    pairs: list[atec.Pair] = []
    for n in range(200):
        pairs.append((f"花呗问题{n}甲", f"花呗问题{n}乙", 1))
        pairs.append((f"花呗问题{n}甲", f"借呗问题{n}丙", 0))  # shares a sentence: same group
    return pairs


def test_the_atec_split_keeps_every_sentence_on_one_side() -> None:
    train, held_out = atec.split(_pairs())
    assert len(train) + len(held_out) == 400
    assert 0.1 < len(held_out) / 400 < 0.3
    train_sentences = {s for a, b, _ in train for s in (a, b)}
    held_sentences = {s for a, b, _ in held_out for s in (a, b)}
    assert not train_sentences & held_sentences
    assert atec.split(list(reversed(_pairs())))[1] == list(reversed(held_out))


def test_the_held_out_faq_has_every_sentence2_as_an_entry_and_positives_as_queries() -> None:
    entries, queries = atec.as_faq(
        [
            ("怎么还花呗", "花呗如何还款", 1),
            ("怎么还花呗", "借呗怎么借", 0),
            ("花呗咋还", "花呗如何还款", 1),
        ]
    )
    assert [phrasings for _, phrasings in entries] == [["花呗如何还款"], ["借呗怎么借"]]
    assert len({entry_id for entry_id, _ in entries}) == 2
    assert queries == [
        {"text": "怎么还花呗", "id": entries[0][0]},
        {"text": "花呗咋还", "id": entries[0][0]},
    ]


def test_atec_pairs_are_read_with_their_labels(tmp_path: Path) -> None:
    (tmp_path / "atec").mkdir()
    (tmp_path / "atec" / "pairs.tsv").write_text(
        "sentence1\tsentence2\tlabel\n花呗怎么还\t花呗如何还款\t1\n借呗额度\t花呗额度\t0\n",
        encoding="utf-8",
    )
    assert atec.read_pairs(tmp_path) == [
        ("花呗怎么还", "花呗如何还款", 1),
        ("借呗额度", "花呗额度", 0),
    ]
    (tmp_path / "atec" / "pairs.tsv").write_text(
        "sentence1\tsentence2\tlabel\n花呗怎么还\t2\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match="line 2"):
        atec.read_pairs(tmp_path)
