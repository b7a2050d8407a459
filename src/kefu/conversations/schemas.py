from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from kefu.conversations.models import Channel, ConversationStatus, SenderType


class ConversationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int
    channel: Channel
    status: ConversationStatus
    team_id: int | None
    assignee_id: int | None
    subject: str
    last_seq: int
    created_at: datetime
    last_message_at: datetime
    closed_at: datetime | None


class AttachmentOut(BaseModel):
    id: int
    url: str
    content_type: str
    size: int
    name: str


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    conversation_id: int
    seq: int
    client_msg_id: str
    sender_type: SenderType
    sender_agent_id: int | None
    sender_name: str = ""
    body: str
    is_private: bool
    attachment: AttachmentOut | None = None
    agent_note: str = ""  # staff only: e.g. the FAQ entry the bot answered from
    card: dict[str, Any] | None = None  # a product or order card (conversations.cards)
    created_at: datetime
