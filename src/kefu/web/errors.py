"""Every failure becomes a clear 4xx: JSON for the API, a page for people. Never a bare 500."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import compile_path

from kefu.errors import (
    Conflict,
    DomainError,
    Invalid,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
)
from kefu.web.deps import LoginRequired, api_locale, page_locale
from kefu.web.i18n import has, translate
from kefu.web.templating import render

log = logging.getLogger(__name__)

STATUS = {
    NotFound: 404,
    Invalid: 422,
    Conflict: 409,
    PermissionDenied: 403,
    Unauthenticated: 401,
    RateLimited: 429,
}
HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path in ("/healthz", "/readyz")


def status_of(error: DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def localised(locale: str, error: DomainError) -> str:
    """The error in the caller's language: its own translation, else the precise English text."""
    field = getattr(error, "field", None)
    params = dict(error.params)
    # An error about one of several items (a bulk change) carries the item's own reason as
    # a key of its own: word it in the reader's language too.
    reason_key = params.get("reason_key")
    if isinstance(reason_key, str) and reason_key and has(locale, reason_key):
        params["reason"] = translate(locale, reason_key, **params.get("reason_params", {}))
    for key in (error.key, f"errors.{error.code}.{field}" if field else None):
        if key and has(locale, key):
            return translate(locale, key, **params)
    if locale == "en" or not has(locale, f"errors.{error.code}"):
        return error.message
    return f"{translate(locale, f'errors.{error.code}')}({error.message})"


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            **{k: v for k, v in extra.items() if v is not None},
        }
    }


def error_page(
    request: Request, status: int, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    page_locale(request)
    response = render(
        request, "error.html", {"status": status, "message": message}, status_code=status
    )
    response.headers.update(headers or {})
    return response


def allowed_methods(app: FastAPI, path: str) -> str:
    """Every method any route serves at this path (Starlette reports only the first route's)."""
    methods: set[str] = set()
    for route in iter_route_contexts(app.routes):
        if route.methods and route.path and compile_path(route.path)[0].match(path):
            methods |= set(route.methods)
    return ", ".join(sorted(methods))


async def on_domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    status = status_of(exc)
    headers = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after_seconds)
    if wants_json(request):
        message = localised(api_locale(request), exc)
        body = error_body(exc.code, message, field=getattr(exc, "field", None))
        return JSONResponse(body, status_code=status, headers=headers)
    return error_page(request, status, localised(page_locale(request), exc))


async def on_login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    query = {"next": exc.next_path}
    if exc.expired:
        query["expired"] = "1"
    return RedirectResponse(f"/login?{urlencode(query)}", status_code=303)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, "error")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = allowed_methods(request.app, request.url.path)
    if wants_json(request):
        locale = api_locale(request)
        message = str(exc.detail) if exc.status_code == 413 else translate(locale, f"errors.{code}")
        return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=headers)
    locale = page_locale(request)
    return error_page(request, exc.status_code, translate(locale, f"errors.{code}"), headers)


async def on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    locale = api_locale(request)
    malformed = [e for e in errors if e.get("type") == "json_invalid"]
    if malformed:
        where = malformed[0].get("ctx", {}).get("error", "")
        message = translate(locale, "errors.malformed_json", detail=where)
        return JSONResponse(error_body("malformed_json", message), status_code=400)
    if all(e["loc"] and e["loc"][0] == "path" for e in errors):
        # /agents/abc or /agents/99999999999: no such resource can exist.
        not_found = translate(locale, "errors.not_found")
        if not wants_json(request):
            return error_page(request, 404, translate(page_locale(request), "errors.not_found"))
        return JSONResponse(error_body("not_found", not_found), status_code=404)
    details = [
        {
            "field": ".".join(str(p) for p in e["loc"] if p not in ("body", "query", "path")),
            "message": e["msg"],
        }
        for e in errors
    ]
    summary = "; ".join(f"{d['field'] or 'body'}: {d['message']}" for d in details)
    message = translate(locale, "errors.validation", detail=summary)
    if not wants_json(request):
        return error_page(request, 422, message)
    return JSONResponse(error_body("validation_failed", message, details=details), status_code=422)


async def on_unexpected(request: Request, exc: Exception) -> Response:
    log.error("unhandled error", exc_info=exc, extra={"path": request.url.path})
    message = translate(api_locale(request), "errors.internal")
    return JSONResponse(error_body("internal_error", message), status_code=500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(LoginRequired, on_login_required)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(Exception, on_unexpected)
