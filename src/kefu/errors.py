"""Errors the services raise. They know nothing of HTTP; the web layer maps them.

Each error has a stable ``code`` (for API clients and translations) and parameters that
the message template is filled with, so the same error reads well in zh-CN and English.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "error"

    def __init__(self, message: str, *, key: str | None = None, **params: Any) -> None:
        """``message`` is the precise English text; ``key`` names its translation, if any."""
        super().__init__(message)
        self.message = message
        self.key = key
        self.params = params


class NotFound(DomainError):
    code = "not_found"


class Invalid(DomainError):
    """Input the service refuses; ``field`` names the offending field when there is one."""

    code = "invalid"

    def __init__(
        self, message: str, *, field: str | None = None, key: str | None = None, **params: Any
    ) -> None:
        super().__init__(message, key=key, **params)
        self.field = field


class Conflict(DomainError):
    code = "conflict"


class PermissionDenied(DomainError):
    code = "forbidden"


class Unauthenticated(DomainError):
    code = "unauthenticated"


class SessionExpired(Unauthenticated):
    code = "session_expired"


class InvalidCredentials(Unauthenticated):
    code = "invalid_credentials"


class RateLimited(DomainError):
    code = "rate_limited"

    def __init__(
        self, message: str, *, retry_after_seconds: int, key: str | None = None, **params: Any
    ) -> None:
        super().__init__(message, key=key, retry_after_seconds=retry_after_seconds, **params)
        self.retry_after_seconds = retry_after_seconds
