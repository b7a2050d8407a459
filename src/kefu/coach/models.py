"""Tables of the coach domain: the shop's rules, canned phrases (快捷短语), and the quality
inspection of closed conversations (one score per agent who answered, with the rule hits
linked to their messages and the supervisor's verdict on each).

The coach reads conversations, the buyer and their orders, and tells agents of reviews
through the staff notifications, so it sits above conversations and tickets.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db import Base, UTCDateTime, value_enum


class Severity(enum.StrEnum):
    INFO = "info"  # 提示
    MINOR = "minor"  # 一般
    MAJOR = "major"  # 严重
    CRITICAL = "critical"  # 致命


class RuleKind(enum.StrEnum):
    """What a rule looks at. ``patterns`` means "what breaks the rule" for the first six
    kinds and "what satisfies it" for the absence kinds (apology, greeting …)."""

    PATTERN = "pattern"  # the reply says one of the patterns (forbidden phrases; shop rules)
    BLAME = "blame"  # 推卸责任: the courier, another department, the buyer
    QUALITY_DENIAL = "quality_denial"  # the buyer reports a problem, the reply denies it
    REFUND_FIRST = "refund_first"  # the first answer to a complaint pushes a refund
    RUDE_TONE = "rude_tone"  # rude or impatient
    NO_APOLOGY = "no_apology"  # first reply to an angry/complaining buyer without apology
    GREETING = "greeting"  # the agent's first reply greets
    CLOSING = "closing"  # the agent's last reply thanks / closes
    RATING_INVITE = "rating_invite"  # somewhere the agent invites a rating
    FOLLOW_UP = "follow_up"  # a promised follow-up came within `minutes`
    REPLY_GAP = "reply_gap"  # a reply later than `minutes` apologises for the wait


class PatternScope(enum.StrEnum):
    """When a pattern rule applies: always, or only answering an angry or complaining buyer."""

    ALWAYS = "always"
    ANGRY = "angry"
    COMPLAINT = "complaint"


class CoachRule(Base):
    __tablename__ = "coach_rules"
    __table_args__ = (UniqueConstraint("shop_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))  # stable id: "blame_shifting", "custom_3"
    kind: Mapped[RuleKind] = mapped_column(value_enum(RuleKind))
    name: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(String(300), default="")
    severity: Mapped[Severity] = mapped_column(value_enum(Severity))
    points: Mapped[int] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    patterns: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of regexes
    scope: Mapped[PatternScope] = mapped_column(
        value_enum(PatternScope), default=PatternScope.ALWAYS
    )
    minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    suggestion: Mapped[str] = mapped_column(Text, default="")  # a better phrasing (variables ok)
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )


class CannedPhrase(Base):
    """A 快捷短语: shared (``owner_agent_id`` None, written by supervisors) or an agent's own."""

    __tablename__ = "canned_phrases"
    __table_args__ = (Index("ix_canned_phrases_shop_shortcut", "shop_id", "shortcut"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    owner_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), default=None
    )
    shortcut: Mapped[str] = mapped_column(String(30))  # typed after "/" in the composer
    title: Mapped[str] = mapped_column(String(60))
    body: Mapped[str] = mapped_column(Text)
    use_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReviewStatus(enum.StrEnum):
    PENDING = "pending"  # scored by the coach, nobody looked yet
    REVIEWED = "reviewed"  # a supervisor reviewed it (the agent sees the comment)


class Verdict(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    OVERTURNED = "overturned"  # the supervisor says the coach was wrong: no points lost


class QaScore(Base):
    """One agent's quality score in one closed conversation: 100 minus the points of the
    hits on their replies that were not overturned (never below 0)."""

    __tablename__ = "qa_scores"
    __table_args__ = (
        UniqueConstraint("conversation_id", "agent_id"),
        Index("ix_qa_scores_shop_agent_closed", "shop_id", "agent_id", "closed_at"),
        Index("ix_qa_scores_shop_closed", "shop_id", "closed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), default=None
    )
    score: Mapped[int] = mapped_column(Integer)
    points_lost: Mapped[int] = mapped_column(Integer, default=0)
    hit_count: Mapped[int] = mapped_column(Integer, default=0)
    reply_count: Mapped[int] = mapped_column(Integer, default=0)
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime())
    review_status: Mapped[ReviewStatus] = mapped_column(
        value_enum(ReviewStatus), default=ReviewStatus.PENDING
    )
    reviewer_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    comment: Mapped[str] = mapped_column(Text, default="")  # the supervisor's, for the agent
    agent_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class QaHit(Base):
    """A rule broken in a conversation, linked to the message (by id and seq) and the span
    of its text; the rule's name, severity and points are frozen as they were."""

    __tablename__ = "qa_hits"
    __table_args__ = (
        Index("ix_qa_hits_score", "score_id"),
        Index("ix_qa_hits_shop_rule", "shop_id", "rule_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    score_id: Mapped[int] = mapped_column(ForeignKey("qa_scores.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), default=None
    )
    message_seq: Mapped[int | None] = mapped_column(Integer, default=None)
    rule_code: Mapped[str] = mapped_column(String(40))
    rule_name: Mapped[str] = mapped_column(String(60))
    severity: Mapped[Severity] = mapped_column(value_enum(Severity))
    points: Mapped[int] = mapped_column(Integer)
    excerpt: Mapped[str] = mapped_column(String(200), default="")
    span_start: Mapped[int] = mapped_column(Integer, default=0)
    span_end: Mapped[int] = mapped_column(Integer, default=0)
    verdict: Mapped[Verdict] = mapped_column(value_enum(Verdict), default=Verdict.PENDING)
    reviewer_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    comment: Mapped[str] = mapped_column(Text, default="")
