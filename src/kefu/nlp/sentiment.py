"""How the buyer feels: a score from −1 (unhappy) to 1 (happy).

The model is trained on Chinese shopping-site reviews (positive / negative), so it knows
how buyers praise and complain about goods, delivery and service. The score is
``2·P(positive) − 1``: its sign is the review label it predicts and its size how sure it is.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from kefu.nlp.features import FeatureSpec, LinearModel, sigmoid

SENTIMENT_ARTIFACT = Path(__file__).parent / "artifacts" / "sentiment"


class SentimentModel:
    def __init__(self, linear: LinearModel, spec: FeatureSpec) -> None:
        if linear.outputs != 1:
            raise ValueError(f"a sentiment model has one output, not {linear.outputs}")
        self._linear = linear
        self._spec = spec

    def probability(self, text: str, words: Sequence[str]) -> float:
        """P(positive) for normalised ``text`` (``text.normalize``) and its words."""
        return sigmoid(float(self._linear.scores(self._spec.tokens(text, words))[0]))

    def score(self, text: str, words: Sequence[str]) -> float:
        """−1 (clearly unhappy) … 0 (can't tell) … 1 (clearly happy)."""
        return 2.0 * self.probability(text, words) - 1.0


_cache: dict[Path, SentimentModel] = {}
_lock = threading.Lock()


def load_sentiment_model(path: Path | None = None) -> SentimentModel:
    """The model at ``path`` (``.npz`` + ``.json`` stem; default: the shipped one), cached."""
    stem = (path or SENTIMENT_ARTIFACT).with_suffix("")
    with _lock:
        if stem not in _cache:
            linear, meta = LinearModel.load(stem)
            _cache[stem] = SentimentModel(linear, FeatureSpec.from_json(meta["features"]))
        return _cache[stem]
