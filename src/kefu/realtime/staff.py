"""``/ws/staff``: live updates for the staff's pages — ticket lists and ticket pages, and the
header bell on every page.

Read-only: the browser sends nothing but ``ping``. Authenticated by the session cookie,
same origin only, exactly like ``/ws/desk`` — but it never touches desk presence: a
supervisor reading tickets must not become available for chats because a page is open.

What it forwards:
- ``ticket`` frames from the shop channel (and nothing else of it: messages, presence and
  conversation summaries are the desk's, filtered there by team);
- ``notification`` frames from the agent's own channel (control frames there stay
  server-side; a ``recheck`` makes it check the session again, as the desk does).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from anyio import to_thread
from fastapi import APIRouter, WebSocket

from kefu.accounts import auth
from kefu.accounts.auth import Principal
from kefu.errors import DomainError, Unauthenticated
from kefu.realtime.agent import same_origin
from kefu.realtime.hub import Connection, agent_channel, encode, shop_channel
from kefu.realtime.sockets import (
    UNAUTHORISED,
    SocketSession,
    context_of,
    error_frame,
    refuse,
    serve,
)
from kefu.realtime.subscribers import TICKET_FRAME_PREFIX
from kefu.uow import UnitOfWork
from kefu.web.context import AppContext
from kefu.web.i18n import pick_locale
from kefu.web.security import LANG_COOKIE, SESSION_COOKIE

router = APIRouter()


@dataclass(eq=False)
class StaffConnection(Connection):
    """A connection that lets only ticket frames of the shop channel through.

    The hub hands every frame of a channel to ``push_text``; the socket's own frames
    (ready, pong, errors, forwarded notifications) go through :meth:`send`/:meth:`forward`.
    """

    def push_text(self, text: str) -> None:
        if text.startswith(TICKET_FRAME_PREFIX):
            super().push_text(text)

    def forward(self, text: str) -> None:
        super().push_text(text)

    def send(self, frame: dict[str, Any]) -> None:
        self.forward(encode(frame))


class StaffSocket(SocketSession):
    def __init__(
        self, context: AppContext, principal: Principal, locale: str, raw_token: str
    ) -> None:
        super().__init__(context, locale)
        self.principal = principal
        self.raw_token = raw_token
        self.recheck: asyncio.Future[None] | None = None
        self.connection: StaffConnection

    def control(self, text: str) -> None:
        try:
            frame = json.loads(text)
        except ValueError:
            return
        kind = frame.get("type") if isinstance(frame, dict) else None
        if kind == "notification":
            if self.connection.close_code is None:
                self.connection.forward(text)
        elif kind == "recheck" and (self.recheck is None or self.recheck.done()):
            self.recheck = asyncio.ensure_future(self._recheck())

    async def _recheck(self) -> None:
        """Logged out, deactivated or password changed elsewhere: a revoked session's
        page stops hearing the shop at once (4401; the page shows it must log in)."""
        raw = self.raw_token

        def check(uow: UnitOfWork) -> Principal:
            return auth.resolve_session(uow, raw_token=raw)

        try:
            self.principal = await self.run(check)
        except DomainError as exc:
            self.connection.send(error_frame(exc, self.locale))
            self.connection.close_code = UNAUTHORISED
            self.connection.close()

    async def handle(self, text: str) -> None:
        if self.recheck is not None:
            await asyncio.shield(self.recheck)
        if self.connection.close_code is not None:
            return
        try:
            frame = json.loads(text)
        except ValueError:
            frame = None
        if isinstance(frame, dict) and frame.get("type") == "ping" and len(frame) == 1:
            self.connection.send({"type": "pong"})
            return
        self.connection.send(
            {
                "type": "error",
                "code": "bad_frame",
                "message": 'this socket only listens; the one frame it takes is {"type": "ping"}',
            }
        )


@router.websocket("/ws/staff")
async def staff_socket(websocket: WebSocket) -> None:
    context = context_of(websocket)
    locale = pick_locale(websocket.cookies.get(LANG_COOKIE))
    await websocket.accept()
    if not same_origin(websocket):
        await refuse(
            websocket,
            Unauthenticated("websocket from another origin", key="errors.unauthenticated"),
            locale,
        )
        return
    raw = websocket.cookies.get(SESSION_COOKIE, "")

    def open_session() -> Principal:
        # Only the session: no desk_connected, no presence, no heartbeat.
        with context.unit_of_work() as uow:
            return auth.resolve_session(uow, raw_token=raw)

    try:
        principal = await to_thread.run_sync(open_session)
    except DomainError as exc:
        await refuse(websocket, exc, locale)
        return
    assert principal.agent_id is not None  # a session is always an agent's
    socket = StaffSocket(context, principal, locale, raw)
    socket.connection = StaffConnection(
        websocket,
        channels=(shop_channel(principal.shop_id), agent_channel(principal.agent_id)),
        control=socket.control,
    )
    socket.connection.send(
        {"type": "ready", "agent": {"id": principal.agent_id, "name": principal.name}}
    )
    await serve(websocket, socket.connection, context.realtime, socket.handle)
