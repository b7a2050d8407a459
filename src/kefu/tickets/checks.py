"""The checks every ticket write goes through before anything is written: the ticket itself
(found and locked in the caller's shop), who acts, the text, tags, and the team, agent,
conversations, orders, customer and attachments it names — each one the shop's own.

A write calls these first and only then changes rows, so a refused request leaves nothing
half-written (and its unit of work rolls back whatever a later check refuses anyway).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Final, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kefu.accounts import service as accounts
from kefu.accounts.models import Agent, TeamMembership
from kefu.commerce.models import Order
from kefu.conversations.models import Attachment, Conversation
from kefu.crm.models import Customer
from kefu.db import MAX_ID
from kefu.errors import Conflict, Invalid, NotFound
from kefu.shops.models import Team
from kefu.tickets.models import Ticket, TicketStatus
from kefu.validation import clean_text

MAX_TITLE_LENGTH: Final = 200
MAX_DESCRIPTION_LENGTH: Final = 10_000
MAX_TAGS: Final = 20
MAX_TAG_LENGTH: Final = 40
MAX_ATTACHMENTS: Final = 20
# A ticket about more chats or orders than this is several tickets (or a mistake).
MAX_LINKS: Final = 50
ACTORS: Final = frozenset({"agent", "bot", "system", "api"})

_T = TypeVar("_T")
_E = TypeVar("_E", bound=enum.Enum)


class _Keep:
    """The type of :data:`KEEP`: "leave this nullable field as it is" (None clears it)."""

    _instance: _Keep | None = None

    def __new__(cls) -> _Keep:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "KEEP"

    def __bool__(self) -> bool:
        return False


KEEP: Final = _Keep()


# --- the ticket ----------------------------------------------------------------------------


def get_ticket(session: Session, *, shop_id: int, ticket_id: int) -> Ticket:
    ticket = (
        session.scalar(select(Ticket).where(Ticket.shop_id == shop_id, Ticket.id == ticket_id))
        if _is_id(ticket_id)
        else None
    )
    if ticket is None:
        raise NotFound("ticket not found", key="errors.tickets.not_found")
    return ticket


def lock_ticket(session: Session, *, shop_id: int, ticket_id: int) -> Ticket:
    """The ticket, locked for this transaction and freshly read.

    A no-op UPDATE takes the row lock on PostgreSQL and the write lock on SQLite (where
    SELECT … FOR UPDATE locks nothing), so two people changing one ticket at once take
    turns and the second sees the first's change (a status moved under them, a closing).
    """
    if not _is_id(ticket_id):
        raise NotFound("ticket not found", key="errors.tickets.not_found")
    result = session.execute(
        update(Ticket)
        .where(Ticket.shop_id == shop_id, Ticket.id == ticket_id)
        .values(number=Ticket.number)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 1) == 0:
        raise NotFound("ticket not found", key="errors.tickets.not_found")
    ticket = session.get(Ticket, ticket_id, populate_existing=True)
    assert ticket is not None  # just updated under lock
    return ticket


def not_closed(ticket: Ticket) -> None:
    if ticket.status is TicketStatus.CLOSED:
        raise Conflict(
            f"ticket #{ticket.number} is closed: a closed ticket never changes again; "
            "open a follow-up ticket instead",
            key="errors.tickets.closed_is_final",
            number=ticket.number,
        )


# --- who acts --------------------------------------------------------------------------------


def actor(session: Session, *, shop_id: int, actor_agent_id: int | None, actor: str) -> None:
    if actor not in ACTORS:
        raise Invalid(f"unknown actor {actor!r}: one of {', '.join(sorted(ACTORS))}", field="actor")
    if actor_agent_id is None:
        if actor == "agent":
            raise Invalid("a change by an agent needs the agent", field="actor_agent_id")
        return
    active_agent(session, shop_id=shop_id, agent_id=actor_agent_id, field="actor_agent_id")


def active_agent(session: Session, *, shop_id: int, agent_id: int, field: str) -> Agent:
    agent = (
        session.scalar(select(Agent).where(Agent.shop_id == shop_id, Agent.id == agent_id))
        if _is_id(agent_id)
        else None
    )
    # Another shop's agent reads exactly like one that does not exist: ids reveal nothing.
    if agent is None:
        raise Invalid(
            f"no agent #{agent_id} in this shop",
            field=field,
            key="errors.tickets.agent_not_found",
            agent_id=agent_id,
        )
    if not agent.is_active:
        raise Invalid(
            f"{agent.display_name} is deactivated and cannot work on tickets",
            field=field,
            key="errors.tickets.agent_inactive",
            name=agent.display_name,
        )
    return agent


# --- text and tags ---------------------------------------------------------------------------


def title(value: str) -> str:
    value = clean_text(value, field="title", max_length=10 * MAX_TITLE_LENGTH)
    if not value:
        raise Invalid("the title is required", field="title", key="errors.tickets.title_required")
    if len(value) > MAX_TITLE_LENGTH:
        raise Invalid(
            f"the title is {len(value)} characters; the limit is {MAX_TITLE_LENGTH}",
            field="title",
            key="errors.tickets.title_too_long",
            length=len(value),
            limit=MAX_TITLE_LENGTH,
        )
    return value


def description(value: str) -> str:
    if len(value) > MAX_DESCRIPTION_LENGTH:
        # Said before clean_text so the message names the limit, not a generic range.
        raise Invalid(
            f"the description is {len(value)} characters; the limit is {MAX_DESCRIPTION_LENGTH}",
            field="description",
            key="errors.tickets.description_too_long",
            length=len(value),
            limit=MAX_DESCRIPTION_LENGTH,
        )
    return clean_text(value, field="description", max_length=MAX_DESCRIPTION_LENGTH, multiline=True)


def tags(values: Sequence[str]) -> list[str]:
    """Trimmed, without repeats (first spelling kept, compared case-insensitively)."""
    if isinstance(values, str):
        raise Invalid("tags must be a list", field="tags")
    seen: dict[str, str] = {}
    for raw in values:
        tag = clean_text(str(raw), field="tags", max_length=10 * MAX_TAG_LENGTH)
        if not tag:
            continue
        if len(tag) > MAX_TAG_LENGTH:
            raise Invalid(
                f"the tag {tag[:20]!r}… is {len(tag)} characters; the limit is {MAX_TAG_LENGTH}",
                field="tags",
                key="errors.tickets.tag_too_long",
                tag=tag[:20],
                limit=MAX_TAG_LENGTH,
            )
        seen.setdefault(tag.casefold(), tag)
    if len(seen) > MAX_TAGS:
        raise Invalid(
            f"{len(seen)} tags; a ticket has at most {MAX_TAGS}",
            field="tags",
            key="errors.tickets.too_many_tags",
            count=len(seen),
            limit=MAX_TAGS,
        )
    return list(seen.values())


def choice(kind: type[_E], value: object, field: str) -> _E:
    """``value`` as a member of the enum ``kind``, or Invalid naming the allowed values."""
    try:
        return kind(value)
    except ValueError as exc:
        allowed = ", ".join(str(member.value) for member in kind)
        raise Invalid(
            f"unknown {field} {str(value)[:40]!r}: one of {allowed}",
            field=field,
            key=f"errors.tickets.bad_{field}",
            value=str(value)[:40],
        ) from exc


# --- what a ticket names -------------------------------------------------------------------


def team(session: Session, *, shop_id: int, team_id: int) -> Team:
    found = (
        session.scalar(select(Team).where(Team.shop_id == shop_id, Team.id == team_id))
        if _is_id(team_id)
        else None
    )
    if found is None:
        raise Invalid(
            f"no team #{team_id} in this shop",
            field="team_id",
            key="errors.tickets.team_not_found",
            team_id=team_id,
        )
    return found


def in_team(session: Session, *, agent: Agent, team: Team, field: str = "assignee_id") -> None:
    member = session.scalar(
        select(TeamMembership.agent_id).where(
            TeamMembership.shop_id == team.shop_id,
            TeamMembership.team_id == team.id,
            TeamMembership.agent_id == agent.id,
        )
    )
    if member is None:
        raise Invalid(
            f"{agent.display_name} is not a member of the team {team.name}",
            field=field,
            key="errors.tickets.assignee_not_in_team",
            name=agent.display_name,
            team=team.name,
        )


def is_member(session: Session, *, agent_id: int, team: Team) -> bool:
    return team.id in accounts.team_ids_of(session, shop_id=team.shop_id, agent_id=agent_id)


def customer(session: Session, *, shop_id: int, customer_id: int) -> Customer:
    found = (
        session.scalar(
            select(Customer).where(Customer.shop_id == shop_id, Customer.id == customer_id)
        )
        if _is_id(customer_id)
        else None
    )
    if found is None:
        raise Invalid(
            f"no buyer #{customer_id} in this shop",
            field="requester_customer_id",
            key="errors.tickets.customer_not_found",
            customer_id=customer_id,
        )
    return found


def conversations(session: Session, *, shop_id: int, ids: Sequence[int]) -> list[Conversation]:
    """The shop's conversations with these ids, in the order given (repeats dropped)."""
    return _rows(
        session,
        Conversation,
        shop_id=shop_id,
        ids=ids,
        field="conversation_ids",
        what="conversation",
        key="errors.tickets.conversation_not_found",
    )


def orders(session: Session, *, shop_id: int, ids: Sequence[int]) -> list[Order]:
    return _rows(
        session,
        Order,
        shop_id=shop_id,
        ids=ids,
        field="order_ids",
        what="order",
        key="errors.tickets.order_not_found",
    )


def attachments(session: Session, *, shop_id: int, ids: Sequence[int]) -> list[Attachment]:
    return _rows(
        session,
        Attachment,
        shop_id=shop_id,
        ids=ids,
        field="attachment_ids",
        what="attachment",
        key="errors.tickets.attachment_not_found",
        limit=MAX_ATTACHMENTS,
        too_many_key="errors.tickets.too_many_attachments",
    )


def attachment_room(*, existing: int, adding: int) -> None:
    if existing + adding > MAX_ATTACHMENTS:
        raise Invalid(
            f"a ticket has at most {MAX_ATTACHMENTS} attachments "
            f"({existing} already, {adding} more asked for)",
            field="attachment_ids",
            key="errors.tickets.too_many_attachments",
            limit=MAX_ATTACHMENTS,
            existing=existing,
        )


def _rows(
    session: Session,
    model: type[_T],
    *,
    shop_id: int,
    ids: Sequence[int],
    field: str,
    what: str,
    key: str,
    limit: int = MAX_LINKS,
    too_many_key: str = "errors.tickets.too_many_links",
) -> list[_T]:
    wanted = list(dict.fromkeys(ids))
    if len(wanted) > limit:
        raise Invalid(
            f"at most {limit} {what}s per ticket (got {len(wanted)})",
            field=field,
            key=too_many_key,
            limit=limit,
            existing=0,
        )
    if not wanted:
        return []
    for item in wanted:
        if not _is_id(item):
            raise Invalid(f"no {what} #{item} in this shop", field=field, key=key, id=item)
    column = model.id  # type: ignore[attr-defined]
    shop_column = model.shop_id  # type: ignore[attr-defined]
    found = {
        row.id: row  # type: ignore[attr-defined]
        for row in session.scalars(select(model).where(shop_column == shop_id, column.in_(wanted)))
    }
    for item in wanted:
        if item not in found:
            # Another shop's row reads like a missing one.
            raise Invalid(f"no {what} #{item} in this shop", field=field, key=key, id=item)
    return [found[item] for item in wanted]


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID
