"""Tickets (工单) over REST: /api/v1/tickets.

Every member of staff lists, reads and works every ticket of the shop (tickets are team
work). An API token may do the same; its changes are recorded as the actor "api" (no
person), and what needs a person — a reply to the buyer, "my tickets" — says so. Comments,
files, links, merge and split are in ``link_routes.py``; saved views, custom fields,
settings and notifications in ``setup_routes.py``, included before this router so that
their literal paths are not taken for a ticket id.

Each write looks the ticket up first, so another shop's ticket is 404 whatever the body
names, then calls one service function and answers with the ticket as it now is.
"""

from __future__ import annotations

from typing import Any, Literal, cast

from fastapi import APIRouter, Depends, Query

from kefu.accounts.auth import Principal
from kefu.conversations import desk
from kefu.db import MAX_ID
from kefu.errors import Invalid
from kefu.tickets import service, sla
from kefu.tickets.listing import SORTS, SlaFilter, TicketFilter
from kefu.tickets.schemas import (
    AssignIn,
    BulkIn,
    BulkOut,
    DraftOut,
    FromConversationIn,
    HistoryRowOut,
    ReopenIn,
    StatusIn,
    TicketCreateIn,
    TicketDetailOut,
    TicketListOut,
    TicketRowOut,
    TicketUpdateIn,
    detail_out,
)
from kefu.uow import UnitOfWork
from kefu.web.deps import ResourceId, api_principal, get_uow

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets 工单"])


def actor_of(principal: Principal) -> tuple[int | None, str]:
    """Who the history names: the agent, or "api" for a token (nobody in particular)."""
    return principal.agent_id, "agent" if principal.agent_id is not None else "api"


def found(uow: UnitOfWork, principal: Principal, ticket_id: int) -> None:
    """404 for another shop's ticket before the body is looked at."""
    service.get_ticket(uow.session, shop_id=principal.shop_id, ticket_id=ticket_id)


def detail(uow: UnitOfWork, principal: Principal, ticket_id: int) -> TicketDetailOut:
    session, shop_id = uow.session, principal.shop_id
    detail = service.ticket_detail(session, shop_id=shop_id, ticket_id=ticket_id)
    clocks = sla.clocks_of(
        session, shop_id=shop_id, ticket_ids=[ticket_id], now=uow.clock.now()
    ).get(ticket_id, [])
    return detail_out(detail, clocks)


def _assignee(value: str | None) -> int | Literal["me", "none"] | None:
    if value is None:
        return None
    if value == "me":
        return "me"
    if value == "none":
        return "none"
    if value.isdigit() and 1 <= int(value) <= MAX_ID:
        return int(value)
    raise Invalid(
        "assignee must be an agent id, 'me' or 'none'",
        field="assignee",
        key="errors.tickets.bad_assignee_filter",
    )


def ticket_filter(
    status: list[service.TicketStatus] = Query(
        default=[], max_length=6, description="repeat for several: status=new&status=open"
    ),
    open_only: bool = Query(default=False, description="new, open and both pending states"),
    type: service.TicketType | None = None,
    priority: service.TicketPriority | None = None,
    team_id: int | None = Query(default=None, ge=1, le=MAX_ID),
    assignee: str | None = Query(
        default=None, max_length=12, description="an agent id, 'me' or 'none' (unassigned)"
    ),
    sla: str | None = Query(
        default=None, max_length=10, description="ok | warning | breached | paused | met | none"
    ),
    tag: str = Query(default="", max_length=100),
    q: str = Query(
        default="",
        max_length=200,
        description="'#1001' or '1001' finds the number; else text in the title, description "
        "and comments (繁體 finds 简体), or the requesting buyer's name",
    ),
    customer_id: int | None = Query(default=None, ge=1, le=MAX_ID),
    conversation_id: int | None = Query(default=None, ge=1, le=MAX_ID),
    order_id: int | None = Query(default=None, ge=1, le=MAX_ID),
) -> TicketFilter:
    return TicketFilter(
        status=tuple(dict.fromkeys(status)),
        open_only=open_only,
        type=type,
        priority=priority,
        team_id=team_id,
        assignee=_assignee(assignee),
        sla=cast(SlaFilter | None, sla),  # listing.check_filter refuses an unknown state
        tag=tag,
        q=q,
        customer_id=customer_id,
        conversation_id=conversation_id,
        order_id=order_id,
    )


# --------------------------------------------------------------------------- the list
@router.get("", response_model=TicketListOut)
def list_tickets(
    filter: TicketFilter = Depends(ticket_filter),
    sort: str = Query(default="-updated", description=" | ".join(SORTS)),
    limit: int = Query(default=50, ge=1, le=200),
    offset: int = Query(default=0, ge=0, le=MAX_ID),
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> TicketListOut:
    """The shop's tickets matching every filter given, with their SLA state; ``total``
    counts all pages. Sorts: -updated (default), -created, due (nearest SLA deadline
    first), priority (urgent first)."""
    session, now = uow.session, uow.clock.now()
    args: dict[str, Any] = {
        "shop_id": principal.shop_id,
        "filter": filter,
        "viewer_agent_id": principal.agent_id,
        "now": now,
    }
    rows = service.list_tickets(session, sort=sort, limit=limit, offset=offset, **args)
    return TicketListOut(
        total=service.count_tickets(session, **args),
        tickets=[TicketRowOut.model_validate(row, from_attributes=True) for row in rows],
    )


@router.post("", response_model=TicketDetailOut, status_code=201)
def create_ticket(
    body: TicketCreateIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> TicketDetailOut:
    """Open a ticket. With a conversation linked, its buyer is the requester and is told
    the number in the chat; the SLA clocks start; a named assignee is notified."""
    agent_id, actor = actor_of(principal)
    ticket = service.create_ticket(
        uow, shop_id=principal.shop_id, **body.model_dump(), actor_agent_id=agent_id, actor=actor
    )
    return detail(uow, principal, ticket.id)


@router.post("/bulk", response_model=BulkOut)
def bulk_update(
    body: BulkIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> BulkOut:
    """One change to up to 200 tickets, all or nothing: a refusal names the first ticket
    refused (by number) and changes none. ``updated`` counts the tickets that changed."""
    sent = body.model_fields_set
    change = service.BulkChange(
        status=body.status,
        priority=body.priority,
        team_id=body.team_id if "team_id" in sent else service.KEEP,
        assignee_id=body.assignee_id if "assignee_id" in sent else service.KEEP,
        add_tags=tuple(body.add_tags),
        remove_tags=tuple(body.remove_tags),
    )
    agent_id, actor = actor_of(principal)
    updated = service.bulk_update(
        uow, shop_id=principal.shop_id, ticket_ids=body.ticket_ids, change=change,
        actor_agent_id=agent_id, actor=actor,
    )  # fmt: skip
    return BulkOut(updated=updated)


# --------------------------------------------------------------------------- from a chat
@router.get("/from-conversation/{conversation_id}", response_model=DraftOut)
def draft(
    conversation_id: ResourceId,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> DraftOut:
    """A ticket drafted from a conversation (「转工单」): title from the bot's hand-off note
    or the buyer's first words, description from the buyer's last lines, type and team
    from the chat (投诉 when the buyer was angry), the orders named in it."""
    session = uow.session
    desk.conversation_for(
        session, shop_id=principal.shop_id, conversation_id=conversation_id,
        viewer=desk.viewer_of(session, principal),
    )  # fmt: skip
    made = service.draft_from_conversation(
        session, shop_id=principal.shop_id, conversation_id=conversation_id
    )
    return DraftOut.model_validate(made, from_attributes=True)


@router.post(
    "/from-conversation/{conversation_id}", response_model=TicketDetailOut, status_code=201
)
def create_from_conversation(
    conversation_id: ResourceId,
    body: FromConversationIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> TicketDetailOut:
    """Turn a conversation into a ticket in one call: what the body leaves out comes from
    the draft. The transcript is linked and the buyer is told the number in the chat."""
    session = uow.session
    desk.conversation_for(
        session, shop_id=principal.shop_id, conversation_id=conversation_id,
        viewer=desk.viewer_of(session, principal),
    )  # fmt: skip
    made = service.draft_from_conversation(
        session, shop_id=principal.shop_id, conversation_id=conversation_id
    )
    given = body.model_dump(exclude_unset=True)
    agent_id, actor = actor_of(principal)
    ticket = service.create_ticket(
        uow,
        shop_id=principal.shop_id,
        type=given.pop("type", None) or made.type,
        title=given.pop("title", None) or made.title,
        description=given.pop("description", made.description) or "",
        priority=given.pop("priority", None) or made.priority,
        team_id=given.pop("team_id", made.team_id),
        order_ids=given.pop("order_ids", None) or made.order_ids,
        requester_customer_id=made.customer_id,
        conversation_ids=[conversation_id],
        actor_agent_id=agent_id,
        actor=actor,
        **given,
    )
    return detail(uow, principal, ticket.id)


# --------------------------------------------------------------------------- one ticket
@router.get("/{ticket_id}", response_model=TicketDetailOut)
def get_ticket(
    ticket_id: ResourceId,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> TicketDetailOut:
    """Everything about one ticket: requester, team and assignee names, linked chats and
    orders, custom fields, files, comments, the history and the SLA clocks."""
    return detail(uow, principal, ticket_id)


@router.patch("/{ticket_id}", response_model=TicketDetailOut)
def update_ticket(
    ticket_id: ResourceId,
    body: TicketUpdateIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> TicketDetailOut:
    """Change title, description, type, priority, tags (the whole set) or custom fields;
    each change is a history row. A new type or priority re-applies the SLA policy."""
    found(uow, principal, ticket_id)
    agent_id, actor = actor_of(principal)
    service.update_ticket(
        uow, shop_id=principal.shop_id, ticket_id=ticket_id, actor_agent_id=agent_id,
        actor=actor, **body.model_dump(exclude_none=True),
    )  # fmt: skip
    return detail(uow, principal, ticket_id)


@router.post("/{ticket_id}/status", response_model=TicketDetailOut)
def change_status(
    ticket_id: ResourceId,
    body: StatusIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> TicketDetailOut:
    """Move the ticket. ``closed`` is final (409 errors.tickets.closed_is_final); a solved
    ticket only closes or is reopened (409 errors.tickets.reopen_first). The buyer is told
    in the chat when it concerns them (unless ``tell_buyer`` is false)."""
    found(uow, principal, ticket_id)
    agent_id, actor = actor_of(principal)
    service.change_status(
        uow, shop_id=principal.shop_id, ticket_id=ticket_id, status=body.status,
        actor_agent_id=agent_id, actor=actor, tell_buyer=body.tell_buyer,
    )  # fmt: skip
    return detail(uow, principal, ticket_id)


@router.post("/{ticket_id}/reopen", response_model=TicketDetailOut)
def reopen(
    ticket_id: ResourceId,
    body: ReopenIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> TicketDetailOut:
    """A solved ticket back to open (its resolution clock starts again). A closed ticket
    cannot be reopened: open a follow-up ticket."""
    found(uow, principal, ticket_id)
    agent_id, actor = actor_of(principal)
    service.reopen_ticket(
        uow, shop_id=principal.shop_id, ticket_id=ticket_id, actor_agent_id=agent_id,
        actor=actor, reason=body.reason,
    )  # fmt: skip
    return detail(uow, principal, ticket_id)


@router.post("/{ticket_id}/assign", response_model=TicketDetailOut)
def assign(
    ticket_id: ResourceId,
    body: AssignIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> TicketDetailOut:
    """Give the ticket to a team and/or a person of that team (422
    errors.tickets.assignee_not_in_team otherwise); the person is notified. A new ticket
    given to a person becomes open."""
    found(uow, principal, ticket_id)
    sent = body.model_fields_set
    agent_id, actor = actor_of(principal)
    service.assign_ticket(
        uow, shop_id=principal.shop_id, ticket_id=ticket_id, actor_agent_id=agent_id,
        actor=actor, team_id=body.team_id if "team_id" in sent else service.KEEP,
        assignee_id=body.assignee_id if "assignee_id" in sent else service.KEEP,
    )  # fmt: skip
    return detail(uow, principal, ticket_id)


@router.get("/{ticket_id}/history", response_model=list[HistoryRowOut])
def history(
    ticket_id: ResourceId,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> list[HistoryRowOut]:
    """Every change, oldest first: who (an agent's name, 机器人, 系统 or API), what, from
    what to what, when."""
    rows = service.history_of(uow.session, shop_id=principal.shop_id, ticket_id=ticket_id)
    return [HistoryRowOut.model_validate(row, from_attributes=True) for row in rows]
