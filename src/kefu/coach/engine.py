"""The coach's judgement, pure: given a conversation's turns and the shop's rules, which
rules each agent reply breaks. The live composer, the quality inspection of closed
conversations and ``kefu coach eval`` all call this one engine, so what the agent is
warned of while typing is what the conversation is scored on.

No database, no web: turns and rules come in as plain values; the buyer's turns are read
by the language engine (:mod:`kefu.nlp`) for intent, sentiment and anger.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from kefu.coach import detectors
from kefu.coach.episodes import BuyerLines, Reply, replies
from kefu.coach.models import PatternScope, RuleKind
from kefu.coach.text import MAX_CHARS, excerpt, fold
from kefu.nlp.analyzer import Reading

log = logging.getLogger(__name__)

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
    # A reply longer than text.MAX_CHARS was judged on its beginning only.
    truncated: bool = False


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
    ``now`` is when a follow-up still due would be late. ``angry_turns``: every buyer
    line read as angry or complaining."""
    compiled = detectors.compile_rules(rules)
    all_replies = replies(turns)
    judge = _Judge(turns, BuyerLines(turns, read_buyer), closed=closed, now=now)
    hits: list[Hit] = []
    for reply in all_replies:
        hits.extend(judge.reply(reply, compiled, last=reply is all_replies[-1]))
    if closed and all_replies:
        hits.extend(judge.rating(all_replies, compiled))
    hits.sort(key=lambda hit: (hit.turn, hit.start))
    buyers = judge.buyers
    angry = tuple(
        i for i, turn in enumerate(turns) if turn.role == "buyer" and buyers.complaining(i)
    )
    return Inspection(hits=tuple(hits), angry_turns=angry, truncated=judge.truncated)


def check_draft(
    turns: Sequence[Turn],
    draft: str,
    rules: Sequence[RuleSpec],
    *,
    agent_id: int | None,
    now: datetime,
    read_buyer: ReadBuyer | None = None,
) -> Inspection:
    """The hits on a draft reply, as if ``agent_id`` sent it ``now`` after ``turns``: the
    draft is turn ``len(turns)`` of the hits, judged on its first MAX_CHARS; the inspection's
    ``angry_turns`` are the complaining buyer lines the draft answers (the composer offers
    the apology-first opening when there are any)."""
    compiled = detectors.compile_rules(rules)
    context = [*turns, Turn(role="agent", text=draft, at=now, agent_id=agent_id)]
    reply = replies(context)[-1]
    judge = _Judge(context, BuyerLines(context, read_buyer), closed=False, now=now)
    hits = sorted(judge.reply(reply, compiled, last=True), key=lambda hit: hit.start)
    angry = tuple(i for i in reply.answers if judge.buyers.complaining(i))
    return Inspection(hits=tuple(hits), angry_turns=angry, truncated=judge.truncated)


_DEFAULT_MINUTES = {RuleKind.FOLLOW_UP.value: 10, RuleKind.REPLY_GAP.value: 3}


class _Judge:
    """One conversation's replies judged rule by rule; a rule that fails is skipped (and
    logged), never raised: the composer must keep working whatever a shop wrote."""

    def __init__(
        self, turns: Sequence[Turn], buyers: BuyerLines, *, closed: bool, now: datetime
    ) -> None:
        self.turns = turns
        self.buyers = buyers
        self.closed = closed
        self.now = now
        self.truncated = False
        self._folded: dict[int, tuple[str, str]] = {}

    def text(self, index: int) -> tuple[str, str]:
        """The reply as judged (at most MAX_CHARS) and its folded form."""
        if index not in self._folded:
            text = self.turns[index].text
            if len(text) > MAX_CHARS:
                text = text[:MAX_CHARS]
                self.truncated = True
            self._folded[index] = (text, fold(text))
        return self._folded[index]

    def reply(
        self, reply: Reply, compiled: Sequence[detectors.CompiledRule], *, last: bool
    ) -> list[Hit]:
        hits = []
        for rule in compiled:
            try:
                hit = self._apply(rule, reply, last=last)
            except Exception:
                log.exception("coach rule %s failed on turn %s", rule.spec.code, reply.index)
                continue
            if hit is not None:
                hits.append(hit)
        return hits

    def rating(
        self, all_replies: Sequence[Reply], compiled: Sequence[detectors.CompiledRule]
    ) -> list[Hit]:
        """Rating invitations are judged on the whole closed conversation: some reply must
        invite one; the hit goes on the last reply."""
        hits = []
        last = all_replies[-1].index
        for rule in compiled:
            if rule.spec.kind != RuleKind.RATING_INVITE.value:
                continue
            try:
                if not any(rule.satisfied(self.text(r.index)[1]) for r in all_replies):
                    hits.append(self._missing(rule.spec, last))
            except Exception:
                log.exception("coach rule %s failed", rule.spec.code)
        return hits

    def _apply(self, rule: detectors.CompiledRule, reply: Reply, *, last: bool) -> Hit | None:
        spec, kind, index = rule.spec, rule.spec.kind, reply.index
        if kind in _SAYS:
            if not self._applies(kind, spec.scope, reply):
                return None
            span = rule.search(self.text(index)[1])
            return None if span is None else self._says(spec, index, span)
        if kind in _MISSING:
            if not self._expected(kind, reply, last=last, minutes=_minutes(spec)):
                return None
            if rule.satisfied(self.text(index)[1]):
                return None
            return self._missing(spec, index)
        if kind == RuleKind.FOLLOW_UP.value:
            if not self._follow_up_late(reply, _minutes(spec)):
                return None
            span = rule.search(self.text(index)[1])
            return None if span is None else self._says(spec, index, span)
        return None  # rating invitations: see rating(); unknown kinds: nothing to judge

    def _applies(self, kind: str, scope: str, reply: Reply) -> bool:
        if kind == RuleKind.QUALITY_DENIAL.value:
            return any(self.buyers.complaining(i) for i in reply.recent_buyer)
        if kind == RuleKind.REFUND_FIRST.value:
            return self._opens_episode(reply)
        if kind == RuleKind.PATTERN.value and scope == PatternScope.ANGRY.value:
            return any(self.buyers.angry(i) for i in reply.answers)
        if kind == RuleKind.PATTERN.value and scope == PatternScope.COMPLAINT.value:
            return self._opens_episode(reply)
        return True

    def _opens_episode(self, reply: Reply) -> bool:
        return any(self.buyers.complaining(i) for i in reply.answers)

    def _expected(self, kind: str, reply: Reply, *, last: bool, minutes: int) -> bool:
        """Whether the reply must say what the rule of ``kind`` looks for."""
        if kind == RuleKind.NO_APOLOGY.value:
            return self._opens_episode(reply)
        if kind == RuleKind.GREETING.value:
            return reply.first_of_agent
        if kind == RuleKind.CLOSING.value:
            return self.closed and last
        if kind == RuleKind.REPLY_GAP.value:
            if not reply.answers:
                return False
            waited = self.turns[reply.index].at - self.turns[reply.answers[0]].at
            return waited.total_seconds() > minutes * 60
        return False

    def _follow_up_late(self, reply: Reply, minutes: int) -> bool:
        """No agent reply came within ``minutes`` of this one (so a promise in it was
        broken): the next came later, or none came and the conversation closed or the
        time is up."""
        promised = self.turns[reply.index].at
        if reply.next_reply is not None:
            gap = self.turns[reply.next_reply].at - promised
        elif self.closed:
            return True
        else:
            gap = self.now - promised
        return gap.total_seconds() > minutes * 60

    def _says(self, spec: RuleSpec, index: int, span: tuple[int, int]) -> Hit:
        text = self.text(index)[0]
        return _hit(spec, index, span[0], span[1], excerpt(text, span[0], span[1]))

    def _missing(self, spec: RuleSpec, index: int) -> Hit:
        return _hit(spec, index, 0, 0, excerpt(self.text(index)[0]))


# Kinds whose patterns are what breaks the rule / what a reply must say.
_SAYS = frozenset(
    kind.value
    for kind in (
        RuleKind.PATTERN,
        RuleKind.BLAME,
        RuleKind.QUALITY_DENIAL,
        RuleKind.REFUND_FIRST,
        RuleKind.RUDE_TONE,
    )
)
_MISSING = frozenset(
    kind.value
    for kind in (RuleKind.NO_APOLOGY, RuleKind.GREETING, RuleKind.CLOSING, RuleKind.REPLY_GAP)
)


def _minutes(spec: RuleSpec) -> int:
    if spec.minutes is not None and spec.minutes >= 0:
        return spec.minutes
    return _DEFAULT_MINUTES.get(spec.kind, 0)


def _hit(spec: RuleSpec, index: int, start: int, end: int, words: str) -> Hit:
    return Hit(
        rule=spec.code,
        turn=index,
        start=start,
        end=end,
        excerpt=words,
        severity=spec.severity,
        points=spec.points,
        name=spec.name,
        description=spec.description,
        suggestion=spec.suggestion,
    )
