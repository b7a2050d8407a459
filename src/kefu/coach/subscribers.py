"""What the coach does when something happens elsewhere. Each handler opens a unit of
work and calls one service function, which commits (subscribers never commit
themselves): the change is the service's, written and tested like any other.

- A conversation was closed: it is scored (:func:`kefu.coach.scoring.score_conversation`),
  one score per agent who replied. If this is missed (the process stopped, the scoring
  failed), the sweep (:mod:`kefu.coach.qa_sweep`) catches up within minutes.
"""

from __future__ import annotations

from collections.abc import Callable

from kefu.coach import scoring
from kefu.conversations.events import ConversationClosed
from kefu.errors import Invalid
from kefu.events import EventBus
from kefu.uow import UnitOfWork


def install(bus: EventBus, unit_of_work: Callable[[], UnitOfWork]) -> None:
    install_closed_conversations(bus, unit_of_work)


def install_closed_conversations(bus: EventBus, unit_of_work: Callable[[], UnitOfWork]) -> None:
    """A closed conversation is scored in a transaction of its own (after the close
    committed: scoring never holds the close back, and a failure never undoes it)."""

    def on_closed(event: ConversationClosed) -> None:
        with unit_of_work() as uow:
            try:
                scoring.score_conversation(
                    uow, shop_id=event.shop_id, conversation_id=event.conversation_id
                )
            except Invalid:
                return  # the buyer wrote again meanwhile: scored at its next close

    bus.subscribe(ConversationClosed, on_closed)
