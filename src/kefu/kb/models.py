"""The knowledge base (知识库): FAQ entries with several phrasings, and the questions it lacked.

A phrasing is a row of its own (``kb_questions``), stored as written and in the canonical
form the language engine compares (simplified, half-width, lower case), so "no phrasing
twice in a shop" is a unique constraint and a search is a plain indexed query.
``kb_state`` holds each shop's KB revision: every change to the entries raises it, and a
process whose cached matcher was built at an older revision builds it again.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db import Base, UTCDateTime, value_enum


class UnansweredStatus(enum.StrEnum):
    OPEN = "open"  # waiting for someone to add it to the KB
    RESOLVED = "resolved"  # added as a new entry or as a phrasing of one
    IGNORED = "ignored"  # not a question for the KB (e.g. "在吗"); new copies join silently


class FaqEntry(Base):
    __tablename__ = "kb_entries"
    __table_args__ = (Index("ix_kb_entries_shop_category", "shop_id", "category"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    # May hold variables such as {customer_name}; kb.service.render_answer fills them.
    answer: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(40), default="")
    # Only about this product (e.g. the down jacket's fill weight); None: the whole shop.
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("products.id", ondelete="SET NULL"), default=None, index=True
    )
    # An image sent with the answer (a size chart, a washing label).
    image_id: Mapped[int | None] = mapped_column(
        ForeignKey("attachments.id", ondelete="SET NULL"), default=None
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # How often the bot answered with this entry.
    hit_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FaqQuestion(Base):
    """One phrasing of an entry's question ("这件卫衣有XL吗", "XL还有货吗" …)."""

    __tablename__ = "kb_questions"
    __table_args__ = (UniqueConstraint("shop_id", "normalized"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("kb_entries.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(String(200))
    normalized: Mapped[str] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(Integer, default=0)


class KbState(Base):
    """A shop's KB revision: raised by every change to its entries (in the same transaction)."""

    __tablename__ = "kb_state"

    shop_id: Mapped[int] = mapped_column(
        ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True
    )
    revision: Mapped[int] = mapped_column(Integer, default=0)


def _status() -> Enum:
    return value_enum(UnansweredStatus, length=10)


class UnansweredGroup(Base):
    """Questions the KB could not answer that mean the same thing, counted together."""

    __tablename__ = "kb_unanswered_groups"
    __table_args__ = (
        Index("ix_kb_unanswered_groups_shop_status", "shop_id", "status", "last_seen_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    representative: Mapped[str] = mapped_column(String(500))
    normalized: Mapped[str] = mapped_column(String(600))
    count: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[UnansweredStatus] = mapped_column(_status(), default=UnansweredStatus.OPEN)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # How it was resolved: the entry it became (or became a phrasing of), and by whom.
    entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("kb_entries.id", ondelete="SET NULL"), default=None
    )
    resolved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class UnansweredQuestion(Base):
    """One buyer question the bot found no answer for."""

    __tablename__ = "kb_unanswered_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("kb_unanswered_groups.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(String(500))
    normalized: Mapped[str] = mapped_column(String(600))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), default=None
    )
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), default=None
    )
    status: Mapped[UnansweredStatus] = mapped_column(_status(), default=UnansweredStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
