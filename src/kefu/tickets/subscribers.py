"""What the tickets domain does when something happens elsewhere. Each handler opens a unit
of work and calls one service function, which commits (subscribers never commit
themselves): the change is the service's, written and tested like any other.

- A buyer writes in a conversation linked to tickets still being worked: the requester
  answered (:func:`kefu.tickets.comments.buyer_wrote`: a ticket waiting for them is open
  again, and the SLA's next response clock starts).
- The bot could not answer a new question: with the shop's automatic escalation on, it
  becomes an escalation ticket for the duty manager
  (:func:`kefu.tickets.escalation.escalate_new_group`).
"""

from __future__ import annotations

from collections.abc import Callable

from kefu.conversations.events import MessageReceived
from kefu.events import EventBus
from kefu.kb.events import UnansweredQuestionRecorded
from kefu.tickets import comments, escalation
from kefu.uow import UnitOfWork


def install(bus: EventBus, unit_of_work: Callable[[], UnitOfWork]) -> None:
    install_buyer_messages(bus, unit_of_work)
    install_unanswered_questions(bus, unit_of_work)


def install_buyer_messages(bus: EventBus, unit_of_work: Callable[[], UnitOfWork]) -> None:
    """The buyer's message is the requester's answer on their linked open tickets."""

    def on_buyer_message(event: MessageReceived) -> None:
        with unit_of_work() as uow:
            comments.buyer_wrote(
                uow,
                shop_id=event.shop_id,
                conversation_id=event.conversation_id,
                at=event.message.created_at,
            )

    bus.subscribe(MessageReceived, on_buyer_message)


# --- escalation of unanswered questions (UnansweredQuestionRecorded) -----------------------


def install_unanswered_questions(bus: EventBus, unit_of_work: Callable[[], UnitOfWork]) -> None:
    """A question the bot could not answer that starts a new group becomes an escalation
    ticket for the duty manager, when the shop turned that on (a question joining an
    existing group adds nothing: that group is escalated already, or was left alone)."""

    def on_unanswered(event: UnansweredQuestionRecorded) -> None:
        if not event.new_group:
            return
        with unit_of_work() as uow:
            escalation.escalate_new_group(
                uow,
                shop_id=event.shop_id,
                group_id=event.group_id,
                conversation_id=event.conversation_id,
            )

    bus.subscribe(UnansweredQuestionRecorded, on_unanswered)
