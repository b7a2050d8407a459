"""FastAPI dependencies: the unit of work, the caller, role checks, the page language."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Path, Request

from kefu.accounts import auth
from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.db import MAX_ID
from kefu.errors import PermissionDenied, SessionExpired, Unauthenticated
from kefu.uow import UnitOfWork
from kefu.web.context import AppContext
from kefu.web.i18n import pick_locale
from kefu.web.security import (
    CSRF_HEADER,
    LANG_COOKIE,
    SAFE_METHODS,
    SESSION_COOKIE,
    check_csrf,
)

# A path id outside the database's range (or not a number) names nothing that can exist:
# web.errors answers 404, as for any unknown id.
ResourceId = Annotated[int, Path(ge=1, le=MAX_ID)]


class LoginRequired(Exception):
    """A page needs a signed-in agent; the handler redirects to the login page."""

    def __init__(self, *, next_path: str, expired: bool) -> None:
        super().__init__(next_path)
        self.next_path = next_path
        self.expired = expired


def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.kefu
    return context


def get_uow(context: AppContext = Depends(get_context)) -> Iterator[UnitOfWork]:
    with context.unit_of_work() as uow:
        yield uow


def api_principal(request: Request, uow: UnitOfWork = Depends(get_uow)) -> Principal:
    """An API caller: a bearer token (integrations) or an agent's session cookie (pages)."""
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthenticated(
                "use the header 'Authorization: Bearer <token>'", key="errors.bad_auth_header"
            )
        principal = auth.resolve_api_token(uow, raw_token=value.strip())
    else:
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw:
            raise Unauthenticated("log in, or send an API token", key="errors.unauthenticated")
        principal = auth.resolve_session(uow, raw_token=raw)
        if request.method not in SAFE_METHODS:
            check_csrf(request, request.headers.get(CSRF_HEADER))
    request.state.principal = principal
    return principal


def ensure_role(principal: Principal, minimum: Role) -> None:
    """Refuse (403) a caller below the role; the one role check of the API and the pages."""
    if not principal.has_role(minimum):
        raise PermissionDenied(
            f"this needs the {minimum.value} role or higher",
            key="errors.role_required",
            role=minimum.value,
        )


def require(minimum: Role) -> Callable[[Principal], Principal]:
    def check(principal: Principal = Depends(api_principal)) -> Principal:
        ensure_role(principal, minimum)
        return principal

    return check


def page_principal(request: Request, uow: UnitOfWork = Depends(get_uow)) -> Principal:
    """The signed-in agent of a page; anyone else is sent to the login page."""
    next_path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        raise LoginRequired(next_path=next_path, expired=False)
    try:
        principal = auth.resolve_session(uow, raw_token=raw)
    except SessionExpired as exc:
        raise LoginRequired(next_path=next_path, expired=True) from exc
    except Unauthenticated as exc:
        raise LoginRequired(next_path=next_path, expired=False) from exc
    request.state.principal = principal
    return principal


def client_address(request: Request) -> str:
    """The caller's address, as the server sees it (behind a proxy: the proxy's)."""
    return request.client.host if request.client else ""


def page_locale(request: Request) -> str:
    """Pages speak zh-CN unless the agent switched to English (a cookie)."""
    locale = pick_locale(request.cookies.get(LANG_COOKIE))
    request.state.locale = locale
    return locale


def api_locale(request: Request) -> str:
    """API messages follow Accept-Language (zh-CN when absent)."""
    return pick_locale(request.headers.get("accept-language"))
