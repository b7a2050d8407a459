"""Group commit for messages arriving over websockets.

One ORM commit per message caps a 2-core machine at a few thousand messages a second, and
SQLite takes one writer at a time anyway. The writer takes every message waiting at that
moment, stores them in one transaction, and answers each sender after the commit. If any
one of them fails, the batch is rolled back and each message is retried on its own, so
one bad message never costs the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from anyio import to_thread

from kefu.uow import UnitOfWork

log = logging.getLogger(__name__)

MAX_BATCH = 200

Job = Callable[[UnitOfWork], Any]


@dataclass(eq=False)
class _Pending:
    job: Job
    future: asyncio.Future[Any] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class MessageWriter:
    def __init__(self, unit_of_work: Callable[[], UnitOfWork]) -> None:
        self._unit_of_work = unit_of_work
        self._queue: asyncio.Queue[_Pending] | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._queue = asyncio.Queue()  # bound to the serving loop
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def submit(self, job: Job) -> Any:
        """Run ``job(uow)`` in the next batch; returns its result or raises its error."""
        return await self.enqueue(job)

    def enqueue(self, job: Job) -> asyncio.Future[Any]:
        """Hand ``job`` in and get its future; jobs run (and commit) in the order handed in."""
        if self._task is None or self._queue is None:  # not started: write on its own
            return asyncio.ensure_future(to_thread.run_sync(self._single, job))
        pending = _Pending(job)
        self._queue.put_nowait(pending)
        return pending.future

    async def _run(self) -> None:
        queue = self._queue
        assert queue is not None
        while True:
            batch = [await queue.get()]
            while len(batch) < MAX_BATCH and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                outcomes = await to_thread.run_sync(self._write, [p.job for p in batch])
            except Exception as exc:  # the database is gone: every sender hears it
                log.exception("message batch failed")
                outcomes = [(False, exc)] * len(batch)
            for pending, (ok, value) in zip(batch, outcomes, strict=True):
                if pending.future.done():
                    continue
                if ok:
                    pending.future.set_result(value)
                else:
                    pending.future.set_exception(value)

    def _write(self, jobs: list[Job]) -> list[tuple[bool, Any]]:
        if len(jobs) > 1:
            try:
                with self._unit_of_work() as uow:
                    results = [job(uow) for job in jobs]
                    uow.commit()
                return [(True, result) for result in results]
            except Exception as exc:
                # Retried one by one below, so only the faulty message fails.
                log.debug("batch of %d rolled back (%s); retrying singly", len(jobs), exc)
        outcomes: list[tuple[bool, Any]] = []
        for job in jobs:
            try:
                outcomes.append((True, self._single(job)))
            except Exception as exc:
                outcomes.append((False, exc))
        return outcomes

    def _single(self, job: Job) -> Any:
        with self._unit_of_work() as uow:
            result = job(uow)
            uow.commit()
            return result
