"""Domain events → websocket frames. Runs after each commit, in the committing thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.accounts.events import (
    AgentLoggedOut,
    AgentPresenceChanged,
    AgentUpdated,
    PasswordChanged,
)
from kefu.conversations import desk
from kefu.conversations.events import (
    ConversationAssigned,
    ConversationClosed,
    ConversationReopened,
    ConversationStarted,
    MessageReceived,
    MessageSnapshot,
    ReceiptsUpdated,
    ReplySent,
)
from kefu.events import EventBus
from kefu.realtime.hub import (
    Audience,
    Hub,
    agent_channel,
    audience_of,
    buyer_channel,
    shop_channel,
)
from kefu.tickets.events import (
    NotificationCreated,
    TicketCommented,
    TicketCreated,
    TicketsMerged,
    TicketSplit,
    TicketUpdated,
)
from kefu.tickets.models import Ticket

log = logging.getLogger(__name__)


def snapshot_payload(message: MessageSnapshot) -> dict[str, Any]:
    attachment = message.attachment
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "client_msg_id": message.client_msg_id,
        "sender_type": message.sender_type,
        "sender_agent_id": message.sender_agent_id,
        "sender_name": message.sender_name,
        "body": message.body,
        "is_private": message.is_private,
        "attachment": None
        if attachment is None
        else {
            "id": attachment.id,
            "url": f"/uploads/{attachment.key}",
            "content_type": attachment.content_type,
            "size": attachment.size,
            "name": attachment.name,
        },
        "card": desk.card_payload(message.card),
        "created_at": message.created_at.isoformat(),
    }


@dataclass
class _Changed:
    customer_id: int
    team_ids: set[int] = field(default_factory=set)
    agent_ids: set[int] = field(default_factory=set)


class Publisher:
    def __init__(self, hub: Hub, session_factory: Callable[[], Session]) -> None:
        self.hub = hub
        self.session_factory = session_factory
        # Conversations changed by the commit being dispatched, per dispatching thread.
        self._local = threading.local()

    def install(self, bus: EventBus) -> None:
        bus.after_dispatch(self.flush)
        bus.subscribe(MessageReceived, self.on_message)
        bus.subscribe(ReplySent, self.on_message)
        bus.subscribe(ConversationStarted, self.on_started)
        bus.subscribe(ConversationAssigned, self.on_assigned)
        bus.subscribe(ConversationClosed, self.on_closed_or_reopened)
        bus.subscribe(ConversationReopened, self.on_closed_or_reopened)
        bus.subscribe(ReceiptsUpdated, self.on_receipts)
        bus.subscribe(AgentPresenceChanged, self.on_presence)
        bus.subscribe(AgentUpdated, self.on_access_changed)
        bus.subscribe(AgentLoggedOut, self.on_access_changed)
        bus.subscribe(PasswordChanged, self.on_access_changed)
        bus.subscribe(TicketCreated, self.on_ticket)
        bus.subscribe(TicketUpdated, self.on_ticket)
        bus.subscribe(TicketCommented, self.on_ticket)
        bus.subscribe(TicketsMerged, self.on_tickets_merged_or_split)
        bus.subscribe(TicketSplit, self.on_tickets_merged_or_split)
        bus.subscribe(NotificationCreated, self.on_notification)

    def on_message(self, event: MessageReceived | ReplySent) -> None:
        message, ref = event.message, event.conversation
        payload = snapshot_payload(message)
        self.hub.publish(
            shop_channel(event.shop_id),
            {
                "type": "message",
                "message": {**payload, "agent_note": message.agent_note}
                if message.agent_note
                else payload,
                "conversation": {
                    "id": ref.conversation_id,
                    "status": ref.status,
                    "team_id": ref.team_id,
                    "assignee_id": ref.assignee_id,
                    "customer": {"id": ref.customer_id},
                    "last_seq": message.seq,
                    "last_message_at": payload["created_at"],
                    "preview": "" if message.is_private else message.body[: desk.PREVIEW_LENGTH],
                },
            },
            # The agent it belongs to (or, while it waits, its team), desks that have it
            # open, and shop-wide desks: colleagues' lists follow conversation frames, not
            # every line.
            audience=audience_of(
                team_ids=[ref.team_id] if ref.assignee_id is None else [],
                agent_ids=[ref.assignee_id],
                conversation_id=ref.conversation_id,
            ),
        )
        if not message.is_private:
            self.hub.publish(
                buyer_channel(event.shop_id, ref.customer_id),
                {"type": "message", "message": payload},
                audience=Audience(origin=message.client_msg_id)
                if message.sender_type == "customer"
                else None,
            )

    def _changed(
        self,
        *,
        shop_id: int,
        conversation_id: int,
        customer_id: int,
        team_ids: list[int | None],
        agent_ids: list[int | None],
    ) -> None:
        """Gathered, and sent once per commit by :meth:`flush` with one query for all: a
        batch of new conversations (started, then routed) costs one summary query."""
        pending: dict[tuple[int, int], _Changed] = self._local.__dict__.setdefault("pending", {})
        changed = pending.setdefault((shop_id, conversation_id), _Changed(customer_id))
        changed.team_ids.update(t for t in team_ids if t is not None)
        changed.agent_ids.update(a for a in agent_ids if a is not None)

    def flush(self) -> None:
        pending: dict[tuple[int, int], _Changed] = self._local.__dict__.pop("pending", {})
        if not pending:
            return
        by_shop: dict[int, list[int]] = {}
        for shop_id, conversation_id in pending:
            by_shop.setdefault(shop_id, []).append(conversation_id)
        with self.session_factory() as session:
            found = {
                shop_id: desk.summaries(session, shop_id=shop_id, conversation_ids=ids)
                for shop_id, ids in by_shop.items()
            }
        for (shop_id, conversation_id), changed in pending.items():
            summary = found[shop_id].get(conversation_id)
            if summary is None:
                continue
            self.hub.publish(
                shop_channel(shop_id),
                {"type": "conversation", "conversation": summary},
                audience=audience_of(
                    team_ids=list(changed.team_ids), agent_ids=list(changed.agent_ids)
                ),
            )
            self.hub.publish(
                buyer_channel(shop_id, changed.customer_id),
                {
                    "type": "conversation",
                    "conversation": {
                        "id": summary["id"],
                        "status": summary["status"],
                        "team_name": summary["team_name"],
                        "assignee_name": summary["assignee_name"],
                    },
                },
            )

    def on_started(self, event: ConversationStarted) -> None:
        self._changed(
            shop_id=event.shop_id,
            conversation_id=event.conversation_id,
            customer_id=event.customer_id,
            team_ids=[event.team_id],
            agent_ids=[],
        )

    def on_assigned(self, event: ConversationAssigned) -> None:
        self._changed(
            shop_id=event.shop_id,
            conversation_id=event.conversation_id,
            customer_id=event.customer_id,
            team_ids=[event.team_id, event.previous_team_id],
            agent_ids=[event.assignee_id, event.previous_assignee_id],
        )

    def on_closed_or_reopened(self, event: ConversationClosed | ConversationReopened) -> None:
        self._changed(
            shop_id=event.shop_id,
            conversation_id=event.conversation_id,
            customer_id=event.customer_id,
            team_ids=[event.team_id],
            agent_ids=[event.assignee_id],
        )

    def on_receipts(self, event: ReceiptsUpdated) -> None:
        self.hub.publish(
            shop_channel(event.shop_id),
            {
                "type": "receipt",
                "conversation_id": event.conversation_id,
                "buyer_read_seq": event.buyer_read_seq,
                "shop_read_seq": event.shop_read_seq,
                "shop_delivered_seq": event.shop_delivered_seq,
            },
            audience=audience_of(team_ids=[event.team_id], agent_ids=[event.assignee_id]),
        )
        self.hub.publish(
            buyer_channel(event.shop_id, event.customer_id),
            {
                "type": "receipt",
                "conversation_id": event.conversation_id,
                "shop_delivered_seq": event.shop_delivered_seq,
                "shop_read_seq": event.shop_read_seq,
            },
        )

    def on_access_changed(self, event: AgentUpdated | AgentLoggedOut | PasswordChanged) -> None:
        """Deactivated, logged out, password or teams changed: open desks check again."""
        self.hub.publish(agent_channel(event.agent_id), {"type": "recheck"})

    def on_presence(self, event: AgentPresenceChanged) -> None:
        self.hub.publish(
            shop_channel(event.shop_id),
            {"type": "presence", "agent_id": event.agent_id, "presence": event.presence},
        )

    # --- tickets and notifications (the staff socket, realtime/staff.py) ---------------

    def on_ticket(self, event: TicketCreated | TicketUpdated | TicketCommented) -> None:
        if isinstance(event, TicketCreated):
            changed: tuple[str, ...] = ("created",)
        elif isinstance(event, TicketCommented):
            changed = ("comment",)
        else:
            changed = event.changed
        self._publish_ticket(event.shop_id, event.ticket_id, event.number, changed)

    def on_tickets_merged_or_split(self, event: TicketsMerged | TicketSplit) -> None:
        if isinstance(event, TicketsMerged):
            pairs = ((event.source_id, "merged"), (event.target_id, "merged"))
        else:
            pairs = ((event.source_id, "split"), (event.new_id, "split"))
        # These events carry ids only; the frame names the number the staff sees.
        with self.session_factory() as session:
            rows = session.execute(
                select(Ticket.id, Ticket.number).where(
                    Ticket.shop_id == event.shop_id,
                    Ticket.id.in_([ticket_id for ticket_id, _ in pairs]),
                )
            )
            numbers: dict[int, int] = {row.id: row.number for row in rows}
        for ticket_id, what in pairs:
            if ticket_id in numbers:
                self._publish_ticket(event.shop_id, ticket_id, numbers[ticket_id], (what,))

    def _publish_ticket(
        self, shop_id: int, ticket_id: int, number: int, changed: tuple[str, ...]
    ) -> None:
        """Every page of the shop that lists or shows tickets re-reads what changed: the
        frame names the ticket, not its contents, so nobody learns more than their page
        shows them. Desks on the shop channel ignore this frame type."""
        self.hub.publish(shop_channel(shop_id), ticket_frame(ticket_id, number, changed))

    def on_notification(self, event: NotificationCreated) -> None:
        # On the agent's own channel: only the staff socket forwards it to the browser.
        self.hub.publish(
            agent_channel(event.agent_id),
            {
                "type": "notification",
                "id": event.notification_id,
                "kind": event.kind,
                "text": event.text,
                "link": event.link,
            },
        )


def ticket_frame(ticket_id: int, number: int, changed: tuple[str, ...]) -> dict[str, Any]:
    """``type`` first: the staff socket picks ticket frames out of the shop channel by the
    start of their text (``TICKET_FRAME_PREFIX``) without parsing every message frame."""
    return {"type": "ticket", "ticket_id": ticket_id, "number": number, "changed": list(changed)}


TICKET_FRAME_PREFIX = '{"type":"ticket",'
