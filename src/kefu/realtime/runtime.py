"""The realtime parts one server process runs: hub, relay, message writer, rate limits,
and the heartbeat that keeps connected agents' presence fresh."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable

from anyio import to_thread
from sqlalchemy.orm import Session

from kefu.accounts import presence
from kefu.conversations import service as conversations
from kefu.events import EventBus
from kefu.realtime.hub import Hub
from kefu.realtime.ratelimit import Limits
from kefu.realtime.redis_relay import RedisRelay
from kefu.realtime.subscribers import Publisher
from kefu.realtime.writer import MessageWriter
from kefu.uow import UnitOfWork

log = logging.getLogger(__name__)

# A buyer may send a burst of 10 messages, then one a second; agents type faster.
BUYER_BURST, BUYER_RATE = 10, 1.0
AGENT_BURST, AGENT_RATE = 30, 5.0


class Realtime:
    def __init__(
        self,
        *,
        bus: EventBus,
        unit_of_work: Callable[[], UnitOfWork],
        session_factory: Callable[[], Session],
        redis_url: str | None,
        new_visitors_per_minute: int = 60,
    ) -> None:
        self.hub = Hub(RedisRelay(redis_url) if redis_url else None)
        self.writer = MessageWriter(unit_of_work)
        self.unit_of_work = unit_of_work
        self.buyer_limits = Limits(capacity=BUYER_BURST, per_second=BUYER_RATE)
        self.agent_limits = Limits(capacity=AGENT_BURST, per_second=AGENT_RATE)
        # New anonymous visitors (a customer row each) per address: generous, because
        # mobile carriers put many buyers behind one address, but not unbounded.
        self.new_visitor_limits = Limits(
            capacity=new_visitors_per_minute, per_second=new_visitors_per_minute / 60
        )
        # Desks open on this process, per agent: presence turns offline when the last closes.
        self.desks: Counter[int] = Counter()
        self._heartbeat: asyncio.Task[None] | None = None
        Publisher(self.hub, session_factory).install(bus)

    async def start(self) -> None:
        await self.hub.start()
        await self.writer.start()
        self._heartbeat = asyncio.create_task(self._beat())

    async def stop(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        await self.writer.stop()
        await self.hub.stop()

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(presence.HEARTBEAT.total_seconds())
            agent_ids = [agent_id for agent_id, count in self.desks.items() if count > 0]
            try:
                await to_thread.run_sync(self.heartbeat, agent_ids)
            except Exception:
                log.warning("presence heartbeat failed", exc_info=True)

    def heartbeat(self, agent_ids: list[int]) -> None:
        with self.unit_of_work() as uow:
            conversations.desks_alive(uow, agent_ids=agent_ids)
