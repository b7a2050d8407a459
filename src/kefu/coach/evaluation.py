"""How well the rules judge: precision and recall per rule on the labelled agent replies
kept in the repository (``coach/evaluation/replies.jsonl``), and the check that seed 001's
own wrong and right answers to a complaint are judged the way the seed judges them.

Pure: no database. ``kefu coach eval`` prints what :func:`evaluate` and
:func:`check_seed` return.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kefu.coach.engine import ReadBuyer, RuleSpec, Turn, inspect
from kefu.coach.text import clean_seed_text

LABELLED = Path(__file__).with_name("evaluation") / "replies.jsonl"
# Written by someone who never saw the rules' patterns, and never used to tune them.
HOLDOUT = Path(__file__).with_name("evaluation") / "holdout.jsonl"
SEED_001 = "001_*.txt"
# The rules a complaint's wrong answers in seed 001 break (one of them is enough).
COMPLAINT_RULES = frozenset(
    {"refund_first", "quality_denial", "blame_shifting", "no_apology_angry"}
)
_START = datetime(2024, 3, 1, 2, 0, tzinfo=UTC)  # any fixed moment: only the gaps matter
_ROLES = {"buyer", "agent", "bot", "system"}


@dataclass(frozen=True, slots=True)
class Item:
    """One labelled conversation: its turns and every (rule, turn) a QA supervisor expects."""

    id: str
    source: str
    situation: str
    turns: tuple[Turn, ...]
    closed: bool
    expect: frozenset[tuple[str, int]]

    @property
    def now(self) -> datetime:
        """The inspection's "now": the last turn's time (nothing is overdue past the end)."""
        return self.turns[-1].at if self.turns else _START


class LabelledSetError(ValueError):
    """A line of the labelled set that cannot be read; the message names the line."""


def parse_item(raw: dict[str, Any], *, line: int) -> Item:
    """One JSON object of the labelled set as an item (raises LabelledSetError)."""
    try:
        turns = tuple(
            Turn(
                role=_role(turn["role"]),
                text=str(turn["text"]),
                at=_START + timedelta(minutes=float(turn.get("minute", 0))),
                agent_id=int(turn["agent"]) if turn.get("agent") is not None else None,
            )
            for turn in raw["turns"]
        )
        expect = frozenset((str(e["rule"]), int(e["turn"])) for e in raw.get("expect", []))
        return Item(
            id=str(raw["id"]),
            source=str(raw.get("source", "")),
            situation=str(raw.get("situation", "")),
            turns=turns,
            closed=bool(raw.get("closed", False)),
            expect=expect,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise LabelledSetError(f"line {line}: {exc!r}") from exc


def _role(value: object) -> Any:
    if value not in _ROLES:
        raise ValueError(f"unknown role {value!r}")
    return value


def load_items(path: Path = LABELLED) -> list[Item]:
    items = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                raise LabelledSetError(f"line {number}: not JSON ({exc.msg})") from exc
            if not isinstance(raw, dict):
                raise LabelledSetError(f"line {number}: expected a JSON object")
            items.append(parse_item(raw, line=number))
    return items


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


@dataclass
class Report:
    per_rule: dict[str, Counts]
    items: int = 0
    agent_turns: int = 0
    clean_turns: int = 0  # agent turns expected to break no rule
    # (item id, rule, turn, "FP"|"FN", the reply's text) for --errors
    errors: list[tuple[str, str, int, str, str]] = field(default_factory=list)

    @property
    def micro(self) -> Counts:
        total = Counts()
        for counts in self.per_rule.values():
            total.tp += counts.tp
            total.fp += counts.fp
            total.fn += counts.fn
        return total


def evaluate(
    items: Iterable[Item], rules: Sequence[RuleSpec], *, read_buyer: ReadBuyer | None
) -> Report:
    """Every hit the engine finds against every hit expected, counted per rule."""
    codes = [rule.code for rule in rules if rule.enabled]
    report = Report(per_rule={code: Counts() for code in codes})
    for item in items:
        report.items += 1
        agent_turns = [i for i, turn in enumerate(item.turns) if turn.role == "agent"]
        report.agent_turns += len(agent_turns)
        report.clean_turns += sum(1 for i in agent_turns if not any(t == i for _, t in item.expect))
        found = {
            (hit.rule, hit.turn)
            for hit in inspect(
                item.turns, rules, closed=item.closed, now=item.now, read_buyer=read_buyer
            ).hits
        }
        expected = {pair for pair in item.expect if pair[0] in report.per_rule}
        for rule, turn in sorted(found | expected):
            counts = report.per_rule[rule]
            if (rule, turn) in found and (rule, turn) in expected:
                counts.tp += 1
                continue
            wrong = "FP" if (rule, turn) in found else "FN"
            if wrong == "FP":
                counts.fp += 1
            else:
                counts.fn += 1
            report.errors.append((item.id, rule, turn, wrong, item.turns[turn].text))
    return report


# --- seed 001 ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SeedExamples:
    """Seed 001's complaint and the answers it calls wrong and right."""

    origin: str  # the file, or "labelled set" for the in-repo copies
    complaint: str
    wrong: tuple[str, ...]
    right: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SeedVerdict:
    reply: str
    wrong: bool  # what the seed says
    rules: tuple[str, ...]  # what the engine says

    @property
    def agrees(self) -> bool:
        if self.wrong:
            return bool(COMPLAINT_RULES.intersection(self.rules))
        return not self.rules


_NUMBERED = re.compile(r"(?:^|(?<=[。?？!！)）]))\s*\d[、.]")
_WRONG_MARK = re.compile(r"[(（]错误[)）]")


def seeds_dir_candidates() -> list[Path]:
    """Where ``../shared/seeds`` may be: beside the repository, or beside the working
    directory (as ``kefu nlp`` finds ``../shared/data``)."""
    repo = Path(__file__).resolve().parents[3]
    return [repo.parent / "shared" / "seeds", Path.cwd().parent / "shared" / "seeds"]


def find_seed_001(seeds_dir: Path | None = None) -> Path | None:
    for folder in [seeds_dir] if seeds_dir is not None else seeds_dir_candidates():
        found = sorted(folder.glob(SEED_001)) if folder.is_dir() else []
        if found:
            return found[0]
    return None


def parse_seed_001(text: str, *, origin: str) -> SeedExamples | None:
    """The complaint line ("客户:…质量…") and the two "我们:1、…2、…3、…" lines after it:
    the first marked "(错误)" are the wrong answers, the second the right ones."""
    lines = [clean_seed_text(line).strip() for line in text.splitlines()]
    complaint = next((line for line in lines if line.startswith("客户:") and "质量" in line), None)
    answers = [line.removeprefix("我们:") for line in lines if line.startswith("我们:")]
    if complaint is None or len(answers) < 2:
        return None
    wrong = tuple(_answers(answers[0]))
    right = tuple(_answers(answers[1]))
    if not wrong or not right:
        return None
    return SeedExamples(origin, complaint.removeprefix("客户:"), wrong, right)


def _answers(line: str) -> list[str]:
    parts = [part.strip() for part in _NUMBERED.split(line)]
    return [_WRONG_MARK.sub("", part).strip() for part in parts if part]


def seed_from_items(items: Iterable[Item]) -> SeedExamples | None:
    """The in-repo copies of seed 001's examples (source "seed-001"): a buyer line and one
    reply each; wrong when a complaint rule is expected."""
    complaint = ""
    wrong: list[str] = []
    right: list[str] = []
    for item in items:
        if item.source != "seed-001":
            continue
        buyer = next((t for t in item.turns if t.role == "buyer"), None)
        agent = next((i for i, t in enumerate(item.turns) if t.role == "agent"), None)
        if buyer is None or agent is None:
            continue
        complaint = complaint or buyer.text
        is_wrong = any(rule in COMPLAINT_RULES for rule, _ in item.expect)
        (wrong if is_wrong else right).append(item.turns[agent].text)
    if not complaint or not wrong or not right:
        return None
    return SeedExamples("labelled set (source seed-001)", complaint, tuple(wrong), tuple(right))


def check_seed(
    examples: SeedExamples, rules: Sequence[RuleSpec], *, read_buyer: ReadBuyer | None
) -> list[SeedVerdict]:
    """Each example as the first agent reply, a minute after the complaint, conversation open."""
    verdicts = []
    buyer = Turn(role="buyer", text=examples.complaint, at=_START)
    for wrong, replies in ((True, examples.wrong), (False, examples.right)):
        for reply in replies:
            turns = (buyer, Turn("agent", reply, _START + timedelta(minutes=1), agent_id=1))
            hits = inspect(turns, rules, closed=False, now=turns[-1].at, read_buyer=read_buyer)
            rules_hit = tuple(sorted({hit.rule for hit in hits.hits}))
            verdicts.append(SeedVerdict(reply=reply, wrong=wrong, rules=rules_hit))
    return verdicts
