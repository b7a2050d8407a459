"""What both websockets share: serving a connection, error frames, refusing credentials.

Each connection reads frames in order and answers through its own outbox (one writer per
socket). Writes go through the group-commit writer; reads run in worker threads. A bad
frame gets an error frame and the connection stays up (docs/REALTIME.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from anyio import to_thread
from fastapi import WebSocket
from starlette.websockets import WebSocketDisconnect

from kefu.conversations import service as conversations
from kefu.errors import DomainError, RateLimited
from kefu.realtime.frames import BadFrame
from kefu.realtime.hub import Connection, encode
from kefu.realtime.runtime import Realtime
from kefu.uow import UnitOfWork
from kefu.web.context import AppContext
from kefu.web.errors import localised

log = logging.getLogger(__name__)

UNAUTHORISED = 4401  # "start again with other credentials": clients must not just retry
TOO_SLOW = 1013
# Frames read but not yet handled, per socket; beyond this they are refused.
INBOX_LIMIT = 256
TYPING_EVERY = 1.0  # seconds; typing frames beyond this are dropped


def context_of(websocket: WebSocket) -> AppContext:
    context: AppContext = websocket.app.state.kefu
    return context


def error_frame(exc: DomainError, locale: str, client_msg_id: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": exc.code, "message": localised(locale, exc)}
    if isinstance(exc, RateLimited):
        frame["retry_after"] = exc.retry_after_seconds
    if client_msg_id is not None:
        frame["client_msg_id"] = client_msg_id
    return frame


def rate_limited(seconds: int) -> RateLimited:
    return RateLimited(
        f"too many messages; wait {seconds} s",
        retry_after_seconds=seconds,
        key="errors.too_many_messages",
    )


async def refuse(websocket: WebSocket, exc: DomainError, locale: str) -> None:
    await websocket.send_text(encode(error_frame(exc, locale)))
    await websocket.close(UNAUTHORISED)


async def serve(
    websocket: WebSocket,
    connection: Connection,
    realtime: Realtime,
    handle: Callable[[str], Awaitable[None]],
) -> None:
    """Pump the outbox, read frames and handle them until either side ends.

    Reading never waits for handling: frames go to an inbox that one worker handles in
    order. So the socket keeps answering the client's keep-alive pings even while the
    database is busy, and a client that floods faster than it is served gets told so.
    """
    realtime.hub.add(connection)
    inbox: asyncio.Queue[str] = asyncio.Queue(maxsize=INBOX_LIMIT)
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
            try:
                inbox.put_nowait(text)
            except asyncio.QueueFull:
                connection.send(
                    {
                        "type": "error",
                        "code": "rate_limited",
                        "message": "too many frames at once; this one was dropped",
                        "retry_after": 1,
                    }
                )

    async def work() -> None:
        while True:
            await handle(await inbox.get())

    reader = asyncio.create_task(read())
    worker = asyncio.create_task(work())
    try:
        await asyncio.wait({pump, reader, worker}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        realtime.hub.remove(connection)
        for task in (reader, worker, pump):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, Exception):
                await task
        code = connection.close_code or (TOO_SLOW if connection.overflowed else None)
        if code is not None:
            with contextlib.suppress(Exception):
                await websocket.close(code)


def when_stored(
    connection: Connection,
    locale: str,
    future: asyncio.Future[Any],
    *,
    client_msg_id: str | None,
    then: Callable[[Any], None],
) -> None:
    """Answer a write handed to the writer once it is committed (or failed), without the
    socket waiting for it: the next frame is handled meanwhile, and the writer keeps the
    order in which writes were handed in."""

    def done(finished: asyncio.Future[Any]) -> None:
        if finished.cancelled():
            return
        exc = finished.exception()
        if exc is None:
            then(finished.result())
        elif isinstance(exc, DomainError):
            connection.send(error_frame(exc, locale, client_msg_id))
        else:
            log.error("websocket write failed", exc_info=exc)
            connection.send(server_error(client_msg_id))

    future.add_done_callback(done)


def server_error(client_msg_id: str | None) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "type": "error",
        "code": "server_error",
        "message": "the server could not handle this frame",
    }
    if client_msg_id is not None:
        frame["client_msg_id"] = client_msg_id
    return frame


async def guard(
    connection: Connection, locale: str, client_msg_id: str | None, step: Awaitable[None]
) -> None:
    try:
        await step
    except DomainError as exc:
        connection.send(error_frame(exc, locale, client_msg_id))
    except Exception:
        log.exception("websocket frame failed")
        connection.send(server_error(client_msg_id))


class SocketSession:
    """What a buyer's and an agent's socket both hold and do."""

    connection: Connection

    def __init__(self, context: AppContext, locale: str) -> None:
        self.context = context
        self.realtime: Realtime = context.realtime
        self.locale = locale

    def run(self, fn: Callable[[UnitOfWork], Any]) -> Awaitable[Any]:
        """``fn`` in a unit of work of its own, on a worker thread (reads, presence)."""

        def in_unit_of_work() -> Any:
            with self.context.unit_of_work() as uow:
                return fn(uow)

        return to_thread.run_sync(in_unit_of_work)

    async def already_stored(self, conversation_id: int, client_msg_id: str) -> bool:
        """A resent message (an outbox after a reconnect) is not a new one: it is answered
        whatever the rate limit says."""

        def find(uow: UnitOfWork) -> bool:
            found = conversations.find_by_client_id(
                uow.session, conversation_id=conversation_id, client_msg_id=client_msg_id
            )
            return found is not None

        return bool(await self.run(find))

    def refuse_frame(self, exc: BadFrame) -> None:
        frame: dict[str, Any] = {"type": "error", "code": "bad_frame", "message": exc.message}
        if exc.client_msg_id:
            frame["client_msg_id"] = exc.client_msg_id
        self.connection.send(frame)
