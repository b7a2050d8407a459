"""Fan-out across processes over Redis pub/sub.

Every process publishes what it delivers locally and listens to everyone else's. Redis
pub/sub is at most once: a process that was disconnected misses frames, and clients
recover them with ``sync`` (sequence numbers). Each message is
``<origin> <audience json>\\n<frame json>``; a process ignores its own.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable

import redis
import redis.asyncio as aioredis

from kefu.realtime.hub import Audience

log = logging.getLogger(__name__)

PREFIX = "kefu:rt:"


class RedisRelay:
    def __init__(self, url: str) -> None:
        self.url = url
        self.origin = uuid.uuid4().hex[:12]
        # Publishing happens in worker threads (after commits): a thread-safe sync client.
        self._publisher = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def publish(self, channel: str, audience: Audience | None, text: str) -> None:
        head = json.dumps(audience.to_json() if audience else None, separators=(",", ":"))
        self._publisher.publish(PREFIX + channel, f"{self.origin} {head}\n{text}")

    async def run(
        self, deliver: Callable[[str, Audience | None, str], None], subscribed: asyncio.Event
    ) -> None:
        backoff = 0.5
        while True:
            client = aioredis.from_url(self.url)
            try:
                pubsub = client.pubsub()
                await pubsub.psubscribe(PREFIX + "*")
                subscribed.set()
                backoff = 0.5
                async for message in pubsub.listen():
                    if message.get("type") != "pmessage":
                        continue
                    self._handle(message, deliver)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("realtime relay lost Redis; retrying in %.1fs", backoff, exc_info=True)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
            finally:
                await client.aclose()

    def _handle(
        self, message: dict[str, object], deliver: Callable[[str, Audience | None, str], None]
    ) -> None:
        raw_channel, data = message["channel"], message["data"]
        if not isinstance(raw_channel, bytes) or not isinstance(data, bytes):
            return
        try:
            header, text = data.decode("utf-8").split("\n", 1)
            origin, audience_json = header.split(" ", 1)
        except ValueError:
            log.warning("realtime relay: malformed message on %r", raw_channel)
            return
        if origin == self.origin:
            return  # delivered locally already
        audience = Audience.from_json(json.loads(audience_json))
        deliver(raw_channel.decode("utf-8").removeprefix(PREFIX), audience, text)

    def close(self) -> None:
        self._publisher.close()
