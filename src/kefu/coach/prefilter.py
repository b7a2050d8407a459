"""Shortcuts for a pattern: the characters its matches start with, the words they contain.

Python's ``re`` scans quickly for a pattern that starts with a character class, but a rule
is an alternation of phrases with optional words in front ("(是)?你(自己)?的问题"), which it
tries at every position of a 5,000-character draft. Knowing the phrases' first characters,
the engine jumps from one candidate position to the next with a one-class regex and tries
the rule only there; and a pattern none of whose required words ("问题", "怎么可能") is in
the text is not tried at all. Same matches, several times faster.

This reads the regex parser's tree (``re._parser``, private but stable since 3.11); when
it is missing, or a pattern starts with something that is not a plain character (``.``,
``\\w``, a negated class, a case-insensitive group), there is no shortcut and the rule is
searched the ordinary way.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

try:
    _parser: Any = importlib.import_module("re._parser")
    _c: Any = importlib.import_module("re._constants")
except ImportError:  # another Python: no shortcut
    _parser = None
    _c = None

_WIDEST_RANGE = 512  # a class like [一-龥] is no shortcut; give up on it


class _NoShortcut(Exception):
    pass


@lru_cache(maxsize=1024)
def _parsed(source: str) -> Any:
    """The parser's tree of a pattern (both shortcuts read it; only read, never changed)."""
    return _parser.parse(source)


def first_chars(sources: Iterable[str]) -> frozenset[str] | None:
    """The characters every match of any of ``sources`` starts with, or None when that
    cannot be told (then every position must be tried)."""
    if _parser is None:
        return None
    chars: set[str] = set()
    try:
        for source in sources:
            parsed = _parsed(source)
            if parsed.state.flags & (_c.SRE_FLAG_IGNORECASE | _c.SRE_FLAG_VERBOSE):
                return None
            found, nullable = _first(parsed.data)
            if nullable:
                return None  # can match the empty string anywhere
            chars |= found
    except (_NoShortcut, re.error, RecursionError, AttributeError, TypeError, ValueError):
        return None
    return frozenset(chars) if chars else None


def _first(items: Iterable[tuple[Any, Any]]) -> tuple[set[str], bool]:
    """First characters of a sequence, and whether the whole sequence can match nothing."""
    found: set[str] = set()
    for op, av in items:
        chars, nullable = _first_op(op, av)
        found |= chars
        if not nullable:
            return found, False
    return found, True


def _first_op(op: Any, av: Any) -> tuple[set[str], bool]:
    if op is _c.LITERAL:
        return {chr(av)}, False
    if op is _c.IN:
        return _class(av), False
    if op is _c.SUBPATTERN:
        _group, add_flags, _del_flags, sub = av
        if add_flags & _c.SRE_FLAG_IGNORECASE:
            raise _NoShortcut
        return _first(sub.data)
    if op is _c.BRANCH:
        found: set[str] = set()
        nullable = False
        for branch in av[1]:
            chars, empty = _first(branch.data)
            found |= chars
            nullable = nullable or empty
        return found, nullable
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
        low, _high, sub = av
        chars, empty = _first(sub.data)
        return chars, empty or low == 0
    if op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):
        return set(), True  # zero-width: the match's first character comes after
    raise _NoShortcut


def _class(items: Iterable[tuple[Any, Any]]) -> set[str]:
    found: set[str] = set()
    for op, av in items:
        if op is _c.LITERAL:
            found.add(chr(av))
        elif op is _c.RANGE and av[1] - av[0] <= _WIDEST_RANGE:
            found.update(chr(code) for code in range(av[0], av[1] + 1))
        else:  # negated classes, \w \d \s, wide ranges
            raise _NoShortcut
    return found


def required_words(source: str) -> tuple[tuple[str, ...], ...]:
    """Sets of words such that every match of ``source`` contains one word of each set
    (``in`` the text is far cheaper than any regex); () when none can be told."""
    if _parser is None:
        return ()
    try:
        parsed = _parsed(source)
        if parsed.state.flags & (_c.SRE_FLAG_IGNORECASE | _c.SRE_FLAG_VERBOSE):
            return ()
        options = _needs(parsed.data)
    except (_NoShortcut, re.error, RecursionError, AttributeError, TypeError, ValueError):
        return ()
    best = sorted(options, key=_telling, reverse=True)[:_MOST_SETS]
    return tuple(tuple(sorted(words)) for words in best)


_SMALL_CLASS = 8
_MOST_SETS = 3


def _telling(words: set[str]) -> tuple[int, int]:
    """How much a set of words narrows: long words, few of them."""
    return min(len(word) for word in words), -len(words)


def _needs(items: Iterable[tuple[Any, Any]]) -> list[set[str]]:
    """The sets of words a sequence's every match contains one of: runs of literal
    characters, each branch's most telling set (together), a small class's characters."""
    options: list[set[str]] = []
    run = ""
    for op, av in items:
        if op is _c.LITERAL:
            run += chr(av)
            continue
        if run:
            options.append({run})
            run = ""
        options.extend(_needs_op(op, av))
    if run:
        options.append({run})
    return options


def _needs_op(op: Any, av: Any) -> list[set[str]]:
    if op is _c.SUBPATTERN:
        if av[1] & _c.SRE_FLAG_IGNORECASE:
            raise _NoShortcut
        return _needs(av[3].data)
    if op is _c.BRANCH:
        found: set[str] = set()
        for branch in av[1]:
            options = _needs(branch.data)
            if not options:
                return []  # this branch may match without any known word
            best: set[str] = max(options, key=_telling)
            found |= best
        return [found]
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT) and av[0] >= 1:
        return _needs(av[2].data)
    if op is _c.IN:
        try:
            chars = _class(av)
        except _NoShortcut:
            return []
        return [chars] if len(chars) <= _SMALL_CLASS else []
    return []  # optional parts, lookarounds, anchors, any character: nothing required


def candidates_pattern(chars: frozenset[str]) -> re.Pattern[str]:
    """One character class of ``chars``: ``search`` finds the next candidate position."""
    return re.compile("[" + "".join(re.escape(char) for char in sorted(chars)) + "]")
