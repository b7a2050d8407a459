"""Shared coach fixtures: the shop "qa" and its staff (小美 of 售前, 小刘 and 小张 of 售后, a
supervisor), ``chat`` to write a conversation line by line on the test's clock, and
``elsewhere``: another shop whose rows "qa" must never reach.

Every helper of the coach tests may reuse these (add your own below, with targeted edits).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from kefu.accounts.models import Agent
from kefu.clock import FrozenClock
from kefu.conversations import service as conversations
from kefu.conversations.models import Channel, SenderType
from kefu.crm import service as crm
from kefu.shops import service as shops
from tests.factories import ShopWithStaff, UowFactory, make_agent, make_shop_with_staff

SLUG = "qa-shop"


@dataclass
class CoachStaff(ShopWithStaff):
    """make_shop_with_staff(SLUG) plus 售后 agents 小刘 (aftersale) and 小张 (aftersale2)."""

    aftersale: Agent
    aftersale2: Agent
    teams: dict[str, int]

    @property
    def shop_id(self) -> int:
        return self.shop.id


@pytest.fixture
def staff(uow_factory: UowFactory) -> CoachStaff:
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
    return CoachStaff(
        shop=base.shop, owner=base.owner, supervisor=base.supervisor, agent=base.agent,
        aftersale=aftersale, aftersale2=aftersale2, teams=teams,
    )  # fmt: skip


@dataclass
class Chat:
    """A buyer's conversation written through the real services, each line at the clock's
    time; ``after(minutes)`` moves the clock first. ``close()`` closes it as ``agent``."""

    uow_factory: UowFactory
    clock: FrozenClock
    shop_id: int
    customer_id: int
    conversation_id: int
    agent: Agent
    _n: int = field(default=0)

    def _id(self) -> str:
        self._n += 1
        return f"qa-{self.conversation_id}-{self._n}"

    def after(self, minutes: float) -> Chat:
        self.clock.advance(timedelta(minutes=minutes))
        return self

    def buyer(self, text: str) -> Chat:
        with self.uow_factory() as uow:
            conversations.receive_message(
                uow, shop_id=self.shop_id, conversation_id=self.conversation_id,
                client_msg_id=self._id(), body=text,
            )  # fmt: skip
        return self

    def reply(self, text: str, *, agent: Agent | None = None) -> Chat:
        who = agent or self.agent
        with self.uow_factory() as uow:
            conversations.send_reply(
                uow, shop_id=self.shop_id, conversation_id=self.conversation_id,
                client_msg_id=self._id(), body=text, sender_type=SenderType.AGENT,
                sender_agent_id=who.id, sender_name=who.display_name,
            )  # fmt: skip
        return self

    def close(self, *, by: Agent | None = None) -> Chat:
        with self.uow_factory() as uow:
            conversations.close_conversation(
                uow, shop_id=self.shop_id, conversation_id=self.conversation_id,
                closed_by_agent_id=(by or self.agent).id,
            )  # fmt: skip
        return self


ChatFactory = Callable[..., Chat]


def start_chat(
    uow_factory: UowFactory,
    clock: FrozenClock,
    shop_id: int,
    agent: Agent,
    *,
    name: str = "王芳",
    gender: str | None = "F",
    team_code: str = "aftersale",
) -> Chat:
    """A buyer's conversation in a team, given to ``agent``; no lines yet."""
    with uow_factory() as uow:
        customer = crm.create_customer(uow, shop_id=shop_id, name=name, gender=gender, commit=False)
        conversation = conversations.start_conversation(
            uow, shop_id=shop_id, customer_id=customer.id, channel=Channel.WIDGET,
            team_code=team_code, route=False, commit=False,
        )  # fmt: skip
        conversations.transfer_conversation(
            uow, shop_id=shop_id, conversation_id=conversation.id, by_agent_id=None,
            agent_id=agent.id, commit=False,
        )  # fmt: skip
        uow.commit()
        return Chat(uow_factory, clock, shop_id, customer.id, conversation.id, agent)


@pytest.fixture
def chat(uow_factory: UowFactory, clock: FrozenClock, staff: CoachStaff) -> ChatFactory:
    """``chat(agent=staff.aftersale, name="王芳", gender="F")`` → a new Chat in 售后."""

    def make(agent: Agent | None = None, **options: object) -> Chat:
        return start_chat(uow_factory, clock, staff.shop_id, agent or staff.aftersale, **options)  # type: ignore[arg-type]

    return make


@dataclass
class Elsewhere:
    staff: ShopWithStaff
    conversation_id: int


@pytest.fixture
def elsewhere(uow_factory: UowFactory, clock: FrozenClock) -> Elsewhere:
    other = make_shop_with_staff(uow_factory, "qa-other")
    c = start_chat(
        uow_factory, clock, other.shop.id, other.agent, name="韩梅梅", team_code="presale"
    )
    c.buyer("别家店的买家：质量太差了").reply("那你退款好了").close()
    return Elsewhere(staff=other, conversation_id=c.conversation_id)
