"""Shared fixtures: a real database (SQLite, and PostgreSQL when KEFU_TEST_DATABASE_URL is set),
a movable clock, an event bus whose dispatches can be captured, and the app.

Every test that touches the database runs once per backend: its id ends in ``[sqlite]``
or ``[postgresql]``. The schema is built by the real migrations, once per backend.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, make_url, text

from kefu import migrate
from kefu.accounts import passwords
from kefu.app import create_app
from kefu.clock import FrozenClock
from kefu.config import Settings
from kefu.db import Base, make_engine, make_session_factory
from kefu.events import EventBus
from kefu.kb import index as kb_index
from kefu.uow import UnitOfWork

TEST_SECRET = "test-secret-key-not-for-production-0123456789"
POSTGRES_ENV = "KEFU_TEST_DATABASE_URL"
# 10:00 on a Monday in Shanghai: inside business hours, far from midnight in both zones.
START = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get(POSTGRES_ENV) else ["sqlite"]


def pytest_sessionstart(session: pytest.Session) -> None:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        return
    engine = create_engine(_psycopg(url))
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        pytest.exit(f"{POSTGRES_ENV} is set but the database is unreachable: {exc}", returncode=3)
    finally:
        engine.dispose()


def _psycopg(url: str) -> str:
    return (
        url.replace("postgresql://", "postgresql+psycopg://", 1)
        if url.startswith("postgresql://")
        else url
    )


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Still argon2id, with the cost lowered so hundreds of test logins stay quick."""
    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture(scope="session", params=_backends())
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'kefu-test.db'}"
        return
    server = make_url(_psycopg(os.environ[POSTGRES_ENV]))
    name = f"kefu_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def _empty_all_tables(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def db(engine: Engine) -> Iterator[Engine]:
    """The migrated test database, emptied after the test. The process-wide FAQ matchers
    are forgotten too: they are keyed by shop id and KB revision, which the next test's
    shop may reuse (SQLite hands out a deleted row's id again)."""
    yield engine
    _empty_all_tables(engine)
    kb_index.clear()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def uow_factory(db: Engine, bus: EventBus, clock: FrozenClock) -> Callable[[], UnitOfWork]:
    factory = make_session_factory(db)
    return lambda: UnitOfWork(factory, bus, clock)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        demo=False,
        log_format="text",
        data_dir=tmp_path / "var",
    )


@pytest.fixture
def app(settings: Settings, db: Engine, bus: EventBus, clock: FrozenClock) -> FastAPI:
    return create_app(settings, engine=db, bus=bus, clock=clock)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client
