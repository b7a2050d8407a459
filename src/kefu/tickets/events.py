"""What happened to tickets, SLA clocks, shifts' handovers and notifications (dispatched
after commit). One section per concept."""

from dataclasses import dataclass, field
from datetime import datetime

from kefu.events import Event

# --- tickets (lifecycle.py, comments.py, merging.py) ---------------------------------------


@dataclass(frozen=True, kw_only=True)
class TicketCreated(Event):
    """A ticket was opened (by an agent, from a conversation, by the bot's escalation, an
    API token or a split)."""

    ticket_id: int
    number: int
    type: str
    status: str
    team_id: int | None
    assignee_id: int | None
    actor_agent_id: int | None
    conversation_ids: tuple[int, ...] = ()


@dataclass(frozen=True, kw_only=True)
class TicketUpdated(Event):
    """A ticket changed (``changed`` lists the fields: status, priority, type, title,
    description, team, assignee, tags, fields, conversations, orders, attachments, answer);
    carries its state after the change."""

    ticket_id: int
    number: int
    changed: tuple[str, ...]
    status: str
    team_id: int | None
    assignee_id: int | None
    actor_agent_id: int | None


@dataclass(frozen=True, kw_only=True)
class TicketCommented(Event):
    """A note (staff only) or a reply (to the requester) was added."""

    ticket_id: int
    number: int
    comment_id: int
    kind: str
    author_agent_id: int | None
    mentioned_agent_ids: tuple[int, ...] = ()


@dataclass(frozen=True, kw_only=True)
class TicketsMerged(Event):
    """``source_id`` was merged into ``target_id`` and closed."""

    source_id: int
    target_id: int
    actor_agent_id: int | None


@dataclass(frozen=True, kw_only=True)
class TicketSplit(Event):
    """Part of ``source_id`` became the new ticket ``new_id``."""

    source_id: int
    new_id: int
    actor_agent_id: int | None


# --- SLA clocks (sla.py, sla_watch.py) -----------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SlaWarning(Event):
    """An SLA deadline is near; the assignee and the supervisors were notified."""

    ticket_id: int
    target_id: int
    metric: str
    due_at: datetime
    notified_agent_ids: tuple[int, ...] = ()


@dataclass(frozen=True, kw_only=True)
class SlaBreached(Event):
    """An SLA deadline passed unmet; recorded on the target for reports."""

    ticket_id: int
    target_id: int
    metric: str
    due_at: datetime
    team_id: int | None
    assignee_id: int | None
    notified_agent_ids: tuple[int, ...] = ()


# --- escalation (escalation.py) ------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class EscalationAnswered(Event):
    """The duty manager answered an escalated question; ``kb_entry_id`` once it became a KB
    entry."""

    ticket_id: int
    kb_entry_id: int | None


# --- shifts and handover (handover.py) -----------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class HandoverCreated(Event):
    """A shift handed over: the report lists its open conversations and tickets."""

    handover_id: int
    shift_id: int
    team_id: int
    item_count: int


@dataclass(frozen=True, kw_only=True)
class HandoverAcknowledged(Event):
    """The incoming shift acknowledged items of a handover (all of them when ``complete``)."""

    handover_id: int
    agent_id: int
    item_ids: tuple[int, ...] = ()
    complete: bool = False


@dataclass(frozen=True, kw_only=True)
class HandoverFlagged(Event):
    """Items nobody acknowledged in time were flagged; the supervisors were notified."""

    handover_id: int
    item_ids: tuple[int, ...] = field(default_factory=tuple)


# --- notifications (notifications.py) ------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class NotificationCreated(Event):
    """A member of staff has something new to see (pushed live to their pages)."""

    notification_id: int
    agent_id: int
    kind: str
    text: str
    link: str
