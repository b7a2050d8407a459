"""What the sales domain does when orders change: the reactions run after the commerce
commit, once per commit for all the orders it touched (:class:`OrderReactions`), in units
of work of their own. A reaction that fails is caught up by the
reminder sender's next round (:func:`kefu.sales.reminder_sender.send_due_reminders`).

询单转化 (:func:`install_conversion`) also listens to conversations: one reaching 售前 is
an inquiry, and a payment converts one; what a failure misses, the conversion sweep
(:mod:`kefu.sales.conversion_sweep`) catches up."""

from __future__ import annotations

import threading
from collections.abc import Callable

from kefu.commerce.events import OrderCreated, OrderStatusChanged
from kefu.commerce.models import OrderStatus
from kefu.conversations.events import (
    ConversationAssigned,
    ConversationStarted,
    MessageReceived,
    ReplySent,
)
from kefu.events import EventBus
from kefu.sales import case_photos, conversion, reminders
from kefu.uow import UnitOfWork

# An order in these states was never paid: nothing to convert.
_NOT_PAID = {OrderStatus.UNPAID.value, OrderStatus.CLOSED.value}


def install(bus: EventBus, unit_of_work: Callable[[], UnitOfWork]) -> None:
    OrderReactions(unit_of_work).install(bus)
    install_conversion(bus, unit_of_work)
    install_case_photos(bus, unit_of_work)


def install_case_photos(bus: EventBus, unit_of_work: Callable[[], UnitOfWork]) -> None:
    """售后: a picture the buyer sends while their case is active joins the case."""

    def on_buyer_message(event: MessageReceived) -> None:
        if event.message.attachment is None:
            return  # most lines: nothing to look up
        with unit_of_work() as uow:
            case_photos.add_buyer_photo(
                uow,
                shop_id=event.shop_id,
                conversation_id=event.conversation_id,
                attachment_id=event.message.attachment.id,
            )

    bus.subscribe(MessageReceived, on_buyer_message)


class OrderReactions:
    """The orders a commit created or moved, gathered while its events are dispatched and
    acted on once, per shop, when the dispatch ends: a batch of 1,000 orders from the
    shop's system costs a few statements here, not a transaction per order."""

    def __init__(self, unit_of_work: Callable[[], UnitOfWork]) -> None:
        self.unit_of_work = unit_of_work
        self._local = threading.local()  # per dispatching thread (requests, workers)

    def install(self, bus: EventBus) -> None:
        bus.subscribe(OrderCreated, self.gather)
        bus.subscribe(OrderStatusChanged, self.gather)
        bus.after_dispatch(self.flush)

    def gather(self, event: OrderCreated | OrderStatusChanged) -> None:
        status = event.status if isinstance(event, OrderCreated) else event.new_status
        shops: dict[int, dict[int, tuple[bool, str]]] = self._local.__dict__.setdefault("shops", {})
        shops.setdefault(event.shop_id, {})[event.order_id] = (
            isinstance(event, OrderCreated),
            status,
        )

    def flush(self) -> None:
        shops: dict[int, dict[int, tuple[bool, str]]] = self._local.__dict__.pop("shops", {})
        for shop_id, orders in shops.items():
            new_unpaid = [
                order_id
                for order_id, (created, status) in orders.items()
                if created and status == OrderStatus.UNPAID.value
            ]
            moved = {
                order_id: status for order_id, (created, status) in orders.items() if not created
            }
            paid = [order_id for order_id, (_, status) in orders.items() if status not in _NOT_PAID]
            with self.unit_of_work() as uow:
                reminders.orders_reported(uow, shop_id=shop_id, new_unpaid=new_unpaid, moves=moved)
            with self.unit_of_work() as uow:
                conversion.convert_orders(uow, shop_id=shop_id, order_ids=paid)


def install_conversion(bus: EventBus, unit_of_work: Callable[[], UnitOfWork]) -> None:
    """询单转化: conversations reaching 售前 become inquiries (payments convert them in
    :class:`OrderReactions`)."""

    def on_started(event: ConversationStarted) -> None:
        with unit_of_work() as uow:
            conversion.note_presale(
                uow,
                shop_id=event.shop_id,
                conversation_id=event.conversation_id,
                team_id=event.team_id,
                assignee_id=None,
            )

    def on_assigned(event: ConversationAssigned) -> None:
        with unit_of_work() as uow:
            conversion.note_presale(
                uow,
                shop_id=event.shop_id,
                conversation_id=event.conversation_id,
                team_id=event.team_id,
                assignee_id=event.assignee_id,
            )

    def on_reply(event: ReplySent) -> None:
        if event.sender_type != "agent" or event.is_private or event.sender_agent_id is None:
            return
        if event.sender_agent_id == event.conversation.assignee_id:
            return  # their assignment credited them already: most replies cost nothing here
        with unit_of_work() as uow:
            conversion.note_agent_reply(
                uow,
                shop_id=event.shop_id,
                conversation_id=event.conversation_id,
                team_id=event.conversation.team_id,
                agent_id=event.sender_agent_id,
            )

    bus.subscribe(ConversationStarted, on_started)
    bus.subscribe(ConversationAssigned, on_assigned)
    bus.subscribe(ReplySent, on_reply)
