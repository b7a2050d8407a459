"""The bot listens to buyers' messages. It runs after the message's commit, in a unit of
work of its own; whatever goes wrong in it, the buyer is handed to a person rather than
left talking to nobody."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from kefu.bot import reception
from kefu.conversations import service as conversations
from kefu.conversations.events import MessageReceived
from kefu.events import EventBus
from kefu.kb import service as kb
from kefu.nlp.analyzer import default_analyzer
from kefu.shops import service as shops
from kefu.uow import UnitOfWork

log = logging.getLogger(__name__)


def install(bus: EventBus, unit_of_work: Callable[[], UnitOfWork]) -> None:
    # Load the language models in the background now, not on the first buyer's message.
    threading.Thread(target=default_analyzer, name="kefu-nlp-warm-up", daemon=True).start()

    def on_message(event: MessageReceived) -> None:
        if event.message.sender_type != "customer" or event.conversation.team_id is not None:
            return  # the bot only receives conversations that no team has yet
        try:
            with unit_of_work() as uow:
                reception.respond(
                    uow,
                    event=event,
                    analyzer=default_analyzer(),
                    vocabulary=kb.shop_vocabulary(uow.session, shop_id=event.shop_id),
                )
        except Exception:
            log.exception("the bot failed; handing the conversation to people")
            with unit_of_work() as uow:
                conversations.hand_off(
                    uow,
                    shop_id=event.shop_id,
                    conversation_id=event.conversation_id,
                    team_code=shops.DEFAULT_TEAM_CODE,
                    note="机器人处理出错,已转人工",
                )

    bus.subscribe(MessageReceived, on_message)
