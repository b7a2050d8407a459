"""Read models for the live desk: conversation summaries, queues, the customer panel.

Plain JSON-ready dicts, because the same shapes go out over REST and websockets
(docs/REALTIME.md). Also the one access rule of the desk: agents work the conversations
of their teams and those assigned to them; supervisors and owners work all of them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from kefu.accounts import presence
from kefu.accounts import service as accounts
from kefu.accounts.auth import Principal
from kefu.accounts.models import Agent, Role
from kefu.commerce.models import Order, OrderLine
from kefu.conversations.messages import get_conversation
from kefu.conversations.models import (
    Attachment,
    Conversation,
    ConversationStatus,
    Message,
    SenderType,
)
from kefu.conversations.routing import open_counts
from kefu.crm import service as crm
from kefu.crm.models import Customer
from kefu.errors import Invalid, PermissionDenied
from kefu.shops import service as shops

PREVIEW_LENGTH = 80
VIEWS = ("queue", "mine", "all")


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def customer_display_name(customer: Customer) -> str:
    if customer.name or customer.nickname or customer.gender:
        return crm.salutation(customer)
    return f"访客{customer.id}"


def message_payload(
    message: Message, attachment: Attachment | None, *, for_agents: bool = False
) -> dict[str, Any]:
    """A message as clients see it; ``for_agents`` adds what only staff may read."""
    payload = {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "client_msg_id": message.client_msg_id,
        "sender_type": message.sender_type.value,
        "sender_agent_id": message.sender_agent_id,
        "sender_name": message.sender_name,
        "body": message.body,
        "is_private": message.is_private,
        "attachment": attachment_payload(attachment),
        "card": card_payload(message.card),
        "created_at": iso(message.created_at),
    }
    if for_agents:
        payload["agent_note"] = message.agent_note
    return payload


def card_payload(card: str) -> dict[str, Any] | None:
    """A message's product or order card for clients (see :mod:`kefu.conversations.cards`)."""
    return json.loads(card) if card else None


def attachment_payload(attachment: Attachment | None) -> dict[str, Any] | None:
    if attachment is None:
        return None
    return {
        "id": attachment.id,
        "url": f"/uploads/{attachment.key}",
        "content_type": attachment.content_type,
        "size": attachment.size,
        "name": attachment.name,
    }


class Viewer:
    """Who is looking: an agent (sees their teams and their own) or shop-wide."""

    def __init__(self, *, agent_id: int | None, team_ids: Sequence[int] | None) -> None:
        self.agent_id = agent_id
        # None: every team of the shop (supervisors, owners, API tokens).
        self.team_ids = None if team_ids is None else frozenset(team_ids)

    @property
    def shop_wide(self) -> bool:
        return self.team_ids is None

    def can_see(self, conversation: Conversation) -> bool:
        if self.team_ids is None:
            return True
        return (
            conversation.assignee_id is not None and conversation.assignee_id == self.agent_id
        ) or conversation.team_id in self.team_ids


def viewer_for(session: Session, *, shop_id: int, agent_id: int | None, shop_wide: bool) -> Viewer:
    if shop_wide or agent_id is None:
        return Viewer(agent_id=agent_id, team_ids=None)
    return Viewer(
        agent_id=agent_id,
        team_ids=accounts.team_ids_of(session, shop_id=shop_id, agent_id=agent_id),
    )


def viewer_of(session: Session, principal: Principal) -> Viewer:
    """What a caller may see: supervisors and owners every team, agents their own."""
    return viewer_for(
        session,
        shop_id=principal.shop_id,
        agent_id=principal.agent_id,
        shop_wide=principal.has_role(Role.SUPERVISOR),
    )


def viewer_of_agent(session: Session, *, agent: Agent) -> Viewer:
    """What an agent may see, by their role: for services acting on an agent's behalf
    without a request's principal (cards, the coach's live check)."""
    return viewer_for(
        session,
        shop_id=agent.shop_id,
        agent_id=agent.id,
        shop_wide=agent.role.rank >= Role.SUPERVISOR.rank,
    )


def conversation_for(
    session: Session, *, shop_id: int, conversation_id: int, viewer: Viewer
) -> Conversation:
    """The conversation, if the viewer may work it (403 if it is another team's)."""
    conversation = get_conversation(session, shop_id=shop_id, conversation_id=conversation_id)
    if not viewer.can_see(conversation):
        raise PermissionDenied("this conversation belongs to another team", key="errors.other_team")
    return conversation


def _unread_count() -> Any:
    return (
        select(func.count(Message.id))
        .where(
            Message.conversation_id == Conversation.id,
            Message.sender_type == SenderType.CUSTOMER,
            Message.seq > Conversation.shop_read_seq,
        )
        .correlate(Conversation)
        .scalar_subquery()
    )


def _last_message() -> Any:
    return (
        select(Message.body)
        .where(Message.conversation_id == Conversation.id, Message.is_private.is_(False))
        .order_by(Message.seq.desc())
        .limit(1)
        .correlate(Conversation)
        .scalar_subquery()
    )


def _summary_query(shop_id: int) -> Select[Any]:
    return (
        select(Conversation, Customer, _unread_count(), _last_message())
        .join(
            Customer,
            and_(Customer.id == Conversation.customer_id, Customer.shop_id == Conversation.shop_id),
        )
        .where(Conversation.shop_id == shop_id)
    )


def _summaries(session: Session, shop_id: int, rows: Sequence[Any]) -> list[dict[str, Any]]:
    teams = {team.id: team.name for team in shops.list_teams(session, shop_id=shop_id)}
    agent_ids = {row[0].assignee_id for row in rows if row[0].assignee_id is not None}
    names: dict[int, str] = {}
    if agent_ids:
        query = select(Agent.id, Agent.display_name).where(Agent.id.in_(agent_ids))
        for agent_id, name in session.execute(query):
            names[agent_id] = name
    out = []
    for conversation, customer, unread, preview in rows:
        out.append(
            {
                "id": conversation.id,
                "status": conversation.status.value,
                "channel": conversation.channel.value,
                "team_id": conversation.team_id,
                "team_name": teams.get(conversation.team_id, "") if conversation.team_id else "",
                "assignee_id": conversation.assignee_id,
                "assignee_name": names.get(conversation.assignee_id, "")
                if conversation.assignee_id
                else "",
                "customer": {"id": customer.id, "display_name": customer_display_name(customer)},
                "subject": conversation.subject,
                "last_seq": conversation.last_seq,
                "last_message_at": iso(conversation.last_message_at),
                "created_at": iso(conversation.created_at),
                "closed_at": iso(conversation.closed_at),
                "preview": (preview or "")[:PREVIEW_LENGTH],
                "unread": int(unread or 0),
                "waiting_since": iso(conversation.waiting_since)
                if conversation.assignee_id is None and conversation.status.value == "open"
                else None,
                "with_bot": conversation.with_bot,
                "priority": conversation.priority,
                "handoff_note": conversation.handoff_note,
                "shop_delivered_seq": conversation.shop_delivered_seq,
                "shop_read_seq": conversation.shop_read_seq,
                "buyer_read_seq": conversation.buyer_read_seq,
            }
        )
    return out


def summaries(
    session: Session, *, shop_id: int, conversation_ids: Sequence[int]
) -> dict[int, dict[str, Any]]:
    """Several summaries in one query (what a batch of new conversations needs)."""
    if not conversation_ids:
        return {}
    rows = session.execute(
        _summary_query(shop_id).where(Conversation.id.in_(list(conversation_ids)))
    ).all()
    return {item["id"]: item for item in _summaries(session, shop_id, rows)}


def summary(session: Session, *, shop_id: int, conversation_id: int) -> dict[str, Any]:
    rows = session.execute(_summary_query(shop_id).where(Conversation.id == conversation_id)).all()
    if not rows:
        get_conversation(session, shop_id=shop_id, conversation_id=conversation_id)  # 404
    return _summaries(session, shop_id, rows)[0]


def list_desk_conversations(
    session: Session,
    *,
    shop_id: int,
    viewer: Viewer,
    view: str,
    status: ConversationStatus = ConversationStatus.OPEN,
    team_id: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """``queue``: waiting for an agent, oldest first; ``mine``; ``all`` (newest first)."""
    if view not in VIEWS:
        raise Invalid(f"view must be one of {', '.join(VIEWS)}", field="view")
    query = _summary_query(shop_id).where(Conversation.status == status)
    if team_id is not None:
        query = query.where(Conversation.team_id == team_id)
    if view == "queue":
        query = query.where(Conversation.assignee_id.is_(None)).order_by(
            Conversation.priority.desc(),
            Conversation.waiting_since.asc().nulls_last(),
            Conversation.id,
        )
    else:
        if view == "mine":
            query = query.where(Conversation.assignee_id == (viewer.agent_id or 0))
        query = query.order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
    if viewer.team_ids is not None and view != "mine":
        visible: Any = Conversation.team_id.in_(sorted(viewer.team_ids))
        if viewer.agent_id is not None:
            visible = visible | (Conversation.assignee_id == viewer.agent_id)
        query = query.where(visible)
    rows = session.execute(query.limit(max(1, min(limit, 200)))).all()
    return _summaries(session, shop_id, rows)


def overview(
    session: Session, *, shop_id: int, agent_id: int | None, viewer: Viewer, now: datetime
) -> dict[str, Any]:
    """Queues per team, and each agent's presence and load, for the desk's header."""
    queued: dict[int | None, int] = dict(
        session.execute(
            select(Conversation.team_id, func.count(Conversation.id))
            .where(
                Conversation.shop_id == shop_id,
                Conversation.status == ConversationStatus.OPEN,
                Conversation.assignee_id.is_(None),
            )
            .group_by(Conversation.team_id)
        ).all()
    )
    open_by_team: dict[int | None, int] = dict(
        session.execute(
            select(Conversation.team_id, func.count(Conversation.id))
            .where(Conversation.shop_id == shop_id, Conversation.status == ConversationStatus.OPEN)
            .group_by(Conversation.team_id)
        ).all()
    )
    teams = [
        {
            "id": team.id,
            "code": team.code,
            "name": team.name,
            "queued": int(queued.get(team.id, 0)),
            "open": int(open_by_team.get(team.id, 0)),
        }
        for team in shops.list_teams(session, shop_id=shop_id)
        if viewer.team_ids is None or team.id in viewer.team_ids
    ]
    members = accounts.team_members(session, shop_id=shop_id)
    team_ids_of: dict[int, list[int]] = {}
    for team_id, agent_ids in members.items():
        for member in agent_ids:
            team_ids_of.setdefault(member, []).append(team_id)
    agents = [a for a in accounts.list_agents(session, shop_id=shop_id) if a.is_active]
    load = open_counts(session, shop_id=shop_id, agent_ids=[a.id for a in agents])
    people = [
        {
            "id": agent.id,
            "name": agent.display_name,
            "role": agent.role.value,
            "presence": presence.effective_presence(agent, now=now).value,
            "capacity": agent.capacity,
            "open_count": load[agent.id],
            "team_ids": sorted(team_ids_of.get(agent.id, [])),
        }
        for agent in agents
    ]
    me = next((p for p in people if p["id"] == agent_id), None)
    return {"me": me, "teams": teams, "agents": people}


def context(
    session: Session, *, shop_id: int, conversation_id: int, viewer: Viewer
) -> dict[str, Any]:
    """The customer panel: who the buyer is and their recent orders."""
    conversation = conversation_for(
        session, shop_id=shop_id, conversation_id=conversation_id, viewer=viewer
    )
    customer = crm.get_customer(session, shop_id=shop_id, customer_id=conversation.customer_id)
    conversation_count = session.scalar(
        select(func.count(Conversation.id)).where(
            Conversation.shop_id == shop_id, Conversation.customer_id == customer.id
        )
    )
    orders = list(
        session.scalars(
            select(Order)
            .where(Order.shop_id == shop_id, Order.customer_id == customer.id)
            .order_by(Order.created_at.desc(), Order.id.desc())
            .limit(5)
        )
    )
    lines: dict[int, list[dict[str, Any]]] = {}
    if orders:
        for line in session.scalars(
            select(OrderLine)
            .where(OrderLine.order_id.in_([o.id for o in orders]))
            .order_by(OrderLine.id)
        ):
            lines.setdefault(line.order_id, []).append(
                {
                    "title": line.title,
                    "sku": line.sku,
                    "size": line.size,
                    "colour": line.colour,
                    "quantity": line.quantity,
                }
            )
    return {
        "conversation": summary(session, shop_id=shop_id, conversation_id=conversation.id),
        "customer": {
            "id": customer.id,
            "display_name": customer_display_name(customer),
            "name": customer.name,
            "nickname": customer.nickname,
            "salutation": crm.salutation(customer),
            "phone": customer.phone,
            "email": customer.email,
            "city": customer.city,
            "vip_level": customer.vip_level,
            "external_id": customer.external_id,
            "created_at": iso(customer.created_at),
            "conversation_count": int(conversation_count or 0),
        },
        "orders": [
            {
                "id": order.id,
                "number": order.order_no,
                "status": order.status.value,
                "total": str(order.total),
                "created_at": iso(order.created_at),
                "courier": order.courier,
                "tracking_no": order.tracking_no,
                "lines": lines.get(order.id, []),
            }
            for order in orders
        ],
    }
