"""What happens in conversations. Realtime turns these into frames; the bot, analytics and
automation subscribe as they arrive. Message events carry a snapshot of the message so a
subscriber can push it without reading it back."""

from dataclasses import dataclass
from datetime import datetime

from kefu.events import Event


@dataclass(frozen=True, kw_only=True)
class AttachmentSnapshot:
    id: int
    key: str
    name: str
    content_type: str
    size: int


@dataclass(frozen=True, kw_only=True)
class MessageSnapshot:
    id: int
    conversation_id: int
    seq: int
    client_msg_id: str
    sender_type: str
    sender_agent_id: int | None
    sender_name: str
    body: str
    is_private: bool
    agent_note: str  # staff only
    attachment: AttachmentSnapshot | None
    created_at: datetime
    card: str = ""  # a product or order card as JSON (conversations.cards), or ""


@dataclass(frozen=True, kw_only=True)
class ConversationRef:
    """Where a conversation stood when the event happened: who should hear about it."""

    conversation_id: int
    customer_id: int
    team_id: int | None
    assignee_id: int | None
    status: str
    last_seq: int


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
    message: MessageSnapshot
    conversation: ConversationRef


@dataclass(frozen=True, kw_only=True)
class ReplySent(Event):
    """An agent, the bot or the system wrote in a conversation (private notes included)."""

    conversation_id: int
    message_id: int
    seq: int
    sender_type: str
    sender_agent_id: int | None
    is_private: bool
    message: MessageSnapshot
    conversation: ConversationRef


@dataclass(frozen=True, kw_only=True)
class ConversationAssigned(Event):
    """A conversation changed hands: routed, transferred, taken or reassigned. With no
    assignee it waits in its team's queue."""

    conversation_id: int
    customer_id: int
    team_id: int | None
    assignee_id: int | None
    previous_team_id: int | None
    previous_assignee_id: int | None
    by_agent_id: int | None
    reason: str  # routed | transferred | taken | assigned | released (agent deactivated)


@dataclass(frozen=True, kw_only=True)
class ConversationClosed(Event):
    conversation_id: int
    closed_by_agent_id: int | None
    customer_id: int
    team_id: int | None
    assignee_id: int | None


@dataclass(frozen=True, kw_only=True)
class ConversationReopened(Event):
    conversation_id: int
    customer_id: int
    team_id: int | None
    assignee_id: int | None
    by_agent_id: int | None  # None: the buyer wrote again


@dataclass(frozen=True, kw_only=True)
class ReceiptsUpdated(Event):
    """The shop received/read the buyer's messages up to a point, or the buyer read the
    shop's. Sequence numbers only ever rise."""

    conversation_id: int
    customer_id: int
    team_id: int | None
    assignee_id: int | None
    shop_delivered_seq: int
    shop_read_seq: int
    buyer_read_seq: int
