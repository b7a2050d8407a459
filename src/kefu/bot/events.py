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
class BotAnsweredOrder(Event):
    """The bot answered a buyer's question about one of their orders from its real state
    (``action``: order_status, shipping_time, address_change, refund_request …), whether
    or not a person then takes over (a refund is always a person's)."""

    conversation_id: int
    order_id: int
    action: str
    intent: str


@dataclass(frozen=True, kw_only=True)
class BotHandedOff(Event):
    """The bot passed a conversation to a team (reason: asked_for_human, angry, intent,
    unanswered, needs_person, image, loop, stalled)."""

    conversation_id: int
    team_code: str
    reason: str
    priority: int
