"""Sparse text features and the linear layer the intent and sentiment models share.

Both models are a tf-idf vector over feature strings (character n-grams of the normalised
text, jieba words and word pairs) times a weight matrix. Training builds the vocabulary,
the idf and the weights (``kefu.nlp.training``); run time needs numpy only: a dict from
feature string to row, then a weighted sum of those rows. The same ``LinearModel.vector``
builds the training matrix, so training and run time cannot disagree about a feature.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

# Marks the start and the end of a message, so that "吗$" (a question ending) and "^好的"
# (a message that opens with "ok") are features of their own.
_START, _END = "^", "$"
WORD_PREFIX = "w:"
PAIR_PREFIX = "p:"
CHAR_GROUP, WORD_GROUP = 0, 1


@dataclass(frozen=True)
class FeatureSpec:
    """Which features a model reads; stored with the model so run time matches training."""

    char_min: int = 1
    char_max: int = 4
    words: bool = False  # jieba words and adjacent word pairs, as a second group
    word_weight: float = 0.5  # the word group's share next to the character group

    def tokens(self, text: str, words: Sequence[str]) -> list[str]:
        found = char_ngrams(text, self.char_min, self.char_max)
        if self.words:
            found.extend(word_features(words))
        return found

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FeatureSpec:
        return cls(**data)


def char_ngrams(text: str, low: int, high: int) -> list[str]:
    """Character n-grams of ``^text$`` (the markers alone are not features)."""
    padded = f"{_START}{text.replace(' ', '')}{_END}"
    size = len(padded)
    grams = []
    for n in range(low, high + 1):
        for start in range(size - n + 1):
            gram = padded[start : start + n]
            if gram not in (_START, _END):
                grams.append(gram)
    return grams


def word_features(words: Sequence[str]) -> list[str]:
    kept = [word for word in words if word.strip()]
    found = [WORD_PREFIX + word for word in kept]
    bounded = [_START, *kept, _END]
    found.extend(f"{PAIR_PREFIX}{a}|{b}" for a, b in pairwise(bounded))
    return found


def group_of(token: str) -> int:
    return WORD_GROUP if token.startswith((WORD_PREFIX, PAIR_PREFIX)) else CHAR_GROUP


class LinearModel:
    """A tf-idf featuriser (sub-linear term frequency, one L2 norm per feature group) and a
    linear layer: ``scores(tokens) = vector(tokens) @ weights + bias``."""

    def __init__(
        self,
        vocabulary: Sequence[str],
        idf: npt.ArrayLike,
        weights: npt.ArrayLike,
        bias: npt.ArrayLike,
        group_weights: Sequence[float] = (1.0, 1.0),
        groups: npt.ArrayLike | None = None,
    ) -> None:
        self.tokens: tuple[str, ...] = tuple(vocabulary)
        self.index: dict[str, int] = dict(zip(self.tokens, range(len(self.tokens)), strict=True))
        self.idf: FloatArray = np.asarray(idf, dtype=np.float32)
        self.groups: IntArray = (
            np.fromiter((group_of(t) for t in self.tokens), np.int64, len(self.tokens))
            if groups is None
            else np.asarray(groups, dtype=np.int64)
        )
        self.group_weights: FloatArray = np.asarray(group_weights, dtype=np.float32)
        # Kept as stored (float16 in an artifact): only the few rows a message touches are
        # widened, which saves converting the whole matrix when a process starts.
        self.weights: npt.NDArray[np.floating[Any]] = np.asarray(weights)
        self.bias: FloatArray = np.asarray(bias, dtype=np.float32)

    @property
    def outputs(self) -> int:
        return int(self.bias.shape[0])

    def vector(self, tokens: Sequence[str]) -> tuple[IntArray, FloatArray]:
        """Rows and tf-idf values of the known tokens (unknown ones are ignored)."""
        counts = Counter(row for token in tokens if (row := self.index.get(token)) is not None)
        if not counts:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        rows = np.fromiter(counts.keys(), np.int64, len(counts))
        tf = np.fromiter(counts.values(), np.float32, len(counts))
        values = (1.0 + np.log(tf)) * self.idf[rows]
        groups = self.groups[rows]
        norms = np.sqrt(np.bincount(groups, weights=values * values, minlength=2))
        scale = self.group_weights[groups] / norms[groups]
        return rows, (values * scale).astype(np.float32)

    def scores(self, tokens: Sequence[str]) -> FloatArray:
        rows, values = self.vector(tokens)
        if rows.size == 0:
            return self.bias.copy()
        rows_weights = self.weights[rows].astype(np.float32)
        return np.asarray(values @ rows_weights + self.bias, dtype=np.float32)

    def save(self, stem: Path, meta: Mapping[str, Any], *, prune_below: float = 0.0) -> None:
        """``stem.npz`` (vocabulary, idf, weights) and ``stem.json`` (meta).

        Weights are stored sparse and as float16, leaving out those smaller than
        ``prune_below``: most of an SVM's weights are zero or tiny, so this keeps the file
        small and quick to load without changing what the model says.
        """
        dense = self.weights.astype(np.float32)
        keep = np.abs(dense) >= max(prune_below, np.finfo(np.float16).tiny)
        rows, columns = np.nonzero(keep)
        text = "\n".join(self.tokens).encode("utf-8")
        np.savez_compressed(
            stem.with_suffix(".npz"),
            vocabulary=np.frombuffer(text, dtype=np.uint8),
            idf=self.idf.astype(np.float16),
            weight_shape=np.array(dense.shape, dtype=np.int64),
            weight_rows=np.bincount(rows, minlength=dense.shape[0]).astype(np.uint16),
            weight_columns=columns.astype(np.uint16),
            weight_values=dense[rows, columns].astype(np.float16),
            bias=self.bias,
            group_weights=self.group_weights,
            groups=self.groups.astype(np.uint8),
        )
        stem.with_suffix(".json").write_text(
            json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )

    @classmethod
    def load(cls, stem: Path) -> tuple[LinearModel, dict[str, Any]]:
        with np.load(stem.with_suffix(".npz")) as data:
            text = data["vocabulary"].tobytes().decode("utf-8")
            shape = tuple(int(n) for n in data["weight_shape"])
            weights = np.zeros(shape, dtype=np.float16)
            per_row = data["weight_rows"].astype(np.int64)
            rows = np.repeat(np.arange(shape[0]), per_row)
            weights[rows, data["weight_columns"].astype(np.int64)] = data["weight_values"]
            model = cls(
                text.split("\n") if text else [],
                data["idf"],
                weights,
                data["bias"],
                tuple(float(w) for w in data["group_weights"]),
                data["groups"],
            )
        meta: dict[str, Any] = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
        return model, meta


def softmax(scores: FloatArray) -> FloatArray:
    shifted = np.exp(scores - scores.max())
    return np.asarray(shifted / shifted.sum(), dtype=np.float32)


def sigmoid(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1.0 + exp)
