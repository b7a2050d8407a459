"""Text views, pair features and a numpy inverted index for comparing short questions.

Three views of the same normalised text catch different mistakes: character n-grams survive
word-segmentation errors, pinyin n-grams survive homophone typos, and jieba words (with the
shop's own vocabulary kept whole) weigh whole terms. Each view is a TF-IDF vector; the index
scores a query against every indexed text at once with one ``np.bincount`` per view. The
matcher's trained model reads the pair features defined here, so training and run time
compute them with the same code.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from kefu.nlp.pinyin import syllables
from kefu.nlp.segment import EMPTY_VOCABULARY, Vocabulary, cut

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int32]


def _units(text: str) -> list[str]:
    """Characters that carry meaning: Chinese characters and whole ASCII words."""
    out: list[str] = []
    word: list[str] = []
    for char in text:
        if char.isascii() and char.isalnum():
            word.append(char)
            continue
        if word:
            out.append("".join(word))
            word = []
        if char.isalnum():  # Chinese characters; punctuation and spaces are dropped
            out.append(char)
    if word:
        out.append("".join(word))
    return out


def _with_bigrams(units: Sequence[str]) -> list[str]:
    return [*units, *(a + "\x1f" + b for a, b in pairwise(units))]


def char_terms(text: str) -> list[str]:
    """Character unigrams and bigrams of normalised text."""
    return _with_bigrams(_units(text))


def pinyin_terms(text: str) -> list[str]:
    """Pinyin syllable unigrams and bigrams of normalised text."""
    return _with_bigrams(syllables(text))


def word_terms(text: str, vocabulary: Vocabulary = EMPTY_VOCABULARY) -> list[str]:
    """jieba words of normalised text, punctuation dropped."""
    return [word for word in cut(text, vocabulary=vocabulary) if any(c.isalnum() for c in word)]


class SparseIndex:
    """L2-normalised TF-IDF rows of a fixed set of texts, stored term → postings.

    The IDF comes from the indexed texts themselves: in a shop's knowledge base the words
    every entry shares (商品, 吗) are the ones that tell entries apart least.
    """

    def __init__(self, documents: Sequence[Sequence[str]]) -> None:
        self.size = len(documents)
        frequency: Counter[str] = Counter()
        counted = [Counter(terms) for terms in documents]
        for counts in counted:
            frequency.update(counts.keys())
        self.idf: dict[str, float] = {
            term: math.log((1 + self.size) / (1 + df)) + 1.0 for term, df in frequency.items()
        }
        postings: dict[str, tuple[list[int], list[float]]] = {}
        self.norms = np.zeros(self.size, dtype=np.float32)
        for row, counts in enumerate(counted):
            weights = {t: (1.0 + math.log(c)) * self.idf[t] for t, c in counts.items()}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            self.norms[row] = norm
            for term, weight in weights.items():
                rows, values = postings.setdefault(term, ([], []))
                rows.append(row)
                values.append(weight / norm)
        self._postings: dict[str, tuple[IntArray, FloatArray]] = {
            term: (np.asarray(rows, dtype=np.int32), np.asarray(values, dtype=np.float32))
            for term, (rows, values) in postings.items()
        }
        self._unknown_idf = math.log(1 + self.size) + 1.0

    def query_vector(self, terms: Sequence[str]) -> dict[str, float]:
        """The query's L2-normalised weights; terms no text has still count in the norm."""
        counts = Counter(terms)
        weights = {
            t: (1.0 + math.log(c)) * self.idf.get(t, self._unknown_idf) for t, c in counts.items()
        }
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        return {t: w / norm for t, w in weights.items()}

    def cosine(self, terms: Sequence[str]) -> FloatArray:
        """Cosine similarity of the query with every indexed text."""
        rows: list[IntArray] = []
        values: list[FloatArray] = []
        for term, weight in self.query_vector(terms).items():
            posting = self._postings.get(term)
            if posting is not None:
                rows.append(posting[0])
                values.append(posting[1] * np.float32(weight))
        if not rows:
            return np.zeros(self.size, dtype=np.float32)
        scores = np.bincount(
            np.concatenate(rows), weights=np.concatenate(values), minlength=self.size
        )
        return scores.astype(np.float32)


@dataclass(frozen=True, slots=True)
class Views:
    """Everything the matcher compares about one normalised text, computed once."""

    chars: list[str]
    pinyin: list[str]
    words: list[str]
    unit_set: frozenset[str]
    syllable_set: frozenset[str]
    word_set: frozenset[str]
    length: int

    @classmethod
    def of(cls, text: str, vocabulary: Vocabulary = EMPTY_VOCABULARY) -> Views:
        units = _units(text)
        sounds = syllables(text)
        words = word_terms(text, vocabulary)
        return cls(
            chars=_with_bigrams(units),
            pinyin=_with_bigrams(sounds),
            words=words,
            unit_set=frozenset(units),
            syllable_set=frozenset(sounds),
            word_set=frozenset(words),
            length=len(units),
        )


# The columns of ``pair_features``; the trained model's weights follow this order.
PAIR_FEATURES = (
    "char_cosine",
    "pinyin_cosine",
    "word_cosine",
    "char_jaccard",
    "pinyin_jaccard",
    "word_jaccard",
    "length_ratio",
)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def pair_features(
    query: Views, other: Views, char: float, pinyin: float, word: float
) -> list[float]:
    """The ``PAIR_FEATURES`` of a query and one text, given the three views' cosines."""
    longest = max(query.length, other.length, 1)
    return [
        char,
        pinyin,
        word,
        _jaccard(query.unit_set, other.unit_set),
        _jaccard(query.syllable_set, other.syllable_set),
        _jaccard(query.word_set, other.word_set),
        min(query.length, other.length) / longest,
    ]


def term_keys(query: Views, other: Views) -> tuple[list[str], list[str]]:
    """Words and syllables (shared, on one side only) whose learnt weights score a pair.

    A shared 借呗 says much more than a shared 我, and 花呗 on one side only says the two
    questions are about different products; syllables rather than characters so that a
    homophone typo still counts as shared.
    """
    shared = [f"w:{w}" for w in query.word_set & other.word_set]
    shared += [f"p:{p}" for p in query.syllable_set & other.syllable_set]
    apart = [f"w:{w}" for w in query.word_set ^ other.word_set]
    apart += [f"p:{p}" for p in query.syllable_set ^ other.syllable_set]
    return shared, apart


def embedding_terms(views: Views) -> list[str]:
    """The terms a learnt sentence embedding reads: character and pinyin n-grams, words."""
    return [*views.chars, *(f"p:{p}" for p in views.pinyin), *(f"w:{w}" for w in views.words)]


class Embedder:
    """A learnt linear map from a text's TF-IDF terms to a unit vector.

    Trained on question pairs that mean the same (``kefu.nlp.training.matcher``), it places
    rewordings near each other even when they share few characters (还钱 / 还款).
    """

    def __init__(
        self, terms: Sequence[str], idf: npt.NDArray[np.floating], matrix: npt.NDArray[np.floating]
    ) -> None:
        self.terms = list(terms)
        self.idf: FloatArray = idf.astype(np.float32)
        self.matrix: FloatArray = matrix.astype(np.float32)
        self.dimensions = int(matrix.shape[1])
        self._index = {term: row for row, term in enumerate(self.terms)}

    def encode(self, views: Views) -> FloatArray:
        counts = Counter(embedding_terms(views))
        rows = [self._index[t] for t in counts if t in self._index]
        if not rows:
            return np.zeros(self.dimensions, dtype=np.float32)
        tf = np.array(
            [1.0 + math.log(counts[t]) for t in counts if t in self._index], dtype=np.float32
        )
        # Terms the embedding never saw carry no meaning it knows; the scale of the weights
        # does not matter, since the result is normalised.
        vector = (tf * self.idf[rows]) @ self.matrix[rows]
        norm = float(np.linalg.norm(vector))
        return (vector / norm if norm > 0 else vector).astype(np.float32)

    def encode_all(self, views: Sequence[Views]) -> FloatArray:
        if not views:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        return np.stack([self.encode(v) for v in views])
