"""Conversations and their messages over REST (read side; desk_routes has the writes)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from kefu.accounts.auth import Principal
from kefu.conversations import desk, service
from kefu.conversations.models import ConversationStatus
from kefu.conversations.schemas import ConversationOut, MessageOut
from kefu.db import MAX_ID
from kefu.uow import UnitOfWork
from kefu.web.deps import ResourceId, api_principal, get_uow

router = APIRouter(prefix="/api/v1", tags=["conversations"])


@router.get("/conversations", response_model=list[ConversationOut])
def list_conversations(
    status: ConversationStatus | None = None,
    customer_id: int | None = Query(default=None, ge=1, le=MAX_ID),
    limit: int = Query(default=50, ge=1, le=service.MAX_PAGE_SIZE),
    offset: int = Query(default=0, ge=0, le=MAX_ID),
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> list[ConversationOut]:
    viewer = desk.viewer_of(uow.session, principal)
    # Agents see their teams' conversations and their own, as on the desk: filtered in the
    # query, so that limit and offset page through what the caller may see.
    conversations = service.list_conversations(
        uow.session,
        shop_id=principal.shop_id,
        status=status,
        team_ids=None if viewer.team_ids is None else sorted(viewer.team_ids),
        or_assigned_to=viewer.agent_id,
        customer_id=customer_id,
        limit=limit,
        offset=offset,
    )
    return [ConversationOut.model_validate(c) for c in conversations]


@router.get("/conversations/{conversation_id}", response_model=ConversationOut)
def get_conversation(
    conversation_id: ResourceId,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> ConversationOut:
    conversation = desk.conversation_for(
        uow.session,
        shop_id=principal.shop_id,
        conversation_id=conversation_id,
        viewer=desk.viewer_of(uow.session, principal),
    )
    return ConversationOut.model_validate(conversation)


@router.get("/conversations/{conversation_id}/messages", response_model=list[MessageOut])
def list_messages(
    conversation_id: ResourceId,
    after_seq: int = Query(
        default=0, ge=0, le=MAX_ID, description="only messages after this sequence number"
    ),
    limit: int = Query(default=service.MAX_PAGE_SIZE, ge=1, le=service.MAX_PAGE_SIZE),
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> list[MessageOut]:
    viewer = desk.viewer_of(uow.session, principal)
    desk.conversation_for(
        uow.session, shop_id=principal.shop_id, conversation_id=conversation_id, viewer=viewer
    )
    messages = service.list_messages(
        uow.session,
        shop_id=principal.shop_id,
        conversation_id=conversation_id,
        after_seq=after_seq,
        limit=limit,
    )
    files = service.attachments_of(uow.session, messages)
    return [
        MessageOut.model_validate(
            desk.message_payload(m, files.get(m.attachment_id or 0), for_agents=True)
        )
        for m in messages
    ]
