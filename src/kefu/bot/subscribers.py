"""The bot listens to buyers' messages. It runs after the message's commit, in a unit of
work of its own; whatever goes wrong in it, the buyer is handed to a person rather than
left talking to nobody.

In the server the bot answers on a thread of its own (:class:`BotWorker`): the thread that
stored the buyer's message (the websocket writer's group commit, or a request) goes on at
once instead of waiting for the language models, the knowledge base and the bot's own
commit. One thread keeps each conversation's turns in order. Without a worker (tests, the
CLI) the bot answers inline, before the commit's dispatch returns.
"""

from __future__ import annotations

import logging
import queue
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

QUEUE_CAPACITY = 10_000  # buyers' lines waiting for the bot; past it, the watchdog hands on
STOP_WAIT = 5.0  # seconds a stopping server gives the bot to finish what it was given


def answer(unit_of_work: Callable[[], UnitOfWork], event: MessageReceived) -> None:
    """The bot's turn for one buyer message; a failure hands the buyer to people."""
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


class BotWorker:
    """One thread that answers buyers in the order their messages were stored. It starts
    with the first message; a line it never got to (a full queue, a crash) is handed to
    people by the watchdog after a minute."""

    def __init__(
        self, unit_of_work: Callable[[], UnitOfWork], *, capacity: int = QUEUE_CAPACITY
    ) -> None:
        self._unit_of_work = unit_of_work
        self._queue: queue.Queue[MessageReceived | None] = queue.Queue(maxsize=capacity)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, event: MessageReceived) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="kefu-bot", daemon=True)
                self._thread.start()
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            log.warning("the bot is behind; the watchdog will hand this buyer to people")

    def stop(self, *, wait: float = STOP_WAIT) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is None:
            return
        self._queue.put(None)
        thread.join(wait)

    def join(self) -> None:
        """Wait until every message given so far is answered (tests and shutdown)."""
        self._queue.join()

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            try:
                if event is None:
                    return
                answer(self._unit_of_work, event)
            except Exception:  # answer() already handed the buyer on; keep serving others
                log.exception("the bot's worker could not hand a conversation on")
            finally:
                self._queue.task_done()


def install(
    bus: EventBus, unit_of_work: Callable[[], UnitOfWork], *, worker: BotWorker | None = None
) -> None:
    # Load the language models in the background now, not on the first buyer's message.
    threading.Thread(target=default_analyzer, name="kefu-nlp-warm-up", daemon=True).start()

    def on_message(event: MessageReceived) -> None:
        if event.message.sender_type != "customer" or event.conversation.team_id is not None:
            return  # the bot only receives conversations that no team has yet
        if worker is not None:
            worker.submit(event)
        else:
            answer(unit_of_work, event)

    bus.subscribe(MessageReceived, on_message)
