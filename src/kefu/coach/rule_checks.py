"""Checks on what a shop writes into a coach rule, each refusal naming the field and why.

Patterns run on every agent reply, live while the agent types, so a pattern that could
take exponential time on hostile text (a repeated group that itself repeats, ``(a+)+``)
is refused at save, as is one that matches empty text (it would hit, or satisfy, every
reply). Everything is checked before anything is written: a refused edit changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum
from typing import Final, TypeVar

from kefu.coach.models import PatternScope, RuleKind, Severity
from kefu.coach.phrase_values import check_variables
from kefu.errors import Invalid
from kefu.nlp.text import to_simplified
from kefu.validation import clean_text

MAX_PATTERNS: Final = 30
MAX_PATTERN_LENGTH: Final = 200
MAX_NAME: Final = 60
MAX_DESCRIPTION: Final = 300
MAX_SUGGESTION: Final = 1000
MAX_POINTS: Final = 100
MAX_MINUTES: Final = 1440  # a day: a promise kept the next day is not a follow-up
TIMED_KINDS: Final = frozenset({RuleKind.FOLLOW_UP, RuleKind.REPLY_GAP})
_E = TypeVar("_E", bound=StrEnum)


_FULL_TO_HALF = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_KEPT = re.compile(r"\\.|\(\?(?:P<[^>]*>|P=[^)]*\)|[aiLmsux-]*)", re.DOTALL)
_SPECIAL = frozenset(".^$*+?{}[]\\|()")


def _fold_char(char: str) -> str:
    half = char.translate(_FULL_TO_HALF)
    lower = half.lower()
    folded = lower if len(lower) == 1 else half
    # A full-width "（" the shop meant literally must not become a group.
    return re.escape(folded) if folded != char and folded in _SPECIAL else folded


def fold_pattern(pattern: str) -> str:
    """The pattern as the replies it is matched against are folded (simplified, half-width,
    lower-case), so "說了多少遍" or "ＯＫ" written by a shop still match; escapes (``\\D``,
    ``\\W``) are kept as they are."""
    simplified = to_simplified(pattern)
    if len(simplified) != len(pattern):  # a phrase changed length: one character at a time
        simplified = "".join(
            one if len(one := to_simplified(char)) == 1 else char for char in pattern
        )
    out: list[str] = []
    i = 0
    while i < len(simplified):
        kept = _KEPT.match(simplified, i)
        if kept is not None:  # an escape, or a group's syntax: (?P<name> (?i) …
            out.append(kept.group())
            i = kept.end()
            continue
        out.append(_fold_char(simplified[i]))
        i += 1
    return "".join(out)


def validate_patterns(patterns: Sequence[str]) -> tuple[str, ...]:
    """The patterns as they will be stored: folded like the replies (``fold_pattern``),
    blank lines dropped, each stripped, repeats left out. Refused (``Invalid`` on
    ``patterns``, naming which one — 第 n 条 — and why) when there are more than 30, one
    is longer than 200 characters, does not compile, can backtrack catastrophically or
    matches empty text."""
    if isinstance(patterns, str) or not isinstance(patterns, Sequence):
        raise Invalid(
            "patterns must be a list of regular expressions",
            field="patterns", key="coach.rules.error.patterns_list",
        )  # fmt: skip
    kept: list[str] = []
    for raw in patterns:
        if not isinstance(raw, str):
            raise Invalid(
                "patterns must be a list of regular expressions",
                field="patterns", key="coach.rules.error.patterns_list",
            )  # fmt: skip
        pattern = fold_pattern(raw.strip())
        if pattern and pattern not in kept:
            kept.append(pattern)
    if len(kept) > MAX_PATTERNS:
        raise Invalid(
            f"at most {MAX_PATTERNS} patterns per rule (got {len(kept)})",
            field="patterns", key="coach.rules.error.too_many_patterns",
            max=MAX_PATTERNS, count=len(kept),
        )  # fmt: skip
    for index, pattern in enumerate(kept, start=1):
        _check_pattern(index, pattern)
    return tuple(kept)


def _refused(index: int, pattern: str, reason: str) -> Invalid:
    return Invalid(
        f"pattern {index} ({pattern!r}): {reason}",
        field="patterns", key="coach.rules.error.bad_pattern",
        index=index, pattern=pattern, reason=reason,
    )  # fmt: skip


def _check_pattern(index: int, pattern: str) -> None:
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise Invalid(
            f"pattern {index} is {len(pattern)} characters long; at most {MAX_PATTERN_LENGTH}",
            field="patterns", key="coach.rules.error.pattern_too_long",
            index=index, max=MAX_PATTERN_LENGTH, length=len(pattern),
        )  # fmt: skip
    if re.search(r"[\x00-\x1f\x7f]", pattern):
        raise _refused(index, pattern, "it contains a control character")
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise _refused(index, pattern, str(exc)) from None
    except (OverflowError, RecursionError, ValueError) as exc:  # e.g. a{99999999999}
        raise _refused(index, pattern, str(exc) or type(exc).__name__) from None
    if nested_quantifier(pattern):
        raise Invalid(
            f"pattern {index} ({pattern!r}) repeats a group that itself repeats, which can "
            "take very long on some texts; write it without the outer repetition",
            field="patterns", key="coach.rules.error.nested_quantifier",
            index=index, pattern=pattern,
        )  # fmt: skip
    if compiled.search("") is not None:
        raise Invalid(
            f"pattern {index} ({pattern!r}) matches empty text, so it would match every reply",
            field="patterns", key="coach.rules.error.matches_empty",
            index=index, pattern=pattern,
        )  # fmt: skip


_BRACES = re.compile(r"\{(\d*)(,?)(\d*)\}")


def _quantifier(pattern: str, at: int) -> tuple[int, bool, bool]:
    """The quantifier starting at ``at`` (if any): (its length, whether it may repeat more
    than once, whether the number of repeats varies). Length 0 when there is none."""
    if at >= len(pattern):
        return 0, False, False
    char = pattern[at]
    if char in "*+":
        size, repeats, varies = 1, True, True
    elif char == "?":
        size, repeats, varies = 1, False, True
    elif (
        char == "{"
        and (braces := _BRACES.match(pattern, at))
        and (braces.group(1) or braces.group(3))
    ):
        low, comma, high = braces.groups()
        least = int(low or 0)
        most = None if comma and not high else int(high or low)
        size = braces.end() - at
        repeats = most is None or most > 1
        varies = most is None or most != least
    else:
        return 0, False, False
    if at + size < len(pattern) and pattern[at + size] in "?+":  # lazy or possessive
        size += 1
    return size, repeats, varies


def nested_quantifier(pattern: str) -> bool:
    """Whether a repeated group holds a repetition of varying length — ``(a+)+``,
    ``(\\w*\\s?)*``, ``((ab)+c)*``, ``(x{1,3}){2,}`` — the shape that backtracks
    catastrophically. A compiled pattern is assumed (the syntax is already valid)."""
    # One frame per open group: whether something inside it repeats a varying number of times.
    frames: list[bool] = [False]
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if char == "\\":
            i += 2
            inner = True
        elif char == "[":
            i = _class_end(pattern, i)
            inner = True
        elif char == "(":
            frames.append(False)
            i += 1
            if i < n and pattern[i] == "?":  # (?:  (?=  (?P<name>  (?i) …: not a quantifier
                i += 1
            continue
        elif char == ")":
            varies_inside = frames.pop() if len(frames) > 1 else False
            i += 1
            size, repeats, varies = _quantifier(pattern, i)
            if size and repeats and varies_inside:
                return True
            frames[-1] = frames[-1] or varies_inside or (size > 0 and varies and repeats)
            i += size
            continue
        else:
            i += 1
            inner = True
        if inner:
            size, repeats, varies = _quantifier(pattern, i)
            if size and repeats and varies:
                frames[-1] = True
            i += size
    return False


def _class_end(pattern: str, start: int) -> int:
    """The index just after the character class opening at ``start``."""
    i = start + 1
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":  # a "]" first is a literal
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return i + 1


# --- the other fields ------------------------------------------------------------------------


def text_field(
    value: object, *, field: str, max_length: int, min_length: int = 0, multiline: bool = False
) -> str:
    """Text of a rule or phrase, with a message of the coach's own for a wrong length
    (the generic one names the wrong limits)."""
    if not isinstance(value, str):
        raise Invalid(f"{field} must be text", field=field, key="coach.error.text")
    try:
        return clean_text(
            value, field=field, max_length=max_length, min_length=min_length, multiline=multiline
        )
    except Invalid as exc:
        if exc.key is not None:
            raise
        raise Invalid(
            exc.message, field=field, key=f"coach.error.length.{field}",
            min=min_length, max=max_length, length=len(value.strip()),
        ) from None  # fmt: skip


def check_name(value: object) -> str:
    return text_field(value, field="name", max_length=MAX_NAME, min_length=1)


def check_description(value: object) -> str:
    return text_field(value, field="description", max_length=MAX_DESCRIPTION, multiline=True)


def check_suggestion(value: object) -> str:
    text = text_field(value, field="suggestion", max_length=MAX_SUGGESTION, multiline=True)
    return check_variables(text, field="suggestion")


def check_points(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_POINTS:
        raise Invalid(
            f"points must be a whole number from 0 to {MAX_POINTS}",
            field="points", key="coach.rules.error.points", max=MAX_POINTS,
        )  # fmt: skip
    return value


def check_minutes(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_MINUTES:
        raise Invalid(
            f"minutes must be a whole number from 1 to {MAX_MINUTES}",
            field="minutes", key="coach.rules.error.minutes", max=MAX_MINUTES,
        )  # fmt: skip
    return value


def check_enabled(value: object) -> bool:
    if not isinstance(value, bool):
        raise Invalid("enabled must be true or false", field="enabled", key="coach.error.boolean")
    return value


def choice(kind: type[_E], value: object, *, field: str) -> _E:
    """``value`` as a member of the enum, or an Invalid listing the choices."""
    try:
        return kind(str(value))
    except ValueError:
        known = ", ".join(member.value for member in kind)
        raise Invalid(
            f"{field} {value!r} is not one of {known}",
            field=field, key="coach.error.choice", value=str(value), known=known,
        ) from None  # fmt: skip


def check_severity(value: object) -> Severity:
    return choice(Severity, value, field="severity")


def check_scope(value: object) -> PatternScope:
    return choice(PatternScope, value, field="scope")
