"""Settings: read from KEFU_* variables, and a wrong value is refused with the variable named."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kefu.config import (
    DEFAULT_DATABASE_URL,
    PLACEHOLDER_SECRET,
    SettingsError,
    load_settings,
)

LONG_SECRET = "a-long-enough-secret-for-the-tests-0123456789"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No KEFU_* variable from the developer's shell, and no .env file, can leak in."""
    for name in list(os.environ):
        if name.upper().startswith("KEFU_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def _error(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    return str(caught.value)


def test_demo_mode_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEFU_DEMO", "1")
    settings = load_settings()
    assert settings.demo is True
    assert settings.database_url == DEFAULT_DATABASE_URL == "sqlite:///var/kefu.db"
    assert settings.is_sqlite
    assert settings.data_dir == Path("var")
    assert settings.timezone == "Asia/Shanghai"
    assert settings.zone.key == "Asia/Shanghai"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.default_locale == "zh-CN"
    assert settings.redis_url is None
    assert settings.secret_key == PLACEHOLDER_SECRET  # allowed for a local trial


@pytest.mark.parametrize("demo", [None, "0", "false"])
def test_placeholder_secret_is_refused_outside_demo_mode(
    monkeypatch: pytest.MonkeyPatch, demo: str | None
) -> None:
    if demo is not None:
        monkeypatch.setenv("KEFU_DEMO", demo)
    message = _error(monkeypatch)
    assert "KEFU_SECRET_KEY" in message
    assert "placeholder" in message
    assert "KEFU_DEMO=1" in message  # says how to get a trial running


def test_placeholder_secret_given_explicitly_is_refused_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    message = _error(monkeypatch, KEFU_SECRET_KEY=PLACEHOLDER_SECRET)
    assert "KEFU_SECRET_KEY" in message


def test_a_real_secret_works_without_demo_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEFU_SECRET_KEY", LONG_SECRET)
    settings = load_settings()
    assert settings.demo is False
    assert settings.secret_key == LONG_SECRET


@pytest.mark.parametrize("demo", ["0", "1"])
def test_short_secret_is_refused(monkeypatch: pytest.MonkeyPatch, demo: str) -> None:
    message = _error(monkeypatch, KEFU_DEMO=demo, KEFU_SECRET_KEY="x" * 15)
    assert "KEFU_SECRET_KEY" in message
    assert "too short" in message


def test_sixteen_characters_is_long_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEFU_SECRET_KEY", "x" * 16)
    assert load_settings().secret_key == "x" * 16


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("KEFU_TIMEZONE", "Mars/Olympus"),
        ("KEFU_TIMEZONE", "asia/shanghai"),
        ("KEFU_TIMEZONE", "../../etc/passwd"),
        ("KEFU_TIMEZONE", ""),
        ("KEFU_DATABASE_URL", "mysql://kefu:pw@localhost/kefu"),
        ("KEFU_DATABASE_URL", "kefu.db"),
        ("KEFU_PORT", "abc"),
        ("KEFU_PORT", "70000"),
        ("KEFU_PORT", "0"),
        ("KEFU_REDIS_URL", "http://x"),
        ("KEFU_DEFAULT_LOCALE", "fr"),
        ("KEFU_LOG_FORMAT", "xml"),
    ],
)
def test_a_wrong_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    message = _error(monkeypatch, KEFU_SECRET_KEY=LONG_SECRET, **{variable: value})
    assert message.startswith(f"{variable}: ")
    # One readable line, not pydantic's report.
    assert "\n" not in message
    assert "Value error" not in message
    assert "errors.pydantic.dev" not in message


def test_unknown_time_zone_message_suggests_an_iana_name(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _error(monkeypatch, KEFU_SECRET_KEY=LONG_SECRET, KEFU_TIMEZONE="Beijing")
    assert "'Beijing'" in message
    assert "Asia/Shanghai" in message


def test_unsupported_database_message_shows_the_supported_forms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    message = _error(monkeypatch, KEFU_SECRET_KEY=LONG_SECRET, KEFU_DATABASE_URL="mysql://x/y")
    assert "sqlite:///" in message
    assert "postgresql+psycopg://" in message


def test_every_wrong_variable_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _error(
        monkeypatch, KEFU_SECRET_KEY=LONG_SECRET, KEFU_PORT="abc", KEFU_TIMEZONE="Nowhere/Land"
    )
    assert "KEFU_PORT" in message
    assert "KEFU_TIMEZONE" in message


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            "postgresql://kefu:pw@db.internal:5432/kefu",
            "postgresql+psycopg://kefu:pw@db.internal:5432/kefu",
        ),
        (
            "postgresql+psycopg://kefu:pw@db.internal:5432/kefu",
            "postgresql+psycopg://kefu:pw@db.internal:5432/kefu",
        ),
        ("sqlite:////srv/kefu/kefu.db", "sqlite:////srv/kefu/kefu.db"),
    ],
)
def test_database_url_is_normalised_to_the_shipped_driver(
    monkeypatch: pytest.MonkeyPatch, given: str, expected: str
) -> None:
    monkeypatch.setenv("KEFU_SECRET_KEY", LONG_SECRET)
    monkeypatch.setenv("KEFU_DATABASE_URL", given)
    settings = load_settings()
    assert settings.database_url == expected
    assert settings.is_sqlite is expected.startswith("sqlite")


def test_override_is_normalised_as_well() -> None:
    settings = load_settings(secret_key=LONG_SECRET, database_url="postgresql://u@h/d")
    assert settings.database_url == "postgresql+psycopg://u@h/d"


def test_empty_redis_url_means_no_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEFU_SECRET_KEY", LONG_SECRET)
    monkeypatch.setenv("KEFU_REDIS_URL", "")
    assert load_settings().redis_url is None


@pytest.mark.parametrize("url", ["redis://cache:6379/0", "rediss://cache:6380/1"])
def test_redis_url_is_kept(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("KEFU_SECRET_KEY", LONG_SECRET)
    monkeypatch.setenv("KEFU_REDIS_URL", url)
    assert load_settings().redis_url == url


def test_host_and_port_are_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEFU_SECRET_KEY", LONG_SECRET)
    monkeypatch.setenv("KEFU_HOST", "0.0.0.0")  # noqa: S104 (a value under test, not a bind)
    monkeypatch.setenv("KEFU_PORT", "9090")
    settings = load_settings()
    assert settings.host == "0.0.0.0"  # noqa: S104
    assert settings.port == 9090


def test_port_bounds_are_inclusive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEFU_SECRET_KEY", LONG_SECRET)
    for port in ("1", "65535"):
        monkeypatch.setenv("KEFU_PORT", port)
        assert load_settings().port == int(port)


def test_overrides_beat_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # 'kefu demo' relies on this: it forces demo mode whatever KEFU_DEMO says.
    monkeypatch.setenv("KEFU_DEMO", "0")
    settings = load_settings(demo=True)
    assert settings.demo is True
    assert settings.secret_key == PLACEHOLDER_SECRET


def test_a_wrong_override_is_a_settings_error_too() -> None:
    with pytest.raises(SettingsError, match="KEFU_PORT"):
        load_settings(secret_key=LONG_SECRET, port=0)


def test_dot_env_file_in_the_working_directory_is_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(
        f"KEFU_SECRET_KEY={LONG_SECRET}\nKEFU_PORT=8123\nKEFU_TIMEZONE=Asia/Taipei\n",
        encoding="utf-8",
    )
    settings = load_settings()
    assert (settings.secret_key, settings.port, settings.timezone) == (
        LONG_SECRET,
        8123,
        "Asia/Taipei",
    )
    # A real environment variable wins over the file.
    monkeypatch.setenv("KEFU_PORT", "8124")
    assert load_settings().port == 8124


def test_a_wrong_value_in_dot_env_names_the_variable(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"KEFU_SECRET_KEY={LONG_SECRET}\nKEFU_PORT=abc\n")
    with pytest.raises(SettingsError, match=r"^KEFU_PORT: "):
        load_settings()
