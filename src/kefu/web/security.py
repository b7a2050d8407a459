"""Cookies and CSRF.

The session cookie is HttpOnly and SameSite=Lax. Every form post and every
cookie-authenticated API write also carries a CSRF token that must equal the
``kefu_csrf`` cookie (double submit): a cross-site page can make the browser send the
cookie, but cannot read it to put the same value in the form or header.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

from kefu.errors import PermissionDenied

SESSION_COOKIE = "kefu_session"
CSRF_COOKIE = "kefu_csrf"
LANG_COOKIE = "kefu_lang"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfFailed(PermissionDenied):
    code = "csrf_failed"


def csrf_token(request: Request) -> str:
    """The token for forms on this page; a new one is issued (and set as a cookie) if missing."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf_token", None)
    if not token:
        token = secrets.token_urlsafe(24)
        request.state.new_csrf_token = token
    return str(token)


def set_pending_cookies(request: Request, response: Response, *, secure: bool) -> None:
    token = getattr(request.state, "new_csrf_token", None)
    if token:
        response.set_cookie(
            CSRF_COOKIE, token, httponly=True, samesite="lax", secure=secure, path="/"
        )


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.cookies.get(CSRF_COOKIE)
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise CsrfFailed(
            "the form has expired or came from another site; reload the page and try again",
            key="errors.csrf_failed",
        )


def set_session_cookie(response: Response, raw_token: str, *, max_age: int, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        raw_token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


def new_csrf_cookie(response: Response, *, secure: bool) -> str:
    token = secrets.token_urlsafe(24)
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="lax", secure=secure, path="/")
    return token


def safe_next(target: str | None) -> str:
    """Only same-site paths: a login link must not bounce the agent to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
