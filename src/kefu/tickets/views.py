"""Saved views (保存的视图): named ticket filters, an agent's own or shared with the shop.

A personal view belongs to the agent who saved it and nobody else sees it (another
agent's id is ``NotFound``, like another shop's). A shared view (no owner) is every
agent's; only supervisors and owners create, rename or delete one, since it changes what
the whole team's list page offers. Saving a view is a preference, not a business event:
nothing else reacts to it, so no event is emitted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from kefu.accounts.models import Agent, Role
from kefu.commerce.models import Order
from kefu.conversations.models import Conversation
from kefu.crm.models import Customer
from kefu.db import MAX_ID
from kefu.errors import Conflict, Invalid, NotFound, PermissionDenied
from kefu.shops.models import Team
from kefu.tickets.listing import SLA_STATES, TicketFilter, check_filter
from kefu.tickets.models import SavedView, TicketPriority, TicketStatus, TicketType
from kefu.uow import UnitOfWork
from kefu.validation import clean_text

MAX_NAME = 60
MAX_VIEWS = 50  # per agent, and shared ones per shop: a list page's menu, not a database
FILTER_KEYS = tuple(f.name for f in fields(TicketFilter))


def is_shared(view: SavedView) -> bool:
    return view.owner_agent_id is None


def list_views(session: Session, *, shop_id: int, agent_id: int | None) -> list[SavedView]:
    """The shop's shared views, then the agent's own (each by name). An API token
    (``agent_id`` None) sees the shared ones."""
    owner = SavedView.owner_agent_id
    mine = owner.is_(None) if agent_id is None else or_(owner.is_(None), owner == agent_id)
    query = (
        select(SavedView)
        .where(SavedView.shop_id == shop_id, mine)
        .order_by(owner.is_not(None), SavedView.name, SavedView.id)
    )
    return list(session.scalars(query))


def get_view(session: Session, *, shop_id: int, agent_id: int | None, view_id: int) -> SavedView:
    """A view the agent may see: shared, or their own."""
    view = session.scalar(
        select(SavedView).where(SavedView.shop_id == shop_id, SavedView.id == view_id)
    )
    if view is None or not (is_shared(view) or view.owner_agent_id == agent_id):
        raise NotFound("saved view not found", key="errors.tickets.view_not_found")
    return view


def create_view(
    uow: UnitOfWork,
    *,
    shop_id: int,
    agent_id: int | None,
    name: str,
    filters: Mapping[str, object],
    shared: bool = False,
    commit: bool = True,
) -> SavedView:
    session = uow.session
    agent = _person(session, shop_id=shop_id, agent_id=agent_id)
    if shared:
        _may_share(agent)
    owner_id = None if shared else agent.id
    name = _check_name(session, shop_id=shop_id, owner_id=owner_id, name=name)
    stored = _check_filters(session, shop_id=shop_id, filters=filters)
    count = session.scalar(
        select(func.count(SavedView.id)).where(SavedView.shop_id == shop_id, _owned_by(owner_id))
    )
    if (count or 0) >= MAX_VIEWS:
        raise Conflict(
            f"at most {MAX_VIEWS} saved views; delete one first",
            key="errors.tickets.too_many_views",
            max=MAX_VIEWS,
        )
    view = SavedView(
        shop_id=shop_id,
        owner_agent_id=owner_id,
        name=name,
        filters=json.dumps(stored, ensure_ascii=False),
        created_at=uow.clock.now(),
    )
    session.add(view)
    session.flush()
    if commit:
        uow.commit()
    return view


def update_view(
    uow: UnitOfWork,
    *,
    shop_id: int,
    agent_id: int | None,
    view_id: int,
    name: str | None = None,
    filters: Mapping[str, object] | None = None,
    commit: bool = True,
) -> SavedView:
    """Rename a view or replace its filters (None: unchanged)."""
    session = uow.session
    view = get_view(session, shop_id=shop_id, agent_id=agent_id, view_id=view_id)
    agent = _person(session, shop_id=shop_id, agent_id=agent_id)
    if is_shared(view):
        _may_share(agent)
    if name is not None:
        view.name = _check_name(
            session, shop_id=shop_id, owner_id=view.owner_agent_id, name=name, view_id=view.id
        )
    if filters is not None:
        stored = _check_filters(session, shop_id=shop_id, filters=filters)
        view.filters = json.dumps(stored, ensure_ascii=False)
    session.flush()
    if commit:
        uow.commit()
    return view


def delete_view(
    uow: UnitOfWork, *, shop_id: int, agent_id: int | None, view_id: int, commit: bool = True
) -> None:
    session = uow.session
    view = get_view(session, shop_id=shop_id, agent_id=agent_id, view_id=view_id)
    agent = _person(session, shop_id=shop_id, agent_id=agent_id)
    if is_shared(view):
        _may_share(agent)
    session.delete(view)
    session.flush()
    if commit:
        uow.commit()


def filter_of(view: SavedView) -> TicketFilter:
    """The view's filter. Stored filters were checked when saved; a key a later version
    no longer knows is skipped rather than breaking the agent's list page."""
    data = json.loads(view.filters or "{}")
    known = {k: v for k, v in data.items() if k in FILTER_KEYS} if isinstance(data, dict) else {}
    try:
        return parse_filter(known)
    except Invalid:
        return TicketFilter()


def parse_filter(data: Mapping[str, object]) -> TicketFilter:
    """A filter from JSON (a view's body): unknown keys and wrong values refused, named."""
    unknown = sorted(set(data) - set(FILTER_KEYS))
    if unknown:
        raise Invalid(
            f"unknown filter {unknown[0]!r}; filters are {', '.join(FILTER_KEYS)}",
            field=f"filters.{unknown[0]}",
            key="errors.tickets.unknown_view_filter",
            name=unknown[0],
            known=", ".join(FILTER_KEYS),
        )
    values: dict[str, Any] = {}
    for key, value in data.items():
        if value is None:
            continue
        parse = _PARSERS[key]
        try:
            values[key] = parse(value)
        except (ValueError, TypeError):
            raise Invalid(
                f"filter {key!r} cannot be {value!r}",
                field=f"filters.{key}",
                key="errors.tickets.bad_view_filter",
                name=key,
            ) from None
    return check_filter(TicketFilter(**values))


def filter_to_json(filter: TicketFilter) -> dict[str, object]:
    """The fields that differ from an empty filter, JSON-ready."""
    stored: dict[str, object] = {}
    for key in FILTER_KEYS:
        value = getattr(filter, key)
        if value in (None, "", (), False):
            continue
        stored[key] = [str(s) for s in value] if key == "status" else value
    return stored


# --------------------------------------------------------------------------- checks
def _person(session: Session, *, shop_id: int, agent_id: int | None) -> Agent:
    if agent_id is None:
        raise PermissionDenied(
            "saved views belong to a member of staff (not an API token)",
            key="errors.tickets.view_needs_person",
        )
    agent = session.scalar(select(Agent).where(Agent.shop_id == shop_id, Agent.id == agent_id))
    if agent is None:
        raise NotFound("agent not found")
    return agent


def _may_share(agent: Agent) -> None:
    if agent.role.rank < Role.SUPERVISOR.rank:
        raise PermissionDenied(
            "only a supervisor or the owner may save, change or delete a shared view",
            key="errors.tickets.shared_view_role",
        )


def _owned_by(owner_id: int | None) -> Any:
    owner = SavedView.owner_agent_id
    return owner.is_(None) if owner_id is None else owner == owner_id


def _check_name(
    session: Session, *, shop_id: int, owner_id: int | None, name: str, view_id: int | None = None
) -> str:
    name = clean_text(name, field="name", max_length=MAX_NAME, min_length=1)
    query = select(SavedView.id).where(
        SavedView.shop_id == shop_id, _owned_by(owner_id), SavedView.name == name
    )
    if view_id is not None:
        query = query.where(SavedView.id != view_id)
    if session.scalar(query) is not None:
        raise Conflict(
            f"a view named {name!r} already exists",
            key="errors.tickets.view_name_taken",
            name=name,
        )
    return name


def _check_filters(
    session: Session, *, shop_id: int, filters: Mapping[str, object]
) -> dict[str, object]:
    """The filters as stored; ids must name the shop's rows (a view of another shop's team
    would silently show nothing)."""
    filter = parse_filter(filters)
    assignee = filter.assignee if isinstance(filter.assignee, int) else None
    checks: tuple[tuple[str, int | None, Any, str], ...] = (
        ("team_id", filter.team_id, Team, "team"),
        ("assignee", assignee, Agent, "agent"),
        ("customer_id", filter.customer_id, Customer, "customer"),
        ("conversation_id", filter.conversation_id, Conversation, "conversation"),
        ("order_id", filter.order_id, Order, "order"),
    )
    for key, row_id, model, noun in checks:
        if row_id is None:
            continue
        query = select(model.id).where(model.shop_id == shop_id, model.id == row_id)
        if session.scalar(query) is None:
            raise Invalid(
                f"filter {key!r}: no {noun} {row_id} in this shop",
                field=f"filters.{key}",
                key="errors.tickets.view_unknown_id",
                name=key,
            )
    return filter_to_json(filter)


def _row_id(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise ValueError(value)
    return value


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(value)
    return value


def _statuses(value: object) -> tuple[TicketStatus, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise TypeError(value)
    return tuple(dict.fromkeys(TicketStatus(_text(item)) for item in items))


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(value)
    return value


def _assignee(value: object) -> int | str:
    if value in ("me", "none"):
        return _text(value)
    return _row_id(value)


def _sla(value: object) -> str:
    if value not in SLA_STATES:
        raise ValueError(value)
    return _text(value)


_PARSERS: dict[str, Callable[[object], Any]] = {
    "status": _statuses,
    "open_only": _flag,
    "type": lambda v: TicketType(_text(v)),
    "priority": lambda v: TicketPriority(_text(v)),
    "team_id": _row_id,
    "assignee": _assignee,
    "sla": _sla,
    "tag": _text,
    "q": _text,
    "customer_id": _row_id,
    "conversation_id": _row_id,
    "order_id": _row_id,
}
