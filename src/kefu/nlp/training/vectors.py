"""Train-time side of ``kefu.nlp.features``: the vocabulary, the idf and the tf-idf matrix.

The matrix rows come from ``LinearModel.vector``, the function run time uses, so a model
sees at run time exactly the numbers it was trained on.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy import sparse

from kefu.nlp.features import LinearModel


def fit_space(
    token_lists: Sequence[Sequence[str]],
    *,
    min_df: int,
    group_weights: Sequence[float] = (1.0, 1.0),
    max_features: int | None = None,
) -> LinearModel:
    """A featuriser (with empty weights) over the tokens seen in ``min_df`` documents.

    ``max_features`` keeps the most frequent ones, to bound the artifact's size.
    """
    document_frequency: Counter[str] = Counter()
    for tokens in token_lists:
        document_frequency.update(set(tokens))
    kept = [(t, df) for t, df in document_frequency.items() if df >= min_df]
    kept.sort(key=lambda item: (-item[1], item[0]))  # deterministic order
    if max_features is not None:
        kept = kept[:max_features]
    documents = len(token_lists)
    # scikit-learn's smoothed idf; rounded to float16 now because that is what is stored.
    idf = np.array([math.log((1 + documents) / (1 + df)) + 1.0 for _, df in kept], dtype=np.float16)
    vocabulary = [token for token, _ in kept]
    return LinearModel(
        vocabulary,
        idf,
        np.zeros((len(vocabulary), 1), np.float32),
        np.zeros(1, np.float32),
        group_weights,
    )


def to_matrix(space: LinearModel, token_lists: Sequence[Sequence[str]]) -> sparse.csr_matrix:
    indptr = [0]
    indices: list[np.ndarray] = []
    values: list[np.ndarray] = []
    for tokens in token_lists:
        rows, weights = space.vector(tokens)
        indices.append(rows)
        values.append(weights)
        indptr.append(indptr[-1] + len(rows))
    return sparse.csr_matrix(
        (
            np.concatenate(values) if values else np.zeros(0, np.float32),
            np.concatenate(indices) if indices else np.zeros(0, np.int64),
            np.array(indptr),
        ),
        shape=(len(token_lists), len(space.tokens)),
    )


def with_weights(space: LinearModel, weights: np.ndarray, bias: np.ndarray) -> LinearModel:
    """The featuriser ``space`` with a trained linear layer."""
    return LinearModel(
        space.tokens,
        space.idf,
        weights,
        bias,
        tuple(float(w) for w in space.group_weights),
    )
