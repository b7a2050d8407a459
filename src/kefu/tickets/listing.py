"""Ticket lists (工单列表): filters, text search in Chinese, sorting, one page at a time.

Every member of staff sees every ticket of the shop: tickets are team work handed between
teams and shifts (the handover lists them, supervisors reassign them), so unlike the
conversation desk there is no per-team access rule here. ``assignee="me"`` is the viewer.

A page costs three queries whatever its size: the rows (with team, assignee and requester
names joined), their tags, and their SLA clocks (``sla.clocks_of``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import ColumnElement, and_, case, exists, func, not_, or_, select
from sqlalchemy.orm import Session, aliased

from kefu.accounts.models import Agent
from kefu.conversations.desk import customer_display_name
from kefu.crm.models import Customer
from kefu.errors import Invalid
from kefu.nlp.text import normalize_text
from kefu.shops.models import Team
from kefu.tickets import sla
from kefu.tickets.models import (
    SlaState,
    SlaTarget,
    Ticket,
    TicketConversation,
    TicketOrder,
    TicketPriority,
    TicketStatus,
    TicketTag,
    TicketType,
)
from kefu.validation import clean_text

SlaFilter = Literal["ok", "warning", "breached", "paused", "met", "none"]
SLA_STATES: tuple[str, ...] = get_args(SlaFilter)
Sort = Literal["-updated", "-created", "due", "priority"]
SORTS: tuple[str, ...] = get_args(Sort)
OPEN_STATUSES = (
    TicketStatus.NEW,
    TicketStatus.OPEN,
    TicketStatus.PENDING_BUYER,
    TicketStatus.PENDING_INTERNAL,
)
MAX_PAGE_SIZE = 200
MAX_QUERY = 100
MAX_TAG = 40
# "#1001", "＃1001" (normalised to "#") or "1001": a ticket number. Longer digit runs are an
# order number or a phone number somebody pasted, searched as text.
_NUMBER = re.compile(r"#?\s*(\d{1,9})")
_PRIORITY_RANK = {
    TicketPriority.URGENT: 0,
    TicketPriority.HIGH: 1,
    TicketPriority.NORMAL: 2,
    TicketPriority.LOW: 3,
}


@dataclass(frozen=True)
class TicketFilter:
    """What a list shows; the fields combine (AND). Stored as JSON in saved views."""

    status: tuple[TicketStatus, ...] = ()
    open_only: bool = False  # new, open and both pending states
    type: TicketType | None = None
    priority: TicketPriority | None = None
    team_id: int | None = None
    assignee: int | Literal["me", "none"] | None = None
    sla: SlaFilter | None = None
    tag: str = ""
    q: str = ""
    customer_id: int | None = None
    conversation_id: int | None = None
    order_id: int | None = None


@dataclass(frozen=True)
class TicketRow:
    id: int
    number: int
    type: TicketType
    title: str
    status: TicketStatus
    priority: TicketPriority
    team_id: int | None
    team_name: str
    assignee_id: int | None
    assignee_name: str
    requester_customer_id: int | None
    requester_team_id: int | None
    requester_name: str  # the buyer as the desk names them (王女士), else the asking team
    tags: tuple[str, ...]
    sla_state: str  # breached | warning | ok | paused | met | none (the worst clock)
    next_due_at: datetime | None  # the nearest running deadline
    minutes_left: int | None  # of that deadline; negative once it has passed
    updated_at: datetime
    created_at: datetime


def check_filter(filter: TicketFilter) -> TicketFilter:
    """The filter with its free text cleaned, or ``Invalid`` naming the field."""
    if filter.sla is not None and filter.sla not in SLA_STATES:
        raise Invalid(
            f"sla must be one of {', '.join(SLA_STATES)}",
            field="sla",
            key="errors.tickets.bad_sla_filter",
            allowed=", ".join(SLA_STATES),
        )
    assignee = filter.assignee
    if isinstance(assignee, str) and assignee not in ("me", "none"):
        raise Invalid(
            "assignee must be an agent id, 'me' or 'none'",
            field="assignee",
            key="errors.tickets.bad_assignee_filter",
        )
    q = clean_text(filter.q, field="q", max_length=MAX_QUERY)
    tag = clean_text(filter.tag, field="tag", max_length=MAX_TAG)
    if (q, tag) == (filter.q, filter.tag):
        return filter
    return TicketFilter(**{**filter.__dict__, "q": q, "tag": tag})


def list_tickets(
    session: Session,
    *,
    shop_id: int,
    filter: TicketFilter,
    viewer_agent_id: int | None,
    now: datetime,
    sort: str = "-updated",
    limit: int = 50,
    offset: int = 0,
) -> list[TicketRow]:
    """One page of the shop's tickets matching ``filter``, in the order ``sort`` names."""
    if sort not in SORTS:
        raise Invalid(
            f"sort must be one of {', '.join(SORTS)}",
            field="sort",
            key="errors.tickets.bad_sort",
            allowed=", ".join(SORTS),
        )
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise Invalid(f"limit must be 1–{MAX_PAGE_SIZE}", field="limit")
    if offset < 0:
        raise Invalid("offset must not be negative", field="offset")
    where = _conditions(shop_id, check_filter(filter), viewer_agent_id, now)
    requester_team = aliased(Team)
    query = (
        select(
            Ticket,
            Team.name,
            Agent.display_name,
            Customer,
            requester_team.name,
        )
        .outerjoin(Team, and_(Team.id == Ticket.team_id, Team.shop_id == shop_id))
        .outerjoin(Agent, and_(Agent.id == Ticket.assignee_id, Agent.shop_id == shop_id))
        .outerjoin(
            Customer,
            and_(Customer.id == Ticket.requester_customer_id, Customer.shop_id == shop_id),
        )
        .outerjoin(
            requester_team,
            and_(requester_team.id == Ticket.requester_team_id, requester_team.shop_id == shop_id),
        )
        .where(where)
        .order_by(*_order(sort))
        .limit(limit)
        .offset(offset)
    )
    found = session.execute(query).all()
    ids = [row[0].id for row in found]
    tags = _tags_of(session, shop_id=shop_id, ticket_ids=ids)
    clocks = sla.clocks_of(session, shop_id=shop_id, ticket_ids=ids, now=now) if ids else {}
    rows = []
    for ticket, team, assignee, buyer, asking_team in found:
        ticket_clocks = clocks.get(ticket.id, [])
        # A paused clock has no deadline while it waits; a met one none left.
        running = [c for c in ticket_clocks if c.due_at is not None and c.state != "met"]
        nearest = min(running, key=lambda c: c.due_at or now) if running else None
        rows.append(
            TicketRow(
                id=ticket.id,
                number=ticket.number,
                type=ticket.type,
                title=ticket.title,
                status=ticket.status,
                priority=ticket.priority,
                team_id=ticket.team_id,
                team_name=team or "",
                assignee_id=ticket.assignee_id,
                assignee_name=assignee or "",
                requester_customer_id=ticket.requester_customer_id,
                requester_team_id=ticket.requester_team_id,
                # The buyer as the desk names them (王女士), else the team that asked.
                requester_name=customer_display_name(buyer) if buyer else asking_team or "",
                tags=tuple(tags.get(ticket.id, ())),
                sla_state=sla.sla_state_of(ticket_clocks),
                next_due_at=nearest.due_at if nearest else None,
                minutes_left=nearest.minutes_left if nearest else None,
                updated_at=ticket.updated_at,
                created_at=ticket.created_at,
            )
        )
    return rows


def count_tickets(
    session: Session,
    *,
    shop_id: int,
    filter: TicketFilter,
    viewer_agent_id: int | None,
    now: datetime,
) -> int:
    """How many of the shop's tickets match ``filter`` (every page together)."""
    where = _conditions(shop_id, check_filter(filter), viewer_agent_id, now)
    query = select(func.count(Ticket.id)).where(where)
    return session.scalar(query) or 0


def _tags_of(session: Session, *, shop_id: int, ticket_ids: list[int]) -> dict[int, list[str]]:
    if not ticket_ids:
        return {}
    tags: dict[int, list[str]] = {}
    rows = session.execute(
        select(TicketTag.ticket_id, TicketTag.tag)
        .where(TicketTag.shop_id == shop_id, TicketTag.ticket_id.in_(ticket_ids))
        .order_by(TicketTag.id)  # as added, like the ticket page shows them
    )
    for ticket_id, tag in rows:
        tags.setdefault(ticket_id, []).append(tag)
    return tags


# --------------------------------------------------------------------------- conditions
def _conditions(
    shop_id: int, filter: TicketFilter, viewer_agent_id: int | None, now: datetime
) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = [Ticket.shop_id == shop_id]
    if filter.status:
        conditions.append(Ticket.status.in_(filter.status))
    if filter.open_only:
        conditions.append(Ticket.status.in_(OPEN_STATUSES))
    if filter.type is not None:
        conditions.append(Ticket.type == filter.type)
    if filter.priority is not None:
        conditions.append(Ticket.priority == filter.priority)
    if filter.team_id is not None:
        conditions.append(Ticket.team_id == filter.team_id)
    if filter.assignee == "none":
        conditions.append(Ticket.assignee_id.is_(None))
    elif filter.assignee == "me":
        if viewer_agent_id is None:
            raise Invalid(
                "assignee=me needs a signed-in agent (an API token is nobody's)",
                field="assignee",
                key="errors.tickets.me_needs_person",
            )
        conditions.append(Ticket.assignee_id == viewer_agent_id)
    elif filter.assignee is not None:
        conditions.append(Ticket.assignee_id == filter.assignee)
    if filter.customer_id is not None:
        conditions.append(Ticket.requester_customer_id == filter.customer_id)
    if filter.conversation_id is not None:
        conditions.append(
            exists().where(
                TicketConversation.ticket_id == Ticket.id,
                TicketConversation.conversation_id == filter.conversation_id,
            )
        )
    if filter.order_id is not None:
        conditions.append(
            exists().where(
                TicketOrder.ticket_id == Ticket.id, TicketOrder.order_id == filter.order_id
            )
        )
    if filter.tag:
        conditions.append(
            # Tags are kept as first spelt and compared without case, like the ticket does.
            exists().where(
                TicketTag.ticket_id == Ticket.id,
                func.lower(TicketTag.tag) == filter.tag.lower(),
            )
        )
    if filter.q:
        conditions.append(_search(filter.q))
    if filter.sla is not None:
        conditions.append(_sla_condition(filter.sla, now))
    return and_(*conditions)


def _search(q: str) -> ColumnElement[bool]:
    """By number ("#1001", "1001"), else in the normalised title, description and comments
    (so 「退貨」 finds 「退货」), or the requesting buyer's name."""
    canonical = normalize_text(q)
    number = _NUMBER.fullmatch(canonical)
    if number and canonical.startswith("#"):
        return Ticket.number == int(number.group(1))
    # Aliased: the list's own query joins Customer for the names, and an unaliased
    # subquery would correlate to that join and lose its FROM.
    asker = aliased(Customer)
    buyer = exists().where(
        asker.id == Ticket.requester_customer_id,
        or_(asker.name.contains(q, autoescape=True), asker.nickname.contains(q, autoescape=True)),
    )
    text = Ticket.search_text.contains(canonical or q.lower(), autoescape=True)
    if number:
        # A bare number is most likely the ticket's, but may be quoted in its text.
        return or_(Ticket.number == int(number.group(1)), text)
    return or_(text, buyer)


def _sla_condition(state: str, now: datetime) -> ColumnElement[bool]:
    """The ticket's worst clock is ``state`` — the rule ``sla.clocks_of`` and
    ``sla.sla_state_of`` apply, written in SQL on the targets so that filtering and counting
    stay in the database and agree with what each row shows.

    The clocks are the latest target of each metric that was not cancelled. A running one
    is breached once its breach was recorded or its deadline has passed (the watcher may
    not have run yet), warning from ``warn_at``, else ok; a paused one is breached if it
    breached before it stopped, else paused; a met one is met. Worst first: breached >
    warning > ok > paused > met > none.
    """
    newer = aliased(SlaTarget)
    latest = and_(
        SlaTarget.ticket_id == Ticket.id,
        SlaTarget.state != SlaState.CANCELLED,
        ~exists().where(
            newer.ticket_id == SlaTarget.ticket_id,
            newer.metric == SlaTarget.metric,
            newer.state != SlaState.CANCELLED,
            newer.id > SlaTarget.id,
        ),
    )

    def any_clock(*where: ColumnElement[bool]) -> ColumnElement[bool]:
        return exists().where(latest, *where)

    # Compared through an expression so no planner takes the watcher's (state, warn_at)
    # index here: without statistics (SQLite never gets any) it scanned every running clock
    # per ticket, seconds a page on 10,000 tickets; by ticket it is a handful of rows.
    state_of = func.lower(SlaTarget.state)
    active = state_of == SlaState.ACTIVE.value
    paused = state_of == SlaState.PAUSED.value
    late = or_(SlaTarget.breached_at.is_not(None), SlaTarget.due_at <= now)
    breached = or_(any_clock(active, late), any_clock(paused, SlaTarget.breached_at.is_not(None)))
    warning = any_clock(active, not_(late), SlaTarget.warn_at <= now)
    running = any_clock(active)
    if state == "breached":
        return breached
    if state == "warning":
        return and_(not_(breached), warning)
    if state == "ok":
        return and_(not_(breached), not_(warning), running)
    if state == "paused":
        return and_(not_(breached), not_(running), any_clock(paused))
    if state == "met":
        return and_(
            not_(any_clock(state_of.in_([s.value for s in sla.LIVE]))),
            any_clock(state_of == SlaState.MET.value),
        )
    return not_(any_clock())


# --------------------------------------------------------------------------- order
def _order(sort: str) -> list[ColumnElement[Any]]:
    if sort == "-created":
        return [Ticket.created_at.desc(), Ticket.id.desc()]
    if sort == "due":
        # The nearest running deadline first; tickets without one last, newest first.
        due = (
            select(func.min(SlaTarget.due_at))
            .where(
                SlaTarget.ticket_id == Ticket.id,
                # Through an expression, as in _sla_condition: found by ticket, not by state.
                func.lower(SlaTarget.state) == SlaState.ACTIVE.value,
            )
            .correlate(Ticket)
            .scalar_subquery()
        )
        return [
            case((due.is_(None), 1), else_=0),
            due.asc(),
            Ticket.updated_at.desc(),
            Ticket.id.desc(),
        ]
    if sort == "priority":
        rank = case(
            *((Ticket.priority == priority, value) for priority, value in _PRIORITY_RANK.items()),
            else_=len(_PRIORITY_RANK),
        )
        return [rank, Ticket.updated_at.desc(), Ticket.id.desc()]
    return [Ticket.updated_at.desc(), Ticket.id.desc()]
