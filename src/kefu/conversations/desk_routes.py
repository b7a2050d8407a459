"""The desk over REST: the same operations as the websocket, for pages and integrations."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from kefu.accounts.auth import Principal
from kefu.accounts.models import Presence, Role
from kefu.conversations import desk, desk_commerce
from kefu.conversations import service as conversations
from kefu.conversations.models import ConversationStatus, SenderType
from kefu.db import MAX_ID
from kefu.errors import PermissionDenied
from kefu.uow import UnitOfWork
from kefu.web.context import AppContext
from kefu.web.deps import ResourceId, api_principal, ensure_role, get_context, get_uow, require

router = APIRouter(prefix="/api/v1", tags=["desk"])
files = APIRouter(include_in_schema=False)
supervisor_only = require(Role.SUPERVISOR)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SendIn(_In):
    client_msg_id: str = Field(min_length=1, max_length=64)
    body: str = Field(default="", max_length=20_000)
    is_private: bool = False
    attachment_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class TransferIn(_In):
    team_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    agent_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class AssignIn(_In):
    agent_id: int = Field(ge=1, le=MAX_ID)


class ReadIn(_In):
    seq: int = Field(ge=0, le=MAX_ID)


class PresenceIn(_In):
    status: Presence


class CapacityIn(_In):
    capacity: int = Field(ge=0, le=50)


class CardIn(_In):
    kind: Literal["product", "order"]
    ref_id: int = Field(ge=1, le=MAX_ID)
    client_msg_id: str | None = Field(default=None, min_length=1, max_length=64)


def _agent_id(principal: Principal) -> int:
    """Desk actions are a person's: API tokens may read, but replies need an agent."""
    if principal.agent_id is None:
        raise PermissionDenied("this needs an agent's session, not an API token")
    return principal.agent_id


def _check(uow: UnitOfWork, principal: Principal, conversation_id: int) -> None:
    desk.conversation_for(
        uow.session,
        shop_id=principal.shop_id,
        conversation_id=conversation_id,
        viewer=desk.viewer_of(uow.session, principal),
    )


def _summary(uow: UnitOfWork, principal: Principal, conversation_id: int) -> dict[str, Any]:
    return desk.summary(uow.session, shop_id=principal.shop_id, conversation_id=conversation_id)


@router.get("/desk/conversations")
def desk_conversations(
    view: Literal["queue", "mine", "all"] = "all",
    status: ConversationStatus = ConversationStatus.OPEN,
    team_id: int | None = Query(default=None, ge=1, le=MAX_ID),
    limit: int = Query(default=100, ge=1, le=200),
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> dict[str, Any]:
    """Conversations for the desk's list: ``queue`` (waiting, oldest first), ``mine``, ``all``."""
    return {
        "conversations": desk.list_desk_conversations(
            uow.session,
            shop_id=principal.shop_id,
            viewer=desk.viewer_of(uow.session, principal),
            view=view,
            status=status,
            team_id=team_id,
            limit=limit,
        )
    }


@router.get("/desk/conversations/{conversation_id}")
def desk_conversation(
    conversation_id: ResourceId,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> dict[str, Any]:
    _check(uow, principal, conversation_id)
    return _summary(uow, principal, conversation_id)


@router.get("/desk/overview")
def desk_overview(
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> dict[str, Any]:
    return desk.overview(
        uow.session,
        shop_id=principal.shop_id,
        agent_id=principal.agent_id,
        viewer=desk.viewer_of(uow.session, principal),
        now=uow.clock.now(),
    )


@router.put("/desk/presence")
def set_presence(
    body: PresenceIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> dict[str, Any]:
    agent = conversations.set_agent_presence(
        uow, shop_id=principal.shop_id, agent_id=_agent_id(principal), status=body.status
    )
    return {"presence": agent.presence.value}


@router.put("/desk/agents/{agent_id}/capacity")
def set_capacity(
    agent_id: ResourceId,
    body: CapacityIn,
    principal: Principal = Depends(supervisor_only),
    uow: UnitOfWork = Depends(get_uow),
) -> dict[str, Any]:
    agent = conversations.set_agent_capacity(
        uow, shop_id=principal.shop_id, agent_id=agent_id, capacity=body.capacity
    )
    return {"id": agent.id, "capacity": agent.capacity}


@router.get("/conversations/{conversation_id}/context")
def conversation_context(
    conversation_id: ResourceId,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> dict[str, Any]:
    """The customer panel: the buyer's profile and recent orders."""
    return desk.context(
        uow.session,
        shop_id=principal.shop_id,
        conversation_id=conversation_id,
        viewer=desk.viewer_of(uow.session, principal),
    )


@router.post("/conversations/{conversation_id}/messages", status_code=201)
def post_message(
    conversation_id: ResourceId,
    body: SendIn,
    request: Request,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> Any:
    """Reply, or add a private note. A retry with the same ``client_msg_id`` answers 200 with
    the stored message."""
    _check(uow, principal, conversation_id)  # another shop's id: 404 for every caller
    agent_id = _agent_id(principal)
    before = conversations.find_by_client_id(
        uow.session, conversation_id=conversation_id, client_msg_id=body.client_msg_id
    )
    message = conversations.send_reply(
        uow,
        shop_id=principal.shop_id,
        conversation_id=conversation_id,
        client_msg_id=body.client_msg_id,
        body=body.body,
        sender_type=SenderType.AGENT,
        sender_agent_id=agent_id,
        is_private=body.is_private,
        attachment_id=body.attachment_id,
    )
    files_of = conversations.attachments_of(uow.session, [message])
    payload = desk.message_payload(
        message, files_of.get(message.attachment_id or 0), for_agents=True
    )
    return JSONResponse(payload, status_code=200 if before is not None else 201)


# --- commerce: product search, order details, cards ------------------------------------


@router.get("/desk/products")
def desk_products(
    q: str = Query(default="", max_length=100),
    limit: int = Query(default=20, ge=1, le=50),
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> dict[str, Any]:
    """Products to send as a card: SKU prefix or words of the title; off-sale ones too."""
    return {
        "products": desk_commerce.product_results(
            uow.session, shop_id=principal.shop_id, query=q, limit=limit
        )
    }


@router.get("/desk/orders/{order_id}")
def desk_order(
    order_id: ResourceId,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> dict[str, Any]:
    """An order's lines, amounts, timeline (shop time), shipping and address."""
    return desk_commerce.order_details(
        uow.session,
        shop_id=principal.shop_id,
        order_id=order_id,
        viewer=desk.viewer_of(uow.session, principal),
    )


@router.post("/desk/conversations/{conversation_id}/cards", status_code=201)
def send_card(
    conversation_id: ResourceId,
    body: CardIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> Any:
    """Send the buyer a product card or an order card (one of this buyer's orders)."""
    _check(uow, principal, conversation_id)  # another shop's id: 404 for every caller
    agent_id = _agent_id(principal)
    before = (
        conversations.find_by_client_id(
            uow.session, conversation_id=conversation_id, client_msg_id=body.client_msg_id
        )
        if body.client_msg_id
        else None
    )
    message = conversations.send_card(
        uow,
        shop_id=principal.shop_id,
        conversation_id=conversation_id,
        agent_id=agent_id,
        kind=body.kind,
        ref_id=body.ref_id,
        client_msg_id=body.client_msg_id,
    )
    payload = desk.message_payload(message, None, for_agents=True)
    return JSONResponse(payload, status_code=200 if before is not None else 201)


@router.post("/conversations/{conversation_id}/transfer")
def transfer(
    conversation_id: ResourceId,
    body: TransferIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> dict[str, Any]:
    """To another team (its queue, then routing) or to an agent (接入: to yourself)."""
    _check(uow, principal, conversation_id)
    conversations.transfer_conversation(
        uow,
        shop_id=principal.shop_id,
        conversation_id=conversation_id,
        by_agent_id=principal.agent_id,
        team_id=body.team_id,
        agent_id=body.agent_id,
    )
    return _summary(uow, principal, conversation_id)


@router.post("/conversations/{conversation_id}/assign")
def assign(
    conversation_id: ResourceId,
    body: AssignIn,
    principal: Principal = Depends(supervisor_only),
    uow: UnitOfWork = Depends(get_uow),
) -> dict[str, Any]:
    """A supervisor gives the conversation to an agent."""
    conversations.transfer_conversation(
        uow,
        shop_id=principal.shop_id,
        conversation_id=conversation_id,
        by_agent_id=principal.agent_id,
        agent_id=body.agent_id,
    )
    return _summary(uow, principal, conversation_id)


@router.post("/conversations/{conversation_id}/close")
def close(
    conversation_id: ResourceId,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> dict[str, Any]:
    _check(uow, principal, conversation_id)
    conversations.close_conversation(
        uow,
        shop_id=principal.shop_id,
        conversation_id=conversation_id,
        closed_by_agent_id=principal.agent_id,
    )
    return _summary(uow, principal, conversation_id)


@router.post("/conversations/{conversation_id}/reopen")
def reopen(
    conversation_id: ResourceId,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> dict[str, Any]:
    _check(uow, principal, conversation_id)
    conversations.reopen_conversation(
        uow,
        shop_id=principal.shop_id,
        conversation_id=conversation_id,
        by_agent_id=_agent_id(principal),
    )
    return _summary(uow, principal, conversation_id)


@router.post("/conversations/{conversation_id}/read")
def mark_read(
    conversation_id: ResourceId,
    body: ReadIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> dict[str, Any]:
    _check(uow, principal, conversation_id)
    conversations.update_receipts(
        uow, shop_id=principal.shop_id, conversation_id=conversation_id, shop_read_seq=body.seq
    )
    return _summary(uow, principal, conversation_id)


@router.post("/uploads", status_code=201)
def upload(
    file: UploadFile = File(...),
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
    context: AppContext = Depends(get_context),
) -> dict[str, Any] | None:
    """An image to send in a conversation (PNG, JPEG, GIF or WebP)."""
    ensure_role(principal, Role.AGENT)
    settings = context.settings
    data = file.file.read(settings.max_upload_bytes + 1)
    attachment = conversations.store_upload(
        uow,
        shop_id=principal.shop_id,
        directory=settings.uploads_path,
        data=data,
        filename=file.filename or "",
        max_bytes=settings.max_upload_bytes,
        agent_id=_agent_id(principal),
    )
    return desk.attachment_payload(attachment)


@files.get("/uploads/{key}")
def uploaded_file(
    key: str, uow: UnitOfWork = Depends(get_uow), context: AppContext = Depends(get_context)
) -> FileResponse:
    """A sent image. The random key is the capability: it appears only in conversations."""
    attachment = conversations.find_by_key(uow.session, key=key)
    return FileResponse(
        context.settings.uploads_path / attachment.key,
        media_type=attachment.content_type,
        headers={"Cache-Control": "private, max-age=31536000, immutable"},
    )
