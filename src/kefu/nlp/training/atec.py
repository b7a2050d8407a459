"""The ATEC question pairs (花呗/借呗 customer service), split once and for all.

About a fifth of the pairs are held out for measuring FAQ matching; the rest train the
matcher. The split is by connected group of sentences, not by pair: a sentence that appears in
a held-out pair never appears in a training pair, so the matcher cannot have learnt a
held-out question by heart. Membership is a hash of the group, so the split is the same on
every machine and does not move when rows are reordered.

``python -m kefu.nlp.training.atec DATA_DIR`` is the benchmark: top-1 and MRR of the shipped
matcher and of a plain bm25s-over-jieba baseline on the same held-out FAQ, and the matcher's
latency against 10,000 entries.
"""

from __future__ import annotations

import csv
import hashlib
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

Pair = tuple[str, str, int]  # sentence1, sentence2, label (1 = same meaning)

HELD_OUT_PERCENT = 20
# Within the training pairs, the share kept aside to tune and calibrate (never the held-out).
VALIDATION_PERCENT = 15


def read_pairs(data_dir: Path) -> list[Pair]:
    """Every labelled pair of ``atec/pairs.tsv``, in file order."""
    path = data_dir / "atec" / "pairs.tsv"
    pairs: list[Pair] = []
    with path.open(encoding="utf-8", newline="") as tsv:
        reader = csv.reader(tsv, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader, None)
        if header != ["sentence1", "sentence2", "label"]:
            raise ValueError(f"{path}: unexpected header {header!r}")
        for number, row in enumerate(reader, start=2):
            if len(row) != 3 or row[2] not in {"0", "1"}:
                raise ValueError(f"{path} line {number}: expected sentence1, sentence2, 0|1")
            pairs.append((row[0], row[1], int(row[2])))
    return pairs


def _groups(pairs: Iterable[Pair]) -> dict[str, str]:
    """Each sentence's group: the smallest sentence connected to it through pairs."""
    parent: dict[str, str] = {}

    def find(sentence: str) -> str:
        parent.setdefault(sentence, sentence)
        while parent[sentence] != sentence:
            parent[sentence] = parent[parent[sentence]]
            sentence = parent[sentence]
        return sentence

    for left, right, _ in pairs:
        a, b = find(left), find(right)
        if a != b:
            parent[max(a, b)] = min(a, b)  # the smaller sentence stays the root
    return {sentence: find(sentence) for sentence in parent}


def _bucket(key: str, salt: str) -> int:
    return int(hashlib.sha256(f"{salt}:{key}".encode()).hexdigest()[:8], 16) % 100


def split(pairs: list[Pair], *, salt: str = "atec") -> tuple[list[Pair], list[Pair]]:
    """(training, held-out) pairs, whole sentence groups on one side only."""
    group = _groups(pairs)
    train: list[Pair] = []
    held_out: list[Pair] = []
    for pair in pairs:
        side = held_out if _bucket(group[pair[0]], salt) < HELD_OUT_PERCENT else train
        side.append(pair)
    return train, held_out


def atec_train(data_dir: Path) -> list[Pair]:
    """The training pairs (validation included: see ``train_validation``)."""
    return split(read_pairs(data_dir))[0]


def train_validation(data_dir: Path) -> tuple[list[Pair], list[Pair]]:
    """The training pairs split again, the same way, into (fit, validation)."""
    return split(atec_train(data_dir), salt="atec-validation")


def as_faq(pairs: list[Pair]) -> tuple[list[tuple[str, list[str]]], list[dict[str, Any]]]:
    """A knowledge base and its queries made of labelled pairs.

    Every distinct sentence2 is an entry with itself as the only phrasing (those of negative
    pairs are distractors that look alike: same product, other problem); every positive pair
    asks its sentence1 and expects its sentence2's entry.
    """
    ids: dict[str, str] = {}
    for _, right, _ in pairs:
        ids.setdefault(right, f"atec-{len(ids)}")
    entries = [(entry_id, [sentence]) for sentence, entry_id in ids.items()]
    queries: list[dict[str, Any]] = [
        {"text": left, "id": ids[right]} for left, right, label in pairs if label == 1
    ]
    return entries, queries


def atec_held_out(data_dir: Path) -> tuple[list[tuple[str, list[str]]], list[dict[str, Any]]]:
    """(KB entries, queries) built from the held-out pairs, for ``kefu nlp eval match``."""
    return as_faq(split(read_pairs(data_dir))[1])


def bm25_baseline(
    entries: list[tuple[str, list[str]]], queries: list[dict[str, Any]]
) -> list[list[str]]:
    """The ten best entry ids per query by bm25s over jieba words of normalised text."""
    import bm25s
    import jieba

    from kefu.nlp.text import normalize_text

    retriever = bm25s.BM25()
    retriever.index([jieba.lcut(normalize_text(p[0])) for _, p in entries], show_progress=False)
    asked = [jieba.lcut(normalize_text(q["text"])) for q in queries]
    found, _ = retriever.retrieve(asked, k=10, show_progress=False)
    return [[entries[int(i)][0] for i in row] for row in found]


def benchmark(data_dir: Path) -> Iterator[str]:
    from kefu.nlp import metrics
    from kefu.nlp.matcher import FaqMatcher, load_model, trained_model

    entries, queries = atec_held_out(data_dir)
    gold = [q["id"] for q in queries]
    yield f"held-out: {len(entries)} entries, {len(queries)} queries"
    top1, mrr = metrics.top1_and_mrr(gold, bm25_baseline(entries, queries))
    yield f"bm25s over jieba words: top-1 {top1:.4f}  MRR {mrr:.4f}"
    started = time.perf_counter()
    load_model()
    yield f"model load: {(time.perf_counter() - started) * 1000:.0f} ms"
    for name, model in (("shop default", None), ("trained (atec)", trained_model())):
        matcher = FaqMatcher.build(entries, model=model)
        ranked = [[hit.id for hit in matcher.rank(q["text"])] for q in queries]
        top1, mrr = metrics.top1_and_mrr(gold, ranked)
        yield f"FaqMatcher {name}: top-1 {top1:.4f}  MRR {mrr:.4f}"
    # Latency against 10,000 entries: every distinct held-out sentence, as many as needed.
    sentences = sorted({s for pair in split(read_pairs(data_dir))[1] for s in pair[:2]})[:10_000]
    started = time.perf_counter()
    big = FaqMatcher.build([(i, [s]) for i, s in enumerate(sentences)], model=trained_model())
    yield f"build {len(big)} entries: {time.perf_counter() - started:.2f} s"
    timings = []
    for query in queries:
        started = time.perf_counter()
        big.rank(query["text"])
        timings.append(time.perf_counter() - started)
    timings.sort()
    p50, p99 = timings[len(timings) // 2], timings[int(len(timings) * 0.99)]
    yield f"rank at {len(big)} entries: p50 {p50 * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms"


if __name__ == "__main__":
    for line in benchmark(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")):
        print(line, flush=True)
