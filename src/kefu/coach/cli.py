"""``kefu coach``: the reply coach from the command line (no database needed).

- ``kefu coach eval [--data FILE] [--seeds DIR] [--errors]``: per rule, TP FP FN precision
  and recall on the labelled replies (and the micro average over all rules) — the tuning set
  and the held-out set, each on its own, unless ``--data`` names one file — then whether
  seed 001's wrong and right answers to a complaint are judged as the seed judges them.
  Exit code 1 when they are not, 2 when the labelled file cannot be read.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _print_report(report: Any, name: str, *, errors: bool) -> None:
    click.echo(f"{'rule':<24}{'TP':>5}{'FP':>5}{'FN':>5}{'precision':>11}{'recall':>9}")
    rows = [*report.per_rule.items(), ("micro", report.micro)]
    for code, counts in rows:
        click.echo(
            f"{code:<24}{counts.tp:>5}{counts.fp:>5}{counts.fn:>5}"
            f"{_ratio(counts.precision):>11}{_ratio(counts.recall):>9}"
        )
    click.echo(
        f"{report.items} conversations, {report.agent_turns} agent replies "
        f"({report.clean_turns} expected to break no rule) from {name}"
    )
    if errors:
        for item_id, rule, turn, wrong, text in report.errors:
            click.echo(f"  {wrong} {item_id} turn {turn} {rule}: {text[:60]}")


@click.group("coach")
def coach() -> None:
    """The reply coach (质检): evaluate its rules."""


@coach.command("eval")
@click.option(
    "--data",
    "data_path",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Labelled replies (JSON lines); default: the set kept in the repository.",
)
@click.option(
    "--seeds",
    "seeds_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder with seed 001 (default: ../shared/seeds); without it, the set's copies.",
)
@click.option("--errors", is_flag=True, help="Also list every false positive and miss.")
def evaluate(data_path: str | None, seeds_dir: str | None, errors: bool) -> None:
    """Precision and recall of each default rule, and the seed-001 check."""
    from kefu.coach import evaluation
    from kefu.coach.defaults import DEFAULT_RULES
    from kefu.coach.readings import read_buyer

    # The patterns were tuned on the first set, never on the second: the held-out figures
    # are the honest estimate for chats nobody has seen.
    titles = {
        evaluation.LABELLED: "tuning set (the rules' patterns were written against it):",
        evaluation.HOLDOUT: "held-out set (never used to tune the rules):",
    }

    paths = [Path(data_path)] if data_path else [evaluation.LABELLED, evaluation.HOLDOUT]
    all_items: list[evaluation.Item] = []
    for path in paths:
        try:
            items = evaluation.load_items(path) if path.exists() else []
        except evaluation.LabelledSetError as exc:
            click.echo(f"error: {path.name} {exc}", err=True)
            sys.exit(2)
        if not items:
            click.echo(f"no labelled replies in {path}", err=True)
        all_items += items
        click.echo(titles.get(path, path.name))
        report = evaluation.evaluate(items, DEFAULT_RULES, read_buyer=read_buyer)
        _print_report(report, path.name, errors=errors)
        click.echo("")
    items = all_items
    seed_file = evaluation.find_seed_001(Path(seeds_dir) if seeds_dir else None)
    examples = None
    if seed_file is not None:
        examples = evaluation.parse_seed_001(
            seed_file.read_text(encoding="utf-8", errors="replace"), origin=str(seed_file)
        )
    if examples is None:
        examples = evaluation.seed_from_items(items)
    if examples is None:
        click.echo("seed 001: no examples found (no seed file, no seed-001 items)")
        return
    verdicts = evaluation.check_seed(examples, DEFAULT_RULES, read_buyer=read_buyer)
    click.echo(f"seed 001 ({examples.origin}): {examples.complaint[:30]}…")
    for verdict in verdicts:
        said = "wrong" if verdict.wrong else "right"
        mark = "ok  " if verdict.agrees else "FAIL"
        click.echo(f"  {mark} {said}: {verdict.reply[:36]} → {', '.join(verdict.rules) or '-'}")
    failed = sum(not verdict.agrees for verdict in verdicts)
    wrong_ok = sum(v.agrees for v in verdicts if v.wrong)
    right_ok = sum(v.agrees for v in verdicts if not v.wrong)
    click.echo(
        f"seed 001: {wrong_ok}/{len(examples.wrong)} wrong replies flagged, "
        f"{right_ok}/{len(examples.right)} right replies clean"
    )
    if failed:
        sys.exit(1)
