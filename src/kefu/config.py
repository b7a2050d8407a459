"""Settings: the only module that reads the environment.

Every value comes from a ``KEFU_*`` variable (or a ``.env`` file beside the process).
A wrong value fails loudly at start-up with a message that names the variable, rather
than surfacing later as a confusing error deep in a request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me-kefu-placeholder-secret"  # noqa: S105 (refused outside demo)
DEFAULT_DATABASE_URL = "sqlite:///var/kefu.db"


class SettingsError(Exception):
    """A setting is missing or wrong; the message says which and why."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KEFU_", env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    secret_key: str = PLACEHOLDER_SECRET
    # Demo mode: a local trial install. Allows the placeholder secret and seeds the demo shop.
    demo: bool = False
    timezone: str = "Asia/Shanghai"
    default_locale: Literal["zh-CN", "en"] = "zh-CN"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    data_dir: Path = Path("var")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"
    # Requests larger than this are refused with 413 before they are read.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # Images buyers and agents send; stored under upload_dir (default: <data_dir>/uploads).
    max_upload_bytes: int = Field(default=5 * 1_048_576, ge=1024, le=100 * 1_048_576)
    upload_dir: Path | None = None
    # New anonymous chat visitors allowed per client address per minute (a burst of this
    # many, then one every 60/N seconds). Mobile carriers share addresses: keep it generous.
    new_visitors_per_minute: int = Field(default=60, ge=1, le=1_000_000)
    session_hours: int = Field(default=12, ge=1, le=24 * 30)
    # Failed logins allowed per account (and ten times as many per client address)
    # in one window before the login is refused with 429.
    login_max_failures: int = Field(default=5, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)
    # Cookies marked Secure: switch on behind HTTPS.
    secure_cookies: bool = False

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as Asia/Shanghai)"
            ) from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError(
                f"unsupported database URL {value!r}: use sqlite:///path/to/file.db "
                "or postgresql+psycopg://user:password@host:5432/dbname"
            )
        if value.startswith("postgresql://"):
            # psycopg 3 is the driver we ship; the bare scheme would ask SQLAlchemy for psycopg2.
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"unsupported Redis URL {value!r}: use redis://host:6379/0")
        return value

    @model_validator(mode="after")
    def _real_secret_outside_demo(self) -> Settings:
        if not self.demo and self.secret_key == PLACEHOLDER_SECRET:
            raise ValueError(
                "KEFU_SECRET_KEY is the placeholder; set a long random value "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))'), "
                "or set KEFU_DEMO=1 for a local trial"
            )
        if len(self.secret_key) < 16:
            raise ValueError("KEFU_SECRET_KEY is too short: use at least 16 characters")
        return self

    @property
    def uploads_path(self) -> Path:
        return self.upload_dir or self.data_dir / "uploads"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning pydantic's report into one readable :class:`SettingsError`."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"])
            name = f"KEFU_{field.upper()}" if field else "settings"
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{name}: {message}")
        raise SettingsError("; ".join(problems)) from exc
