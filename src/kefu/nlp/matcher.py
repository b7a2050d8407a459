"""Find the FAQ entry that answers a buyer's question.

Two stages keep a 10,000-entry knowledge base fast: every phrasing is scored cheaply (three
TF-IDF cosines through an inverted index, plus a learnt sentence embedding), then the best
few dozen are rescored by a trained logistic model over richer pair features (overlaps,
length, learnt weights of shared and unshared words). The best phrasing stands for its entry.
The model is trained on the ATEC question pairs (``kefu.nlp.training.matcher``); without
its artifact the matcher still works from the cosines alone with hand-set weights.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from kefu.nlp.segment import EMPTY_VOCABULARY, Vocabulary
from kefu.nlp.similarity import (
    PAIR_FEATURES,
    Embedder,
    FloatArray,
    SparseIndex,
    Views,
    pair_features,
    term_keys,
)
from kefu.nlp.text import normalize_text

ARTIFACTS = Path(__file__).parent / "artifacts"
# Columns of the rescoring model: the pair features, then the learnt word weights and the
# embedding cosine.
RERANK_FEATURES = (*PAIR_FEATURES, "term_score", "embedding_cosine")
# The runner-up is "too close to pick" when it scores within this of the top hit …
AMBIGUITY_MARGIN = 0.15
# … and is itself this share of the confidence threshold (an also-ran is no reason to ask).
PLAUSIBLE_SHARE = 0.8
# A question asked exactly as one of an entry's phrasings (ignoring case, width, script,
# spaces and punctuation) is that entry: the owner wrote the words the buyer used.
EXACT_SCORE = 0.99
_NOT_WORDS = re.compile(r"[\s\W_]+")


def _bare(text: str) -> str:
    return _NOT_WORDS.sub("", text)


@dataclass(frozen=True, slots=True)
class Hit:
    id: Hashable
    score: float  # calibrated 0–1: roughly the probability this entry answers the query
    question: str  # the phrasing of the entry that matched best (original text)


@dataclass(frozen=True)
class MatcherModel:
    """Weights of both stages and the calibration; ``fallback()`` needs no training."""

    # Stage one over (char, pinyin, word, embedding) cosines.
    first_stage: tuple[float, float, float, float]
    # Stage two over RERANK_FEATURES, then a bias.
    weights: tuple[float, ...]
    bias: float
    # score = sigmoid(scale * logit + shift): the logit as a probability of "same meaning".
    scale: float = 1.0
    shift: float = 0.0
    threshold: float = 0.5
    candidates: int = 64
    embedder: Embedder | None = None
    term_weights: dict[str, tuple[float, float]] = field(default_factory=dict)

    @classmethod
    def fallback(cls) -> MatcherModel:
        # The cosines alone: a blend near 0.5 is a coin toss.
        return cls(
            first_stage=(0.4, 0.3, 0.3, 0.0),
            weights=(4.0, 3.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
            bias=-5.0,
        )

    def term_score(self, query: Views, other: Views) -> float:
        if not self.term_weights:
            return 0.0
        shared, apart = term_keys(query, other)
        score = 0.0
        for key in shared:
            weight = self.term_weights.get(key)
            if weight is not None:
                score += weight[0]
        for key in apart:
            weight = self.term_weights.get(key)
            if weight is not None:
                score += weight[1]
        return score


def load_model(directory: Path = ARTIFACTS) -> MatcherModel | None:
    """The trained model in ``directory`` (matcher.json + matcher.npz), or None if absent."""
    meta_path, arrays_path = directory / "matcher.json", directory / "matcher.npz"
    if not meta_path.exists() or not arrays_path.exists():
        return None
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    with np.load(arrays_path) as arrays:
        embedder = Embedder(meta["embedding_terms"], arrays["idf"], arrays["embedding"])
        term_array = arrays["term_weights"].astype(float)
    if list(meta["rerank_features"]) != list(RERANK_FEATURES):
        raise ValueError(f"{meta_path}: features {meta['rerank_features']} do not match")
    keys = meta["term_keys"]
    terms = {k: (float(w[0]), float(w[1])) for k, w in zip(keys, term_array, strict=True)}
    return MatcherModel(
        first_stage=tuple(meta["first_stage"]),
        weights=tuple(meta["weights"]),
        bias=float(meta["bias"]),
        scale=float(meta["scale"]),
        shift=float(meta["shift"]),
        threshold=float(meta["threshold"]),
        candidates=int(meta["candidates"]),
        embedder=embedder,
        term_weights=terms,
    )


MODELS = ("shop", "atec")


def default_model() -> MatcherModel:
    """What shops' knowledge bases use: the overlap model (character, pinyin and word
    cosines with fixed weights).

    The model trained on ATEC (``trained_model``) ranks ATEC's held-out question pairs 1.6×
    better than bm25s, but ATEC is all about one finance product: on a home-wear shop's
    FAQ (leave one phrasing out, ``bench/nlp.py``) it ranked the right entry first less
    often (0.31 against 0.44) and answered wrongly with confidence eight times as often.
    It stays available (``kefu nlp match --model atec``) until there are shop-domain
    pairs to train on — which the unanswered questions an owner files as phrasings are.
    """
    return MatcherModel.fallback()


@lru_cache(maxsize=1)
def trained_model() -> MatcherModel:
    """The model trained on ATEC (``kefu nlp train``), or the overlap model if absent."""
    return load_model() or MatcherModel.fallback()


def model_named(name: str) -> MatcherModel:
    if name not in MODELS:
        raise ValueError(f"unknown matcher model {name!r}: choose one of {', '.join(MODELS)}")
    return trained_model() if name == "atec" else default_model()


def _sigmoid(x: float) -> float:
    return 0.5 * (1.0 + math.tanh(0.5 * x))  # no overflow for large |x|


class FaqMatcher:
    def __init__(
        self,
        ids: list[Hashable],
        questions: list[str],
        owners: list[int],
        texts: list[str],
        *,
        vocabulary: Vocabulary,
        model: MatcherModel,
    ) -> None:
        self.model = model
        self._ids = ids
        self._questions = questions
        self._exact = {_bare(text): row for row, text in enumerate(texts) if _bare(text)}
        self._owners = np.asarray(owners, dtype=np.int64)
        self._vocabulary = vocabulary
        self._views = [Views.of(text, vocabulary) for text in texts]
        self._chars = SparseIndex([v.chars for v in self._views])
        self._pinyin = SparseIndex([v.pinyin for v in self._views])
        self._words = SparseIndex([v.words for v in self._views])
        embedder = model.embedder
        self._vectors = embedder.encode_all(self._views) if embedder is not None else None
        self._weights = np.asarray(model.weights, dtype=np.float64)

    @classmethod
    def build(
        cls,
        entries: Iterable[tuple[Hashable, Sequence[str]]],
        *,
        vocabulary: Vocabulary = EMPTY_VOCABULARY,
        model: MatcherModel | None = None,
    ) -> FaqMatcher:
        """Index entries given as (id, phrasings); blank phrasings are skipped."""
        ids: list[Hashable] = []
        questions: list[str] = []
        owners: list[int] = []
        texts: list[str] = []
        for entry_id, phrasings in entries:
            owner = len(ids)
            ids.append(entry_id)
            for phrasing in phrasings:
                text = normalize_text(phrasing)
                if text:
                    questions.append(phrasing)
                    owners.append(owner)
                    texts.append(text)
        return cls(
            ids,
            questions,
            owners,
            texts,
            vocabulary=vocabulary,
            model=model or default_model(),
        )

    def __len__(self) -> int:
        return len(self._ids)

    def views(self, text: str) -> Views:
        return Views.of(normalize_text(text), self._vocabulary)

    def candidates(self, query: Views, count: int) -> tuple[list[int], FloatArray]:
        """The ``count`` phrasings the first stage likes best and their RERANK_FEATURES."""
        char = self._chars.cosine(query.chars)
        pinyin = self._pinyin.cosine(query.pinyin)
        word = self._words.cosine(query.words)
        first = self.model.first_stage
        cheap = first[0] * char + first[1] * pinyin + first[2] * word
        embedding: FloatArray | None = None
        if self._vectors is not None and self.model.embedder is not None:
            embedding = self._vectors @ self.model.embedder.encode(query)
            cheap = cheap + first[3] * embedding
        if count < len(cheap):
            rows = np.argpartition(-cheap, count)[:count].tolist()
        else:
            rows = list(range(len(cheap)))
        features = np.empty((len(rows), len(RERANK_FEATURES)), dtype=np.float32)
        for i, row in enumerate(rows):
            other = self._views[row]
            features[i, : len(PAIR_FEATURES)] = pair_features(
                query, other, float(char[row]), float(pinyin[row]), float(word[row])
            )
            features[i, -2] = self.model.term_score(query, other)
            features[i, -1] = float(embedding[row]) if embedding is not None else 0.0
        return rows, features

    def logits(self, features: FloatArray) -> FloatArray:
        return (features.astype(np.float64) @ self._weights + self.model.bias).astype(np.float32)

    def _score(self, logit: float) -> float:
        return _sigmoid(self.model.scale * logit + self.model.shift)

    def rank(self, text: str, *, limit: int = 10) -> list[Hit]:
        """Up to ``limit`` entries, best first, each with its best-matching phrasing."""
        if not self._questions or limit <= 0:
            return []
        query = self.views(text)
        if not query.chars:
            return []  # nothing but punctuation or emoji: no question to answer
        rows, features = self.candidates(query, max(self.model.candidates, 3 * limit))
        logits = self.logits(features)
        hits: list[Hit] = []
        seen: set[int] = set()
        exact = self._exact.get(_bare(normalize_text(text)))
        if exact is not None:
            owner = int(self._owners[exact])
            seen.add(owner)
            at = [i for i, row in enumerate(rows) if row == exact]
            score = max(EXACT_SCORE, self._score(float(logits[at[0]]))) if at else EXACT_SCORE
            hits.append(Hit(self._ids[owner], score, self._questions[exact]))
        for i in np.argsort(-logits, kind="stable"):
            row = rows[int(i)]
            owner = int(self._owners[row])
            if owner in seen:
                continue
            seen.add(owner)
            hits.append(Hit(self._ids[owner], self._score(float(logits[i])), self._questions[row]))
            if len(hits) == limit:
                break
        return hits

    def confident(self, ranked: Sequence[Hit], *, threshold: float | None = None) -> Hit | None:
        """The top hit if its score reaches the threshold (calibrated by default), else None."""
        if not ranked:
            return None
        limit = self.model.threshold if threshold is None else threshold
        return ranked[0] if ranked[0].score >= limit else None

    def ambiguous(self, ranked: Sequence[Hit], *, threshold: float | None = None) -> bool:
        """True when the top two are both plausible and too close to pick between.

        Plausible is most of the confidence threshold: a runner-up that could never be
        answered on its own is no reason to ask the buyer which one they meant. An exact
        phrasing scores near 1 and so is never "too close" to anything.
        """
        if len(ranked) < 2:
            return False
        plausible = (self.model.threshold if threshold is None else threshold) * PLAUSIBLE_SHARE
        first, second = ranked[0], ranked[1]
        if first.score >= EXACT_SCORE:
            return False
        return second.score >= plausible and first.score - second.score < AMBIGUITY_MARGIN

    def similarity(self, a: str, b: str) -> float:
        """How likely two questions mean the same, on the scale of ``Hit.score``."""
        return self._score(float(self.logits(self.pair_row(self.views(a), self.views(b)))[0]))

    def pair_row(self, left: Views, right: Views) -> FloatArray:
        """RERANK_FEATURES of two texts, weighted with this knowledge base's IDF."""
        row = pair_features(
            left,
            right,
            _pair_cosine(self._chars, left.chars, right.chars),
            _pair_cosine(self._pinyin, left.pinyin, right.pinyin),
            _pair_cosine(self._words, left.words, right.words),
        )
        embedder = self.model.embedder
        cosine = float(embedder.encode(left) @ embedder.encode(right)) if embedder else 0.0
        row += [self.model.term_score(left, right), cosine]
        return np.asarray([row], dtype=np.float32)


def _pair_cosine(index: SparseIndex, left: Sequence[str], right: Sequence[str]) -> float:
    u, v = index.query_vector(left), index.query_vector(right)
    return sum(weight * v.get(term, 0.0) for term, weight in u.items())
