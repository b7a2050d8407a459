"""Unit of work: one transaction, the events it produced, and commit-then-dispatch."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from kefu.clock import Clock
from kefu.events import Event, EventBus


class UnitOfWork:
    """Owns a session. Services add rows and collect events; only :meth:`commit` commits.

    Leaving the ``with`` block without committing rolls back and drops the collected
    events, so a failure half-way leaves neither rows nor notifications behind.
    """

    def __init__(self, session_factory: sessionmaker[Any], bus: EventBus, clock: Clock) -> None:
        self._session_factory = session_factory
        self.bus = bus
        self.clock = clock
        self._session: Session | None = None
        self._pending: list[Event] = []

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("UnitOfWork used outside its 'with' block")
        return self._session

    def collect(self, event: Event) -> None:
        self._pending.append(event)

    def commit(self) -> None:
        self.session.commit()
        events, self._pending = self._pending, []
        self.bus.dispatch(events)

    def rollback(self) -> None:
        self._pending = []
        self.session.rollback()

    def __enter__(self) -> UnitOfWork:
        self._session = self._session_factory()
        self._pending = []
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() discards anything left uncommitted without expiring what was loaded, so
        # rows a service returned stay readable after the block (rollback() would expire them).
        self._pending = []
        try:
            self.session.close()
        finally:
            self._session = None
