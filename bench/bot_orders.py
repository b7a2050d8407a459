"""Which buyer messages the bot takes for a question about their order, beside two baselines.

    .venv/bin/python bench/bot_orders.py                 # data in ../shared/data
    .venv/bin/python bench/bot_orders.py --data DIR

On the 600 hand-labelled held-out CIC dev messages (``splits.cic_held_out``: never
trained on), a message is an order question when its checked intent has an order action in
the built-in intent table (``DEFAULT_ROUTES``) and is not one of the intents the bot leaves
to the knowledge base or to a person (``_NOT_A_REQUEST``); the gold action is that action.

* Kefu: ``order_questions.question_of`` as reception calls it for a first message: the
  analyzer's reading, the built-in route of its intent, the order number in the message
  if any (``entities.extract``, the default pattern), nothing awaited;
* baseline A, the classifier alone: the same function with the phrase list emptied;
* baseline B, the phrase list alone: the first of ``_PHRASES`` that matches, else nothing.

Printed: detection precision / recall / F1 and the accuracy of the action on the messages
rightly detected, each beside both baselines with the ratios; counts; the most frequent
confusions; examples of what is missed and wrongly taken; the phrasings issue 5 names.
Only figures from the same run compare. See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from kefu.bot.service import Route
    from kefu.nlp.analyzer import Reading
    from kefu.nlp.entities import Entity
    from kefu.nlp.intents import Action

ROOT = Path(__file__).resolve().parent.parent
# Order numbers do not depend on the date; a fixed "now" keeps dates out of the picture.
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
NONE = "—"  # not an order question
SWEEP = (0.4, 0.5, 0.6, 0.7, 0.8)  # confidence levels tried for the classifier's rule
# Issue 5's phrasings the bot must answer from the order, and the action each one asks for.
MUST_WORK: tuple[tuple[str, str], ...] = (
    ("我的快递到哪了", "order_status"),
    ("什么时候发货", "shipping_time"),
    ("能改地址吗", "address_change"),
    ("我要退款", "refund_request"),
    ("我要退货", "return_request"),
    ("我要换货", "exchange_request"),
    ("优惠券用不了", "coupon_problem"),
    ("我的快遞到哪了", "order_status"),
    ("什麼時候發貨", "shipping_time"),
    ("能改地址嗎", "address_change"),
    ("我要退貨", "return_request"),
)


# --- one message, three ways ---------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What each way made of one message (an Action value, or None: not an order question)."""

    text: str
    gold_intent: str
    gold: str | None
    intent: str  # the classifier's
    confidence: float
    angry: bool  # reception hands an angry buyer to complaints before any order answer
    order_no: str  # the order number found in the message, or ""
    kefu: str | None
    source: str  # what decided Kefu's answer: phrase, model, order number, or ""
    model_only: str | None  # baseline A
    phrases_only: str | None  # baseline B


class Judge:
    """Reads messages once and answers for Kefu and both baselines."""

    def __init__(self) -> None:
        from kefu.nlp.analyzer import default_analyzer

        self.analyzer = default_analyzer()

    @staticmethod
    def route(intent: str) -> Route:
        """``bot.service.route_for`` for a shop that kept the built-in intent table."""
        from kefu.bot.service import Route
        from kefu.nlp.intents import DEFAULT_ROUTES

        default = DEFAULT_ROUTES[intent]
        return Route(team=default.team, action=default.action)

    @staticmethod
    def order_number(reading: Reading) -> Entity | None:
        """The first order number in the message, as ``bot.orders.respond`` finds it."""
        from kefu.nlp.entities import extract

        found = extract(reading.normalized.original, now=NOW, order_pattern=None)
        return next((entity for entity in found if entity.kind == "order_no"), None)

    @staticmethod
    def phrase(reading: Reading) -> Action | None:
        from kefu.bot import order_questions

        for pattern, action in order_questions._PHRASES:
            if pattern.search(reading.normalized.text):
                return action
        return None

    @staticmethod
    def without_phrases(reading: Reading, route: Route, named: Entity | None) -> Action | None:
        """``question_of`` itself, its phrase list emptied: the classifier's rule alone."""
        from kefu.bot import order_questions

        with mock.patch.object(order_questions, "_PHRASES", ()):
            return order_questions.question_of(reading, route, named, None)

    def judge(self, text: str, gold_intent: str, gold: str | None) -> Verdict:
        from kefu.bot.order_questions import question_of

        reading = self.analyzer.classify(text.strip())  # as reception reads it
        route = self.route(reading.intent)
        named = self.order_number(reading)
        kefu = question_of(reading, route, named, None)
        phrase = self.phrase(reading)
        model = self.without_phrases(reading, route, named)
        if kefu is None:
            source = ""
        elif phrase is not None:
            source = "phrase"  # question_of tries the phrases first
        elif self.without_phrases(reading, route, None) == kefu:
            source = "model"
        else:
            source = "order number"
        return Verdict(
            text=text,
            gold_intent=gold_intent,
            gold=gold,
            intent=reading.intent,
            confidence=reading.confidence,
            angry=reading.angry,
            order_no=named.text if named is not None else "",
            kefu=_value(kefu),
            source=source,
            model_only=_value(model),
            phrases_only=_value(phrase),
        )


def _value(action: Action | None) -> str | None:
    return action.value if action is not None else None


def gold_action(intent: str) -> str | None:
    """The action a message with this (checked) intent asks the bot to take on an order."""
    from kefu.bot.order_questions import _NOT_A_REQUEST, ORDER_ACTIONS, action_named
    from kefu.nlp.intents import DEFAULT_ROUTES

    action = action_named(DEFAULT_ROUTES[intent].action)
    if action in ORDER_ACTIONS and intent not in _NOT_A_REQUEST:
        return action.value if action is not None else None
    return None


# --- scores --------------------------------------------------------------------------------


@dataclass
class Score:
    """Detection of "is an order question", then the action where both say it is one."""

    true_pos: int = 0
    false_pos: int = 0
    false_neg: int = 0
    true_neg: int = 0
    right_action: int = 0  # among true positives
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, gold: str | None, predicted: str | None, gold_intent: str) -> None:
        if gold is not None and predicted is not None:
            self.true_pos += 1
            self.right_action += gold == predicted
        elif predicted is not None:
            self.false_pos += 1
        elif gold is not None:
            self.false_neg += 1
        else:
            self.true_neg += 1
        if gold != predicted:
            # A false positive is shown by its intent: "not an order question" says nothing.
            said = gold if gold is not None else f"{NONE} ({gold_intent})"
            self.confusions[(said, predicted or NONE)] += 1

    @property
    def precision(self) -> float:
        found = self.true_pos + self.false_pos
        return self.true_pos / found if found else 0.0

    @property
    def recall(self) -> float:
        wanted = self.true_pos + self.false_neg
        return self.true_pos / wanted if wanted else 0.0

    @property
    def f1(self) -> float:
        both = self.precision + self.recall
        return 2 * self.precision * self.recall / both if both else 0.0

    @property
    def action_accuracy(self) -> float:
        return self.right_action / self.true_pos if self.true_pos else 0.0

    @property
    def answered_right(self) -> float:
        """Order questions detected with the right action ÷ all order questions."""
        wanted = self.true_pos + self.false_neg
        return self.right_action / wanted if wanted else 0.0


def score(verdicts: Iterable[Verdict], way: Callable[[Verdict], str | None]) -> Score:
    result = Score()
    for verdict in verdicts:
        result.add(verdict.gold, way(verdict), verdict.gold_intent)
    return result


# --- the report ----------------------------------------------------------------------------


def ratio(kefu: float, baseline: float) -> str:
    return f"{kefu / baseline:.2f}×" if baseline else ""


def width(text: str) -> int:
    """Columns the text takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def table(header: Sequence[str], rows: Sequence[Sequence[str]], *, left: int = 1) -> str:
    """Rows under a header; the first ``left`` columns (text) flush left, the rest right."""
    cells = [list(header), *[list(row) for row in rows]]
    widths = [max(width(row[column]) for row in cells) for column in range(len(header))]
    lines = []
    for number, row in enumerate(cells):
        padded = [
            cell + " " * (size - width(cell))
            if column < left
            else " " * (size - width(cell)) + cell
            for column, (cell, size) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append(("  " + "  ".join(padded)).rstrip())
        if number == 0:
            lines.append("  " + "-" * (sum(widths) + 2 * (len(widths) - 1)))
    return "\n".join(lines)


def figures(kefu: Score, model: Score, phrases: Score) -> str:
    def row(name: str, value: Callable[[Score], float]) -> list[str]:
        ours, a, b = value(kefu), value(model), value(phrases)
        return [name, f"{ours:.3f}", f"{a:.3f}", ratio(ours, a), f"{b:.3f}", ratio(ours, b)]

    def counts(name: str, value: Callable[[Score], int]) -> list[str]:
        return [name, str(value(kefu)), str(value(model)), "", str(value(phrases)), ""]

    header = ["", "Kefu", "A: classifier", "Kefu ÷ A", "B: phrases", "Kefu ÷ B"]
    return table(
        header,
        [
            row("detection precision", lambda s: s.precision),
            row("detection recall", lambda s: s.recall),
            row("detection F1", lambda s: s.f1),
            row("action accuracy (true positives)", lambda s: s.action_accuracy),
            row("right action ÷ order questions", lambda s: s.answered_right),
            counts("true positives", lambda s: s.true_pos),
            counts("  … with the right action", lambda s: s.right_action),
            counts("false positives", lambda s: s.false_pos),
            counts("false negatives", lambda s: s.false_neg),
            counts("true negatives", lambda s: s.true_neg),
        ],
    )


def confusions(kefu: Score, limit: int) -> str:
    rows = [
        [gold, predicted, str(count)]
        for (gold, predicted), count in kefu.confusions.most_common(limit)
    ]
    return table(["gold (action, or — and the checked intent)", "Kefu", "n"], rows, left=2)


def examples(title: str, verdicts: Sequence[Verdict], limit: int) -> str:
    lines = [f"{title}: {len(verdicts)}, the first {min(limit, len(verdicts))}"]
    for verdict in verdicts[:limit]:
        said = verdict.kefu or NONE
        lines.append(
            f"  {verdict.text!r}\n"
            f"      gold {verdict.gold or NONE} ({verdict.gold_intent}); Kefu {said}"
            f"{f' by {verdict.source}' if verdict.source else ''}; classifier "
            f"{verdict.intent} {verdict.confidence:.2f}"
            f"{f'; order no. {verdict.order_no}' if verdict.order_no else ''}"
        )
    return "\n".join(lines)


def must_work(judge: Judge) -> tuple[str, Counter[str]]:
    """The table of issue 5's phrasings, and how many each way gets right."""
    rows = []
    passed: Counter[str] = Counter()
    for text, expected in MUST_WORK:
        verdict = judge.judge(text, "", expected)
        ok = verdict.kefu == expected
        passed.update(
            name
            for name, action in (
                ("Kefu", verdict.kefu),
                ("A", verdict.model_only),
                ("B", verdict.phrases_only),
            )
            if action == expected
        )
        rows.append(
            [
                text,
                expected,
                f"{verdict.kefu or NONE}{'' if ok else ' MISSED'}",
                verdict.source or NONE,
                f"{verdict.intent} {verdict.confidence:.2f}",
                verdict.model_only or NONE,
                verdict.phrases_only or NONE,
            ]
        )
    header = ["phrasing", "wanted", "Kefu", "by", "classifier", "A", "B"]
    return table(header, rows, left=len(header)), passed


def why_missed(misses: Sequence[Verdict]) -> str:
    """What the classifier made of the order questions nothing caught."""
    from kefu.bot.order_questions import ORDER_CONFIDENCE

    kinds: Counter[str] = Counter()
    for verdict in misses:
        if verdict.intent == verdict.gold_intent:
            kinds[f"the right intent below {ORDER_CONFIDENCE:g}"] += 1
        elif gold_action(verdict.intent) is not None:
            kinds[f"another order intent below {ORDER_CONFIDENCE:g}"] += 1
        elif verdict.confidence >= ORDER_CONFIDENCE:
            kinds[f"an intent that is no order request, at {ORDER_CONFIDENCE:g} or more"] += 1
        else:
            kinds["an intent that is no order request, unsure"] += 1
    return "; ".join(f"{kind} {n}" for kind, n in kinds.most_common())


def one_refund(way: Callable[[Verdict], str | None]) -> Callable[[Verdict], str | None]:
    """``way`` with refund_request and return_request as one action: CIC's intent
    买家表示需要退货退款 ("return and refund") is also where buyers who want only their
    money back are filed, so the gold cannot tell the two apart."""

    def merged(verdict: Verdict) -> str | None:
        action = way(verdict)
        return "return_request" if action == "refund_request" else action

    return merged


def sweep(judge: Judge, held_out: Sequence[dict[str, Any]], levels: Sequence[float]) -> str:
    """Kefu and baseline A with the confidence the classifier must reach set otherwise."""
    from kefu.bot import order_questions

    rows = []
    for level in levels:
        with mock.patch.object(order_questions, "ORDER_CONFIDENCE", level):
            verdicts = [
                judge.judge(str(row["text"]), str(row["label"]), gold_action(str(row["label"])))
                for row in held_out
            ]
        shipped = " (shipped)" if level == order_questions.ORDER_CONFIDENCE else ""
        kefu = score(verdicts, lambda v: v.kefu)
        model = score(verdicts, lambda v: v.model_only)
        rows.append(
            [
                f"{level:g}{shipped}",
                *(f"{value:.3f}" for value in (kefu.precision, kefu.recall, kefu.f1)),
                *(f"{value:.3f}" for value in (model.precision, model.recall, model.f1)),
                f"{kefu.false_pos} / {model.false_pos}",
            ]
        )
    header = ["confidence ≥", "Kefu P", "R", "F1", "A: P", "R", "F1", "false pos. Kefu / A"]
    return table(header, rows)


def revision() -> str:
    try:
        described = subprocess.run(
            ["git", "describe", "--always", "--dirty"],  # noqa: S607 (git, to name what was measured)
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return described.stdout.strip()


def progress(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# --- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Which held-out CIC messages the bot takes for an order question, beside "
        "the classifier alone and the phrase list alone (see bench/README.md)."
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=ROOT.parent / "shared" / "data",
        help="the public data folder (cic/); default ../shared/data",
    )
    parser.add_argument("--examples", type=int, default=10, help="misses and false alarms shown")
    args = parser.parse_args(argv)
    data_dir: Path = args.data.resolve()
    if not (data_dir / "cic" / "dev.json").is_file():
        parser.error(f"{data_dir} has no cic/dev.json: pass --data")
    print(
        f"Kefu bot: order questions on the CIC held-out split; data {data_dir}\n"
        f"revision {revision()}; Python {platform.python_version()}; load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores",
        flush=True,
    )
    from kefu.nlp.training import splits

    held_out: list[dict[str, Any]] = splits.cic_held_out(data_dir)
    progress(f"reading {len(held_out)} held-out messages")
    judge = Judge()
    verdicts = [
        judge.judge(str(row["text"]), str(row["label"]), gold_action(str(row["label"])))
        for row in held_out
    ]
    kefu = score(verdicts, lambda v: v.kefu)
    model = score(verdicts, lambda v: v.model_only)
    phrases = score(verdicts, lambda v: v.phrases_only)

    wanted = sum(v.gold is not None for v in verdicts)
    print(
        f"\n{len(verdicts)} messages, {wanted} order questions by their checked intent "
        f"({len({v.gold_intent for v in verdicts if v.gold})} intents), "
        f"{sum(bool(v.order_no) for v in verdicts)} with an order number\n"
    )
    print(figures(kefu, model, phrases))
    found = Counter(v.source for v in verdicts if v.kefu is not None)
    right = Counter(v.source for v in verdicts if v.kefu is not None and v.gold is not None)
    print(
        "\nKefu's detections by what decided them (true positives / all): "
        + ", ".join(f"{source} {right[source]} / {n}" for source, n in found.most_common())
    )
    angry = sum(v.kefu is not None and v.gold is not None and v.angry for v in verdicts)
    print(
        f"of Kefu's {kefu.true_pos} true positives, {angry} read as angry: reception hands "
        "those to complaints before it asks about orders"
    )

    merged = [
        score(verdicts, one_refund(way))
        for way in (lambda v: v.kefu, lambda v: v.model_only, lambda v: v.phrases_only)
    ]
    print(
        "action accuracy with refund_request and return_request as one (the gold cannot tell "
        "them apart): "
        + ", ".join(
            f"{name} {merged_score.action_accuracy:.3f}"
            for name, merged_score in zip(("Kefu", "A", "B"), merged, strict=True)
        )
    )
    print(f"\nthe {min(20, len(kefu.confusions))} most frequent confusions (Kefu):")
    print(confusions(kefu, 20))
    misses = [v for v in verdicts if v.gold is not None and v.kefu is None]
    alarms = [v for v in verdicts if v.gold is None and v.kefu is not None]
    wrong = [v for v in verdicts if v.gold and v.kefu and v.gold != v.kefu]
    print(f"\nwhat the classifier made of the {len(misses)} missed: {why_missed(misses)}")
    print(examples("missed (false negatives)", misses, args.examples))
    print(examples("taken wrongly (false positives)", alarms, args.examples))
    print(examples("right detection, wrong action", wrong, args.examples))

    progress("the same again at other confidence levels")
    print("\ndetection with the classifier's confidence level moved (Kefu and baseline A):")
    print(sweep(judge, held_out, SWEEP))

    board, passed = must_work(judge)
    print(
        f"\nissue 5's phrasings, the action wanted for how many of {len(MUST_WORK)}: "
        f"Kefu {passed['Kefu']}, A {passed['A']}, B {passed['B']}"
    )
    print(board)
    return 0


if __name__ == "__main__":
    sys.exit(main())
