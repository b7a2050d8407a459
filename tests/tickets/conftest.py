"""Shared ticket fixtures: the shop "tkt" and its staff, a 售后 agent, a buyer's chat with an
angry line (assigned to the 售后 agent), a paid order of that buyer, and ``make_ticket``.

Every helper of the tickets tests may reuse these (add your own below, with targeted edits).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from kefu.accounts.models import Agent
from kefu.clock import FrozenClock
from kefu.commerce.models import Order, OrderStatus
from kefu.conversations import service as conversations
from kefu.conversations.models import Channel, Message
from kefu.crm import service as crm
from kefu.db import make_session_factory
from kefu.shops import service as shops
from kefu.tickets import service as tickets
from kefu.tickets.models import Ticket, TicketChange, TicketType
from tests.conversations.catalogue import add_order, add_product
from tests.factories import ShopWithStaff, UowFactory, make_agent, make_shop_with_staff

SLUG = "tkt"  # "tk" itself is too short for a shop code (3–40 characters)
ORDER_NO = "3587412598630700001"


@dataclass
class TicketStaff(ShopWithStaff):
    """make_shop_with_staff("tkt") (owner 掌柜, supervisor 主管, agent 小美 of 售前) plus
    售后 agents 小刘 and 小张, and the team ids by code."""

    aftersale: Agent
    aftersale2: Agent
    teams: dict[str, int]

    @property
    def shop_id(self) -> int:
        return self.shop.id


@dataclass
class BuyerChat:
    customer_id: int
    customer_name: str
    conversation_id: int


@pytest.fixture
def staff(uow_factory: UowFactory) -> TicketStaff:
    base = make_shop_with_staff(uow_factory, SLUG)
    aftersale = make_agent(
        uow_factory, base.shop, email=f"shouhou@{SLUG}.test", name="小刘",
        team_codes=("aftersale",),
    )  # fmt: skip
    aftersale2 = make_agent(
        uow_factory, base.shop, email=f"shouhou2@{SLUG}.test", name="小张",
        team_codes=("aftersale", "complaints"),
    )  # fmt: skip
    with uow_factory() as uow:
        teams = {t.code: t.id for t in shops.list_teams(uow.session, shop_id=base.shop.id)}
    return TicketStaff(
        shop=base.shop,
        owner=base.owner,
        supervisor=base.supervisor,
        agent=base.agent,
        aftersale=aftersale,
        aftersale2=aftersale2,
        teams=teams,
    )


def start_chat(
    uow_factory: UowFactory,
    shop_id: int,
    *,
    name: str,
    lines: tuple[str, ...],
    team_code: str = "aftersale",
    agent_id: int | None = None,
) -> BuyerChat:
    """A buyer's conversation in a team (given to ``agent_id``), with the buyer's lines."""
    with uow_factory() as uow:
        customer = crm.create_customer(uow, shop_id=shop_id, name=name, gender="F", commit=False)
        conversation = conversations.start_conversation(
            uow, shop_id=shop_id, customer_id=customer.id, channel=Channel.WIDGET,
            team_code=team_code, route=False, commit=False,
        )  # fmt: skip
        if agent_id is not None:
            conversations.transfer_conversation(
                uow, shop_id=shop_id, conversation_id=conversation.id, by_agent_id=None,
                agent_id=agent_id, commit=False,
            )  # fmt: skip
        for i, line in enumerate(lines):
            conversations.receive_message(
                uow, shop_id=shop_id, conversation_id=conversation.id,
                client_msg_id=f"buyer-{customer.id}-{i}", body=line, commit=False,
            )  # fmt: skip
        uow.commit()
        return BuyerChat(customer.id, name, conversation.id)


@pytest.fixture
def buyer_chat(uow_factory: UowFactory, staff: TicketStaff) -> BuyerChat:
    """王女士 in 售后 with 小刘: a calm line, then an angry one."""
    return start_chat(
        uow_factory,
        staff.shop_id,
        name="王芳",
        lines=(
            "你好，我买的羊绒大衣收到了，袖子有个破洞",
            "都三天了还没人处理，太过分了！！我要投诉",
        ),
        agent_id=staff.aftersale.id,
    )


@pytest.fixture
def paid_order(
    uow_factory: UowFactory, staff: TicketStaff, buyer_chat: BuyerChat, clock: FrozenClock
) -> Order:
    add_product(uow_factory, staff.shop_id, sku="COAT-1", title="双面羊绒大衣", price="1299.00",
                stock=[("M", "驼色", 3)])  # fmt: skip
    return add_order(
        uow_factory, staff.shop_id, buyer_chat.customer_id, order_no=ORDER_NO,
        lines=[("COAT-1-1", 1)], status=OrderStatus.PAID,
        created_at=clock.now() - timedelta(days=3),
    )  # fmt: skip


def make_ticket(uow_factory: UowFactory, staff: ShopWithStaff, **overrides: Any) -> Ticket:
    """A ticket through the real service: an aftersale ticket opened by the agent, unless
    ``overrides`` say otherwise (any create_ticket argument)."""
    options: dict[str, Any] = {
        "type": TicketType.AFTERSALE,
        "title": "大衣袖子破洞",
        "actor_agent_id": staff.agent.id,
    }
    options.update(overrides)
    with uow_factory() as uow:
        return tickets.create_ticket(uow, shop_id=staff.shop.id, **options)


@dataclass
class Elsewhere:
    """Another shop, with everything a ticket of "tkt" must never reach."""

    staff: ShopWithStaff
    customer_id: int
    conversation_id: int
    order_id: int
    attachment_id: int
    team_id: int


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def upload(
    uow_factory: UowFactory, shop_id: int, directory: Path, *, agent_id: int, name: str = "照片.png"
) -> int:
    """An image uploaded by an agent, as the desk's upload route stores it; its id."""
    with uow_factory() as uow:
        return conversations.store_upload(
            uow, shop_id=shop_id, directory=directory, data=PNG, filename=name,
            max_bytes=1_000_000, agent_id=agent_id,
        ).id  # fmt: skip


@pytest.fixture
def elsewhere(uow_factory: UowFactory, clock: FrozenClock, tmp_path: Path) -> Elsewhere:
    other = make_shop_with_staff(uow_factory, "tkt-other")
    chat = start_chat(
        uow_factory, other.shop.id, name="韩梅梅", lines=("别家店的买家",), agent_id=None
    )
    add_product(uow_factory, other.shop.id, sku="SECRET-1", title="别家的秘密款", price="9.90")
    order = add_order(
        uow_factory, other.shop.id, chat.customer_id, order_no="9999000011112222",
        lines=[("SECRET-1", 1)], status=OrderStatus.PAID, created_at=clock.now(),
    )  # fmt: skip
    with uow_factory() as uow:
        team_id = shops.get_team_by_code(uow.session, shop_id=other.shop.id, code="aftersale").id
    return Elsewhere(
        staff=other,
        customer_id=chat.customer_id,
        conversation_id=chat.conversation_id,
        order_id=order.id,
        attachment_id=upload(uow_factory, other.shop.id, tmp_path, agent_id=other.agent.id),
        team_id=team_id,
    )


# --- reading back what was written (a fresh session: what another request would see) ------


def history_fields(db: Engine, ticket_id: int) -> list[tuple[str, str, str]]:
    with make_session_factory(db)() as session:
        rows = session.scalars(
            select(TicketChange)
            .where(TicketChange.ticket_id == ticket_id)
            .order_by(TicketChange.id)
        )
        return [(r.field, r.old_value, r.new_value) for r in rows]


def chat_lines(db: Engine, conversation_id: int) -> list[str]:
    with make_session_factory(db)() as session:
        rows = session.scalars(
            select(Message.body)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.seq)
        )
        return list(rows)


# Every table a ticket write may touch: a refused write must leave all of them as they were.
WRITTEN = (
    "tickets", "ticket_changes", "ticket_tags", "ticket_conversations", "ticket_orders",
    "ticket_attachments", "ticket_comments", "messages", "notifications", "sla_targets",
    "ticket_settings", "ticket_field_defs",
)  # fmt: skip


def snapshot(db: Engine) -> dict[str, object]:
    """The rows of every table a ticket write touches (compare before and after)."""
    with db.connect() as connection:
        return {
            table: sorted(
                tuple(str(v) for v in row)
                for row in connection.execute(text(f"SELECT * FROM {table}"))
            )
            for table in WRITTEN
        }


def fresh_ticket(db: Engine, ticket_id: int) -> Ticket:
    with make_session_factory(db)() as session:
        found = session.get(Ticket, ticket_id)
        assert found is not None
        return found


__all__ = [
    "BuyerChat",
    "Elsewhere",
    "TicketStaff",
    "chat_lines",
    "fresh_ticket",
    "history_fields",
    "make_ticket",
    "snapshot",
    "start_chat",
    "upload",
]
