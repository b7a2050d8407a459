"""Nothing is missed for long: the subscribers record inquiries and conversions after
other domains' commits, and a process that stops in between loses that reaction. Every
few minutes the server recomputes the recent past of every shop
(:func:`kefu.sales.conversion.reconcile_recent`, idempotent), so the report is right
within minutes without doing this work on every read. Two processes running it at once
is harmless: each payment is locked while it converts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from anyio import to_thread

from kefu.sales.conversion import reconcile_recent
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
            log.warning("the conversion sweep failed", exc_info=True)


def sweep(unit_of_work: Callable[[], UnitOfWork]) -> None:
    with unit_of_work() as uow:
        done = reconcile_recent(uow)
    if done.recorded or done.converted:
        log.info(
            "conversion sweep caught up",
            extra={"recorded": done.recorded, "converted": done.converted},
        )
