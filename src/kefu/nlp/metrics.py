"""Plain-Python metrics for ``kefu nlp eval`` (no scikit-learn needed at run time)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence


def accuracy(gold: Sequence[Hashable], predicted: Sequence[Hashable]) -> float:
    if not gold:
        return 0.0
    return sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold)


def macro_f1(gold: Sequence[Hashable], predicted: Sequence[Hashable]) -> float:
    """Mean F1 over the classes present in ``gold`` (a class never predicted scores 0)."""
    true_positive: Counter[Hashable] = Counter()
    predicted_count: Counter[Hashable] = Counter(predicted)
    gold_count: Counter[Hashable] = Counter(gold)
    for g, p in zip(gold, predicted, strict=True):
        if g == p:
            true_positive[g] += 1
    scores = []
    for label, support in gold_count.items():
        tp = true_positive[label]
        precision = tp / predicted_count[label] if predicted_count[label] else 0.0
        recall = tp / support
        scores.append(2 * precision * recall / (precision + recall) if tp else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def top1_and_mrr(
    gold: Sequence[Hashable], ranked: Sequence[Sequence[Hashable]]
) -> tuple[float, float]:
    """Share of queries whose first result is right, and mean reciprocal rank."""
    if not gold:
        return 0.0, 0.0
    top1 = 0
    reciprocal = 0.0
    for answer, results in zip(gold, ranked, strict=True):
        for position, result in enumerate(results, start=1):
            if result == answer:
                reciprocal += 1 / position
                top1 += position == 1
                break
    return top1 / len(gold), reciprocal / len(gold)
