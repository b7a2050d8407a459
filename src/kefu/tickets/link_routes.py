"""What a ticket holds and how tickets combine, over REST: comments (notes and replies),
files, linked conversations and orders, merge and split (/api/v1/tickets/{ticket_id}/…).

As in ``routes.py``: another shop's ticket is 404 before the body is looked at, one service
call, the answer is the ticket (or the comment) as it now is.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from kefu.accounts.auth import Principal
from kefu.tickets import service
from kefu.tickets.routes import actor_of, detail, found
from kefu.tickets.schemas import (
    AttachmentsIn,
    CommentIn,
    CommentOut,
    MergeIn,
    SplitIn,
    TicketDetailOut,
    comment_out,
)
from kefu.uow import UnitOfWork
from kefu.web.deps import ResourceId, api_principal, get_uow

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets 工单"])


# --------------------------------------------------------------------------- comments, files
@router.get("/{ticket_id}/comments", response_model=list[CommentOut])
def list_comments(
    ticket_id: ResourceId,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> list[CommentOut]:
    """Notes and replies, oldest first, with their authors, mentions and files."""
    detail = service.ticket_detail(uow.session, shop_id=principal.shop_id, ticket_id=ticket_id)
    return [comment_out(c) for c in detail.comments]


@router.post("/{ticket_id}/comments", response_model=CommentOut, status_code=201)
def add_comment(
    ticket_id: ResourceId,
    body: CommentIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> CommentOut:
    """A note (staff only; each @显示名 or @email of an active agent is notified, an unknown
    one is refused naming it) or a reply, sent to the buyer in the ticket's latest chat."""
    found(uow, principal, ticket_id)
    agent_id, actor = actor_of(principal)
    added = service.add_comment(
        uow, shop_id=principal.shop_id, ticket_id=ticket_id, kind=body.kind, body=body.body,
        author_agent_id=agent_id, actor=actor, attachment_ids=body.attachment_ids,
    )  # fmt: skip
    detail = service.ticket_detail(uow.session, shop_id=principal.shop_id, ticket_id=ticket_id)
    return next(comment_out(c) for c in detail.comments if c.id == added.id)


@router.post("/{ticket_id}/attachments", response_model=TicketDetailOut)
def add_attachments(
    ticket_id: ResourceId,
    body: AttachmentsIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> TicketDetailOut:
    """Attach the shop's uploads (POST /api/v1/uploads first); at most 20 per ticket."""
    found(uow, principal, ticket_id)
    agent_id, _actor = actor_of(principal)
    service.add_attachments(
        uow, shop_id=principal.shop_id, ticket_id=ticket_id, attachment_ids=body.attachment_ids,
        actor_agent_id=agent_id,
    )  # fmt: skip
    return detail(uow, principal, ticket_id)


# --------------------------------------------------------------------------- links
@router.post("/{ticket_id}/conversations/{conversation_id}", response_model=TicketDetailOut)
def link_conversation(
    ticket_id: ResourceId,
    conversation_id: ResourceId,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> TicketDetailOut:
    """Link a conversation of the shop (its transcript shows on the ticket)."""
    found(uow, principal, ticket_id)
    agent_id, actor = actor_of(principal)
    service.link_conversation(
        uow, shop_id=principal.shop_id, ticket_id=ticket_id, conversation_id=conversation_id,
        actor_agent_id=agent_id, actor=actor,
    )  # fmt: skip
    return detail(uow, principal, ticket_id)


@router.delete("/{ticket_id}/conversations/{conversation_id}", response_model=TicketDetailOut)
def unlink_conversation(
    ticket_id: ResourceId,
    conversation_id: ResourceId,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> TicketDetailOut:
    """Unlink a conversation (the history keeps that it was linked)."""
    found(uow, principal, ticket_id)
    agent_id, actor = actor_of(principal)
    service.unlink_conversation(
        uow, shop_id=principal.shop_id, ticket_id=ticket_id, conversation_id=conversation_id,
        actor_agent_id=agent_id, actor=actor,
    )  # fmt: skip
    return detail(uow, principal, ticket_id)


@router.post("/{ticket_id}/orders/{order_id}", response_model=TicketDetailOut)
def link_order(
    ticket_id: ResourceId,
    order_id: ResourceId,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> TicketDetailOut:
    """Link an order of the shop."""
    found(uow, principal, ticket_id)
    agent_id, actor = actor_of(principal)
    service.link_order(
        uow, shop_id=principal.shop_id, ticket_id=ticket_id, order_id=order_id,
        actor_agent_id=agent_id, actor=actor,
    )  # fmt: skip
    return detail(uow, principal, ticket_id)


@router.delete("/{ticket_id}/orders/{order_id}", response_model=TicketDetailOut)
def unlink_order(
    ticket_id: ResourceId,
    order_id: ResourceId,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> TicketDetailOut:
    """Unlink an order."""
    found(uow, principal, ticket_id)
    agent_id, actor = actor_of(principal)
    service.unlink_order(
        uow, shop_id=principal.shop_id, ticket_id=ticket_id, order_id=order_id,
        actor_agent_id=agent_id, actor=actor,
    )  # fmt: skip
    return detail(uow, principal, ticket_id)


# --------------------------------------------------------------------------- merge, split
@router.post("/{ticket_id}/merge", response_model=TicketDetailOut)
def merge(
    ticket_id: ResourceId,
    body: MergeIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> TicketDetailOut:
    """Merge this ticket into ``target_id``: the target gains its chats, orders, tags and
    files and a note quoting it; this one is closed. The answer is the target."""
    found(uow, principal, ticket_id)
    agent_id, actor = actor_of(principal)
    target = service.merge_tickets(
        uow, shop_id=principal.shop_id, source_id=ticket_id, target_id=body.target_id,
        actor_agent_id=agent_id, actor=actor,
    )  # fmt: skip
    return detail(uow, principal, target.id)


@router.post("/{ticket_id}/split", response_model=TicketDetailOut, status_code=201)
def split(
    ticket_id: ResourceId,
    body: SplitIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> TicketDetailOut:
    """Split part of this ticket into a new one (the answer): the chosen comments move to
    it, the chosen conversations and orders are linked to both."""
    found(uow, principal, ticket_id)
    agent_id, actor = actor_of(principal)
    made = service.split_ticket(
        uow, shop_id=principal.shop_id, ticket_id=ticket_id, title=body.title,
        actor_agent_id=agent_id, actor=actor, comment_ids=body.comment_ids,
        conversation_ids=body.conversation_ids, order_ids=body.order_ids,
    )  # fmt: skip
    return detail(uow, principal, made.id)
