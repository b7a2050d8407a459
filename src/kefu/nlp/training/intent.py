"""Train the intent model on CIC (train + dev, minus the held-out rows), cleaning its labels.

CIC's labels are deliberately noisy: in a hand-checked sample about four in ten training
labels were wrong, and the wrong ones are spread over all 118 intents (no fixed swaps).
So:

1. Rows checked by hand (``cic_train_clean.tsv``: a random sample;
   ``cic_train_relabelled.tsv``: a sample of the rows step 2 drops) and our own example
   sentences (``cic_seed.tsv``) are trusted; every other row is a suspect.
2. Confident learning: a linear model is trained on four fifths and scores the remaining
   fifth, five times over. A suspect whose given label scores ``drop_margin`` below the
   model's best intent is dropped (its label is contradicted by the rest of the data).
3. Linear SVMs over character n-grams and words are trained on what is left (trusted rows
   weighted up), again five times over; the shipped model is their average.
4. Its scores become probabilities through a softmax with a temperature fitted on the
   hand-checked training rows' out-of-fold scores, so that ``confidence`` means what it
   says.

The hand-checked rows are also the tuning set (cross-validated accuracy below); the
held-out dev rows (``splits.cic_held_out``) are never read here.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import optimize
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from kefu.nlp.features import FeatureSpec
from kefu.nlp.intents import LABELS
from kefu.nlp.segment import cut
from kefu.nlp.text import normalize_text
from kefu.nlp.training import splits
from kefu.nlp.training.vectors import fit_space, to_matrix, with_weights

SEED = 20240601
ABSENT = -10.0  # the score of a label a fold model never saw
# Calibrated weights smaller than this are not stored: about 85% of them, and on CIC's dev
# messages no prediction changes and no confidence moves by more than 0.005.
PRUNE_BELOW = 0.02

INTENT_FEATURES = FeatureSpec(char_min=1, char_max=4, words=True, word_weight=0.5)


@dataclass(frozen=True)
class IntentConfig:
    features: FeatureSpec = INTENT_FEATURES
    min_df: int = 2
    drop_margin: float = 0.5  # drop a suspect row whose label trails the best by this much
    c: float = 1.0  # the SVM's regularisation (larger: fits the training rows closer)
    trusted_weight: float = 2.0
    folds: int = 5


@dataclass
class Examples:
    ids: list[int]  # CIC ids; seeds get negative ids
    labels: np.ndarray  # label index per row
    trusted: np.ndarray  # bool: hand-checked or our own example
    checked: np.ndarray  # bool: a hand-checked CIC row (the tuning set)
    tokens: list[list[str]]


def load_examples(data_dir: Path, spec: FeatureSpec) -> Examples:
    index = {label: i for i, label in enumerate(LABELS)}
    held_out = splits.relabelled(splits.CIC_DEV_CLEAN)
    checked = splits.relabelled(splits.CIC_TRAIN_CLEAN)
    reviewed = splits.relabelled(splits.CIC_TRAIN_RELABELLED)
    rows = []
    for row in splits.cic_rows(data_dir):
        row_id = row["id"]
        if row_id in held_out or reviewed.get(row_id) == splits.EXCLUDED:
            continue
        label = checked.get(row_id) or reviewed.get(row_id) or row["label"]
        rows.append((row_id, row["text"], label, row_id in checked, row_id in reviewed))
    seeds = [
        (-number, text, label, False, True)
        for number, (label, text) in enumerate(splits.read_tsv(splits.CIC_SEED), start=1)
    ]
    ids, labels, trusted, hand, tokens = [], [], [], [], []
    for row_id, text, label, is_checked, is_reviewed in rows + seeds:
        if label not in index:
            raise ValueError(f"unknown intent {label!r} (row {row_id})")
        normal = normalize_text(text)
        ids.append(row_id)
        labels.append(index[label])
        trusted.append(is_checked or is_reviewed)
        hand.append(is_checked)
        tokens.append(spec.tokens(normal, cut(normal)))
    return Examples(ids, np.array(labels), np.array(trusted), np.array(hand), tokens)


@dataclass
class Linear:
    """A linear layer over all labels: ``scores = x @ weights + bias``."""

    weights: np.ndarray  # features × labels
    bias: np.ndarray  # labels


def fit_linear(config: IntentConfig, x: Any, labels: np.ndarray, weight: np.ndarray) -> Linear:
    svm = LinearSVC(C=config.c, random_state=SEED)
    svm.fit(x, labels, sample_weight=weight)
    weights = np.zeros((x.shape[1], len(LABELS)))
    bias = np.full(len(LABELS), ABSENT)
    weights[:, svm.classes_] = svm.coef_.T
    bias[svm.classes_] = svm.intercept_
    return Linear(weights, bias)


def _folds(config: IntentConfig, labels: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    splitter = StratifiedKFold(config.folds, shuffle=True, random_state=SEED)
    with warnings.catch_warnings():
        # Labels with fewer rows than folds are expected: they simply fall in fewer folds.
        warnings.simplefilter("ignore", UserWarning)
        return list(splitter.split(np.zeros(len(labels)), labels))


def out_of_fold(
    config: IntentConfig, x: Any, labels: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, Linear]:
    """Each row's scores from the model trained without its fold, and the fold models'
    average."""
    scores = np.zeros((len(labels), len(LABELS)))
    total = Linear(np.zeros((x.shape[1], len(LABELS))), np.zeros(len(LABELS)))
    folds = _folds(config, labels)
    for train, test in folds:
        model = fit_linear(config, x[train], labels[train], weight[train])
        scores[test] = x[test] @ model.weights + model.bias
        total.weights += model.weights / len(folds)
        total.bias += model.bias / len(folds)
    return scores, total


def contradicted(scores: np.ndarray, labels: np.ndarray, margin: float) -> np.ndarray:
    """Rows whose given label scores ``margin`` or more below the best label."""
    given = scores[np.arange(len(labels)), labels]
    return np.asarray(scores.max(axis=1) - given > margin)


def fit_temperature(scores: np.ndarray, labels: np.ndarray) -> float:
    """The softmax temperature that minimises the log-loss of ``scores`` on ``labels``."""

    def loss(log_t: float) -> float:
        z = scores * np.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-log_p[np.arange(len(labels)), labels].mean())

    result = optimize.minimize_scalar(loss, bounds=(-3.0, 5.0), method="bounded")
    return float(np.exp(result.x))


def _accuracy_f1(gold: Sequence[int], predicted: Sequence[int]) -> tuple[float, float]:
    from kefu.nlp import metrics

    return metrics.accuracy(gold, predicted), metrics.macro_f1(gold, predicted)


def train(data_dir: Path, out_dir: Path, config: IntentConfig | None = None) -> Iterator[str]:
    config = config or IntentConfig()
    data = load_examples(data_dir, config.features)
    yield f"intent: {len(data.ids)} rows ({int(data.trusted.sum())} trusted)"
    space = fit_space(
        data.tokens, min_df=config.min_df, group_weights=(1.0, config.features.word_weight)
    )
    x = to_matrix(space, data.tokens)
    weight = np.where(data.trusted, config.trusted_weight, 1.0)

    scores, _ = out_of_fold(config, x, data.labels, weight)
    drop = contradicted(scores, data.labels, config.drop_margin) & ~data.trusted
    keep = ~drop
    yield f"intent: dropped {int(drop.sum())} rows whose label the rest of the data contradicts"

    # The shipped model is the average of the fold models trained on the cleaned rows, so
    # the temperature fitted on their out-of-fold scores (on the hand-checked rows) matches
    # the scale of its scores; one model refitted on every row would be surer of itself
    # than those scores show.
    kept = np.flatnonzero(keep)
    cv_scores, average = out_of_fold(config, x[kept], data.labels[kept], weight[kept])
    hand = data.checked[kept]
    gold = data.labels[kept][hand]
    accuracy, f1 = _accuracy_f1(list(gold), list(cv_scores[hand].argmax(axis=1)))
    temperature = fit_temperature(cv_scores[hand], gold)
    yield f"intent: hand-checked rows, cross-validated: accuracy {accuracy:.3f} macro-F1 {f1:.3f}"

    model = with_weights(space, average.weights * temperature, average.bias * temperature)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save(
        out_dir / "intent",
        prune_below=PRUNE_BELOW,
        meta={
            "labels": list(LABELS),
            "features": config.features.to_json(),
            "temperature": temperature,
            "trained_on": int(keep.sum()),
            "dropped_as_mislabelled": int(drop.sum()),
            "checked_cv_accuracy": round(accuracy, 4),
            "checked_cv_macro_f1": round(f1, 4),
        },
    )
    yield (
        f"intent: {len(space.tokens)} features, temperature {temperature:.2f}, "
        f"written to {out_dir / 'intent.npz'}"
    )
