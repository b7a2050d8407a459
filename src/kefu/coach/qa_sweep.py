"""Nothing closed is left unscored for long: the subscriber scores a conversation after
its close commits, and a process that stops in between loses that reaction. Every ten
minutes the server scores what was missed in the last days, and what was closed again
after its score (:func:`kefu.coach.scoring.score_unscored`: one query finds them, bounded
per round). Two processes running it at once is harmless: a conversation is locked while
it is scored, and scoring it twice gives the same scores."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from anyio import to_thread

from kefu.coach.scoring import SWEEP_LIMIT, score_unscored
from kefu.uow import UnitOfWork

log = logging.getLogger(__name__)

CHECK_EVERY = 600.0  # seconds


async def watch(unit_of_work: Callable[[], UnitOfWork], *, every: float = CHECK_EVERY) -> None:
    """Run :func:`sweep` every ``every`` seconds until cancelled."""
    while True:
        await asyncio.sleep(every)
        try:
            await to_thread.run_sync(sweep, unit_of_work)
        except Exception:
            log.warning("the quality sweep failed", exc_info=True)


def sweep(unit_of_work: Callable[[], UnitOfWork], *, limit: int = SWEEP_LIMIT) -> int:
    """One round: score up to ``limit`` conversations the subscriber missed."""
    with unit_of_work() as uow:
        scored = score_unscored(uow, now=uow.clock.now(), limit=limit)
    if scored:
        log.info("quality sweep caught up", extra={"scored": scored})
    return scored
