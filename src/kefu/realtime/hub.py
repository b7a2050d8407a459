"""The websocket hub: who is connected to this process, and fan-out to them.

Frames are published to a *channel* (``shop:<id>`` for the shop's desks,
``buyer:<shop>:<customer>`` for one buyer's tabs) with an optional *audience* (the teams
and agents a desk frame concerns). :meth:`Hub.publish` may be called from any thread —
domain events are dispatched in worker threads after their commit — and delivers to this
process's connections at once; with a :class:`RedisRelay` the same frame also reaches the
other processes. Delivery is best effort (at most once): clients fill gaps with ``sync``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger(__name__)

# Frames waiting for one slow client; past this it is disconnected and resyncs on reconnect.
OUTBOX_LIMIT = 2000


def shop_channel(shop_id: int) -> str:
    return f"shop:{shop_id}"


def buyer_channel(shop_id: int, customer_id: int) -> str:
    return f"buyer:{shop_id}:{customer_id}"


def agent_channel(agent_id: int) -> str:
    """Control messages about one agent (their access changed) for their desks; never
    forwarded to the browser."""
    return f"agent:{agent_id}"


@dataclass(frozen=True)
class Audience:
    """Who on the desk a frame concerns. Empty: everyone of the shop."""

    team_ids: frozenset[int] = frozenset()
    agent_ids: frozenset[int] = frozenset()
    # The client message id a frame answers: the socket that sent it has its ack already
    # coming and needs no echo (other tabs of the same buyer still get it).
    origin: str | None = None
    # The conversation a frame is about: desks that have it open (synced it) hear it too.
    conversation_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "t": sorted(self.team_ids),
            "a": sorted(self.agent_ids),
            "o": self.origin,
            "c": self.conversation_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Audience | None:
        if data is None:
            return None
        return cls(
            team_ids=frozenset(data.get("t", ())),
            agent_ids=frozenset(data.get("a", ())),
            origin=data.get("o"),
            conversation_id=data.get("c"),
        )


def audience_of(
    *, team_ids: list[int | None], agent_ids: list[int | None], conversation_id: int | None = None
) -> Audience:
    return Audience(
        team_ids=frozenset(t for t in team_ids if t is not None),
        agent_ids=frozenset(a for a in agent_ids if a is not None),
        conversation_id=conversation_id,
    )


def encode(frame: dict[str, Any]) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"), default=str)


class Sender(Protocol):
    async def send_text(self, data: str) -> None: ...


@dataclass(eq=False)
class Connection:
    """One websocket. Frames are queued and written by one task, in order."""

    websocket: Sender
    channels: tuple[str, ...]
    accepts: Callable[[Audience | None], bool] = lambda _audience: True
    # Called (instead of sending) for frames on an agent: channel.
    control: Callable[[str], None] | None = None
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    overflowed: bool = False
    # Set when the server ends the connection on purpose (e.g. 4401: access revoked).
    close_code: int | None = None

    def push_text(self, text: str) -> None:
        if self.overflowed:
            return
        if self.queue.qsize() >= OUTBOX_LIMIT:
            # Too slow to keep up: stop queueing and close; the client resyncs when back.
            self.overflowed = True
            self.queue.put_nowait(None)
            return
        self.queue.put_nowait(text)

    def send(self, frame: dict[str, Any]) -> None:
        self.push_text(encode(frame))

    def close(self) -> None:
        self.queue.put_nowait(None)

    async def pump(self) -> None:
        """Write queued frames until closed (None) or the socket fails."""
        while True:
            text = await self.queue.get()
            if text is None:
                return
            await self.websocket.send_text(text)


class Relay(Protocol):
    """Carries frames to the other processes (Redis), and theirs to us."""

    def publish(self, channel: str, audience: Audience | None, text: str) -> None: ...

    async def run(
        self, deliver: Callable[[str, Audience | None, str], None], subscribed: asyncio.Event
    ) -> None: ...

    def close(self) -> None: ...


class Hub:
    def __init__(self, relay: Relay | None = None) -> None:
        self.relay = relay
        self._loop: asyncio.AbstractEventLoop | None = None
        self._by_channel: dict[str, set[Connection]] = defaultdict(set)
        self._relay_task: asyncio.Task[None] | None = None
        # Frames published from worker threads wait here; one wake-up of the event loop
        # delivers all that arrived meanwhile (a batch of messages, not one call each).
        self._outbox: deque[tuple[str, Audience | None, str]] = deque()
        self._wake_lock = threading.Lock()
        self._wake_scheduled = False

    async def start(self, *, relay_timeout: float = 5.0) -> None:
        """Start delivering; with a relay, wait (briefly) until it listens, so a server that
        answers requests also hears the other processes."""
        self._loop = asyncio.get_running_loop()
        if self.relay is not None:
            subscribed = asyncio.Event()
            self._relay_task = asyncio.create_task(self.relay.run(self._deliver, subscribed))
            try:
                await asyncio.wait_for(subscribed.wait(), relay_timeout)
            except TimeoutError:
                log.warning("realtime relay is not subscribed yet; starting without it")

    async def stop(self) -> None:
        if self._relay_task is not None:
            self._relay_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._relay_task
        if self.relay is not None:
            self.relay.close()
        for connections in list(self._by_channel.values()):
            for connection in list(connections):
                connection.close()
        self._loop = None

    @property
    def running(self) -> bool:
        return self._loop is not None

    def add(self, connection: Connection) -> None:
        for channel in connection.channels:
            self._by_channel[channel].add(connection)

    def remove(self, connection: Connection) -> None:
        for channel in connection.channels:
            members = self._by_channel.get(channel)
            if members is not None:
                members.discard(connection)
                if not members:
                    del self._by_channel[channel]

    def connections(self, channel: str) -> list[Connection]:
        return list(self._by_channel.get(channel, ()))

    def publish(
        self, channel: str, frame: dict[str, Any], *, audience: Audience | None = None
    ) -> None:
        """Send a frame to a channel, from any thread. Never raises: delivery is best effort."""
        text = encode(frame)
        loop = self._loop
        if loop is not None:
            self._outbox.append((channel, audience, text))
            with self._wake_lock:
                wake, self._wake_scheduled = not self._wake_scheduled, True
            if wake:
                # RuntimeError: the loop closed while we were publishing; nobody listens.
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(self._drain)
        if self.relay is not None:
            try:
                self.relay.publish(channel, audience, text)
            except Exception:
                log.warning("realtime relay publish failed", exc_info=True)

    def _drain(self) -> None:
        with self._wake_lock:
            self._wake_scheduled = False
        while self._outbox:
            self._deliver(*self._outbox.popleft())

    def _deliver(self, channel: str, audience: Audience | None, text: str) -> None:
        control = channel.startswith("agent:")
        for connection in self._by_channel.get(channel, ()):
            if control:
                if connection.control is not None:
                    connection.control(text)
            elif connection.accepts(audience):
                connection.push_text(text)
