"""What the bot did: analytics counts answers and hand-offs (the bot's resolution rate)."""

from dataclasses import dataclass

from kefu.events import Event


@dataclass(frozen=True, kw_only=True)
class BotAnswered(Event):
    """The bot answered a buyer from a knowledge-base entry."""

    conversation_id: int
    entry_id: int
    score: float
    intent: str


@dataclass(frozen=True, kw_only=True)
class BotHandedOff(Event):
    """The bot passed a conversation to a team (reason: asked_for_human, angry, intent,
    unanswered, needs_person, image, loop, stalled)."""

    conversation_id: int
    team_code: str
    reason: str
    priority: int
