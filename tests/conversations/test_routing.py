"""Who answers a conversation: round robin among online agents of its team, capacity, the
team's queue and what drains it, transfers and reopening (docs/REALTIME.md, Routing).

Everything here goes through the services, as a request or a websocket would, and reads
the result back in a fresh session: what is committed is what agents see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from kefu.accounts import presence
from kefu.accounts import service as accounts
from kefu.accounts.models import Agent, Presence, Role
from kefu.clock import FrozenClock
from kefu.conversations import service as conversations
from kefu.conversations import subscribers as conversation_subscribers
from kefu.conversations.events import ConversationAssigned, ConversationReopened
from kefu.conversations.models import (
    Channel,
    Conversation,
    ConversationStatus,
    Message,
    SenderType,
)
from kefu.crm import service as crm
from kefu.db import make_session_factory
from kefu.errors import Conflict, Invalid, NotFound
from kefu.events import EventBus
from kefu.shops import service as shops
from kefu.uow import UnitOfWork
from tests.factories import ShopWithStaff, make_agent, make_shop_with_staff

UowFactory = Callable[[], UnitOfWork]


@dataclass
class Floor:
    """A shop whose staff start offline, with helpers to move people and buyers around.

    Owner, supervisor and agent are all in 售前 (presale), as the factories make them; they
    take nothing unless they come online.
    """

    uow: UowFactory
    bus: EventBus
    clock: FrozenClock
    db: Engine
    staff: ShopWithStaff

    @property
    def shop_id(self) -> int:
        return self.staff.shop.id

    def team_id(self, code: str) -> int:
        with self.uow() as uow:
            return shops.get_team_by_code(uow.session, shop_id=self.shop_id, code=code).id

    def hire(self, email: str, name: str, teams: tuple[str, ...] = ("presale",)) -> Agent:
        return make_agent(
            self.uow, self.staff.shop, email=email, name=name, role=Role.AGENT, team_codes=teams
        )

    def presence(self, agent: Agent, status: Presence) -> None:
        with self.uow() as uow:
            conversations.set_agent_presence(
                uow, shop_id=self.shop_id, agent_id=agent.id, status=status
            )

    def online(self, *agents: Agent) -> None:
        for agent in agents:
            self.presence(agent, Presence.ONLINE)

    def capacity(self, agent: Agent, capacity: int) -> None:
        with self.uow() as uow:
            conversations.set_agent_capacity(
                uow, shop_id=self.shop_id, agent_id=agent.id, capacity=capacity
            )

    def buyer(self, name: str = "") -> int:
        with self.uow() as uow:
            return crm.create_customer(uow, shop_id=self.shop_id, name=name).id

    def start(self, customer_id: int | None = None) -> int:
        """A buyer's first message: the conversation opens in 售前 and is routed."""
        customer_id = customer_id or self.buyer()
        with self.uow() as uow:
            message = conversations.receive_customer_message(
                uow,
                shop_id=self.shop_id,
                customer_id=customer_id,
                channel=Channel.WIDGET,
                client_msg_id="first",
                body="在吗?",
            )
        return message.conversation_id

    def buyer_writes(self, conversation_id: int, client_msg_id: str, body: str = "还在吗") -> None:
        with self.uow() as uow:
            conversations.receive_message(
                uow,
                shop_id=self.shop_id,
                conversation_id=conversation_id,
                client_msg_id=client_msg_id,
                body=body,
            )

    def close(self, conversation_id: int, by: Agent | None = None) -> None:
        with self.uow() as uow:
            conversations.close_conversation(
                uow,
                shop_id=self.shop_id,
                conversation_id=conversation_id,
                closed_by_agent_id=by.id if by else None,
            )

    def transfer(self, conversation_id: int, by: Agent | None, **where: Any) -> None:
        with self.uow() as uow:
            conversations.transfer_conversation(
                uow,
                shop_id=self.shop_id,
                conversation_id=conversation_id,
                by_agent_id=by.id if by else None,
                **where,
            )

    def get(self, conversation_id: int) -> Conversation:
        with make_session_factory(self.db)() as session:
            return session.get_one(Conversation, conversation_id)

    def assignee(self, conversation_id: int) -> int | None:
        return self.get(conversation_id).assignee_id

    def messages(self, conversation_id: int, *, buyer_view: bool = False) -> list[Message]:
        with make_session_factory(self.db)() as session:
            query = select(Message).where(Message.conversation_id == conversation_id)
            if buyer_view:
                query = query.where(Message.is_private.is_(False))
            return list(session.scalars(query.order_by(Message.seq)))

    def tick(self, seconds: float = 1) -> None:
        self.clock.advance(timedelta(seconds=seconds))


@pytest.fixture
def floor(uow_factory: UowFactory, bus: EventBus, clock: FrozenClock, db: Engine) -> Floor:
    return Floor(uow_factory, bus, clock, db, make_shop_with_staff(uow_factory, "floor"))


def _assigned(events: list[Any]) -> list[ConversationAssigned]:
    return [e for e in events if isinstance(e, ConversationAssigned)]


# --- routing a new conversation ---------------------------------------------------------


def test_a_new_conversation_goes_to_the_online_presale_agent(floor: Floor) -> None:
    agent = floor.staff.agent
    floor.online(agent)
    with floor.bus.capture() as events:
        conversation_id = floor.start()
    conversation = floor.get(conversation_id)
    assert conversation.team_id == floor.team_id("presale")
    assert conversation.assignee_id == agent.id
    assert conversation.waiting_since is None
    assert conversation.assigned_at == floor.clock.now()
    [routed] = _assigned(events)
    assert routed.conversation_id == conversation_id
    assert routed.reason == "routed"
    assert (routed.assignee_id, routed.previous_assignee_id) == (agent.id, None)
    assert routed.team_id == routed.previous_team_id == floor.team_id("presale")
    assert routed.by_agent_id is None


def test_an_online_agent_of_another_team_gets_no_presale_conversation(floor: Floor) -> None:
    aftersale = floor.hire("after@floor.test", "售后小王", teams=("aftersale",))
    floor.online(aftersale)
    conversation_id = floor.start()
    conversation = floor.get(conversation_id)
    assert conversation.assignee_id is None
    assert conversation.waiting_since == floor.clock.now()


def test_round_robin_alternates_between_two_online_agents(floor: Floor) -> None:
    first, second = floor.staff.agent, floor.hire("second@floor.test", "小丽")
    floor.online(first, second)
    owners = []
    for _ in range(6):
        floor.tick()
        owners.append(floor.assignee(floor.start()))
    assert owners == [first.id, second.id] * 3


def test_round_robin_serves_the_least_recently_assigned_agent_first(floor: Floor) -> None:
    early, late = floor.staff.agent, floor.hire("late@floor.test", "小丽")
    floor.online(early)
    c1 = floor.start()  # only `early` is online: theirs
    floor.tick()
    floor.online(late)
    floor.tick()
    c2 = floor.start()  # `late` has never had one: theirs
    floor.tick()
    c3 = floor.start()  # `early` was assigned longer ago than `late`
    floor.tick()
    c4 = floor.start()
    assert [floor.assignee(c) for c in (c1, c2, c3, c4)] == [early.id, late.id, early.id, late.id]


def test_capacity_full_means_the_next_conversation_waits_in_the_queue(floor: Floor) -> None:
    agent = floor.staff.agent
    floor.capacity(agent, 2)
    floor.online(agent)
    c1, c2 = floor.start(), floor.start()
    floor.tick(30)
    c3 = floor.start()
    assert floor.assignee(c1) == floor.assignee(c2) == agent.id
    third = floor.get(c3)
    assert third.assignee_id is None
    assert third.status is ConversationStatus.OPEN
    assert third.waiting_since == floor.clock.now()


@pytest.mark.parametrize("status", [Presence.AWAY, Presence.OFFLINE])
def test_away_or_offline_agents_get_no_new_conversations(floor: Floor, status: Presence) -> None:
    agent = floor.staff.agent
    floor.online(agent)
    floor.presence(agent, status)
    conversation = floor.get(floor.start())
    assert conversation.assignee_id is None
    assert conversation.waiting_since is not None


def test_an_away_agent_keeps_the_conversations_they_have(floor: Floor) -> None:
    agent = floor.staff.agent
    floor.online(agent)
    mine = floor.start()
    floor.presence(agent, Presence.AWAY)
    floor.buyer_writes(mine, "again")
    assert floor.assignee(mine) == agent.id


def test_a_stale_heartbeat_is_offline_and_gets_nothing(floor: Floor) -> None:
    agent = floor.staff.agent
    with floor.uow() as uow:
        conversations.desk_connected(uow, shop_id=floor.shop_id, agent_id=agent.id)
    floor.clock.advance(presence.PRESENCE_GRACE)
    still_there = floor.start()  # exactly at the grace: still online
    floor.tick()
    gone = floor.start()  # one second past: the desk is considered gone
    assert floor.assignee(still_there) == agent.id
    assert floor.assignee(gone) is None


def test_a_heartbeat_keeps_a_connected_agent_online(floor: Floor) -> None:
    agent = floor.staff.agent
    with floor.uow() as uow:
        conversations.desk_connected(uow, shop_id=floor.shop_id, agent_id=agent.id)
    for _ in range(5):  # five minutes with a beat every 20 seconds
        for _ in range(3):
            floor.clock.advance(presence.HEARTBEAT)
            with floor.uow() as uow:
                presence.heartbeat(uow, agent_ids=[agent.id])
    assert floor.assignee(floor.start()) == agent.id


def test_a_heartbeat_that_brings_an_agent_back_serves_the_queue(floor: Floor) -> None:
    """Their desk closed on one process while another process still had one open: that
    process's next heartbeat brings them back, and what waited meanwhile is theirs."""
    agent = floor.staff.agent
    with floor.uow() as uow:
        conversations.desk_connected(uow, shop_id=floor.shop_id, agent_id=agent.id)
    with floor.uow() as uow:
        presence.desk_disconnected(uow, shop_id=floor.shop_id, agent_id=agent.id)
    waiting = floor.start()
    assert floor.assignee(waiting) is None
    floor.clock.advance(presence.HEARTBEAT)
    with floor.uow() as uow:
        conversations.desks_alive(uow, agent_ids=[agent.id])
    assert floor.assignee(waiting) == agent.id


def test_a_deactivated_agents_open_conversations_go_to_a_colleague(floor: Floor) -> None:
    conversation_subscribers.install(floor.bus, floor.uow)
    leaving = floor.staff.agent
    colleague = floor.hire("colleague@routing.test", "小丽")
    floor.online(leaving)
    first, second = floor.start(), floor.start()
    assert floor.assignee(first) == floor.assignee(second) == leaving.id
    floor.online(colleague)
    with floor.uow() as uow:
        accounts.update_agent(
            uow,
            shop_id=floor.shop_id,
            agent_id=leaving.id,
            acting_agent_id=floor.staff.owner.id,
            is_active=False,
        )
    assert floor.assignee(first) == floor.assignee(second) == colleague.id


# --- the queue drains ---------------------------------------------------------------------


def test_closing_a_conversation_gives_the_oldest_queued_one_to_that_agent(floor: Floor) -> None:
    agent = floor.staff.agent
    floor.capacity(agent, 1)
    floor.online(agent)
    busy = floor.start()
    floor.tick()
    oldest = floor.start()
    floor.tick()
    newer = floor.start()
    assert floor.assignee(oldest) is floor.assignee(newer) is None
    with floor.bus.capture() as events:
        floor.close(busy, by=agent)
    assert floor.assignee(oldest) == agent.id
    assert floor.get(oldest).waiting_since is None
    assert floor.assignee(newer) is None
    [handed] = _assigned(events)
    assert (handed.conversation_id, handed.reason, handed.assignee_id) == (
        oldest,
        "routed",
        agent.id,
    )
    assert handed.previous_assignee_id is None


def test_coming_online_drains_the_queue_oldest_first_up_to_capacity(floor: Floor) -> None:
    agent = floor.staff.agent
    floor.capacity(agent, 2)
    queued = []
    for _ in range(3):
        queued.append(floor.start())
        floor.tick()
    assert all(floor.assignee(c) is None for c in queued)
    floor.online(agent)
    assert [floor.assignee(c) for c in queued] == [agent.id, agent.id, None]


def test_a_desk_connecting_drains_the_queue(floor: Floor) -> None:
    agent = floor.staff.agent
    waiting = floor.start()
    with floor.uow() as uow:
        conversations.desk_connected(uow, shop_id=floor.shop_id, agent_id=agent.id)
    assert floor.assignee(waiting) == agent.id


def test_raising_capacity_drains_the_queue(floor: Floor) -> None:
    agent = floor.staff.agent
    floor.capacity(agent, 1)
    floor.online(agent)
    floor.start()
    floor.tick()
    waiting = floor.start()
    assert floor.assignee(waiting) is None
    floor.capacity(agent, 2)
    assert floor.assignee(waiting) == agent.id


def test_capacity_outside_0_to_50_is_refused(floor: Floor) -> None:
    agent = floor.staff.agent
    for bad in (-1, presence.MAX_CAPACITY + 1):
        with pytest.raises(Invalid) as caught, floor.uow() as uow:
            conversations.set_agent_capacity(
                uow, shop_id=floor.shop_id, agent_id=agent.id, capacity=bad
            )
        assert caught.value.field == "capacity"


# --- transfers ----------------------------------------------------------------------------


def test_transfer_to_another_team_routes_to_that_teams_online_agent(floor: Floor) -> None:
    presale_agent = floor.staff.agent
    aftersale_agent = floor.hire("after@floor.test", "售后小王", teams=("aftersale",))
    floor.online(presale_agent, aftersale_agent)
    conversation_id = floor.start()
    assert floor.assignee(conversation_id) == presale_agent.id
    aftersale = floor.team_id("aftersale")
    with floor.bus.capture() as events:
        floor.transfer(conversation_id, by=presale_agent, team_id=aftersale)
    conversation = floor.get(conversation_id)
    assert (conversation.team_id, conversation.assignee_id) == (aftersale, aftersale_agent.id)
    assert conversation.waiting_since is None
    moves = _assigned(events)
    assert [(e.reason, e.assignee_id) for e in moves] == [
        ("transferred", None),
        ("transferred", aftersale_agent.id),
    ]
    assert moves[0].previous_team_id == floor.team_id("presale")
    assert moves[0].previous_assignee_id == presale_agent.id
    assert all(e.by_agent_id == presale_agent.id for e in moves)


def test_transfer_to_a_team_with_nobody_online_queues_it_there(floor: Floor) -> None:
    agent = floor.staff.agent
    floor.hire("after@floor.test", "售后小王", teams=("aftersale",))  # offline
    floor.online(agent)
    conversation_id = floor.start()
    floor.tick(5)
    floor.transfer(conversation_id, by=agent, team_id=floor.team_id("aftersale"))
    conversation = floor.get(conversation_id)
    assert conversation.team_id == floor.team_id("aftersale")
    assert conversation.assignee_id is None
    assert conversation.waiting_since == floor.clock.now()


def test_transferring_away_frees_the_agent_for_their_queue(floor: Floor) -> None:
    agent = floor.staff.agent
    floor.capacity(agent, 1)
    floor.online(agent)
    handled = floor.start()
    floor.tick()
    waiting = floor.start()
    assert floor.assignee(waiting) is None
    floor.transfer(handled, by=agent, team_id=floor.team_id("aftersale"))
    assert floor.assignee(waiting) == agent.id


def test_transfer_to_a_specific_agent_even_beyond_their_capacity(floor: Floor) -> None:
    first, colleague = floor.staff.agent, floor.hire("busy@floor.test", "忙碌的小丽")
    floor.capacity(colleague, 1)
    floor.online(colleague)
    theirs = floor.start()  # the colleague is now full
    floor.online(first)
    mine = floor.start()
    assert (floor.assignee(theirs), floor.assignee(mine)) == (colleague.id, first.id)
    with floor.bus.capture() as events:
        floor.transfer(mine, by=first, agent_id=colleague.id)
    assert floor.assignee(mine) == colleague.id
    [moved] = _assigned(events)
    assert (moved.reason, moved.previous_assignee_id, moved.by_agent_id) == (
        "transferred",
        first.id,
        first.id,
    )


def test_transfer_to_an_offline_agent_is_honoured(floor: Floor) -> None:
    agent, offline = floor.staff.agent, floor.hire("off@floor.test", "下班的小丽")
    floor.online(agent)
    conversation_id = floor.start()
    floor.transfer(conversation_id, by=agent, agent_id=offline.id)
    assert floor.assignee(conversation_id) == offline.id


def test_a_transfer_tells_the_buyer_where_they_went(floor: Floor) -> None:
    agent = floor.staff.agent
    floor.online(agent)
    conversation_id = floor.start()
    floor.transfer(conversation_id, by=agent, team_id=floor.team_id("aftersale"))
    last = floor.messages(conversation_id, buyer_view=True)[-1]
    assert last.sender_type is SenderType.SYSTEM
    assert last.body.startswith("已为您转接至售后")
    assert not last.is_private
    colleague = floor.hire("colleague@floor.test", "小丽", teams=("aftersale",))
    floor.transfer(conversation_id, by=agent, agent_id=colleague.id)
    assert floor.messages(conversation_id, buyer_view=True)[-1].body.startswith("已为您转接至小丽")


def test_taking_a_conversation_yourself_sends_the_buyer_nothing(floor: Floor) -> None:
    supervisor = floor.staff.supervisor
    conversation_id = floor.start()  # nobody online: queued
    before = len(floor.messages(conversation_id))
    floor.transfer(conversation_id, by=supervisor, agent_id=supervisor.id)
    assert floor.assignee(conversation_id) == supervisor.id
    assert len(floor.messages(conversation_id)) == before


# --- bad transfers change nothing -------------------------------------------------------


@pytest.fixture
def routed(floor: Floor) -> int:
    floor.online(floor.staff.agent)
    return floor.start()


def _unchanged(floor: Floor, conversation_id: int, before: tuple[Any, ...]) -> None:
    conversation = floor.get(conversation_id)
    assert (
        conversation.team_id,
        conversation.assignee_id,
        conversation.last_seq,
        len(floor.messages(conversation_id)),
    ) == before


def _state(floor: Floor, conversation_id: int) -> tuple[Any, ...]:
    conversation = floor.get(conversation_id)
    return (
        conversation.team_id,
        conversation.assignee_id,
        conversation.last_seq,
        len(floor.messages(conversation_id)),
    )


def test_transfer_needs_a_team_or_an_agent(floor: Floor, routed: int) -> None:
    before = _state(floor, routed)
    with floor.bus.capture() as events, pytest.raises(Invalid):
        floor.transfer(routed, by=floor.staff.agent)
    assert events == []
    _unchanged(floor, routed, before)


def test_transfer_to_another_shops_team_or_agent_is_refused(
    floor: Floor, routed: int, uow_factory: UowFactory
) -> None:
    other = make_shop_with_staff(uow_factory, "elsewhere")
    with uow_factory() as uow:
        other_team = shops.get_team_by_code(uow.session, shop_id=other.shop.id, code="aftersale")
    before = _state(floor, routed)
    with floor.bus.capture() as events:
        with pytest.raises(NotFound):
            floor.transfer(routed, by=floor.staff.agent, team_id=other_team.id)
        with pytest.raises(Invalid) as caught:
            floor.transfer(routed, by=floor.staff.agent, agent_id=other.agent.id)
        assert caught.value.field == "agent_id"
    assert events == []
    _unchanged(floor, routed, before)


def test_transfer_to_a_deactivated_agent_is_refused(floor: Floor, routed: int) -> None:
    leaver = floor.hire("leaver@floor.test", "离职的小丽")
    with floor.uow() as uow:
        uow.session.get_one(Agent, leaver.id).is_active = False
        uow.commit()
    before = _state(floor, routed)
    with pytest.raises(Invalid):
        floor.transfer(routed, by=floor.staff.agent, agent_id=leaver.id)
    _unchanged(floor, routed, before)


def test_transferring_a_closed_conversation_is_a_conflict(floor: Floor, routed: int) -> None:
    floor.close(routed, by=floor.staff.agent)
    before = _state(floor, routed)
    with floor.bus.capture() as events, pytest.raises(Conflict):
        floor.transfer(routed, by=floor.staff.agent, team_id=floor.team_id("aftersale"))
    assert events == []
    _unchanged(floor, routed, before)


def test_another_shop_cannot_transfer_the_conversation(
    floor: Floor, routed: int, uow_factory: UowFactory
) -> None:
    other = make_shop_with_staff(uow_factory, "elsewhere")
    before = _state(floor, routed)
    with pytest.raises(NotFound), uow_factory() as uow:
        conversations.transfer_conversation(
            uow,
            shop_id=other.shop.id,
            conversation_id=routed,
            by_agent_id=other.agent.id,
            agent_id=other.agent.id,
        )
    _unchanged(floor, routed, before)


# --- reopening ----------------------------------------------------------------------------


def test_a_buyer_writing_again_reopens_to_the_same_agent(floor: Floor) -> None:
    first, second = floor.staff.agent, floor.hire("second@floor.test", "小丽")
    floor.online(first, second)
    conversation_id = floor.start()
    assert floor.assignee(conversation_id) == first.id
    floor.close(conversation_id, by=first)
    floor.tick()
    with floor.bus.capture() as events:
        floor.buyer_writes(conversation_id, "back")
    conversation = floor.get(conversation_id)
    assert conversation.status is ConversationStatus.OPEN
    assert conversation.closed_at is None
    # Round robin alone would pick `second` (never assigned): the buyer gets who they had.
    assert conversation.assignee_id == first.id
    [reopened] = [e for e in events if isinstance(e, ConversationReopened)]
    assert (reopened.by_agent_id, reopened.assignee_id) == (None, first.id)


def test_a_buyer_writing_again_reaches_their_agent_whose_only_conversation_it_was(
    floor: Floor,
) -> None:
    """An agent with capacity 1 whose single conversation was closed has room for it again."""
    agent = floor.staff.agent
    floor.capacity(agent, 1)
    floor.online(agent)
    conversation_id = floor.start()
    floor.close(conversation_id, by=agent)
    floor.buyer_writes(conversation_id, "back")
    assert floor.assignee(conversation_id) == agent.id
    assert floor.get(conversation_id).waiting_since is None


def test_a_buyer_writing_again_while_their_agent_is_away_goes_to_someone_online(
    floor: Floor,
) -> None:
    first, second = floor.staff.agent, floor.hire("second@floor.test", "小丽")
    floor.online(first)
    conversation_id = floor.start()
    floor.close(conversation_id, by=first)
    floor.presence(first, Presence.AWAY)
    floor.online(second)
    floor.buyer_writes(conversation_id, "back")
    assert floor.assignee(conversation_id) == second.id


def test_a_buyer_writing_again_with_nobody_online_waits_in_the_queue(floor: Floor) -> None:
    agent = floor.staff.agent
    floor.online(agent)
    conversation_id = floor.start()
    floor.close(conversation_id, by=agent)
    floor.presence(agent, Presence.OFFLINE)
    floor.tick(10)
    floor.buyer_writes(conversation_id, "back")
    conversation = floor.get(conversation_id)
    assert conversation.status is ConversationStatus.OPEN
    assert conversation.assignee_id is None
    assert conversation.waiting_since == floor.clock.now()


def test_an_agent_reopening_a_conversation_makes_it_theirs(floor: Floor) -> None:
    agent, supervisor = floor.staff.agent, floor.staff.supervisor
    floor.online(agent)
    conversation_id = floor.start()
    floor.close(conversation_id, by=agent)
    with floor.bus.capture() as events, floor.uow() as uow:
        conversations.reopen_conversation(
            uow, shop_id=floor.shop_id, conversation_id=conversation_id, by_agent_id=supervisor.id
        )
    conversation = floor.get(conversation_id)
    assert conversation.status is ConversationStatus.OPEN
    assert conversation.assignee_id == supervisor.id  # offline, but they asked for it
    [reopened] = [e for e in events if isinstance(e, ConversationReopened)]
    assert reopened.by_agent_id == supervisor.id
    [assigned] = _assigned(events)
    assert (assigned.reason, assigned.by_agent_id, assigned.previous_assignee_id) == (
        "assigned",
        supervisor.id,
        agent.id,
    )


def test_reopening_an_open_conversation_is_a_conflict(floor: Floor, routed: int) -> None:
    with pytest.raises(Conflict), floor.uow() as uow:
        conversations.reopen_conversation(
            uow, shop_id=floor.shop_id, conversation_id=routed, by_agent_id=floor.staff.agent.id
        )
    assert floor.assignee(routed) == floor.staff.agent.id


def test_closing_clears_the_queue_position(floor: Floor) -> None:
    waiting = floor.start()
    assert floor.get(waiting).waiting_since is not None
    floor.close(waiting)
    closed = floor.get(waiting)
    assert closed.status is ConversationStatus.CLOSED
    assert closed.waiting_since is None
    floor.online(floor.staff.agent)  # a closed conversation is not handed out
    assert floor.assignee(waiting) is None


def test_no_agent_is_ever_given_more_than_their_capacity_by_routing(floor: Floor) -> None:
    first, second = floor.staff.agent, floor.hire("second@floor.test", "小丽")
    floor.capacity(first, 2)
    floor.capacity(second, 3)
    for _ in range(8):
        floor.start()
        floor.tick()
    floor.online(first, second)
    with make_session_factory(floor.db)() as session:
        load = dict(
            session.execute(
                select(Conversation.assignee_id, func.count())
                .where(Conversation.status == ConversationStatus.OPEN)
                .group_by(Conversation.assignee_id)
            ).all()
        )
    assert load == {first.id: 2, second.id: 3, None: 3}
