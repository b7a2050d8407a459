"""KB lint: entries that ask the same thing, answers that contradict each other, and
phrasings that the matcher would send to another entry than their own.

Only enabled entries are checked: they are the ones the bot answers with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import cast

from sqlalchemy.orm import Session

from kefu.kb import catalogue
from kefu.kb.catalogue import EntryView
from kefu.kb.index import vocabulary
from kefu.nlp.matcher import FaqMatcher
from kefu.nlp.text import normalize_text

# Phrasings of two entries this alike ask the same question.
DUPLICATE_SIMILARITY = 0.85
# … and worded more alike than this: the matcher also rates questions on one topic highly
# (走哪家快递 / 快递单号在哪看), which are two questions, not one asked twice.
SAME_WORDING = 0.8
# A phrasing matching another entry at least this well, and better than its own entry's
# other phrasings, is probably in the wrong entry.
MISPLACED_MIN_SCORE = 0.5
NEIGHBOURS = 8
_DIGITS = re.compile(r"\d+")

# An amount is a number with its unit after it (48小时, 7天, 9.8折, 16点) or 满/减 before it
# (满199减20). A bare number (VIP3, 1.5m) says nothing comparable.
_QUANTITY = re.compile(
    r"(满|减)?(\d+(?:\.\d+)?|[零一二两三四五六七八九十百]+)\s*"
    r"(个工作日|工作日|小时|分钟|天|日|周|元|块|折|斤|个月|月|年|点|%|倍)?"
)
_UNITS = {"块": "元", "日": "天", "个月": "月", "个工作日": "工作日"}
_CHINESE_DIGITS = {
    "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
# Words that turn an answer around: one entry says 支持, the other 不支持.
_NEGATIONS = (
    "不支持",
    "不可以",
    "不能",
    "无法",
    "没有",
    "暂不",
    "不提供",
    "不包邮",
    "不退",
    "不送",
)


@dataclass(frozen=True)
class EntryPair:
    """Two entries whose questions are near-identical (the closest phrasings shown)."""

    first_id: int
    first_question: str
    second_id: int
    second_question: str
    score: float
    detail: str = ""  # for contradictions: what differs, e.g. "48小时 / 72小时"


@dataclass(frozen=True)
class Misplaced:
    """A phrasing that matches another entry better than the rest of its own entry."""

    entry_id: int
    question: str
    own_score: float
    other_id: int
    other_question: str
    other_score: float


@dataclass(frozen=True)
class LintReport:
    entries: int
    duplicates: list[EntryPair]
    contradictions: list[EntryPair]
    misplaced: list[Misplaced]

    @property
    def problems(self) -> int:
        return len(self.duplicates) + len(self.contradictions) + len(self.misplaced)


def _chinese_number(text: str) -> int:
    if text in _CHINESE_DIGITS:
        return _CHINESE_DIGITS[text]
    if "百" in text:
        head, _, rest = text.partition("百")
        return _CHINESE_DIGITS.get(head, 1) * 100 + (_chinese_number(rest) if rest else 0)
    if "十" in text:
        head, _, rest = text.partition("十")
        tens = _CHINESE_DIGITS.get(head, 1) if head else 1
        return tens * 10 + (_CHINESE_DIGITS.get(rest, 0) if rest else 0)
    return int("".join(str(_CHINESE_DIGITS.get(c, 0)) for c in text) or 0)


def amounts(answer: str) -> dict[str, set[str]]:
    """The amounts an answer states, by unit: {"小时": {"48"}, "满": {"199"}, …}."""
    found: dict[str, set[str]] = {}
    for prefix, number, unit in _QUANTITY.findall(normalize_text(answer)):
        key = prefix or _UNITS.get(unit, unit)
        if not key:
            continue
        if number[0].isdigit():
            value = str(float(number)).removesuffix(".0")
        elif unit:  # a Chinese numeral counts only before a unit (not 一下, 一件)
            value = str(_chinese_number(number))
        else:
            continue
        found.setdefault(key, set()).add(value)
    return found


def _shown(key: str, values: set[str]) -> str:
    ordered = sorted(values, key=_sort_key)
    return "、".join(f"{key}{v}" if key in ("满", "减") else f"{v}{key}" for v in ordered)


def _negated(answer: str) -> bool:
    text = normalize_text(answer)
    return any(word in text for word in _NEGATIONS)


def contradiction(first: str, second: str) -> str:
    """What two answers to the same question disagree on ("" when they do not)."""
    if normalize_text(first) == normalize_text(second):
        return ""
    left, right = amounts(first), amounts(second)
    differing = [unit for unit in left if unit in right and left[unit] != right[unit]]
    if differing:
        return " / ".join(
            "、".join(_shown(unit, side[unit] - other[unit]) for unit in differing)
            for side, other in ((left, right), (right, left))
        )
    if _negated(first) != _negated(second):
        return "支持 / 不支持"
    return ""


def _sort_key(value: str) -> tuple[float, str]:
    try:
        return float(value), value
    except ValueError:
        return float("inf"), value


def narrows(first: str, second: str) -> bool:
    """One question is the other plus words that narrow it (什么时候发货 → 预售什么时候发货):
    alike to the matcher, yet two questions with two answers."""
    a, b = catalogue.normalized(first), catalogue.normalized(second)
    short, long = sorted((a, b), key=len)
    return short in long and len(long) - len(short) >= 2


def same_wording(first: str, second: str) -> bool:
    """Worded alike, with the same numbers (100斤穿M还是S and 130斤穿L还是XL differ)."""
    a, b = catalogue.normalized(first), catalogue.normalized(second)
    if _DIGITS.findall(a) != _DIGITS.findall(b):
        return False
    return SequenceMatcher(None, a, b, autojunk=False).ratio() > SAME_WORDING


def lint(session: Session, *, shop_id: int) -> LintReport:
    found = catalogue.all_entries(session, shop_id=shop_id, enabled_only=True)
    phrasings: list[tuple[EntryView, str]] = [(e, q) for e in found for q in e.questions]
    if not phrasings:
        return LintReport(entries=len(found), duplicates=[], contradictions=[], misplaced=[])
    matcher = FaqMatcher.build(
        ((i, [text]) for i, (_, text) in enumerate(phrasings)),
        vocabulary=vocabulary(session, shop_id=shop_id),
    )
    pairs: dict[tuple[int, int], EntryPair] = {}
    suspects: list[Misplaced] = []
    for i, (entry, text) in enumerate(phrasings):
        hits = [h for h in matcher.rank(text, limit=NEIGHBOURS + 1) if cast(int, h.id) != i]
        others = [(h, phrasings[cast(int, h.id)][0]) for h in hits]
        # A neighbour that narrows this question (预售什么时候发货 for 什么时候发货) asks
        # another question: neither a duplicate nor a sign of the wrong entry.
        best_other = next(
            ((h, e) for h, e in others if e.id != entry.id and not narrows(text, h.question)),
            None,
        )
        if best_other is None:
            continue
        hit, other = best_other
        if hit.score >= DUPLICATE_SIMILARITY and same_wording(text, hit.question):
            key = (min(entry.id, other.id), max(entry.id, other.id))
            if key not in pairs or pairs[key].score < hit.score:
                first, second = (entry, text), (other, hit.question)
                if first[0].id > second[0].id:
                    first, second = second, first
                pairs[key] = EntryPair(
                    first_id=first[0].id,
                    first_question=first[1],
                    second_id=second[0].id,
                    second_question=second[1],
                    score=round(hit.score, 4),
                )
        own = [q for q in entry.questions if q != text]
        if not own or hit.score < MISPLACED_MIN_SCORE:
            continue
        own_score = max(matcher.similarity(text, q) for q in own)
        if hit.score > own_score:
            suspects.append(
                Misplaced(
                    entry_id=entry.id,
                    question=text,
                    own_score=round(own_score, 4),
                    other_id=other.id,
                    other_question=hit.question,
                    other_score=round(hit.score, 4),
                )
            )
    by_id = {e.id: e for e in found}
    duplicates: list[EntryPair] = []
    contradictions: list[EntryPair] = []
    for key in sorted(pairs):
        pair = pairs[key]
        detail = contradiction(
            by_id[pair.first_id].entry.answer, by_id[pair.second_id].entry.answer
        )
        if detail:
            contradictions.append(
                EntryPair(
                    pair.first_id,
                    pair.first_question,
                    pair.second_id,
                    pair.second_question,
                    pair.score,
                    detail,
                )
            )
        else:
            duplicates.append(pair)
    # A phrasing of a duplicate pair matches the other entry by definition: said once above.
    misplaced = [
        m
        for m in suspects
        if (min(m.entry_id, m.other_id), max(m.entry_id, m.other_id)) not in pairs
    ]
    misplaced.sort(key=lambda m: (m.entry_id, m.question))
    return LintReport(
        entries=len(found),
        duplicates=duplicates,
        contradictions=contradictions,
        misplaced=misplaced,
    )
