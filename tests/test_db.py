"""Database plumbing: UTC times on every backend, SQLite's pragmas, readable connection errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from kefu.crm import service as crm
from kefu.crm.models import Customer
from kefu.db import (
    DatabaseUnavailable,
    check_database,
    ensure_sqlite_directory,
    make_engine,
    make_session_factory,
)
from kefu.uow import UnitOfWork
from tests.factories import make_shop

UowFactory = Callable[[], UnitOfWork]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _customer(uow_factory: UowFactory) -> int:
    shop = make_shop(uow_factory, "mianli")
    with uow_factory() as uow:
        return crm.create_customer(uow, shop_id=shop.id, name="王芳").id


def test_a_shanghai_time_reads_back_as_the_same_instant_in_utc(
    uow_factory: UowFactory, db: Engine
) -> None:
    customer_id = _customer(uow_factory)
    evening_in_shanghai = datetime(2026, 11, 23, 18, 30, 15, 123456, tzinfo=SHANGHAI)
    with make_session_factory(db)() as session:
        session.get_one(Customer, customer_id).created_at = evening_in_shanghai
        session.commit()

    with make_session_factory(db)() as session:
        loaded = session.get_one(Customer, customer_id).created_at
    assert loaded == datetime(2026, 11, 23, 10, 30, 15, 123456, tzinfo=UTC)
    assert loaded.tzinfo is UTC
    assert loaded.utcoffset() == timedelta(0)


def test_a_time_across_midnight_keeps_its_date_right(uow_factory: UowFactory, db: Engine) -> None:
    # 03:00 on the 24th in Shanghai is still the 23rd in UTC.
    customer_id = _customer(uow_factory)
    with make_session_factory(db)() as session:
        session.get_one(Customer, customer_id).created_at = datetime(
            2026, 11, 24, 3, 0, tzinfo=SHANGHAI
        )
        session.commit()
    with make_session_factory(db)() as session:
        loaded = session.get_one(Customer, customer_id).created_at
    assert (loaded.date().day, loaded.hour) == (23, 19)
    assert loaded.astimezone(SHANGHAI).day == 24


def test_comparisons_in_queries_use_the_instant_not_the_wall_clock(
    uow_factory: UowFactory, db: Engine
) -> None:
    customer_id = _customer(uow_factory)
    with make_session_factory(db)() as session:
        session.get_one(Customer, customer_id).created_at = datetime(
            2026, 11, 23, 10, 30, tzinfo=UTC
        )
        session.commit()
        # 18:29 in Shanghai is one minute before the stored instant, 18:31 one minute after.
        before = datetime(2026, 11, 23, 18, 29, tzinfo=SHANGHAI)
        after = datetime(2026, 11, 23, 18, 31, tzinfo=SHANGHAI)
        query = select(Customer.id)
        assert session.scalars(query.where(Customer.created_at > before)).all() == [customer_id]
        assert session.scalars(query.where(Customer.created_at > after)).all() == []
        assert session.scalars(query.where(Customer.created_at < after)).all() == [customer_id]


def test_a_naive_datetime_is_refused_and_nothing_is_written(
    uow_factory: UowFactory, db: Engine
) -> None:
    customer_id = _customer(uow_factory)
    with make_session_factory(db)() as session:
        original = session.get_one(Customer, customer_id).created_at
        session.get_one(Customer, customer_id).created_at = datetime(2026, 11, 23, 18, 30)  # noqa: DTZ001
        with pytest.raises(StatementError, match="naive datetime"):
            session.commit()
        session.rollback()
    with make_session_factory(db)() as session:
        assert session.get_one(Customer, customer_id).created_at == original


def test_a_naive_datetime_in_a_query_is_refused(db: Engine) -> None:
    naive = datetime(2026, 11, 23, 18, 30)  # noqa: DTZ001
    with (
        make_session_factory(db)() as session,
        pytest.raises(StatementError, match="naive datetime"),
    ):
        session.scalars(select(Customer).where(Customer.created_at > naive)).all()


def test_sqlite_uses_wal_and_enforces_foreign_keys(db: Engine) -> None:
    if db.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with db.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30000


def test_a_new_sqlite_engine_gets_the_same_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()


def test_a_row_pointing_at_a_missing_shop_is_refused(db: Engine) -> None:
    # Foreign keys hold on both backends (SQLite needs the pragma for this).
    with make_session_factory(db)() as session:
        session.add(Customer(shop_id=999_999, name="孤儿", created_at=datetime.now(UTC)))
        with pytest.raises(IntegrityError):
            session.commit()


def test_check_database_passes_on_a_usable_database(db: Engine) -> None:
    check_database(db)  # raises if not


def test_unreachable_postgresql_gives_a_readable_reason_without_the_password() -> None:
    engine = make_engine("postgresql+psycopg://kefu:s3cret-pw@127.0.0.1:1/kefu")
    try:
        with pytest.raises(DatabaseUnavailable) as caught:
            check_database(engine)
    finally:
        engine.dispose()
    message = str(caught.value)
    assert message.startswith(
        "cannot use database postgresql+psycopg://kefu:***@127.0.0.1:1/kefu: "
    )
    assert "s3cret-pw" not in message
    assert "\n" not in message
    reason = message.split("/kefu: ", 1)[1]
    assert reason.strip()  # says why, e.g. "connection refused"


def test_sqlite_file_in_a_missing_folder_is_reported(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'no-such-dir' / 'kefu.db'}")
    try:
        with pytest.raises(DatabaseUnavailable, match=r"^cannot use database sqlite:///.*: .+"):
            check_database(engine)
    finally:
        engine.dispose()


def test_ensure_sqlite_directory_creates_the_folder(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'var' / 'nested' / 'kefu.db'}"
    ensure_sqlite_directory(url)
    assert (tmp_path / "var" / "nested").is_dir()
    engine = make_engine(url)
    try:
        check_database(engine)
    finally:
        engine.dispose()


def test_ensure_sqlite_directory_leaves_other_databases_alone(tmp_path: Path) -> None:
    ensure_sqlite_directory("sqlite:///:memory:")
    ensure_sqlite_directory("postgresql+psycopg://u@127.0.0.1:1/x")
    assert list(tmp_path.iterdir()) == []
