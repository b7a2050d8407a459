"""Agent presence as colleagues see it: the agent's choice while a desk is connected,
offline when the heartbeat goes stale or the account is deactivated; and the
AgentPresenceChanged event, which fires only when what others see changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from kefu.accounts import presence
from kefu.accounts.events import AgentPresenceChanged
from kefu.accounts.models import Agent, Presence
from kefu.clock import FrozenClock
from kefu.conversations import service as conversations
from kefu.errors import NotFound
from kefu.events import EventBus
from kefu.uow import UnitOfWork
from tests.factories import ShopWithStaff, make_shop_with_staff

UowFactory = Callable[[], UnitOfWork]


@pytest.fixture
def staff(uow_factory: UowFactory) -> ShopWithStaff:
    return make_shop_with_staff(uow_factory, "presence")


def _seen(uow_factory: UowFactory, clock: FrozenClock, agent_id: int) -> Presence:
    with uow_factory() as uow:
        return presence.effective_presence(uow.session.get_one(Agent, agent_id), now=clock.now())


def _choose(uow_factory: UowFactory, staff: ShopWithStaff, status: Presence) -> None:
    with uow_factory() as uow:
        conversations.set_agent_presence(
            uow, shop_id=staff.shop.id, agent_id=staff.agent.id, status=status
        )


def _connect(uow_factory: UowFactory, staff: ShopWithStaff) -> None:
    with uow_factory() as uow:
        conversations.desk_connected(uow, shop_id=staff.shop.id, agent_id=staff.agent.id)


def _disconnect(uow_factory: UowFactory, staff: ShopWithStaff) -> None:
    with uow_factory() as uow:
        presence.desk_disconnected(uow, shop_id=staff.shop.id, agent_id=staff.agent.id)


def _changes(events: list[object]) -> list[tuple[int, str]]:
    return [(e.agent_id, e.presence) for e in events if isinstance(e, AgentPresenceChanged)]


def test_a_new_agent_without_a_desk_is_offline(
    uow_factory: UowFactory, clock: FrozenClock, staff: ShopWithStaff
) -> None:
    assert _seen(uow_factory, clock, staff.agent.id) is Presence.OFFLINE


def test_opening_the_desk_makes_an_agent_online(
    uow_factory: UowFactory, clock: FrozenClock, bus: EventBus, staff: ShopWithStaff
) -> None:
    with bus.capture() as events:
        _connect(uow_factory, staff)
    assert _seen(uow_factory, clock, staff.agent.id) is Presence.ONLINE
    assert _changes(events) == [(staff.agent.id, "online")]


def test_away_is_seen_as_away_and_survives_a_reconnect(
    uow_factory: UowFactory, clock: FrozenClock, bus: EventBus, staff: ShopWithStaff
) -> None:
    _connect(uow_factory, staff)
    with bus.capture() as events:
        _choose(uow_factory, staff, Presence.AWAY)
    assert _seen(uow_factory, clock, staff.agent.id) is Presence.AWAY
    assert _changes(events) == [(staff.agent.id, "away")]
    with bus.capture() as events:
        _disconnect(uow_factory, staff)
    assert _seen(uow_factory, clock, staff.agent.id) is Presence.OFFLINE
    assert _changes(events) == [(staff.agent.id, "offline")]
    with bus.capture() as events:
        _connect(uow_factory, staff)
    # Back with the choice they made, not switched to online behind their back.
    assert _seen(uow_factory, clock, staff.agent.id) is Presence.AWAY
    assert _changes(events) == [(staff.agent.id, "away")]


def test_choosing_offline_is_offline_and_a_new_desk_brings_them_online(
    uow_factory: UowFactory, clock: FrozenClock, staff: ShopWithStaff
) -> None:
    _connect(uow_factory, staff)
    _choose(uow_factory, staff, Presence.OFFLINE)
    assert _seen(uow_factory, clock, staff.agent.id) is Presence.OFFLINE
    with uow_factory() as uow:
        assert uow.session.get_one(Agent, staff.agent.id).presence_seen_at is None
    _connect(uow_factory, staff)
    assert _seen(uow_factory, clock, staff.agent.id) is Presence.ONLINE


def test_a_stale_heartbeat_is_offline_and_a_fresh_one_online(
    uow_factory: UowFactory, clock: FrozenClock, staff: ShopWithStaff
) -> None:
    _connect(uow_factory, staff)
    clock.advance(presence.PRESENCE_GRACE)
    assert _seen(uow_factory, clock, staff.agent.id) is Presence.ONLINE  # one beat missed: fine
    clock.advance(timedelta(seconds=1))
    assert _seen(uow_factory, clock, staff.agent.id) is Presence.OFFLINE
    with uow_factory() as uow:
        presence.heartbeat(uow, agent_ids=[staff.agent.id])
    assert _seen(uow_factory, clock, staff.agent.id) is Presence.ONLINE


def test_a_heartbeat_touches_only_the_agents_it_names(
    uow_factory: UowFactory, clock: FrozenClock, staff: ShopWithStaff
) -> None:
    for agent in (staff.agent, staff.supervisor):
        with uow_factory() as uow:
            conversations.desk_connected(uow, shop_id=staff.shop.id, agent_id=agent.id)
    clock.advance(presence.PRESENCE_GRACE)
    with uow_factory() as uow:
        presence.heartbeat(uow, agent_ids=[staff.agent.id])
    clock.advance(timedelta(seconds=30))
    assert _seen(uow_factory, clock, staff.agent.id) is Presence.ONLINE
    assert _seen(uow_factory, clock, staff.supervisor.id) is Presence.OFFLINE


def test_a_deactivated_agent_is_offline_whatever_they_chose(
    uow_factory: UowFactory, clock: FrozenClock, staff: ShopWithStaff
) -> None:
    _connect(uow_factory, staff)
    with uow_factory() as uow:
        uow.session.get_one(Agent, staff.agent.id).is_active = False
        uow.commit()
    assert _seen(uow_factory, clock, staff.agent.id) is Presence.OFFLINE
    with uow_factory() as uow:
        presence.heartbeat(uow, agent_ids=[staff.agent.id])
    assert _seen(uow_factory, clock, staff.agent.id) is Presence.OFFLINE
    with uow_factory() as uow:
        available = presence.available_agents(
            uow.session, shop_id=staff.shop.id, agent_ids=[staff.agent.id], now=clock.now()
        )
    assert available == []


def test_presence_changed_is_emitted_only_when_what_others_see_changes(
    uow_factory: UowFactory, bus: EventBus, staff: ShopWithStaff
) -> None:
    with bus.capture() as events:
        _connect(uow_factory, staff)  # offline → online
        _connect(uow_factory, staff)  # a second tab: still online
        _choose(uow_factory, staff, Presence.ONLINE)  # already online
        _choose(uow_factory, staff, Presence.AWAY)  # → away
        _choose(uow_factory, staff, Presence.AWAY)  # again
        _choose(uow_factory, staff, Presence.OFFLINE)  # → offline
        _disconnect(uow_factory, staff)  # already offline
        with uow_factory() as uow:
            presence.heartbeat(uow, agent_ids=[staff.agent.id])
    assert _changes(events) == [
        (staff.agent.id, "online"),
        (staff.agent.id, "away"),
        (staff.agent.id, "offline"),
    ]


def test_coming_back_after_a_stale_heartbeat_is_announced(
    uow_factory: UowFactory, clock: FrozenClock, bus: EventBus, staff: ShopWithStaff
) -> None:
    _connect(uow_factory, staff)
    clock.advance(presence.PRESENCE_GRACE + timedelta(seconds=1))
    with bus.capture() as events:
        _connect(uow_factory, staff)  # stale (offline to others) → online again
    assert _changes(events) == [(staff.agent.id, "online")]


def test_presence_of_another_shops_agent_cannot_be_set(
    uow_factory: UowFactory, clock: FrozenClock, staff: ShopWithStaff
) -> None:
    other = make_shop_with_staff(uow_factory, "elsewhere")
    with pytest.raises(NotFound), uow_factory() as uow:
        conversations.set_agent_presence(
            uow, shop_id=staff.shop.id, agent_id=other.agent.id, status=Presence.ONLINE
        )
    assert _seen(uow_factory, clock, other.agent.id) is Presence.OFFLINE


def test_an_agent_brought_back_by_a_heartbeat_is_announced(
    uow_factory: UowFactory, clock: FrozenClock, bus: EventBus, staff: ShopWithStaff
) -> None:
    _connect(uow_factory, staff)
    _disconnect(uow_factory, staff)  # this process's last tab closed …
    with bus.capture() as events, uow_factory() as uow:
        presence.heartbeat(uow, agent_ids=[staff.agent.id])  # … another process still has one
    assert _seen(uow_factory, clock, staff.agent.id) is Presence.ONLINE
    assert _changes(events) == [(staff.agent.id, "online")]
