"""``/ws/desk``: an agent's desk. Authenticated by the session cookie, same origin only."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import anyio
from anyio import to_thread
from fastapi import APIRouter, WebSocket

from kefu.accounts import auth, presence
from kefu.accounts.auth import Principal
from kefu.accounts.models import Presence
from kefu.conversations import desk
from kefu.conversations import service as conversations
from kefu.conversations.models import SenderType
from kefu.errors import DomainError, Unauthenticated
from kefu.realtime.frames import (
    AgentPresence,
    AgentReceipt,
    AgentSend,
    AgentSync,
    AgentTyping,
    BadFrame,
    Ping,
    parse_agent,
)
from kefu.realtime.hub import Audience, Connection, agent_channel, buyer_channel, shop_channel
from kefu.realtime.runtime import Realtime
from kefu.realtime.sockets import (
    TYPING_EVERY,
    UNAUTHORISED,
    SocketSession,
    context_of,
    error_frame,
    guard,
    rate_limited,
    refuse,
    serve,
    when_stored,
)
from kefu.uow import UnitOfWork
from kefu.web.context import AppContext
from kefu.web.i18n import pick_locale
from kefu.web.security import SESSION_COOKIE

router = APIRouter()


# --- agent ---------------------------------------------------------------------------


WATCH_LIMIT = 20
RECHECK_PREFIX = '{"type":"recheck"'


@dataclass
class PendingReceipt:
    delivered: int
    read: int | None

    def raise_to(self, *, delivered: int, read: int | None) -> None:
        self.delivered = max(self.delivered, delivered)
        if read is not None:
            self.read = max(self.read or 0, read)


class DeskSocket(SocketSession):
    def __init__(
        self,
        context: AppContext,
        principal: Principal,
        viewer: desk.Viewer,
        locale: str,
        raw_token: str = "",
    ) -> None:
        super().__init__(context, locale)
        self.raw_token = raw_token
        self.recheck: asyncio.Future[None] | None = None
        self.principal = principal
        self.viewer = viewer
        self.customers: dict[int, int] = {}  # conversation → customer, for typing frames
        self.last_typing: dict[int, float] = {}
        # Conversations this desk opened (synced): it hears their messages live even when
        # they are a colleague's. The most recent few only.
        self.watching: dict[int, None] = {}
        # Receipts waiting for the writer, per conversation.
        self.receipts: dict[int, PendingReceipt] = {}

    @property
    def agent_id(self) -> int:
        assert self.principal.agent_id is not None
        return self.principal.agent_id

    def accepts(self, audience: Audience | None) -> bool:
        if audience is None or self.viewer.shop_wide:
            return True
        if self.agent_id in audience.agent_ids or audience.conversation_id in self.watching:
            return True
        return bool(self.viewer.team_ids and audience.team_ids & self.viewer.team_ids)

    def control(self, text: str) -> None:
        """The agent's access changed somewhere: check the session again before anything.
        Other frames on the agent's channel (notifications, for /ws/staff) are not the desk's."""
        if not text.startswith(RECHECK_PREFIX):
            return
        if self.recheck is None or self.recheck.done():
            self.recheck = asyncio.ensure_future(self._recheck())

    async def _recheck(self) -> None:
        principal, raw = self.principal, self.raw_token

        def check(uow: UnitOfWork) -> tuple[Principal, desk.Viewer]:
            fresh = auth.resolve_session(uow, raw_token=raw)
            viewer = desk.viewer_of(uow.session, fresh)
            return fresh, viewer

        try:
            self.principal, self.viewer = await self.run(check)
        except DomainError as exc:
            self.connection.send(error_frame(exc, self.locale))
            self.connection.close_code = UNAUTHORISED
            self.connection.close()
            return
        assert self.principal.agent_id == principal.agent_id  # same session, same person

    async def handle(self, text: str) -> None:
        if self.recheck is not None:
            await asyncio.shield(self.recheck)
        if self.connection.close_code is not None:
            return  # revoked: nothing more is handled
        try:
            frame = parse_agent(text)
        except BadFrame as exc:
            self.refuse_frame(exc)
            return
        client_msg_id = frame.client_msg_id if isinstance(frame, AgentSend) else None
        await guard(self.connection, self.locale, client_msg_id, self._dispatch(frame))

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
        if wait and not await self.already_stored(frame.conversation_id, frame.client_msg_id):
            raise rate_limited(wait)  # a resent reply is answered whatever the allowance
        conversations.check_body(frame.body, allow_empty=frame.attachment_id is not None)
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
            files = conversations.attachments_of(uow.session, [message])
            return desk.message_payload(
                message, files.get(message.attachment_id or 0), for_agents=True
            )

        when_stored(
            self.connection,
            self.locale,
            self.realtime.writer.enqueue(job),
            client_msg_id=frame.client_msg_id,
            then=lambda payload: self.connection.send(
                {"type": "ack", "client_msg_id": frame.client_msg_id, "message": payload}
            ),
        )

    async def sync(self, frame: AgentSync) -> None:
        shop_id, viewer = self.principal.shop_id, self.viewer

        def read(uow: UnitOfWork) -> dict[str, Any]:
            conversation = desk.conversation_for(
                uow.session, shop_id=shop_id, conversation_id=frame.conversation_id, viewer=viewer
            )
            rows = conversations.list_messages(
                uow.session,
                shop_id=shop_id,
                conversation_id=conversation.id,
                after_seq=frame.after_seq,
            )
            files = conversations.attachments_of(uow.session, rows)
            return {
                "type": "sync",
                "conversation_id": conversation.id,
                "messages": [
                    desk.message_payload(m, files.get(m.attachment_id or 0), for_agents=True)
                    for m in rows
                ],
                "last_seq": conversation.last_seq,
                "buyer_read_seq": conversation.buyer_read_seq,
            }

        reply = await self.run(read)
        self.watching.pop(frame.conversation_id, None)
        self.watching[frame.conversation_id] = None
        while len(self.watching) > WATCH_LIMIT:
            del self.watching[next(iter(self.watching))]
        self.connection.send(reply)

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

            customer_id = self.customers[conversation_id] = await self.run(find)
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
        """Receipts are coalesced per conversation and written in the writer's batches: a
        desk acknowledging every line of a busy chat costs one update, not one each."""
        conversation_id = frame.conversation_id
        read = frame.seq if frame.type == "read" else None
        pending = self.receipts.get(conversation_id)
        if pending is not None:
            pending.raise_to(delivered=frame.seq, read=read)
            return
        self.receipts[conversation_id] = PendingReceipt(delivered=frame.seq, read=read)
        shop_id, viewer = self.principal.shop_id, self.viewer

        def job(uow: UnitOfWork) -> None:
            receipt = self.receipts.pop(conversation_id, None) or PendingReceipt(frame.seq, read)
            desk.conversation_for(
                uow.session, shop_id=shop_id, conversation_id=conversation_id, viewer=viewer
            )
            conversations.update_receipts(
                uow,
                shop_id=shop_id,
                conversation_id=conversation_id,
                shop_read_seq=receipt.read,
                shop_delivered_seq=receipt.delivered,
                commit=False,
            )

        when_stored(
            self.connection,
            self.locale,
            self.realtime.writer.enqueue(job),
            client_msg_id=None,
            then=lambda _: None,
        )

    async def set_presence(self, frame: AgentPresence) -> None:
        shop_id, agent_id = self.principal.shop_id, self.agent_id

        def job(uow: UnitOfWork) -> None:
            conversations.set_agent_presence(
                uow, shop_id=shop_id, agent_id=agent_id, status=Presence(frame.status)
            )

        await self.run(job)


def same_origin(websocket: WebSocket) -> bool:
    """Browsers send Origin on websockets; a page of another site must not ride the cookie."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True  # not a browser (a script with the cookie is already trusted with it)
    return urlsplit(origin).netloc == websocket.headers.get("host", "")


@router.websocket("/ws/desk")
async def desk_socket(websocket: WebSocket) -> None:
    context = context_of(websocket)
    locale = pick_locale(websocket.cookies.get("kefu_lang"))
    await websocket.accept()
    if not same_origin(websocket):
        await refuse(
            websocket,
            Unauthenticated("websocket from another origin", key="errors.unauthenticated"),
            locale,
        )
        return
    raw = websocket.cookies.get(SESSION_COOKIE, "")

    def open_desk() -> tuple[Principal, desk.Viewer, dict[str, Any]]:
        with context.unit_of_work() as uow:
            principal = auth.resolve_session(uow, raw_token=raw)
            assert principal.agent_id is not None
            viewer = desk.viewer_of(uow.session, principal)
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
        await refuse(websocket, exc, locale)
        return
    realtime: Realtime = context.realtime
    socket = DeskSocket(context, principal, viewer, locale, raw_token=raw)
    socket.connection = Connection(
        websocket,
        channels=(shop_channel(principal.shop_id), agent_channel(socket.agent_id)),
        accepts=socket.accepts,
        control=socket.control,
    )
    socket.connection.send(ready)
    realtime.desks[socket.agent_id] += 1
    try:
        await serve(websocket, socket.connection, realtime, socket.handle)
    finally:
        realtime.desks[socket.agent_id] -= 1
        if realtime.desks[socket.agent_id] <= 0:
            del realtime.desks[socket.agent_id]

            def gone() -> None:
                with context.unit_of_work() as uow:
                    presence.desk_disconnected(
                        uow, shop_id=principal.shop_id, agent_id=socket.agent_id
                    )

            # Shielded: when the server cancels the handler (shutdown, or an ASGI server or
            # test client that cancels on disconnect) colleagues must still see them go.
            with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                await to_thread.run_sync(gone)
