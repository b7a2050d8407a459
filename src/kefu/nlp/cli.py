"""``kefu nlp``: the language engine's command-line contract.

Shops use it to check their own data and we use it for every published figure:

- ``kefu nlp classify < in.jsonl > out.jsonl``: each line's object plus ``intent``,
  ``confidence``, ``sentiment`` and ``angry``, in input order;
- ``kefu nlp match --kb kb.jsonl < queries.jsonl > out.jsonl``: each query plus ``match``
  (an id, or null when nothing is confident) and ``ranked`` (up to 10 ids with scores);
- ``kefu nlp eval intent|sentiment|match FILE``: accuracy, macro-F1, top-1 and MRR;
- ``kefu nlp train``: rebuild the shipped artifacts from ``../shared/data``.

Bad lines end the command with the line number and what is wrong (exit code 2), before
anything is written for them.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn, TextIO

import click

DEFAULT_DATA_DIR = Path("..") / "shared" / "data"


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def read_jsonl(
    stream: TextIO, *, name: str, need: tuple[str, ...] = ()
) -> Iterator[dict[str, Any]]:
    """Objects of a JSON-lines stream; blank lines are skipped, anything else is an error."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            _fail(f"{name} line {number}: not JSON ({exc.msg})")
        if not isinstance(item, dict):
            _fail(f"{name} line {number}: expected a JSON object")
        for key in need:
            if not isinstance(item.get(key), str):
                _fail(f"{name} line {number}: {key!r} must be a string")
        yield item


def _write(item: dict[str, Any], out: TextIO) -> None:
    out.write(json.dumps(item, ensure_ascii=False))
    out.write("\n")


@click.group("nlp")
def nlp() -> None:
    """The language engine: classify, match, evaluate and train."""


@nlp.command()
def classify() -> None:
    """Intent, confidence, sentiment and anger for each JSON line's "text" (stdin → stdout)."""
    from kefu.nlp.analyzer import default_analyzer

    analyzer = default_analyzer()
    out = sys.stdout
    for item in read_jsonl(sys.stdin, name="input", need=("text",)):
        reading = analyzer.classify(item["text"])
        item["intent"] = reading.intent
        item["confidence"] = round(reading.confidence, 4)
        item["sentiment"] = round(reading.sentiment, 4)
        item["angry"] = reading.angry
        _write(item, out)


_MODEL = click.option(
    "--model",
    type=click.Choice(["shop", "atec"]),
    default="shop",
    show_default=True,
    help="match: the shops' model, or the one trained on ATEC's finance questions.",
)


@nlp.command()
@click.option("--kb", "kb_path", required=True, type=click.Path(exists=True, dir_okay=False))
@_MODEL
def match(kb_path: str, model: str) -> None:
    """The KB entry that answers each JSON line's "text" (stdin → stdout)."""
    from kefu.nlp.matcher import FaqMatcher, model_named

    with open(kb_path, encoding="utf-8") as kb_file:
        entries = list(_kb_entries(kb_file))
    matcher = FaqMatcher.build(entries, model=model_named(model))
    out = sys.stdout
    for item in read_jsonl(sys.stdin, name="input", need=("text",)):
        ranked = matcher.rank(item["text"], limit=10)
        best = matcher.confident(ranked)
        item["match"] = best.id if best is not None else None
        item["ranked"] = [{"id": hit.id, "score": round(hit.score, 4)} for hit in ranked]
        _write(item, out)


def _kb_entries(stream: TextIO) -> Iterator[tuple[Any, list[str]]]:
    for number, item in enumerate(read_jsonl(stream, name="kb"), start=1):
        if "id" not in item or not isinstance(item["id"], str | int):
            _fail(f"kb entry {number}: 'id' must be a string or a number")
        questions = item.get("questions")
        if questions is None and isinstance(item.get("question"), str):
            questions = [item["question"]]
        if (
            not isinstance(questions, list)
            or not questions
            or not all(isinstance(q, str) and q.strip() for q in questions)
        ):
            _fail(f"kb entry {number}: needs 'question' or a non-empty 'questions' list")
        yield item["id"], questions


@nlp.command("eval")
@click.argument("task", type=click.Choice(["intent", "sentiment", "match"]))
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--kb",
    "kb_path",
    type=click.Path(exists=True, dir_okay=False),
    help="match: the KB (JSON lines) the queries are matched against.",
)
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Evaluate on the held-out split of ../shared/data instead of a file.",
)
@_MODEL
def evaluate(
    task: str, path: str | None, kb_path: str | None, data_dir: str | None, model: str
) -> None:
    """Print accuracy and macro-F1 (intent, sentiment) or top-1 and MRR (match).

    FILE is JSON lines: intent {"text", "label"}; sentiment {"text", "label": 0|1};
    match {"text", "id"} with --kb. Without FILE, --data (default ../shared/data) gives
    the held-out split the shipped models were not trained on.
    """
    from kefu.nlp import evaluation

    if path is None:
        report = evaluation.evaluate_held_out(
            task, Path(data_dir) if data_dir else DEFAULT_DATA_DIR, model=model
        )
    else:
        with open(path, encoding="utf-8") as labelled:
            items = list(read_jsonl(labelled, name=Path(path).name, need=("text",)))
        if task == "match":
            if kb_path is None:
                _fail("eval match needs --kb")
            with open(kb_path, encoding="utf-8") as kb_file:
                entries = list(_kb_entries(kb_file))
            report = evaluation.evaluate_match(entries, items, model=model)
        elif task == "intent":
            report = evaluation.evaluate_intent(items)
        else:
            report = evaluation.evaluate_sentiment(items)
    for key, value in report.items():
        click.echo(f"{key:>18}: {value:.4f}" if isinstance(value, float) else f"{key:>18}: {value}")


@nlp.command()
@click.option(
    "--data",
    "data_dir",
    type=click.Path(exists=True, file_okay=False),
    default=str(DEFAULT_DATA_DIR),
    show_default=True,
)
@click.option("--only", type=click.Choice(["intent", "sentiment", "matcher"]), default=None)
def train(data_dir: str, only: str | None) -> None:
    """Rebuild the shipped models from the public data (needs the dev extras: scikit-learn)."""
    from kefu.nlp.training import train_all

    if importlib.util.find_spec("sklearn") is None:  # only training needs it
        _fail("training needs scikit-learn: pip install -e '.[dev]' (make test installs it)")
    for line in train_all(Path(data_dir), only=only):
        click.echo(line)
