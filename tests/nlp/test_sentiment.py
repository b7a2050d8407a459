"""Sentiment: the shipped model's scale and direction, and the reviews split."""

from __future__ import annotations

from pathlib import Path

import pytest

from kefu.nlp.segment import cut
from kefu.nlp.sentiment import load_sentiment_model
from kefu.nlp.text import normalize_text

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
needs_data = pytest.mark.skipif(not (DATA / "reviews").is_dir(), reason="../shared/data not here")


def score(text: str) -> float:
    normal = normalize_text(text)
    return load_sentiment_model().score(normal, cut(normal))


def test_the_shipped_model_loads_once() -> None:
    assert load_sentiment_model() is load_sentiment_model()


@pytest.mark.parametrize(
    "text",
    ["质量很好，穿着很舒服，下次还来买", "物流很快，包装完好，非常满意", "客服态度特别好，点赞"],
)
def test_praise_is_positive(text: str) -> None:
    assert score(text) > 0.3


@pytest.mark.parametrize(
    "text",
    ["质量太差了，穿一次就破了", "等了十天还没到，再也不买了", "客服爱理不理，态度恶劣，差评"],
)
def test_complaints_are_negative(text: str) -> None:
    assert score(text) < -0.3


@pytest.mark.parametrize("text", ["", "。", "好" * 2000])
def test_scores_stay_between_minus_one_and_one(text: str) -> None:
    assert -1.0 <= score(text) <= 1.0


@needs_data
def test_the_held_out_reviews_are_a_fixed_tenth_apart_from_training() -> None:
    from kefu.nlp.training import splits

    held_out = splits.reviews_held_out(DATA)
    training = splits.review_rows(DATA, held_out=False)
    assert 0.08 < len(held_out) / (len(held_out) + len(training)) < 0.12
    assert not {row["text"] for row in held_out} & {row["text"] for row in training}
    assert {row["label"] for row in held_out} == {0, 1}
    assert splits.reviews_held_out(DATA)[:50] == held_out[:50]
