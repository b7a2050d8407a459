"""The two websockets: ``/ws/widget`` (a buyer's tabs) and ``/ws/desk`` (an agent's desk).

Each connection reads frames in order and answers through its own outbox (one writer per
socket). Writes go through the group-commit writer; reads run in worker threads. A bad
frame gets an error frame and the connection stays up (docs/REALTIME.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from anyio import to_thread
from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from kefu.accounts import auth, presence
from kefu.accounts.auth import Principal
from kefu.accounts.models import Presence, Role
from kefu.channels import service as widget
from kefu.channels.service import Visitor
from kefu.conversations import desk, messages
from kefu.conversations import service as conversations
from kefu.conversations.models import Channel, SenderType
from kefu.errors import DomainError, RateLimited
from kefu.realtime.frames import (
    AgentPresence,
    AgentReceipt,
    AgentSend,
    AgentSync,
    AgentTyping,
    BadFrame,
    BuyerRead,
    BuyerSend,
    BuyerSync,
    Ping,
    Typing,
    parse_agent,
    parse_buyer,
)
from kefu.realtime.hub import Audience, Connection, buyer_channel, encode, shop_channel
from kefu.realtime.runtime import Realtime
from kefu.uow import UnitOfWork
from kefu.web.context import AppContext
from kefu.web.errors import localised
from kefu.web.i18n import pick_locale
from kefu.web.security import SESSION_COOKIE

log = logging.getLogger(__name__)
router = APIRouter()

UNAUTHORISED = 4401  # "start again with other credentials": clients must not just retry
TOO_SLOW = 1013
TYPING_EVERY = 1.0  # seconds; typing frames beyond this are dropped


def _context(websocket: WebSocket) -> AppContext:
    context: AppContext = websocket.app.state.kefu
    return context


def _error(exc: DomainError, locale: str, client_msg_id: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": exc.code, "message": localised(locale, exc)}
    if isinstance(exc, RateLimited):
        frame["retry_after"] = exc.retry_after_seconds
    if client_msg_id is not None:
        frame["client_msg_id"] = client_msg_id
    return frame


def _rate_limited(seconds: int) -> RateLimited:
    return RateLimited(
        f"too many messages; wait {seconds} s",
        retry_after_seconds=seconds,
        key="errors.too_many_messages",
    )


async def _refuse(websocket: WebSocket, exc: DomainError, locale: str) -> None:
    await websocket.send_text(encode(_error(exc, locale)))
    await websocket.close(UNAUTHORISED)


async def _serve(
    websocket: WebSocket,
    connection: Connection,
    realtime: Realtime,
    handle: Callable[[str], Awaitable[None]],
) -> None:
    """Pump the outbox and read frames until either side ends."""
    realtime.hub.add(connection)
    pump = asyncio.create_task(connection.pump())

    async def read() -> None:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                connection.send(
                    {"type": "error", "code": "bad_frame", "message": "frames are JSON text"}
                )
                continue
            await handle(text)

    reader = asyncio.create_task(read())
    try:
        await asyncio.wait({pump, reader}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        realtime.hub.remove(connection)
        for task in (reader, pump):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, Exception):
                await task
        if connection.overflowed:
            with contextlib.suppress(Exception):
                await websocket.close(TOO_SLOW)


async def _guard(
    connection: Connection, locale: str, client_msg_id: str | None, step: Awaitable[None]
) -> None:
    try:
        await step
    except DomainError as exc:
        connection.send(_error(exc, locale, client_msg_id))
    except Exception:
        log.exception("websocket frame failed")
        frame: dict[str, Any] = {
            "type": "error",
            "code": "server_error",
            "message": "the server could not handle this frame",
        }
        if client_msg_id is not None:
            frame["client_msg_id"] = client_msg_id
        connection.send(frame)


# --- buyer ---------------------------------------------------------------------------


class BuyerSocket:
    def __init__(self, context: AppContext, visitor: Visitor, locale: str) -> None:
        self.context = context
        self.realtime: Realtime = context.realtime
        self.visitor = visitor
        self.locale = locale
        self.conversation_id: int | None = None
        self.last_typing = 0.0
        self.connection: Connection

    def _read(self, fn: Callable[[UnitOfWork], Any]) -> Awaitable[Any]:
        def run() -> Any:
            with self.context.unit_of_work() as uow:
                return fn(uow)

        return to_thread.run_sync(run)

    async def handle(self, text: str) -> None:
        try:
            frame = parse_buyer(text)
        except BadFrame as exc:
            self.connection.send(
                {"type": "error", "code": "bad_frame", "message": exc.message}
                | ({"client_msg_id": exc.client_msg_id} if exc.client_msg_id else {})
            )
            return
        client_msg_id = frame.client_msg_id if isinstance(frame, BuyerSend) else None
        await _guard(self.connection, self.locale, client_msg_id, self._dispatch(frame))

    async def _dispatch(self, frame: BuyerSend | BuyerSync | BuyerRead | Typing | Ping) -> None:
        if isinstance(frame, Ping):
            self.connection.send({"type": "pong"})
        elif isinstance(frame, BuyerSend):
            await self.send(frame)
        elif isinstance(frame, BuyerSync):
            await self.sync(frame.after_seq)
        elif isinstance(frame, Typing):
            self.typing()
        else:
            await self.read(frame.seq)

    async def send(self, frame: BuyerSend) -> None:
        visitor = self.visitor
        wait = self.realtime.buyer_limits.retry_after(
            f"buyer:{visitor.shop_id}:{visitor.customer_id}"
        )
        if wait:
            raise _rate_limited(wait)
        messages.check_body(frame.body, allow_empty=frame.attachment_id is not None)

        def job(uow: UnitOfWork) -> dict[str, Any]:
            message = conversations.receive_customer_message(
                uow,
                shop_id=visitor.shop_id,
                customer_id=visitor.customer_id,
                channel=Channel.WIDGET,
                client_msg_id=frame.client_msg_id,
                body=frame.body,
                attachment_id=frame.attachment_id,
                commit=False,
            )
            attachment = messages.attachments_of(uow.session, [message])
            return desk.message_payload(message, attachment.get(message.attachment_id or 0))

        payload = await self.realtime.writer.submit(job)
        self.conversation_id = payload["conversation_id"]
        self.connection.send(
            {"type": "ack", "client_msg_id": frame.client_msg_id, "message": payload}
        )

    async def sync(self, after_seq: int) -> None:
        visitor = self.visitor

        def read(uow: UnitOfWork) -> dict[str, Any]:
            conversation = widget.buyer_conversation(uow.session, visitor=visitor)
            if conversation is None:
                return {"type": "sync", "conversation_id": None, "messages": [], "last_seq": 0}
            rows = messages.list_messages(
                uow.session,
                shop_id=visitor.shop_id,
                conversation_id=conversation.id,
                after_seq=after_seq,
                include_private=False,
            )
            files = messages.attachments_of(uow.session, rows)
            return {
                "type": "sync",
                "conversation_id": conversation.id,
                "messages": [
                    desk.message_payload(m, files.get(m.attachment_id or 0)) for m in rows
                ],
                "last_seq": conversation.last_seq,
                "shop_delivered_seq": conversation.shop_delivered_seq,
                "shop_read_seq": conversation.shop_read_seq,
            }

        reply = await self._read(read)
        self.conversation_id = reply["conversation_id"] or self.conversation_id
        self.connection.send(reply)

    def typing(self) -> None:
        now = time.monotonic()
        if self.conversation_id is None or now - self.last_typing < TYPING_EVERY:
            return
        self.last_typing = now
        self.realtime.hub.publish(
            shop_channel(self.visitor.shop_id),
            {"type": "typing", "conversation_id": self.conversation_id, "sender_type": "customer"},
        )

    async def read(self, seq: int) -> None:
        if self.conversation_id is None:
            return
        visitor, conversation_id = self.visitor, self.conversation_id

        def job(uow: UnitOfWork) -> None:
            messages.update_receipts(
                uow, shop_id=visitor.shop_id, conversation_id=conversation_id, buyer_read_seq=seq
            )

        await self._read(job)


@router.websocket("/ws/widget")
async def widget_socket(websocket: WebSocket) -> None:
    context = _context(websocket)
    locale = pick_locale(
        websocket.query_params.get("lang"), websocket.headers.get("accept-language")
    )
    await websocket.accept()
    token = websocket.query_params.get("token", "")

    def open_buyer() -> tuple[Visitor, dict[str, Any]]:
        with context.unit_of_work() as uow:
            visitor = widget.visitor_from_token(
                uow, secret=context.settings.secret_key, token=token
            )
            conversation = widget.buyer_conversation(uow.session, visitor=visitor)
            return visitor, {
                "type": "ready",
                "conversation_id": conversation.id if conversation else None,
                "last_seq": conversation.last_seq if conversation else 0,
                "shop_delivered_seq": conversation.shop_delivered_seq if conversation else 0,
                "shop_read_seq": conversation.shop_read_seq if conversation else 0,
            }

    try:
        visitor, ready = await to_thread.run_sync(open_buyer)
    except DomainError as exc:
        await _refuse(websocket, exc, locale)
        return
    socket = BuyerSocket(context, visitor, locale)
    socket.conversation_id = ready["conversation_id"]
    socket.connection = Connection(
        websocket, channels=(buyer_channel(visitor.shop_id, visitor.customer_id),)
    )
    socket.connection.send(ready)
    await _serve(websocket, socket.connection, context.realtime, socket.handle)


# --- agent ---------------------------------------------------------------------------


class DeskSocket:
    def __init__(
        self, context: AppContext, principal: Principal, viewer: desk.Viewer, locale: str
    ) -> None:
        self.context = context
        self.realtime: Realtime = context.realtime
        self.principal = principal
        self.viewer = viewer
        self.locale = locale
        self.customers: dict[int, int] = {}  # conversation → customer, for typing frames
        self.last_typing: dict[int, float] = {}
        self.connection: Connection

    @property
    def agent_id(self) -> int:
        assert self.principal.agent_id is not None
        return self.principal.agent_id

    def accepts(self, audience: Audience | None) -> bool:
        if audience is None or self.viewer.shop_wide:
            return True
        if self.agent_id in audience.agent_ids:
            return True
        return bool(self.viewer.team_ids and audience.team_ids & self.viewer.team_ids)

    def _run(self, fn: Callable[[UnitOfWork], Any]) -> Awaitable[Any]:
        def run() -> Any:
            with self.context.unit_of_work() as uow:
                return fn(uow)

        return to_thread.run_sync(run)

    async def handle(self, text: str) -> None:
        try:
            frame = parse_agent(text)
        except BadFrame as exc:
            self.connection.send(
                {"type": "error", "code": "bad_frame", "message": exc.message}
                | ({"client_msg_id": exc.client_msg_id} if exc.client_msg_id else {})
            )
            return
        client_msg_id = frame.client_msg_id if isinstance(frame, AgentSend) else None
        await _guard(self.connection, self.locale, client_msg_id, self._dispatch(frame))

    async def _dispatch(
        self, frame: AgentSend | AgentSync | AgentTyping | AgentReceipt | AgentPresence | Ping
    ) -> None:
        if isinstance(frame, Ping):
            self.connection.send({"type": "pong"})
        elif isinstance(frame, AgentSend):
            await self.send(frame)
        elif isinstance(frame, AgentSync):
            await self.sync(frame)
        elif isinstance(frame, AgentTyping):
            await self.typing(frame.conversation_id)
        elif isinstance(frame, AgentReceipt):
            await self.receipt(frame)
        else:
            await self.set_presence(frame)

    async def send(self, frame: AgentSend) -> None:
        wait = self.realtime.agent_limits.retry_after(f"agent:{self.agent_id}")
        if wait:
            raise _rate_limited(wait)
        messages.check_body(frame.body, allow_empty=frame.attachment_id is not None)
        shop_id, agent_id, name, viewer = (
            self.principal.shop_id,
            self.agent_id,
            self.principal.name,
            self.viewer,
        )

        def job(uow: UnitOfWork) -> dict[str, Any]:
            desk.conversation_for(
                uow.session, shop_id=shop_id, conversation_id=frame.conversation_id, viewer=viewer
            )
            message = conversations.send_reply(
                uow,
                shop_id=shop_id,
                conversation_id=frame.conversation_id,
                client_msg_id=frame.client_msg_id,
                body=frame.body,
                sender_type=SenderType.AGENT,
                sender_agent_id=agent_id,
                sender_name=name,
                is_private=frame.is_private,
                attachment_id=frame.attachment_id,
                commit=False,
            )
            files = messages.attachments_of(uow.session, [message])
            return desk.message_payload(message, files.get(message.attachment_id or 0))

        payload = await self.realtime.writer.submit(job)
        self.connection.send(
            {"type": "ack", "client_msg_id": frame.client_msg_id, "message": payload}
        )

    async def sync(self, frame: AgentSync) -> None:
        shop_id, viewer = self.principal.shop_id, self.viewer

        def read(uow: UnitOfWork) -> dict[str, Any]:
            conversation = desk.conversation_for(
                uow.session, shop_id=shop_id, conversation_id=frame.conversation_id, viewer=viewer
            )
            rows = messages.list_messages(
                uow.session,
                shop_id=shop_id,
                conversation_id=conversation.id,
                after_seq=frame.after_seq,
            )
            files = messages.attachments_of(uow.session, rows)
            return {
                "type": "sync",
                "conversation_id": conversation.id,
                "messages": [
                    desk.message_payload(m, files.get(m.attachment_id or 0)) for m in rows
                ],
                "last_seq": conversation.last_seq,
                "buyer_read_seq": conversation.buyer_read_seq,
            }

        self.connection.send(await self._run(read))

    async def typing(self, conversation_id: int) -> None:
        now = time.monotonic()
        if now - self.last_typing.get(conversation_id, 0.0) < TYPING_EVERY:
            return
        self.last_typing[conversation_id] = now
        customer_id = self.customers.get(conversation_id)
        if customer_id is None:
            shop_id, viewer = self.principal.shop_id, self.viewer

            def find(uow: UnitOfWork) -> int:
                return desk.conversation_for(
                    uow.session, shop_id=shop_id, conversation_id=conversation_id, viewer=viewer
                ).customer_id

            customer_id = self.customers[conversation_id] = await self._run(find)
        self.realtime.hub.publish(
            buyer_channel(self.principal.shop_id, customer_id),
            {
                "type": "typing",
                "conversation_id": conversation_id,
                "sender_type": "agent",
                "name": self.principal.name,
            },
        )

    async def receipt(self, frame: AgentReceipt) -> None:
        shop_id, viewer = self.principal.shop_id, self.viewer

        def job(uow: UnitOfWork) -> None:
            desk.conversation_for(
                uow.session, shop_id=shop_id, conversation_id=frame.conversation_id, viewer=viewer
            )
            messages.update_receipts(
                uow,
                shop_id=shop_id,
                conversation_id=frame.conversation_id,
                shop_read_seq=frame.seq if frame.type == "read" else None,
                shop_delivered_seq=frame.seq,
            )

        await self._run(job)

    async def set_presence(self, frame: AgentPresence) -> None:
        shop_id, agent_id = self.principal.shop_id, self.agent_id

        def job(uow: UnitOfWork) -> None:
            conversations.set_agent_presence(
                uow, shop_id=shop_id, agent_id=agent_id, status=Presence(frame.status)
            )

        await self._run(job)


def _same_origin(websocket: WebSocket) -> bool:
    """Browsers send Origin on websockets; a page of another site must not ride the cookie."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True  # not a browser (a script with the cookie is already trusted with it)
    return urlsplit(origin).netloc == websocket.headers.get("host", "")


@router.websocket("/ws/desk")
async def desk_socket(websocket: WebSocket) -> None:
    context = _context(websocket)
    locale = pick_locale(websocket.cookies.get("kefu_lang"))
    await websocket.accept()
    if not _same_origin(websocket):
        await _refuse(
            websocket,
            DomainError("websocket from another origin", key="errors.unauthenticated"),
            locale,
        )
        return
    raw = websocket.cookies.get(SESSION_COOKIE, "")

    def open_desk() -> tuple[Principal, desk.Viewer, dict[str, Any]]:
        with context.unit_of_work() as uow:
            principal = auth.resolve_session(uow, raw_token=raw)
            assert principal.agent_id is not None
            viewer = desk.viewer_for(
                uow.session,
                shop_id=principal.shop_id,
                agent_id=principal.agent_id,
                shop_wide=principal.has_role(Role.SUPERVISOR),
            )
            agent = conversations.desk_connected(
                uow, shop_id=principal.shop_id, agent_id=principal.agent_id
            )
            return (
                principal,
                viewer,
                {
                    "type": "ready",
                    "agent": {
                        "id": agent.id,
                        "name": agent.display_name,
                        "role": agent.role.value,
                        "presence": presence.effective_presence(agent, now=uow.clock.now()).value,
                        "capacity": agent.capacity,
                    },
                },
            )

    try:
        principal, viewer, ready = await to_thread.run_sync(open_desk)
    except DomainError as exc:
        await _refuse(websocket, exc, locale)
        return
    realtime: Realtime = context.realtime
    socket = DeskSocket(context, principal, viewer, locale)
    socket.connection = Connection(
        websocket, channels=(shop_channel(principal.shop_id),), accepts=socket.accepts
    )
    socket.connection.send(ready)
    realtime.desks[socket.agent_id] += 1
    try:
        await _serve(websocket, socket.connection, realtime, socket.handle)
    finally:
        realtime.desks[socket.agent_id] -= 1
        if realtime.desks[socket.agent_id] <= 0:
            del realtime.desks[socket.agent_id]

            def gone() -> None:
                with context.unit_of_work() as uow:
                    presence.desk_disconnected(
                        uow, shop_id=principal.shop_id, agent_id=socket.agent_id
                    )

            with contextlib.suppress(Exception):
                await to_thread.run_sync(gone)
