"""Token buckets: a burst, then a steady rate. One per buyer (and per agent) per process."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    capacity: float
    per_second: float
    monotonic: Callable[[], float] = time.monotonic
    tokens: float = field(init=False)
    updated: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = self.capacity
        self.updated = self.monotonic()

    def take(self) -> float:
        """0 when allowed (a token is spent); otherwise the seconds until one is available."""
        now = self.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.per_second


class Limits:
    """Buckets by key (e.g. ``buyer:3:17``), shared by every connection of that key here."""

    def __init__(
        self,
        *,
        capacity: float,
        per_second: float,
        max_keys: int = 100_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = capacity
        self.per_second = per_second
        self.max_keys = max_keys
        self.monotonic = monotonic
        self._buckets: dict[str, TokenBucket] = {}

    def retry_after(self, key: str) -> int:
        """0 when allowed; else whole seconds to wait (at least 1)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._buckets.clear()  # a crude bound; a full bucket for everyone is harmless
            bucket = self._buckets[key] = TokenBucket(
                self.capacity, self.per_second, self.monotonic
            )
        wait = bucket.take()
        return 0 if wait == 0 else max(1, math.ceil(wait))
