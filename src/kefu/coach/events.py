"""What happened in the coach domain (dispatched after commit)."""

from dataclasses import dataclass

from kefu.events import Event


@dataclass(frozen=True, kw_only=True)
class CoachRulesChanged(Event):
    """A rule was added, edited, switched on or off, deleted, or the defaults restored."""

    rule_code: str
    action: str  # created | updated | deleted | reset
    agent_id: int | None


@dataclass(frozen=True, kw_only=True)
class ConversationScored(Event):
    """Quality inspection scored a closed conversation: one score per agent who replied."""

    conversation_id: int
    score_ids: tuple[int, ...]
    agent_ids: tuple[int, ...]
    lowest_score: int


@dataclass(frozen=True, kw_only=True)
class QaReviewed(Event):
    """A supervisor reviewed an agent's score (verdicts on its hits, a comment for them)."""

    score_id: int
    conversation_id: int
    agent_id: int
    reviewer_id: int
    score: int
