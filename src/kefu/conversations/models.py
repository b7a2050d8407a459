"""Conversations between a buyer and the shop, and their messages."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db import Base, UTCDateTime, value_enum


class ConversationStatus(enum.StrEnum):
    OPEN = "open"  # waiting for or being handled by the shop
    CLOSED = "closed"


class Channel(enum.StrEnum):
    WIDGET = "widget"
    WECHAT = "wechat"
    EMAIL = "email"
    WEBHOOK = "webhook"


class SenderType(enum.StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    BOT = "bot"
    SYSTEM = "system"


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_shop_status", "shop_id", "status", "last_message_at"),
        Index("ix_conversations_queue", "shop_id", "team_id", "assignee_id", "waiting_since"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[Channel] = mapped_column(value_enum(Channel))
    status: Mapped[ConversationStatus] = mapped_column(value_enum(ConversationStatus))
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), default=None
    )
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None, index=True
    )
    subject: Mapped[str] = mapped_column(String(200), default="")
    # Sequence number of the newest message; clients catch up with "everything after N".
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Set while the conversation waits in its team's queue for an agent (queue order).
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # With the bot: no team yet, so no queue or agent sees it as waiting; the bot hands it
    # to a team (``hand_off``) or an agent takes it over.
    with_bot: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    # 1 = urgent (an angry buyer): served before older conversations in its team's queue.
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Why it reached a person: the bot's one-line summary (intent, entities, mood).
    handoff_note: Mapped[str] = mapped_column(String(300), default="", server_default="")
    # Receipts: how far the shop's desk has received / read the buyer's messages, and how
    # far the buyer has read the shop's. Sequence numbers, only ever raised.
    shop_delivered_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    shop_read_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    buyer_read_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        # A retry with the same client id finds the stored message instead of writing a copy.
        UniqueConstraint("conversation_id", "client_msg_id"),
        UniqueConstraint("conversation_id", "seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    client_msg_id: Mapped[str] = mapped_column(String(64))
    sender_type: Mapped[SenderType] = mapped_column(value_enum(SenderType))
    sender_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    body: Mapped[str] = mapped_column(Text)
    # Private notes are for the shop's staff only and never reach the buyer.
    is_private: Mapped[bool] = mapped_column(default=False)
    # The agent's display name when the message was written (what the buyer saw).
    sender_name: Mapped[str] = mapped_column(String(60), default="", server_default="")
    # Shown to agents only, never to the buyer: e.g. which FAQ entry the bot answered from.
    agent_note: Mapped[str] = mapped_column(String(300), default="", server_default="")
    # A product or order card, as JSON, frozen when it was sent (a later price change does
    # not rewrite what the buyer was shown); "" for plain messages.
    card: Mapped[str] = mapped_column(Text, default="", server_default="")
    attachment_id: Mapped[int | None] = mapped_column(
        ForeignKey("attachments.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Attachment(Base):
    """An uploaded file (an image a buyer or agent sends). The bytes live on disk under
    ``key``; the row says whose it is and what it is."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    # Random and unguessable: the file's name on disk and in its URL.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    # Who uploaded it: a buyer (customer) or an agent; only they may attach it.
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), default=None
    )
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
