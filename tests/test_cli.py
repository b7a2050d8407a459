"""The ``kefu`` command: exit codes and messages an operator sees, on a real SQLite file."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, inspect, select

from kefu.accounts import auth
from kefu.accounts.models import Role
from kefu.cli import main
from kefu.clock import SystemClock
from kefu.config import PLACEHOLDER_SECRET
from kefu.db import make_engine, make_session_factory
from kefu.errors import Unauthenticated
from kefu.events import EventBus
from kefu.shops.models import Shop
from kefu.uow import UnitOfWork

SECRET = "cli-test-secret-that-is-long-enough-0123456789"
COMMANDS = ("serve", "migrate", "demo", "create-shop", "create-agent", "create-token", "check")
DEAD_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:1/x"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No KEFU_* from the shell, no stray .env, and the root logger put back afterwards
    (the commands reconfigure logging for the whole process)."""
    for name in list(os.environ):
        if name.startswith("KEFU_") and name != "KEFU_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'kefu.db'}"


@pytest.fixture
def env(db_url: str) -> dict[str, str | None]:
    return {"KEFU_DATABASE_URL": db_url, "KEFU_SECRET_KEY": SECRET, "KEFU_DEMO": None}


def kefu(env: dict[str, str | None], *args: str) -> Result:
    result = CliRunner().invoke(main, list(args), env=env)
    # Every ending is deliberate: success or sys.exit with a code, never an escaped exception.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def migrated(env: dict[str, str | None]) -> dict[str, str | None]:
    assert kefu(env, "migrate").exit_code == 0
    return env


def _kefu_executable() -> list[str]:
    script = Path(sys.executable).parent / "kefu"
    return [str(script)] if script.exists() else [sys.executable, "-m", "kefu"]


def _clean_process_env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    return {**base, **extra}


def test_help_in_a_real_process_lists_every_command(tmp_path: Path) -> None:
    done = subprocess.run(
        [*_kefu_executable(), "--help"],
        capture_output=True,
        text=True,
        env=_clean_process_env(),
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for command in COMMANDS:
        assert f"  {command} " in done.stdout
    assert "KEFU_" in done.stdout


def test_a_bad_setting_in_a_real_process_is_one_line_without_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kefu", "check"],
        capture_output=True,
        text=True,
        env=_clean_process_env(KEFU_SECRET_KEY=SECRET, KEFU_PORT="abc"),
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("kefu: configuration error: KEFU_PORT: ")
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_help_and_version_in_process() -> None:
    result = kefu({}, "--help")
    assert result.exit_code == 0
    for command in COMMANDS:
        assert command in result.stdout
    version = kefu({}, "--version")
    assert version.exit_code == 0
    assert version.stdout.startswith("kefu, version ")


@pytest.mark.parametrize("command", ["check", "migrate", "serve", "create-shop"])
def test_a_bad_port_exits_2_naming_the_variable(env: dict[str, str | None], command: str) -> None:
    args = (
        [command, "--slug", "mianli", "--name", "棉里"] if command == "create-shop" else [command]
    )
    result = kefu({**env, "KEFU_PORT": "abc"}, *args)
    assert result.exit_code == 2
    assert "KEFU_PORT" in result.stderr
    assert result.stderr.startswith("kefu: configuration error:")


@pytest.mark.parametrize("secret", [None, PLACEHOLDER_SECRET])
def test_placeholder_secret_without_demo_exits_2(
    env: dict[str, str | None], secret: str | None
) -> None:
    result = kefu({**env, "KEFU_SECRET_KEY": secret}, "check")
    assert result.exit_code == 2
    assert "KEFU_SECRET_KEY" in result.stderr
    assert "KEFU_DEMO=1" in result.stderr


@pytest.mark.parametrize("command", ["check", "migrate", "serve"])
def test_unreachable_database_exits_3(env: dict[str, str | None], command: str) -> None:
    result = kefu({**env, "KEFU_DATABASE_URL": DEAD_DATABASE}, command)
    assert result.exit_code == 3
    assert result.stderr.startswith("kefu: cannot use database postgresql+psycopg://")
    assert "127.0.0.1:1" in result.stderr


def test_check_on_an_unmigrated_database_exits_4(env: dict[str, str | None]) -> None:
    result = kefu(env, "check")
    assert result.exit_code == 4
    assert "settings:  ok" in result.stdout
    assert "database:  reachable" in result.stdout
    assert "run 'kefu migrate'" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("serve",),
        ("create-shop", "--slug", "mianli", "--name", "棉里"),
        ("create-token", "--shop", "mianli", "--name", "sync"),
    ],
)
def test_commands_needing_the_schema_refuse_an_unmigrated_database(
    env: dict[str, str | None], args: tuple[str, ...]
) -> None:
    result = kefu(env, *args)
    assert result.exit_code == 4
    assert "kefu migrate" in result.stderr


def test_migrate_creates_the_sqlite_folder_and_reaches_the_latest_revision(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    before = kefu(env, "migrate", "--status")
    assert before.exit_code == 0
    assert "current: (empty)" in before.stdout

    assert kefu(env, "migrate").exit_code == 0
    assert (tmp_path / "data" / "kefu.db").is_file()

    status = kefu(env, "migrate", "--status")
    assert status.exit_code == 0
    lines = dict(line.split(":", 1) for line in status.stdout.strip().splitlines())
    assert lines["current"].strip() == lines["latest"].strip() != "(empty)"

    check = kefu(env, "check")
    assert check.exit_code == 0
    assert f"schema:    up to date ({lines['latest'].strip()})" in check.stdout
    assert "redis:     not configured" in check.stdout

    # Running it again is harmless.
    again = kefu(env, "migrate")
    assert again.exit_code == 0
    assert lines["latest"].strip() in again.stdout


def test_migrate_to_base_drops_the_schema(migrated: dict[str, str | None], db_url: str) -> None:
    assert kefu(migrated, "create-shop", "--slug", "mianli", "--name", "棉里").exit_code == 0
    result = kefu(migrated, "migrate", "--to", "base")
    assert result.exit_code == 0
    engine = make_engine(db_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    assert "current: (empty)" in kefu(migrated, "migrate", "--status").stdout
    check = kefu(migrated, "check")
    assert check.exit_code == 4
    assert "run 'kefu migrate'" in check.stderr
    # And back up.
    assert kefu(migrated, "migrate").exit_code == 0
    assert kefu(migrated, "check").exit_code == 0


def test_shop_agent_and_token_from_the_command_line(
    migrated: dict[str, str | None], db_url: str
) -> None:
    shop = kefu(migrated, "create-shop", "--slug", "Mianli", "--name", "棉里旗舰店")
    assert shop.exit_code == 0, shop.stderr
    assert shop.stdout.startswith("shop mianli created (id ")

    agent = kefu(
        migrated,
        "create-agent",
        "--shop", "mianli",
        "--email", "xiaomei@mianli.test",
        "--name", "小美",
        "--role", "supervisor",
        "--team", "presale",
        "--team", "aftersale",
        "--password", "correct horse battery",
    )  # fmt: skip
    assert agent.exit_code == 0, agent.stderr
    assert "agent xiaomei@mianli.test created in mianli" in agent.stdout
    assert "supervisor" in agent.stdout

    token = kefu(migrated, "create-token", "--shop", "mianli", "--name", "订单同步")
    assert token.exit_code == 0, token.stderr
    raw = token.stdout.strip()
    assert raw.startswith("kefu_")
    assert len(raw.splitlines()) == 1

    engine = make_engine(db_url)
    try:
        factory = make_session_factory(engine)
        with UnitOfWork(factory, EventBus(), SystemClock()) as uow:
            principal = auth.resolve_api_token(uow, raw_token=raw)
            shop_id = uow.session.scalar(select(Shop.id).where(Shop.slug == "mianli"))
        assert principal.shop_id == shop_id
        assert principal.role is Role.AGENT
        assert principal.via == "token"
        assert principal.name == "订单同步"
        with (
            UnitOfWork(factory, EventBus(), SystemClock()) as uow,
            pytest.raises(Unauthenticated),
        ):
            auth.resolve_api_token(uow, raw_token=raw + "x")
    finally:
        engine.dispose()


def test_each_token_is_new(migrated: dict[str, str | None]) -> None:
    kefu(migrated, "create-shop", "--slug", "mianli", "--name", "棉里")
    first = kefu(migrated, "create-token", "--shop", "mianli", "--name", "a").stdout.strip()
    second = kefu(migrated, "create-token", "--shop", "mianli", "--name", "a").stdout.strip()
    assert first != second


def test_duplicate_shop_exits_5_and_keeps_the_first(
    migrated: dict[str, str | None], db_url: str
) -> None:
    assert kefu(migrated, "create-shop", "--slug", "mianli", "--name", "棉里").exit_code == 0
    again = kefu(migrated, "create-shop", "--slug", "MIANLI", "--name", "别的店")
    assert again.exit_code == 5
    assert again.stderr.strip() == "kefu: a shop with code 'mianli' already exists"
    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as session:
            assert session.scalars(select(Shop.name)).all() == ["棉里"]
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("create-shop", "--slug", "x", "--name", "店"), "shop code must be"),
        (("create-shop", "--slug", "abc", "--name", "店", "--timezone", "Mars/X"), "time zone"),
        (("create-token", "--shop", "nowhere", "--name", "sync"), "unknown shop 'nowhere'"),
        (
            ("create-agent", "--shop", "nowhere", "--email", "a@b.test", "--name", "A",
             "--password", "correct horse battery"),
            "unknown shop 'nowhere'",
        ),
        (
            ("create-agent", "--shop", "mianli", "--email", "a@b.test", "--name", "A",
             "--team", "kitchen", "--password", "correct horse battery"),
            "team 'kitchen' not found",
        ),
    ],
)  # fmt: skip
def test_refused_requests_exit_5_with_the_reason(
    migrated: dict[str, str | None], args: tuple[str, ...], message: str
) -> None:
    kefu(migrated, "create-shop", "--slug", "mianli", "--name", "棉里")
    result = kefu(migrated, *args)
    assert result.exit_code == 5
    assert result.stderr.startswith("kefu: ")
    assert message in result.stderr


def test_duplicate_agent_exits_5(migrated: dict[str, str | None]) -> None:
    kefu(migrated, "create-shop", "--slug", "mianli", "--name", "棉里")
    args = ("create-agent", "--shop", "mianli", "--email", "a@mianli.test", "--name", "A")
    assert kefu(migrated, *args, "--password", "correct horse battery").exit_code == 0
    again = kefu(migrated, *args, "--password", "correct horse battery")
    assert again.exit_code == 5
    assert "already exists" in again.stderr


def _count_shops(db_url: str) -> int:
    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as session:
            return session.scalar(select(func.count(Shop.id))) or 0
    finally:
        engine.dispose()


def test_demo_creates_the_shop_once_and_prints_the_logins(
    migrated: dict[str, str | None], db_url: str
) -> None:
    seed = pytest.importorskip("kefu.demo.seed")
    created = kefu(migrated, "demo")
    assert created.exit_code == 0, created.stderr
    assert "Demo shop created" in created.stdout
    logins_header = f"shop code: {seed.DEMO_SHOP_SLUG}, password for all: {seed.DEMO_PASSWORD}"
    assert seed.DEMO_SHOP_SLUG == "demo"
    assert logins_header in created.stdout
    for login in seed.DEMO_LOGINS:
        assert login.email in created.stdout
    shops_after_first = _count_shops(db_url)

    again = kefu(migrated, "demo", "--if-empty")
    assert again.exit_code == 0, again.stderr
    assert "already exists" in again.stdout
    assert "Demo shop created" not in again.stdout
    assert logins_header in again.stdout
    assert _count_shops(db_url) == shops_after_first

    # Even without --if-empty an existing demo shop is kept, not seeded twice.
    third = kefu(migrated, "demo")
    assert third.exit_code == 0
    assert "already exists" in third.stdout
    assert _count_shops(db_url) == shops_after_first


def test_demo_if_empty_leaves_a_real_shop_alone(
    migrated: dict[str, str | None], db_url: str
) -> None:
    pytest.importorskip("kefu.demo.seed")
    kefu(migrated, "create-shop", "--slug", "mianli", "--name", "棉里")
    result = kefu(migrated, "demo", "--if-empty")
    assert result.exit_code == 0, result.stderr
    assert "already exists" in result.stdout
    assert "Demo logins" not in result.stdout  # there is no demo shop to log in to
    assert _count_shops(db_url) == 1


def test_demo_works_without_a_secret(env: dict[str, str | None]) -> None:
    pytest.importorskip("kefu.demo.seed")
    trial = {**env, "KEFU_SECRET_KEY": None}
    assert kefu(trial, "migrate").exit_code == 2  # an ordinary command still needs one
    assert kefu({**trial, "KEFU_DEMO": "1"}, "migrate").exit_code == 0
    result = kefu(trial, "demo")  # demo mode is implied
    assert result.exit_code == 0, result.stderr
    assert "Demo logins" in result.stdout
