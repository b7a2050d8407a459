"""What the sales domain does when orders change: each reaction runs after the commerce
commit, in a unit of work of its own. A reaction that fails is caught up by the
reminder sender's next round (:func:`kefu.sales.reminder_sender.send_due_reminders`).

询单转化 (:func:`install_conversion`) also listens to conversations: one reaching 售前 is
an inquiry, and a payment converts one; what a failure misses, the conversion sweep
(:mod:`kefu.sales.conversion_sweep`) catches up."""

from __future__ import annotations

from collections.abc import Callable

from kefu.commerce.events import OrderCreated, OrderStatusChanged
from kefu.commerce.models import OrderStatus
from kefu.conversations.events import ConversationAssigned, ConversationStarted, ReplySent
from kefu.events import EventBus
from kefu.sales import conversion, reminders
from kefu.uow import UnitOfWork


def install(bus: EventBus, unit_of_work: Callable[[], UnitOfWork]) -> None:
    def on_order_created(event: OrderCreated) -> None:
        if event.status != OrderStatus.UNPAID.value:
            return
        with unit_of_work() as uow:
            reminders.schedule_reminder(uow, shop_id=event.shop_id, order_id=event.order_id)

    def on_order_status_changed(event: OrderStatusChanged) -> None:
        with unit_of_work() as uow:
            reminders.order_status_changed(
                uow, shop_id=event.shop_id, order_id=event.order_id, new_status=event.new_status
            )

    bus.subscribe(OrderCreated, on_order_created)
    bus.subscribe(OrderStatusChanged, on_order_status_changed)
    install_conversion(bus, unit_of_work)


# An order in these states was never paid: nothing to convert.
_NOT_PAID = {OrderStatus.UNPAID.value, OrderStatus.CLOSED.value}


def install_conversion(bus: EventBus, unit_of_work: Callable[[], UnitOfWork]) -> None:
    """询单转化: conversations reaching 售前 become inquiries; payments convert them."""

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

    def on_order(event: OrderCreated | OrderStatusChanged) -> None:
        status = event.status if isinstance(event, OrderCreated) else event.new_status
        if status in _NOT_PAID:
            return
        with unit_of_work() as uow:
            conversion.convert_order(uow, shop_id=event.shop_id, order_id=event.order_id)

    bus.subscribe(ConversationStarted, on_started)
    bus.subscribe(ConversationAssigned, on_assigned)
    bus.subscribe(ReplySent, on_reply)
    bus.subscribe(OrderCreated, on_order)
    bus.subscribe(OrderStatusChanged, on_order)
