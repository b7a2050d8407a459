"""Scores closed conversations the subscriber missed. STUB: H-qa fills."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from kefu.uow import UnitOfWork


async def watch(unit_of_work: Callable[[], UnitOfWork]) -> None:
    while True:
        await asyncio.sleep(600)
