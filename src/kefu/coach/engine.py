"""The coach's judgement, pure: given a conversation's turns and the shop's rules, which
rules each agent reply breaks. The live composer, the quality inspection of closed
conversations and ``kefu coach eval`` all call this one engine, so what the agent is
warned of while typing is what the conversation is scored on.

No database, no web: turns and rules come in as plain values; the buyer's turns are read
by the language engine (:mod:`kefu.nlp`) for intent, sentiment and anger.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from kefu.nlp.analyzer import Reading

Role = Literal["buyer", "agent", "bot", "system"]


@dataclass(frozen=True, slots=True)
class Turn:
    """One message of a conversation, as the coach needs it. Private notes are not turns."""

    role: Role
    text: str
    at: datetime  # aware UTC
    agent_id: int | None = None  # the agent who wrote it (role "agent")
    message_id: int | None = None
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A rule as the engine applies it (from a CoachRule row, or the defaults)."""

    code: str
    kind: str  # models.RuleKind value
    name: str
    description: str
    severity: str  # models.Severity value
    points: int
    patterns: tuple[str, ...] = ()
    scope: str = "always"  # models.PatternScope value (pattern rules)
    minutes: int | None = None
    suggestion: str = ""
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class Hit:
    """A rule broken by the agent reply at ``turn`` (an index into the turns), with the
    span of that reply's text that shows it (start == end when it is about something
    missing, e.g. no apology: the whole reply is meant)."""

    rule: str  # RuleSpec.code
    turn: int
    start: int
    end: int
    excerpt: str
    severity: str
    points: int
    name: str = ""
    description: str = ""
    suggestion: str = ""


ReadBuyer = Callable[[Turn], Reading]


@dataclass(frozen=True, slots=True)
class Inspection:
    hits: tuple[Hit, ...]
    angry_turns: tuple[int, ...] = field(default=())  # buyer turns read as angry/complaining


def inspect(
    turns: Sequence[Turn],
    rules: Sequence[RuleSpec],
    *,
    closed: bool,
    now: datetime,
    read_buyer: ReadBuyer | None = None,
) -> Inspection:
    """Every hit in the conversation. ``closed``: the conversation has ended, so the rules
    about its end (closing words, rating invitation, a follow-up never sent) apply;
    ``now`` is when a follow-up still due would be late."""
    raise NotImplementedError


def check_draft(
    turns: Sequence[Turn],
    draft: str,
    rules: Sequence[RuleSpec],
    *,
    agent_id: int | None,
    now: datetime,
    read_buyer: ReadBuyer | None = None,
) -> Inspection:
    """The hits on a draft reply, as if ``agent_id`` sent it ``now`` after ``turns``."""
    raise NotImplementedError
