"""What the coach does when something happens elsewhere. STUB: H-qa fills."""

from __future__ import annotations

from collections.abc import Callable

from kefu.events import EventBus
from kefu.uow import UnitOfWork


def install(bus: EventBus, unit_of_work: Callable[[], UnitOfWork]) -> None:
    return None
