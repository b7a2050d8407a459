"""Train the FAQ matcher's model on the ATEC question pairs (train time: scikit-learn, scipy).

The training pairs (never the held-out ones, see ``atec``) are split again into a fit part
and a validation part. Three pieces are learnt in order, each on data the previous ones did
not see, so that no piece is trusted for having memorised its own training questions:

1. on the fit part, a sentence embedding: a linear map of TF-IDF terms to 128 dimensions,
   trained so that questions meaning the same are nearest each other (in-batch softmax,
   ATEC's negative pairs as hard negatives), starting from LSA;
2. on the fit part, the weights of words and syllables shared or unshared by a question
   and a candidate (a logistic regression over the first stage's candidates);
3. on the validation part, the first stage's blend, the rescoring model over every pair
   feature, the calibration of its scores on the validation pairs' labels (same meaning
   or not) and the default confidence threshold.

``python -m kefu.nlp.training.atec DATA_DIR`` measures the result on the held-out pairs.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Generator, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.linear_model import LogisticRegression

from kefu.nlp import metrics
from kefu.nlp.matcher import RERANK_FEATURES, FaqMatcher, MatcherModel
from kefu.nlp.similarity import PAIR_FEATURES, Embedder, Views, embedding_terms, term_keys
from kefu.nlp.text import normalize_text
from kefu.nlp.training import atec

DIMENSIONS = 128
# Terms in fewer training sentences than this are left out of the embedding (and artifact).
MIN_DOCUMENTS = 3
EPOCHS = 8
BATCH = 128
TEMPERATURE = 0.05
LEARNING_RATE = 1e-3
TERM_DROPOUT = 0.25  # random terms dropped from each side: robustness to missing words
CANDIDATES = 64  # phrasings the second stage rescores
TERM_CANDIDATES = 100
MIN_TERM_COUNT = 3
# Scores are calibrated probabilities, so the default threshold answers when being right
# is more likely than being wrong.
THRESHOLD = 0.5

Faq = tuple[list[tuple[str, list[str]]], list[dict[str, Any]]]


class _Tfidf:
    """Sparse TF-IDF rows of ``embedding_terms``, computed as ``Embedder.encode`` does."""

    def __init__(self, documents: Sequence[list[str]]) -> None:
        frequency = Counter(term for terms in documents for term in set(terms))
        self.terms = sorted(term for term, df in frequency.items() if df >= MIN_DOCUMENTS)
        self.index = {term: i for i, term in enumerate(self.terms)}
        n = len(documents)
        self.idf = np.array(
            [math.log((1 + n) / (1 + frequency[t])) + 1.0 for t in self.terms], dtype=np.float32
        )

    def matrix(self, documents: Sequence[list[str]]) -> sp.csr_matrix:
        rows, cols, values = [], [], []
        for row, terms in enumerate(documents):
            counts = Counter(t for t in terms if t in self.index)
            weights = {
                self.index[t]: (1 + math.log(c)) * self.idf[self.index[t]]
                for t, c in counts.items()
            }
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            for col, weight in weights.items():
                rows.append(row)
                cols.append(col)
                values.append(weight / norm)
        return sp.csr_matrix((values, (rows, cols)), shape=(len(documents), len(self.terms)))


def _faq_texts(faq: Faq) -> tuple[list[str], list[str], list[Any]]:
    entries, queries = faq
    return [p[0] for _, p in entries], [q["text"] for q in queries], [q["id"] for q in queries]


def _encode(x: sp.csr_matrix, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors of TF-IDF rows, and the norms they were divided by."""
    hidden = np.asarray(x @ w)
    norm = np.linalg.norm(hidden, axis=1, keepdims=True) + 1e-9
    return hidden / norm, norm


def _embedding_scores(tfidf: _Tfidf, w: np.ndarray, faq: Faq) -> tuple[float, float]:
    entries, queries, gold = _faq_texts(faq)
    views = [embedding_terms(Views.of(normalize_text(t))) for t in entries]
    asked = [embedding_terms(Views.of(normalize_text(t))) for t in queries]
    kb, _ = _encode(tfidf.matrix(views), w)
    query, _ = _encode(tfidf.matrix(asked), w)
    top = np.argsort(-(query @ kb.T), axis=1)[:, :10]
    ids = [entry_id for entry_id, _ in faq[0]]
    return metrics.top1_and_mrr(gold, [[ids[j] for j in row] for row in top])


def train_embedding(fit: list[atec.Pair], validation: Faq) -> Generator[str, None, Embedder]:
    """Yields progress lines; returns the embedding of the epoch best on the validation FAQ."""
    rng = np.random.default_rng(0)
    normal = {s: embedding_terms(Views.of(normalize_text(s))) for a, b, _ in fit for s in (a, b)}
    tfidf = _Tfidf(list(normal.values()))
    svd = TruncatedSVD(DIMENSIONS, random_state=0).fit(tfidf.matrix(list(normal.values())))
    w = svd.components_.T.astype(np.float64)
    positives = [(normal[a], normal[b]) for a, b, label in fit if label == 1]
    negatives = [(normal[a], normal[b]) for a, b, label in fit if label == 0]
    left, right = (tfidf.matrix([p[i] for p in positives]) for i in (0, 1))
    neg_left, neg_right = (tfidf.matrix([p[i] for p in negatives]) for i in (0, 1))
    best = (_embedding_scores(tfidf, w, validation), w.copy())
    yield f"matcher: embedding of {len(tfidf.terms)} terms, LSA start {_fmt(best[0])}"
    moment, velocity, step = np.zeros_like(w), np.zeros_like(w), 0
    for epoch in range(1, EPOCHS + 1):
        order = rng.permutation(len(positives))
        for start in range(0, len(order), BATCH):
            batch = order[start : start + BATCH]
            hard = rng.integers(0, len(negatives), size=len(batch))
            anchors = sp.vstack([left[batch], right[batch]]).tocsr()
            others = sp.vstack([right[batch], left[batch], neg_left[hard], neg_right[hard]]).tocsr()
            for side in (anchors, others):
                side.data *= rng.random(len(side.data)) > TERM_DROPOUT
            grad = _contrastive_gradient(anchors, others, w, len(batch))
            step += 1
            moment = 0.9 * moment + 0.1 * grad
            velocity = 0.999 * velocity + 0.001 * grad * grad
            w -= (
                LEARNING_RATE
                * (moment / (1 - 0.9**step))
                / (np.sqrt(velocity / (1 - 0.999**step)) + 1e-8)
            )
        score = _embedding_scores(tfidf, w, validation)
        yield f"matcher: embedding epoch {epoch}: validation {_fmt(score)}"
        if score[1] > best[0][1]:
            best = (score, w.copy())
    yield f"matcher: embedding kept at validation {_fmt(best[0])}"
    return Embedder(tfidf.terms, tfidf.idf, best[1].astype(np.float16))


def _contrastive_gradient(
    anchors: sp.csr_matrix, others: sp.csr_matrix, w: np.ndarray, pairs: int
) -> np.ndarray:
    """Gradient of the in-batch softmax loss over the cosines of anchors and others."""
    a, a_norm = _encode(anchors, w)
    b, b_norm = _encode(others, w)
    logits = a @ b.T / TEMPERATURE
    # Anchors are (left, right) and others start (right, left, negatives...): anchor k's
    # partner is others' row k, and others' row k ± pairs is the anchor itself, which must
    # not count as a negative.
    anchors_rows = np.arange(2 * pairs)
    logits[anchors_rows, (anchors_rows + pairs) % (2 * pairs)] = -np.inf
    logits -= logits.max(axis=1, keepdims=True)
    prob = np.exp(logits)
    prob /= prob.sum(axis=1, keepdims=True)
    prob[anchors_rows, anchors_rows] -= 1.0
    prob /= 2 * pairs * TEMPERATURE
    grad_a, grad_b = prob @ b, prob.T @ a

    def through_norm(grad: np.ndarray, unit: np.ndarray, norm: np.ndarray) -> np.ndarray:
        # The gradient of x / |x|: remove the component along the unit vector, scale by 1/|x|.
        along: np.ndarray = np.sum(grad * unit, axis=1, keepdims=True)
        projected: np.ndarray = (grad - unit * along) / norm
        return projected

    grad: np.ndarray = np.asarray(
        anchors.T @ through_norm(grad_a, a, a_norm) + others.T @ through_norm(grad_b, b, b_norm)
    )
    return grad


def _ranking_rows(
    matcher: FaqMatcher, faq: Faq, count: int
) -> Iterator[tuple[int, Views, list[int], np.ndarray, list[int]]]:
    """(query number, query views, candidate rows, their features, labels) per query."""
    ids = [entry_id for entry_id, _ in faq[0]]
    for number, item in enumerate(faq[1]):
        query = matcher.views(item["text"])
        rows, features = matcher.candidates(query, count)
        yield number, query, rows, features, [int(ids[r] == item["id"]) for r in rows]


def train_term_weights(
    fit: list[atec.Pair],
) -> Generator[str, None, dict[str, tuple[float, float]]]:
    """Yields a progress line; returns each word's/syllable's weight (shared, apart)."""
    faq = atec.as_faq(fit)
    matcher = FaqMatcher.build(faq[0], model=MatcherModel.fallback())
    kb_views = [Views.of(normalize_text(p[0])) for _, p in faq[0]]
    dense: list[np.ndarray] = []
    keys: list[list[str]] = []
    labels: list[int] = []
    for _, query, rows, features, gold in _ranking_rows(matcher, faq, TERM_CANDIDATES):
        dense.append(features[:, : len(PAIR_FEATURES)])
        labels += gold
        for row in rows:
            shared, apart = term_keys(query, kb_views[row])
            keys.append([f"s|{k}" for k in shared] + [f"a|{k}" for k in apart])
    counts = Counter(k for row_keys in keys for k in row_keys)
    columns = {
        k: i for i, k in enumerate(sorted(k for k, c in counts.items() if c >= MIN_TERM_COUNT))
    }
    pairs = [(r, columns[k]) for r, row_keys in enumerate(keys) for k in row_keys if k in columns]
    indicator = sp.csr_matrix(
        (np.ones(len(pairs)), ([p[0] for p in pairs], [p[1] for p in pairs])),
        shape=(len(keys), len(columns)),
    )
    x = sp.hstack([sp.csr_matrix(np.vstack(dense)), indicator]).tocsr()
    model = LogisticRegression(C=0.3, solver="liblinear", max_iter=2000).fit(x, labels)
    coef = model.coef_[0][len(PAIR_FEATURES) :]
    weights: dict[str, list[float]] = {}
    for key, col in columns.items():
        side, term = key.split("|", 1)
        weights.setdefault(term, [0.0, 0.0])[0 if side == "s" else 1] = float(coef[col])
    yield f"matcher: {len(weights)} word/syllable weights from {len(labels)} candidate pairs"
    return {
        k: (round(w[0], 4), round(w[1], 4)) for k, w in weights.items() if max(map(abs, w)) > 1e-3
    }


def _fmt(score: tuple[float, float]) -> str:
    return f"top-1 {score[0]:.4f} MRR {score[1]:.4f}"


def _first_stage(faq: Faq, base: MatcherModel) -> Generator[str, None, MatcherModel]:
    """The first stage only has to keep the answer among the candidates: the weight of the
    embedding against the lexical blend that does so most often."""
    best = (-1.0, 0.0)
    for weight in (0.0, 1.0, 2.0, 4.0, 8.0):
        model = replace(base, first_stage=(0.4, 0.3, 0.3, weight))
        matcher = FaqMatcher.build(faq[0], model=model)
        found = [any(labels) for *_, labels in _ranking_rows(matcher, faq, CANDIDATES)]
        recall = sum(found) / len(found)
        yield f"matcher: first stage, embedding weight {weight}: recall@{CANDIDATES} {recall:.4f}"
        best = max(best, (recall, weight))
    return replace(base, first_stage=(0.4, 0.3, 0.3, best[1]))


def _rescoring(faq: Faq, base: MatcherModel) -> Generator[str, None, MatcherModel]:
    """The second stage's logistic regression over every candidate of every query."""
    matcher = FaqMatcher.build(faq[0], model=base)
    ids = [entry_id for entry_id, _ in faq[0]]
    groups: list[int] = []
    candidate_ids: list[Any] = []
    features: list[np.ndarray] = []
    labels: list[int] = []
    for number, _, rows, row_features, row_labels in _ranking_rows(matcher, faq, CANDIDATES):
        groups += [number] * len(rows)
        candidate_ids += [ids[r] for r in rows]
        features.append(row_features)
        labels += row_labels
    x, y, group = np.vstack(features), np.array(labels), np.array(groups)
    # Two folds by query: what rescoring achieves on queries it was not fitted on.
    scored: dict[int, list[tuple[float, Any]]] = {}
    for fold in (0, 1):
        fitted = LogisticRegression(C=1.0, max_iter=2000).fit(
            x[group % 2 != fold], y[group % 2 != fold]
        )
        held = np.flatnonzero(group % 2 == fold)
        for i, score in zip(held, fitted.decision_function(x[held]), strict=True):
            scored.setdefault(int(group[i]), []).append((float(score), candidate_ids[i]))
    ranked = [
        [entry for _, entry in sorted(scored.get(n, []), key=lambda s: -s[0])][:10]
        for n in range(len(faq[1]))
    ]
    gold = [item["id"] for item in faq[1]]
    yield f"matcher: validation, two folds: {_fmt(metrics.top1_and_mrr(gold, ranked))}"
    fitted = LogisticRegression(C=1.0, max_iter=2000).fit(x, y)
    model = replace(
        base,
        weights=tuple(round(float(w), 6) for w in fitted.coef_[0]),
        bias=round(float(fitted.intercept_[0]), 6),
    )
    yield "matcher: rescoring weights " + ", ".join(
        f"{name} {w:+.2f}" for name, w in zip(RERANK_FEATURES, model.weights, strict=True)
    )
    return model


def _calibration(
    validation: list[atec.Pair], model: MatcherModel
) -> Generator[str, None, MatcherModel]:
    """The rescoring logit as a probability that two questions mean the same, fitted on the
    validation pairs' labels (ATEC's negatives look alike on purpose: the hard case)."""
    matcher = FaqMatcher.build(atec.as_faq(validation)[0], model=model)
    logits = np.array(
        [
            matcher.logits(matcher.pair_row(matcher.views(a), matcher.views(b)))[0]
            for a, b, _ in validation
        ],
        dtype=np.float64,
    )
    same = np.array([label for *_, label in validation])
    platt = LogisticRegression(C=1e4).fit(logits[:, None], same)
    scale, shift = float(platt.coef_[0][0]), float(platt.intercept_[0])
    probability = 1 / (1 + np.exp(-(scale * logits + shift)))
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        chosen = probability >= threshold
        precision = float(same[chosen].mean()) if chosen.any() else 1.0
        recall = float(same[chosen].sum() / same.sum())
        yield f"matcher: pairs scored >= {threshold}: precision {precision:.3f} recall {recall:.3f}"
    return replace(model, scale=scale, shift=shift, threshold=THRESHOLD)


def train(data_dir: Path, out_dir: Path) -> Iterator[str]:
    """Fit every piece on the ATEC training pairs and write ``matcher.json`` + ``.npz``."""
    started = time.monotonic()
    fit, validation = atec.train_validation(data_dir)
    yield f"matcher: {len(fit)} fit pairs, {len(validation)} validation pairs"
    embedder = yield from train_embedding(fit, atec.as_faq(validation))
    terms = yield from train_term_weights(fit)
    base = MatcherModel(
        first_stage=(0.4, 0.3, 0.3, 0.0),
        weights=(0.0,) * len(RERANK_FEATURES),
        bias=0.0,
        candidates=CANDIDATES,
        embedder=embedder,
        term_weights=terms,
    )
    faq = atec.as_faq(validation)
    model = yield from _first_stage(faq, base)
    model = yield from _rescoring(faq, model)
    model = yield from _calibration(validation, model)
    size = write_artifact(model, out_dir)
    yield (
        f"matcher: threshold {model.threshold:.2f}, wrote {size / 1e6:.1f} MB to {out_dir} "
        f"in {time.monotonic() - started:.0f} s"
    )


def write_artifact(model: MatcherModel, out_dir: Path) -> int:
    """Write the model as ``matcher.json`` (weights, vocabularies) and ``matcher.npz``."""
    embedder = model.embedder
    if embedder is None:
        raise ValueError("only a trained model (with its embedding) is written")
    keys = sorted(model.term_weights)
    meta = {
        "version": 1,
        "rerank_features": list(RERANK_FEATURES),
        "first_stage": list(model.first_stage),
        "weights": list(model.weights),
        "bias": model.bias,
        "scale": model.scale,
        "shift": model.shift,
        "threshold": model.threshold,
        "candidates": model.candidates,
        "embedding_terms": embedder.terms,
        "term_keys": keys,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "matcher.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    np.savez_compressed(
        out_dir / "matcher.npz",
        idf=embedder.idf.astype(np.float32),
        embedding=embedder.matrix.astype(np.float16),
        term_weights=np.array([model.term_weights[k] for k in keys], dtype=np.float32),
    )
    return sum((out_dir / name).stat().st_size for name in ("matcher.json", "matcher.npz"))
