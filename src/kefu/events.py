"""Domain events and the in-process bus that delivers them after commit.

Services never publish directly: they hand events to the unit of work, which dispatches
them only after its transaction committed (so a subscriber never sees a row that was
rolled back). Subscribers run synchronously: those of the event's own class first, then
those of its base classes, each group in the order they subscribed; one failing
subscriber is logged and does not stop the others, because the change they react to is
already durable.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base class of every domain event. Concrete events live in each domain's events.py."""

    shop_id: int


E = TypeVar("E", bound=Event)
Handler = Callable[[Any], None]


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[type[Event], list[Handler]] = defaultdict(list)
        self._captures: list[list[Event]] = []
        self._after_dispatch: list[Callable[[], None]] = []

    def subscribe(self, event_type: type[E], handler: Callable[[E], None]) -> None:
        self._handlers[event_type].append(handler)

    def after_dispatch(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` after each dispatch of a commit's events: a subscriber that gathers
        what a batch changed can then act once for all of it."""
        self._after_dispatch.append(hook)

    def dispatch(self, events: list[Event]) -> None:
        self._deliver(events)
        if not events:
            return
        for hook in self._after_dispatch:
            try:
                hook()
            except Exception:
                log.exception("after-dispatch hook failed", extra={"handler": _name(hook)})

    def _deliver(self, events: list[Event]) -> None:
        for event in events:
            for capture in self._captures:
                capture.append(event)
            for event_type in type(event).__mro__:
                for handler in self._handlers.get(event_type, ()):
                    try:
                        handler(event)
                    except Exception:
                        log.exception(
                            "event handler failed",
                            extra={"event": type(event).__name__, "handler": _name(handler)},
                        )

    @contextmanager
    def capture(self) -> Iterator[list[Event]]:
        """Record every event dispatched inside the block (tests: 'what did this call emit?')."""
        recorded: list[Event] = []
        self._captures.append(recorded)
        try:
            yield recorded
        finally:
            # By identity: two captures holding equal events are still different captures.
            self._captures = [c for c in self._captures if c is not recorded]


def _name(handler: Callable[..., None]) -> str:
    return getattr(handler, "__qualname__", repr(handler))
