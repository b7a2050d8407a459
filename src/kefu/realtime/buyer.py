"""``/ws/widget``: a buyer's tabs. Authenticated by the visitor token in the query."""

from __future__ import annotations

import time
from typing import Any

from anyio import to_thread
from fastapi import APIRouter, WebSocket

from kefu.channels import service as widget
from kefu.channels.service import Visitor
from kefu.conversations import desk
from kefu.conversations import service as conversations
from kefu.conversations.models import Channel
from kefu.errors import DomainError
from kefu.realtime.frames import (
    BadFrame,
    BuyerRead,
    BuyerSend,
    BuyerSync,
    Ping,
    Typing,
    parse_buyer,
)
from kefu.realtime.hub import Audience, Connection, audience_of, buyer_channel, shop_channel
from kefu.realtime.sockets import (
    TYPING_EVERY,
    SocketSession,
    context_of,
    guard,
    rate_limited,
    refuse,
    serve,
    when_stored,
)
from kefu.uow import UnitOfWork
from kefu.web.context import AppContext
from kefu.web.i18n import pick_locale

router = APIRouter()
# Typing frames go to whoever has the conversation; who that is is looked up this often.
ROUTE_FRESH_SECONDS = 10.0


# --- buyer ---------------------------------------------------------------------------


class BuyerSocket(SocketSession):
    def __init__(self, context: AppContext, visitor: Visitor, locale: str) -> None:
        super().__init__(context, locale)
        self.visitor = visitor
        self.conversation_id: int | None = None
        self.last_typing = 0.0
        # Messages this socket sent that are not acknowledged yet: their echo is skipped.
        self.in_flight: set[str] = set()
        # (when looked up, team, assignee) of the conversation, for typing frames' audience.
        self.route: tuple[float, int | None, int | None] | None = None

    async def handle(self, text: str) -> None:
        try:
            frame = parse_buyer(text)
        except BadFrame as exc:
            self.refuse_frame(exc)
            return
        client_msg_id = frame.client_msg_id if isinstance(frame, BuyerSend) else None
        await guard(self.connection, self.locale, client_msg_id, self._dispatch(frame))

    async def _dispatch(self, frame: BuyerSend | BuyerSync | BuyerRead | Typing | Ping) -> None:
        if isinstance(frame, Ping):
            self.connection.send({"type": "pong"})
        elif isinstance(frame, BuyerSend):
            await self.send(frame)
        elif isinstance(frame, BuyerSync):
            await self.sync(frame.after_seq)
        elif isinstance(frame, Typing):
            await self.typing()
        else:
            await self.read(frame.seq)

    async def send(self, frame: BuyerSend) -> None:
        visitor = self.visitor
        wait = self.realtime.buyer_limits.retry_after(
            f"buyer:{visitor.shop_id}:{visitor.customer_id}"
        )
        # A resent message (the outbox after a reconnect) is not a new one: as over REST,
        # it is answered with the stored message whatever the allowance.
        if wait and not (
            self.conversation_id is not None
            and await self.already_stored(self.conversation_id, frame.client_msg_id)
        ):
            raise rate_limited(wait)
        conversations.check_body(frame.body, allow_empty=frame.attachment_id is not None)

        known = self.conversation_id

        def job(uow: UnitOfWork) -> dict[str, Any]:
            if known is not None:  # the socket knows its conversation: no lookup
                message = conversations.receive_message(
                    uow,
                    shop_id=visitor.shop_id,
                    conversation_id=known,
                    client_msg_id=frame.client_msg_id,
                    body=frame.body,
                    attachment_id=frame.attachment_id,
                    commit=False,
                )
            else:
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
            attachment = conversations.attachments_of(uow.session, [message])
            return desk.message_payload(message, attachment.get(message.attachment_id or 0))

        def stored(payload: dict[str, Any]) -> None:
            self.in_flight.discard(frame.client_msg_id)
            self.conversation_id = payload["conversation_id"]
            self.connection.send(
                {"type": "ack", "client_msg_id": frame.client_msg_id, "message": payload}
            )

        self.in_flight.add(frame.client_msg_id)
        future = self.realtime.writer.enqueue(job)
        future.add_done_callback(lambda _: self.in_flight.discard(frame.client_msg_id))
        when_stored(
            self.connection,
            self.locale,
            future,
            client_msg_id=frame.client_msg_id,
            then=stored,
        )

    def accepts(self, audience: Audience | None) -> bool:
        """Every frame of this buyer, except the echo of a message this socket is sending."""
        return audience is None or audience.origin not in self.in_flight

    async def sync(self, after_seq: int) -> None:
        visitor = self.visitor

        def read(uow: UnitOfWork) -> dict[str, Any]:
            conversation = widget.buyer_conversation(uow.session, visitor=visitor)
            if conversation is None:
                return {"type": "sync", "conversation_id": None, "messages": [], "last_seq": 0}
            rows = conversations.list_messages(
                uow.session,
                shop_id=visitor.shop_id,
                conversation_id=conversation.id,
                after_seq=after_seq,
                include_private=False,
            )
            files = conversations.attachments_of(uow.session, rows)
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

        reply = await self.run(read)
        self.conversation_id = reply["conversation_id"] or self.conversation_id
        self.connection.send(reply)

    async def typing(self) -> None:
        """Tell the desks that may see the conversation (its agent, or its team while it
        waits; desks that have it open; supervisors) — not every desk of the shop."""
        now = time.monotonic()
        conversation_id = self.conversation_id
        if conversation_id is None or now - self.last_typing < TYPING_EVERY:
            return
        self.last_typing = now
        if self.route is None or now - self.route[0] > ROUTE_FRESH_SECONDS:
            visitor = self.visitor

            def where(uow: UnitOfWork) -> tuple[int | None, int | None]:
                found = conversations.get_conversation(
                    uow.session, shop_id=visitor.shop_id, conversation_id=conversation_id
                )
                return found.team_id, found.assignee_id

            self.route = (now, *await self.run(where))
        _, team_id, assignee_id = self.route
        self.realtime.hub.publish(
            shop_channel(self.visitor.shop_id),
            {"type": "typing", "conversation_id": conversation_id, "sender_type": "customer"},
            audience=audience_of(
                team_ids=[team_id] if assignee_id is None else [],
                agent_ids=[assignee_id],
                conversation_id=conversation_id,
            ),
        )

    async def read(self, seq: int) -> None:
        if self.conversation_id is None:
            return
        visitor, conversation_id = self.visitor, self.conversation_id

        def job(uow: UnitOfWork) -> None:
            conversations.update_receipts(
                uow,
                shop_id=visitor.shop_id,
                conversation_id=conversation_id,
                buyer_read_seq=seq,
                commit=False,
            )

        # Batched with messages by the writer; nothing to answer unless it fails.
        when_stored(
            self.connection,
            self.locale,
            self.realtime.writer.enqueue(job),
            client_msg_id=None,
            then=lambda _: None,
        )


@router.websocket("/ws/widget")
async def widget_socket(websocket: WebSocket) -> None:
    context = context_of(websocket)
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
        await refuse(websocket, exc, locale)
        return
    socket = BuyerSocket(context, visitor, locale)
    socket.conversation_id = ready["conversation_id"]
    socket.connection = Connection(
        websocket,
        channels=(buyer_channel(visitor.shop_id, visitor.customer_id),),
        accepts=socket.accepts,
    )
    socket.connection.send(ready)
    await serve(websocket, socket.connection, context.realtime, socket.handle)
