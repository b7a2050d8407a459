"""The chat widget's REST API (docs/REALTIME.md): start a session, read, send, upload.

Buyers authenticate with ``X-Visitor-Token``; nothing here uses agents' cookies, so the
widget works inside an iframe on any shop's site.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Header, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from kefu.channels import service as widget
from kefu.channels.service import Visitor
from kefu.channels.visitors import MAX_IDENTITY_LENGTH, MAX_TOKEN_LENGTH, InvalidVisitorToken
from kefu.conversations import desk
from kefu.conversations import service as conversations
from kefu.conversations.models import Channel
from kefu.db import MAX_ID
from kefu.errors import RateLimited
from kefu.uow import UnitOfWork
from kefu.web.context import AppContext
from kefu.web.deps import client_address, get_context, get_uow

router = APIRouter(prefix="/api/v1/widget", tags=["widget"])


class SessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    visitor_token: str | None = Field(default=None, max_length=MAX_TOKEN_LENGTH)
    identity: str | None = Field(default=None, max_length=MAX_IDENTITY_LENGTH)
    signature: str | None = Field(default=None, max_length=128)


class SendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_msg_id: str = Field(min_length=1, max_length=64)
    body: str = Field(default="", max_length=20_000)
    attachment_id: int | None = Field(default=None, ge=1, le=MAX_ID)


def visitor(
    x_visitor_token: str = Header(default="", max_length=MAX_TOKEN_LENGTH),
    uow: UnitOfWork = Depends(get_uow),
    context: AppContext = Depends(get_context),
) -> Visitor:
    if not x_visitor_token:
        raise InvalidVisitorToken(
            "send the header X-Visitor-Token", key="errors.invalid_visitor_token"
        )
    return widget.visitor_from_token(uow, secret=context.settings.secret_key, token=x_visitor_token)


def _payloads(uow: UnitOfWork, rows: list[Any]) -> list[dict[str, Any]]:
    files = conversations.attachments_of(uow.session, rows)
    return [desk.message_payload(m, files.get(m.attachment_id or 0)) for m in rows]


@router.post("/{shop}/session")
def start_session(
    shop: str,
    body: SessionIn,
    request: Request,
    uow: UnitOfWork = Depends(get_uow),
    context: AppContext = Depends(get_context),
) -> dict[str, Any]:
    """Start or resume the widget: the visitor token to keep, and the recent history."""
    if not body.visitor_token and not body.identity:
        wait = context.realtime.new_visitor_limits.retry_after(
            f"new-visitor:{client_address(request)}"
        )
        if wait:
            raise RateLimited(
                f"too many new chats from this address; wait {wait} s",
                retry_after_seconds=wait,
                key="errors.too_many_new_chats",
            )
    started = widget.start_session(
        uow,
        secret=context.settings.secret_key,
        shop_slug=shop,
        visitor_token=body.visitor_token,
        identity=body.identity,
        signature=body.signature,
    )
    conversation = started.conversation
    return {
        "visitor_token": started.visitor_token,
        "shop": {"name": started.shop.name, "slug": started.shop.slug},
        "customer": {
            "id": started.customer.id,
            "display_name": desk.customer_display_name(started.customer),
        },
        "conversation": None
        if conversation is None
        else {
            "id": conversation.id,
            "status": conversation.status.value,
            "last_seq": conversation.last_seq,
            "shop_delivered_seq": conversation.shop_delivered_seq,
            "shop_read_seq": conversation.shop_read_seq,
        },
        "messages": _payloads(uow, started.messages),
        "limits": {
            "max_length": conversations.MAX_MESSAGE_LENGTH,
            "max_upload_bytes": context.settings.max_upload_bytes,
        },
    }


@router.get("/messages")
def list_messages(
    after_seq: int = Query(default=0, ge=0, le=MAX_ID),
    buyer: Visitor = Depends(visitor),
    uow: UnitOfWork = Depends(get_uow),
) -> dict[str, Any]:
    """The buyer's messages after a sequence number (never the shop's private notes)."""
    conversation = widget.buyer_conversation(uow.session, visitor=buyer)
    if conversation is None:
        return {"conversation_id": None, "messages": [], "last_seq": 0}
    rows = conversations.list_messages(
        uow.session,
        shop_id=buyer.shop_id,
        conversation_id=conversation.id,
        after_seq=after_seq,
        include_private=False,
    )
    return {
        "conversation_id": conversation.id,
        "messages": _payloads(uow, rows),
        "last_seq": conversation.last_seq,
    }


@router.post("/messages", status_code=201)
def send_message(
    body: SendIn,
    buyer: Visitor = Depends(visitor),
    uow: UnitOfWork = Depends(get_uow),
    context: AppContext = Depends(get_context),
) -> JSONResponse:
    """Send a message; a retry with the same ``client_msg_id`` answers 200, not a copy."""
    conversation = widget.buyer_conversation(uow.session, visitor=buyer)
    before = (
        conversations.find_by_client_id(
            uow.session, conversation_id=conversation.id, client_msg_id=body.client_msg_id
        )
        if conversation is not None
        else None
    )
    if before is None:
        wait = context.realtime.buyer_limits.retry_after(
            f"buyer:{buyer.shop_id}:{buyer.customer_id}"
        )
        if wait:
            raise RateLimited(
                f"too many messages; wait {wait} s",
                retry_after_seconds=wait,
                key="errors.too_many_messages",
            )
    message = conversations.receive_customer_message(
        uow,
        shop_id=buyer.shop_id,
        customer_id=buyer.customer_id,
        channel=Channel.WIDGET,
        client_msg_id=body.client_msg_id,
        body=body.body,
        attachment_id=body.attachment_id,
    )
    return JSONResponse(_payloads(uow, [message])[0], status_code=200 if before else 201)


@router.post("/uploads", status_code=201)
def upload(
    file: UploadFile = File(...),
    buyer: Visitor = Depends(visitor),
    uow: UnitOfWork = Depends(get_uow),
    context: AppContext = Depends(get_context),
) -> dict[str, Any] | None:
    """An image the buyer wants to send (PNG, JPEG, GIF or WebP, checked by content)."""
    settings = context.settings
    attachment = conversations.store_upload(
        uow,
        shop_id=buyer.shop_id,
        directory=settings.uploads_path,
        data=file.file.read(settings.max_upload_bytes + 1),
        filename=file.filename or "",
        max_bytes=settings.max_upload_bytes,
        customer_id=buyer.customer_id,
    )
    return desk.attachment_payload(attachment)
