"""Intents: the label set, their routes, the shipped model and the label-cleaning steps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kefu.nlp.features import FeatureSpec, LinearModel, char_ngrams, word_features
from kefu.nlp.intents import (
    COMPLAINT_INTENTS,
    DEFAULT_ROUTES,
    LABELS,
    Action,
    IntentRoute,
    Team,
    load_intent_model,
)
from kefu.nlp.segment import cut
from kefu.nlp.text import normalize_text

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
needs_data = pytest.mark.skipif(not (DATA / "cic").is_dir(), reason="../shared/data not here")


def predict(text: str) -> tuple[tuple[str, float], ...]:
    normal = normalize_text(text)
    return load_intent_model().predict(normal, cut(normal))


def test_there_are_118_distinct_labels() -> None:
    assert len(LABELS) == 118
    assert len(set(LABELS)) == 118
    assert LABELS[0] == "买家抱怨商品涨价了"
    assert LABELS[-1] == "买家咨询自己的旺旺昵称"


def test_every_label_has_a_route_to_a_known_team() -> None:
    assert set(DEFAULT_ROUTES) == set(LABELS)
    for route in DEFAULT_ROUTES.values():
        assert route.team in set(Team)
        assert route.action is None or route.action in set(Action)
    assert {route.team for route in DEFAULT_ROUTES.values()} == set(Team)


@pytest.mark.parametrize(
    ("label", "team", "action"),
    [
        ("买家咨询物流信息", "shipping", "order_status"),
        ("买家咨询快递单号", "shipping", "order_status"),
        ("买家要求修改收件信息", "shipping", "address_change"),
        ("买家表达不满/生气", "complaints", None),
        ("买家讨价还价", "presale", "bargain"),
        ("买家表示需要退货退款", "aftersale", "return_request"),
        ("买家表示优惠券无法使用", "promotion", "coupon_problem"),
        ("买家催促回复", "presale", "human_requested"),
    ],
)
def test_routes_send_intents_to_the_team_that_handles_them(
    label: str, team: str, action: str | None
) -> None:
    assert DEFAULT_ROUTES[label] == IntentRoute(team, action)


def test_complaint_intents_are_labels() -> None:
    assert COMPLAINT_INTENTS.issubset(LABELS)
    assert "买家表达不满/生气" in COMPLAINT_INTENTS
    assert "买家表示好的" not in COMPLAINT_INTENTS


def test_a_route_with_an_unknown_team_or_action_is_refused() -> None:
    with pytest.raises(ValueError, match="nobody"):
        IntentRoute("nobody")
    with pytest.raises(ValueError, match="fly"):
        IntentRoute("presale", "fly")


def test_the_shipped_model_loads_with_the_labels_in_order() -> None:
    model = load_intent_model()
    assert model.labels == LABELS
    assert load_intent_model() is model  # cached


def test_predict_gives_every_label_once_as_probabilities_best_first() -> None:
    ranked = predict("什么时候发货")
    labels = [label for label, _ in ranked]
    probabilities = [p for _, p in ranked]
    assert sorted(labels) == sorted(LABELS)
    assert probabilities == sorted(probabilities, reverse=True)
    assert sum(probabilities) == pytest.approx(1.0, abs=1e-4)
    assert all(0.0 <= p <= 1.0 for p in probabilities)


def test_limit_keeps_the_best() -> None:
    normal = normalize_text("什么时候发货")
    limited = load_intent_model().predict(normal, cut(normal), limit=5)
    assert limited == predict("什么时候发货")[:5]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("我的快递现在到哪里了", "买家咨询物流信息"),
        ("可以便宜一点吗", "买家讨价还价"),
        ("我想退款", "买家表示需要退货退款"),
        ("你们一般发哪家快递呀", "买家咨询发什么快递"),
        ("帮我把收货地址改一下", "买家要求修改收件信息"),
        ("有没有赠品送啊", "买家咨询商品是否有赠品"),
        ("可以开发票吗亲", "买家咨询能否开发票及发票类型和寄送时间"),
        ("你好在吗", "买家打招呼"),
    ],
)
def test_unmistakable_messages_get_their_intent(text: str, intent: str) -> None:
    best, confidence = predict(text)[0]
    assert best == intent
    assert confidence > 0.3


def test_an_empty_message_still_gets_a_distribution() -> None:
    ranked = load_intent_model().predict("", [])
    assert len(ranked) == len(LABELS)
    assert ranked[0][1] < 0.5  # nothing to go on: not confident


def test_features_are_character_ngrams_with_boundaries_and_word_pairs() -> None:
    assert char_ngrams("好的", 1, 2) == ["好", "的", "^好", "好的", "的$"]
    assert word_features(["好", " ", "的"]) == ["w:好", "w:的", "p:^|好", "p:好|的", "p:的|$"]
    spec = FeatureSpec(char_min=1, char_max=1, words=False)
    assert spec.tokens("好的", ["好的"]) == ["好", "的"]


def test_linear_model_is_tfidf_with_a_norm_per_group_and_survives_saving(
    tmp_path: Path,
) -> None:
    model = LinearModel(
        ["a", "b", "w:a"],
        [1.0, 2.0, 1.0],
        np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]),
        [0.5, -0.5],
        group_weights=(1.0, 0.5),
    )
    rows, values = model.vector(["a", "b", "b", "w:a", "unknown"])
    by_row = dict(zip(rows.tolist(), values.tolist(), strict=True))
    b = (1 + np.log(2)) * 2.0  # sub-linear tf times idf
    assert by_row[0] == pytest.approx(1.0 / np.hypot(1.0, b), rel=1e-5)
    assert by_row[1] == pytest.approx(b / np.hypot(1.0, b), rel=1e-5)
    assert by_row[2] == pytest.approx(0.5)  # the word group, on its own norm, weighted
    expected = np.array([by_row[0] + by_row[2] + 0.5, by_row[1] + by_row[2] - 0.5])
    np.testing.assert_allclose(model.scores(["a", "b", "b", "w:a"]), expected, rtol=1e-5)

    model.save(tmp_path / "m", {"note": "x"})
    loaded, meta = LinearModel.load(tmp_path / "m")
    assert meta == {"note": "x"}
    assert loaded.tokens == model.tokens
    np.testing.assert_allclose(loaded.scores(["a", "b"]), model.scores(["a", "b"]), rtol=1e-3)


def test_confident_learning_drops_rows_whose_label_is_contradicted() -> None:
    from kefu.nlp.training.intent import contradicted, fit_temperature

    scores = np.array([[2.0, -1.0], [1.5, 1.2], [-1.0, 2.0]])
    labels = np.array([0, 1, 0])  # the last row's label is contradicted by its scores
    assert contradicted(scores, labels, margin=0.5).tolist() == [False, False, True]
    # Scores that are always right but too timid get a temperature above one.
    timid = np.array([[0.2, 0.0], [0.0, 0.2]] * 50)
    assert fit_temperature(timid, np.array([0, 1] * 50)) > 1.0


@needs_data
def test_held_out_rows_are_the_hand_labelled_dev_rows_never_trained_on() -> None:
    from kefu.nlp.training import splits
    from kefu.nlp.training.intent import load_examples

    held_out = splits.cic_held_out(DATA)
    assert len(held_out) == 600
    assert {row["label"] for row in held_out} <= set(LABELS)
    assert all(10000 <= row["id"] < 12000 for row in held_out)  # dev ids
    assert splits.cic_held_out(DATA) == held_out  # deterministic
    training = load_examples(DATA, FeatureSpec(char_min=1, char_max=1))
    assert not {row["id"] for row in held_out} & set(training.ids)
