"""``kefu nlp eval``: measure the shipped models on a labelled file or on the held-out
splits of ``../shared/data`` that training never saw."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kefu.nlp import metrics

Report = dict[str, float | int | str]


def evaluate_intent(items: Sequence[dict[str, Any]]) -> Report:
    from kefu.nlp.analyzer import default_analyzer

    analyzer = default_analyzer()
    gold = [str(item["label"]) for item in items]
    predicted = [analyzer.classify(item["text"]).intent for item in items]
    return {
        "examples": len(items),
        "accuracy": metrics.accuracy(gold, predicted),
        "macro_f1": metrics.macro_f1(gold, predicted),
    }


def evaluate_sentiment(items: Sequence[dict[str, Any]]) -> Report:
    from kefu.nlp.analyzer import default_analyzer

    analyzer = default_analyzer()
    gold = [int(item["label"]) for item in items]
    predicted = [int(analyzer.classify(item["text"]).sentiment >= 0) for item in items]
    return {
        "examples": len(items),
        "accuracy": metrics.accuracy(gold, predicted),
        "macro_f1": metrics.macro_f1(gold, predicted),
    }


def evaluate_match(
    entries: Sequence[tuple[Any, list[str]]],
    items: Sequence[dict[str, Any]],
    *,
    model: str = "shop",
) -> Report:
    from kefu.nlp.matcher import FaqMatcher, model_named

    matcher = FaqMatcher.build(entries, model=model_named(model))
    gold = [item.get("id") for item in items]
    ranked = [[hit.id for hit in matcher.rank(item["text"], limit=10)] for item in items]
    top1, mrr = metrics.top1_and_mrr(gold, ranked)
    return {"queries": len(items), "entries": len(entries), "top1": top1, "mrr": mrr}


def evaluate_held_out(task: str, data_dir: Path, *, model: str = "shop") -> Report:
    """The held-out split of the public data: the same split training leaves out."""
    from kefu.nlp.training import splits

    if task == "intent":
        return evaluate_intent(splits.cic_held_out(data_dir))
    if task == "sentiment":
        return evaluate_sentiment(splits.reviews_held_out(data_dir))
    entries, queries = splits.atec_held_out(data_dir)
    return evaluate_match(entries, queries, model=model)
