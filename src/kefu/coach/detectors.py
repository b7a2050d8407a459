"""A rule's patterns, compiled once, and where they match in a folded reply.

A shop's patterns are validated when saved, but the engine is defensive all the same: a
pattern that does not compile is left out (the rule keeps its others), never raised.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from kefu.coach import prefilter
from kefu.coach.models import RuleKind

if TYPE_CHECKING:  # the engine imports this module; its types are only annotations here
    from kefu.coach.engine import RuleSpec

log = logging.getLogger(__name__)

# Where a clause / a sentence starts: what comes before it does not qualify what is in it.
_CLAUSE_END = re.compile(r"[,，。.!！?？;；:：\n、~]")
_SENTENCE_END = re.compile(r"[。.!！?？;；\n]")
# "如果是物流的问题，我们负责" offers, it does not blame; "如果质量没问题" does not deny;
# "虽然是运输途中压坏的，但责任我们来承担" concedes and owns it.
_CONDITIONAL = re.compile(
    r"如果|假如|要是|万一|即使|即便|不管|无论|是否|假设|倘若|若是|若|虽然|虽说|尽管|哪怕"
)
# "这不是物流的问题" takes the blame back.
_NEGATED = re.compile(r"(?:不是|并非|并不是|不能说是|不会是|不一定是|未必是|不该是|不应该是)\s*$")

# "物流的问题我们来跟进" names the cause and owns the fix in the same sentence: not blame.
_OWNED = re.compile(
    r"[^。.!！?？;；\n]{0,20}?(?:我们|我|咱们|本店|店铺)(?:这边|会|来|一定|马上|立刻|都)*"
    r"(?:负责|承担|跟进|处理|解决|赔|补发|重发|联系|催)"
)

# The kinds whose patterns an offer or a denial in the same clause (sentence) defuses.
_CLAUSE_GUARDED = frozenset({RuleKind.BLAME.value, RuleKind.QUALITY_DENIAL.value})
_SENTENCE_GUARDED = frozenset({RuleKind.REFUND_FIRST.value})
_NEGATION_GUARDED = frozenset({RuleKind.BLAME.value})


@dataclass(frozen=True, slots=True)
class Pattern:
    """One of a rule's patterns with its shortcuts (prefilter.py)."""

    regex: re.Pattern[str]
    starts: re.Pattern[str] | None = None  # the characters a match can start with
    # every match contains a word of each of these sets (none known: ())
    needs: tuple[tuple[str, ...], ...] = ()

    def first(self, folded: str, kind: str, before: int) -> tuple[int, int] | None:
        """The leftmost match starting before ``before`` that no guard defuses."""
        for words in self.needs:
            if not any(word in folded for word in words):
                return None
        position = 0
        while position < before:
            if self.starts is not None:
                candidate = self.starts.search(folded, position)
                if candidate is None:
                    return None
                position = candidate.start()
                if position >= before:
                    return None
                match = self.regex.match(folded, position)
            else:
                match = self.regex.search(folded, position)
            if match is None:
                if self.starts is None:
                    return None
                position += 1
                continue
            start, end = match.span()
            if start >= before:
                return None
            if end > start and not _guarded(kind, folded, start, end):
                return start, end
            position = start + 1
        return None


@dataclass(frozen=True, slots=True)
class CompiledRule:
    spec: RuleSpec
    patterns: tuple[Pattern, ...]

    def search(self, folded: str) -> tuple[int, int] | None:
        """The leftmost span of ``folded`` a pattern matches (and no guard defuses); at
        one position the earlier pattern wins."""
        best: tuple[int, int] | None = None
        for pattern in self.patterns:
            found = pattern.first(folded, self.spec.kind, best[0] if best else len(folded) + 1)
            if found is not None:
                best = found
        return best

    def satisfied(self, folded: str) -> bool:
        return self.search(folded) is not None


def _clause_prefix(folded: str, start: int, ends: re.Pattern[str]) -> str:
    begin = 0
    window = folded[max(0, start - 60) : start]
    for found in ends.finditer(window):
        begin = found.end()
    return window[begin:]


def _guarded(kind: str, folded: str, start: int, end: int) -> bool:
    if kind in _CLAUSE_GUARDED:
        prefix = _clause_prefix(folded, start, _CLAUSE_END)
        if _CONDITIONAL.search(prefix):
            return True
        if kind in _NEGATION_GUARDED and _NEGATED.search(prefix):
            return True
        if kind in _NEGATION_GUARDED and _OWNED.match(folded, end):
            return True
    elif kind in _SENTENCE_GUARDED:
        prefix = _clause_prefix(folded, start, _SENTENCE_END)
        if _CONDITIONAL.search(prefix):
            return True
    return False


def _compile_one(rule: RuleSpec) -> CompiledRule:
    patterns = []
    for source in rule.patterns:
        if not source:
            continue
        try:
            regex = re.compile(source)
        except (re.error, RecursionError, OverflowError) as exc:
            log.warning("coach rule %s: pattern %r left out (%s)", rule.code, source, exc)
            continue
        chars = prefilter.first_chars([source])
        starts = None if chars is None else prefilter.candidates_pattern(chars)
        patterns.append(Pattern(regex, starts, prefilter.required_words(source)))
    return CompiledRule(rule, tuple(patterns))


@lru_cache(maxsize=128)
def _compile(rules: tuple[RuleSpec, ...]) -> tuple[CompiledRule, ...]:
    return tuple(_compile_one(rule) for rule in rules if rule.enabled)


def compile_rules(rules: Sequence[RuleSpec]) -> tuple[CompiledRule, ...]:
    """The enabled rules compiled, cached by the rules themselves (a shop's edit makes new
    RuleSpecs, hence a new entry)."""
    return _compile(tuple(rules))
