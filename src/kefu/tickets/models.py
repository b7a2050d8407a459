"""Tables of the tickets domain (工单): work orders routed to back-office teams, their
history, SLA clocks on the shop's business calendar, escalations to the duty manager,
shifts and their handover reports (交班), saved views and the staff's notifications.

Tickets act on conversations (the buyer is told the ticket number and its progress in the
chat) and may become KB entries, so the domain sits above conversations, kb and bot.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db import Base, UTCDateTime, value_enum


class TicketType(enum.StrEnum):
    COMPLAINT = "complaint"  # 投诉
    AFTERSALE = "aftersale"  # 售后
    FAULT = "fault"  # 障碍申告 (something broken: payment fails, a page is down)
    ESCALATION = "escalation"  # 升级: a question the KB lacks, for the duty manager
    INTERNAL = "internal"  # 内部请求: one team asks another
    OTHER = "other"


class TicketPriority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class TicketStatus(enum.StrEnum):
    NEW = "new"  # nobody has taken it yet
    OPEN = "open"
    PENDING_BUYER = "pending_buyer"  # waiting for the buyer (the SLA clock stops)
    PENDING_INTERNAL = "pending_internal"  # waiting for another team (the clock runs)
    SOLVED = "solved"
    CLOSED = "closed"  # final; a closed ticket never moves again (a new one is opened)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("shop_id", "number"),
        Index("ix_tickets_shop_status", "shop_id", "status"),
        Index("ix_tickets_shop_team", "shop_id", "team_id"),
        Index("ix_tickets_shop_assignee", "shop_id", "assignee_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    # The shop's own running number (工单号), what buyers and staff quote: #1001, #1002 …
    number: Mapped[int] = mapped_column(Integer)
    type: Mapped[TicketType] = mapped_column(value_enum(TicketType))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[TicketPriority] = mapped_column(value_enum(TicketPriority))
    status: Mapped[TicketStatus] = mapped_column(value_enum(TicketStatus))
    # Who asked: a buyer, or (internal requests) another team. Both may be empty (a fault
    # an agent noticed).
    requester_customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), default=None, index=True
    )
    requester_team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), default=None
    )
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), default=None
    )
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    # None: the bot, the system or an API token opened it.
    created_by_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    # The values of the shop's custom fields for this type, as a JSON object by field key.
    custom_fields: Mapped[str] = mapped_column(Text, default="{}")
    # Title, description and comments normalised (simplified, half width, lower case) so a
    # search in traditional characters finds simplified text and the other way round.
    search_text: Mapped[str] = mapped_column(Text, default="")
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), default=None
    )
    split_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), default=None
    )
    # Escalations: the unanswered-question group it came from, the duty manager's answer,
    # and the KB entry the answer became.
    unanswered_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("kb_unanswered_groups.id", ondelete="SET NULL"), default=None
    )
    answer: Mapped[str] = mapped_column(Text, default="")
    kb_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("kb_entries.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    first_replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    solved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class TicketConversation(Base):
    """A conversation the ticket came from or concerns (its transcript is linked)."""

    __tablename__ = "ticket_conversations"
    __table_args__ = (UniqueConstraint("ticket_id", "conversation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TicketOrder(Base):
    __tablename__ = "ticket_orders"
    __table_args__ = (UniqueConstraint("ticket_id", "order_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TicketTag(Base):
    __tablename__ = "ticket_tags"
    __table_args__ = (
        UniqueConstraint("ticket_id", "tag"),
        Index("ix_ticket_tags_shop_tag", "shop_id", "tag"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    tag: Mapped[str] = mapped_column(String(40))


class CommentKind(enum.StrEnum):
    NOTE = "note"  # 内部备注: staff only; @mentions notify
    REPLY = "reply"  # 回复: to the requester (a buyer reads it in the chat); answers the SLA


class TicketComment(Base):
    __tablename__ = "ticket_comments"
    __table_args__ = (Index("ix_ticket_comments_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[CommentKind] = mapped_column(value_enum(CommentKind))
    author_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TicketMention(Base):
    __tablename__ = "ticket_mentions"
    __table_args__ = (UniqueConstraint("comment_id", "agent_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("ticket_comments.id", ondelete="CASCADE"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))


class TicketAttachment(Base):
    """A file on the ticket (stored once in ``attachments``, like a chat upload)."""

    __tablename__ = "ticket_attachments"
    __table_args__ = (UniqueConstraint("ticket_id", "attachment_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket_comments.id", ondelete="SET NULL"), default=None
    )
    added_by_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TicketChange(Base):
    """One line of a ticket's history: who changed what, when, from what to what.

    Written in the same transaction as the change itself, so the history can't miss one.
    """

    __tablename__ = "ticket_changes"
    __table_args__ = (Index("ix_ticket_changes_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    # The person; None with actor "bot", "system" (SLA, handover jobs) or "api".
    actor_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    actor: Mapped[str] = mapped_column(String(20), default="agent")
    # created, status, priority, type, title, description, team, assignee, tags, fields,
    # conversation, order, attachment, comment, merged, split, sla, escalation …
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FieldKind(enum.StrEnum):
    TEXT = "text"
    NUMBER = "number"
    CHOICE = "choice"
    DATE = "date"


class TicketFieldDef(Base):
    """A custom field a shop adds to one ticket type (障碍申告: 故障页面, 发生时间 …)."""

    __tablename__ = "ticket_field_defs"
    __table_args__ = (UniqueConstraint("shop_id", "ticket_type", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    ticket_type: Mapped[TicketType] = mapped_column(value_enum(TicketType))
    key: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(60))
    kind: Mapped[FieldKind] = mapped_column(value_enum(FieldKind))
    # JSON list of the allowed values of a choice field.
    choices: Mapped[str] = mapped_column(Text, default="[]")
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TicketSettings(Base):
    """A shop's ticket settings: the running number, what the buyer is told, escalation."""

    __tablename__ = "ticket_settings"

    shop_id: Mapped[int] = mapped_column(
        ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True
    )
    # The last number given out; taken under this row's lock, so two at once never clash.
    last_number: Mapped[int] = mapped_column(Integer, default=1000)
    # JSON object: notice key (created, open, pending_buyer, pending_internal, solved,
    # closed) → the shop's wording; a missing key uses the built-in default.
    notice_templates: Mapped[str] = mapped_column(Text, default="{}")
    # Escalations go to the duty manager of the shift on now, else to this person.
    duty_manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    # New groups of questions the bot could not answer become escalation tickets by themselves.
    auto_escalate_unanswered: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


# ---------------------------------------------------------------- SLA
class SlaMetric(enum.StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


class SlaPolicy(Base):
    """Targets for tickets of a type and priority (None = any), in minutes.

    The most specific policy wins: type and priority, then type, then priority, then any.
    """

    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    ticket_type: Mapped[TicketType | None] = mapped_column(value_enum(TicketType), default=None)
    priority: Mapped[TicketPriority | None] = mapped_column(
        value_enum(TicketPriority), default=None
    )
    first_response_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    next_response_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    resolution_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    # Counted in the shop's business hours (calendar) or around the clock.
    business_hours: Mapped[bool] = mapped_column(Boolean, default=True)
    # Warn the assignee and the supervisors this many (counted) minutes before the deadline.
    warn_before_minutes: Mapped[int] = mapped_column(Integer, default=30)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BusinessCalendar(Base):
    """A shop's working hours per weekday, and whether China's public holidays apply."""

    __tablename__ = "business_calendars"

    shop_id: Mapped[int] = mapped_column(
        ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True
    )
    # JSON object: "1".."7" (Monday = 1) → list of ["HH:MM", "HH:MM"] periods, shop time.
    weekly_hours: Mapped[str] = mapped_column(Text)
    # The State Council's 放假 and 调休 days (built in, per year) count as closed/open days.
    cn_holidays: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DayKind(enum.StrEnum):
    HOLIDAY = "holiday"  # closed all day
    WORKDAY = "workday"  # open with the hours of a normal weekday (调休上班)


class CalendarDay(Base):
    """The shop's own exception to its week: a closed day, or a weekend day worked."""

    __tablename__ = "calendar_days"
    __table_args__ = (UniqueConstraint("shop_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[DayKind] = mapped_column(value_enum(DayKind))
    name: Mapped[str] = mapped_column(String(60), default="")


class SlaState(enum.StrEnum):
    ACTIVE = "active"  # the clock runs
    PAUSED = "paused"  # pending the buyer: the clock stands (remaining_minutes kept)
    MET = "met"
    CANCELLED = "cancelled"  # no longer applies (ticket merged, closed, policy removed)


class SlaTarget(Base):
    """One running SLA clock of a ticket. A breach is recorded (``breached_at``) and stays
    on the row after the target is met late, for reports."""

    __tablename__ = "sla_targets"
    __table_args__ = (
        Index("ix_sla_targets_warn", "state", "warn_at"),
        Index("ix_sla_targets_due", "state", "due_at"),
        Index("ix_sla_targets_ticket", "ticket_id", "metric"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("sla_policies.id", ondelete="SET NULL"), default=None
    )
    metric: Mapped[SlaMetric] = mapped_column(value_enum(SlaMetric))
    state: Mapped[SlaState] = mapped_column(value_enum(SlaState))
    business_hours: Mapped[bool] = mapped_column(Boolean, default=True)
    target_minutes: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    warn_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # While paused: the counted minutes that were left.
    remaining_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Who had the ticket when it breached (for reports per team and agent).
    breach_team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), default=None
    )
    breach_assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )


# ---------------------------------------------------------------- shifts and handover
class Shift(Base):
    """A team's recurring shift (早班 08:00–16:00 …), in shop time; it may end after midnight."""

    __tablename__ = "shifts"
    __table_args__ = (UniqueConstraint("shop_id", "team_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(40))
    start_time: Mapped[str] = mapped_column(String(5))  # "HH:MM"
    end_time: Mapped[str] = mapped_column(String(5))
    # The ISO weekdays it starts on ("12345" = Monday to Friday).
    weekdays: Mapped[str] = mapped_column(String(7), default="1234567")
    duty_manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    # Items the incoming shift has not acknowledged this long after handover are flagged.
    ack_within_minutes: Mapped[int] = mapped_column(Integer, default=30)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ShiftMember(Base):
    __tablename__ = "shift_members"
    __table_args__ = (UniqueConstraint("shift_id", "agent_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shifts.id", ondelete="CASCADE"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))


class Handover(Base):
    """The handover report (交班日记) at the end of one occurrence of a shift."""

    __tablename__ = "handovers"
    __table_args__ = (UniqueConstraint("shift_id", "period_end"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shifts.id", ondelete="CASCADE"))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    # The incoming shift (the team's next), which acknowledges the report.
    next_shift_id: Mapped[int | None] = mapped_column(
        ForeignKey("shifts.id", ondelete="SET NULL"), default=None
    )
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    period_end: Mapped[datetime] = mapped_column(UTCDateTime())
    # The outgoing shift's own words for the next one.
    note: Mapped[str] = mapped_column(Text, default="")
    # None: written by the app at the shift's end; else the agent who handed over early.
    created_by_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ack_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    acknowledged_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    # Set by the handover job once the items still unacknowledged at ack_due_at were flagged.
    flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class HandoverItemKind(enum.StrEnum):
    CONVERSATION = "conversation"
    TICKET = "ticket"


class HandoverItem(Base):
    __tablename__ = "handover_items"
    __table_args__ = (Index("ix_handover_items_handover", "handover_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("handovers.id", ondelete="CASCADE"))
    kind: Mapped[HandoverItemKind] = mapped_column(value_enum(HandoverItemKind))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), default=None
    )
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), default=None
    )
    outgoing_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    # Frozen at handover time: what it is, its state, the last note and the deadline.
    title: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(40), default="")
    last_note: Mapped[str] = mapped_column(String(300), default="")
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    acknowledged_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


# ---------------------------------------------------------------- views and notifications
class SavedView(Base):
    """A named ticket filter: an agent's own (owner set) or shared with the shop."""

    __tablename__ = "ticket_views"
    __table_args__ = (Index("ix_ticket_views_shop_owner", "shop_id", "owner_agent_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    owner_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), default=None
    )
    name: Mapped[str] = mapped_column(String(60))
    # JSON object of TicketFilter fields.
    filters: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class NotificationKind(enum.StrEnum):
    MENTION = "mention"
    ASSIGNED = "assigned"
    SLA_WARNING = "sla_warning"
    SLA_BREACH = "sla_breach"
    ESCALATION = "escalation"
    HANDOVER = "handover"
    HANDOVER_FLAGGED = "handover_flagged"
    QA_REVIEW = "qa_review"  # a supervisor reviewed the agent's quality score (coach)


class Notification(Base):
    """Something a member of staff must see: shown live in the page header and listed."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_agent", "agent_id", "read_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(value_enum(NotificationKind))
    # Already worded in the agent's language when written.
    text: Mapped[str] = mapped_column(String(300))
    # Where it leads: /tickets/1001, /handovers/7 …
    link: Mapped[str] = mapped_column(String(200), default="")
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), default=None
    )
    handover_id: Mapped[int | None] = mapped_column(
        ForeignKey("handovers.id", ondelete="CASCADE"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
