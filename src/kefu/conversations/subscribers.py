"""What conversations do when other domains change: reactions run after the other
domain's commit, each in a unit of work of its own."""

from __future__ import annotations

from collections.abc import Callable

from kefu.accounts.events import AgentUpdated
from kefu.conversations import service
from kefu.events import EventBus
from kefu.uow import UnitOfWork


def install(bus: EventBus, unit_of_work: Callable[[], UnitOfWork]) -> None:
    def on_agent_updated(event: AgentUpdated) -> None:
        # A deactivated agent's open conversations would wait for nobody: hand them on.
        if "is_active" in event.changed:
            with unit_of_work() as uow:
                service.release_agent(uow, shop_id=event.shop_id, agent_id=event.agent_id)

    bus.subscribe(AgentUpdated, on_agent_updated)
