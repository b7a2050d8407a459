"""The rows of ``../shared/data`` that training never sees, and readers for the rest.

- CIC (intents): the dev rows listed in ``cic_dev_clean.tsv``, with the label a person
  gave each after reading it (CIC's own train and dev labels are deliberately noisy). The
  rows were chosen by a hash of their id, so the choice does not depend on their text.
- Reviews (sentiment): the reviews whose text hashes into the first tenth; a review
  repeated in the file would land on the same side.
- ATEC (matching): owned by ``kefu.nlp.training.atec``.

Only ids and labels live here, never the data's text.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
CIC_DEV_CLEAN = HERE / "cic_dev_clean.tsv"
CIC_TRAIN_CLEAN = HERE / "cic_train_clean.tsv"
CIC_TRAIN_RELABELLED = HERE / "cic_train_relabelled.tsv"
EXCLUDED = "-"  # a relabelled row too ambiguous to train on
CIC_SEED = HERE / "cic_seed.tsv"
REVIEWS_FILE = Path("reviews") / "online_shopping_train.csv"
REVIEWS_HELD_OUT_PERCENT = 10


def read_tsv(path: Path) -> list[list[str]]:
    """Rows of a tab-separated file, without ``#`` comments, blank lines or the header."""
    rows = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if not line.strip() or line.startswith("#"):
                continue
            row = line.rstrip("\n").split("\t")
            if number <= 3 and row[0] in ("id", "label"):
                continue  # the header
            rows.append(row)
    return rows


def relabelled(path: Path) -> dict[int, str]:
    """id → corrected label, from a ``cic_*_clean.tsv`` file."""
    return {int(row[0]): row[1] for row in read_tsv(path)}


def cic_rows(data_dir: Path) -> Iterator[dict[str, Any]]:
    """CIC train then dev rows: ``id``, ``text`` (as written) and ``label`` (as given)."""
    for name in ("train.json", "dev.json"):
        with (data_dir / "cic" / name).open(encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    row = json.loads(line)
                    yield {"id": int(row["id"]), "text": row["sentence"], "label": row["label_des"]}


def cic_held_out(data_dir: Path) -> list[dict[str, Any]]:
    """The hand-labelled CIC dev rows, in id order: ``{"id", "text", "label"}``."""
    labels = relabelled(CIC_DEV_CLEAN)
    rows = [dict(row, label=labels[row["id"]]) for row in cic_rows(data_dir) if row["id"] in labels]
    if len(rows) != len(labels):
        raise ValueError(f"{data_dir / 'cic'} lacks {len(labels) - len(rows)} held-out rows")
    return rows


def _is_held_out(review: str) -> bool:
    digest = hashlib.sha256(f"reviews:{review}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < REVIEWS_HELD_OUT_PERCENT


def review_rows(data_dir: Path, *, held_out: bool) -> list[dict[str, Any]]:
    """Reviews ``{"text", "label": 0|1}`` of one side of the split, in file order."""
    with (data_dir / REVIEWS_FILE).open(encoding="utf-8", newline="") as file:
        return [
            {"text": row["review"], "label": int(row["label"])}
            for row in csv.DictReader(file)
            if row["review"] and _is_held_out(row["review"]) == held_out
        ]


def reviews_held_out(data_dir: Path) -> list[dict[str, Any]]:
    return review_rows(data_dir, held_out=True)


def atec_held_out(data_dir: Path) -> tuple[list[tuple[Any, list[str]]], list[dict[str, Any]]]:
    """The ATEC knowledge base and queries kept out of matcher training."""
    from kefu.nlp.training import atec  # written separately; imported when first needed

    result: tuple[list[tuple[Any, list[str]]], list[dict[str, Any]]] = atec.atec_held_out(data_dir)
    return result
