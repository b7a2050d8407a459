from dataclasses import dataclass

from kefu.events import Event


@dataclass(frozen=True, kw_only=True)
class ConversationStarted(Event):
    conversation_id: int
    customer_id: int
    team_id: int | None
    channel: str


@dataclass(frozen=True, kw_only=True)
class MessageReceived(Event):
    """A buyer wrote to the shop. The bot, realtime, analytics and automation react to it."""

    conversation_id: int
    message_id: int
    seq: int


@dataclass(frozen=True, kw_only=True)
class ReplySent(Event):
    """An agent or the bot wrote in a conversation (private notes included, flagged)."""

    conversation_id: int
    message_id: int
    seq: int
    sender_type: str
    sender_agent_id: int | None
    is_private: bool


@dataclass(frozen=True, kw_only=True)
class ConversationClosed(Event):
    conversation_id: int
    closed_by_agent_id: int | None
