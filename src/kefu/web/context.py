"""What a running app holds: settings, database, event bus, clock, realtime."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from kefu.accounts.auth import LoginPolicy
from kefu.clock import Clock
from kefu.config import Settings
from kefu.events import EventBus
from kefu.realtime.runtime import Realtime
from kefu.uow import UnitOfWork


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Any]
    bus: EventBus
    clock: Clock
    realtime: Realtime

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory, self.bus, self.clock)

    @property
    def login_policy(self) -> LoginPolicy:
        return LoginPolicy(
            max_failures=self.settings.login_max_failures,
            window=timedelta(minutes=self.settings.login_window_minutes),
            session_lifetime=timedelta(hours=self.settings.session_hours),
        )
