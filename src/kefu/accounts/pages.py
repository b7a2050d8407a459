"""Login, logout and the language switch."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from kefu.accounts import auth
from kefu.accounts.auth import Principal
from kefu.errors import DomainError, Invalid
from kefu.shops import service as shops
from kefu.uow import UnitOfWork
from kefu.web.context import AppContext
from kefu.web.deps import client_address, get_context, get_uow, page_locale, page_principal
from kefu.web.errors import localised, status_of
from kefu.web.i18n import LOCALES, translate
from kefu.web.security import (
    LANG_COOKIE,
    SESSION_COOKIE,
    check_csrf,
    new_csrf_cookie,
    safe_next,
    set_session_cookie,
)
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)


def _login_page(
    request: Request,
    *,
    shop: str,
    email: str,
    next_path: str,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {"shop": shop, "email": email, "next": next_path, "error": error, "notice": notice}
    return render(request, "login.html", context, status_code=status_code)


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request,
    next: str = "/",
    expired: bool = False,
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> HTMLResponse:
    # A single-shop install (the usual self-hosted case) needs no shop code typed in.
    known = shops.list_shops(uow.session, limit=2)
    notice = translate(locale, "login.expired") if expired else None
    return _login_page(
        request,
        shop=known[0].slug if len(known) == 1 else "",
        email="",
        next_path=safe_next(next),
        notice=notice,
    )


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    shop: str = Form(default="", max_length=40),
    email: str = Form(default="", max_length=254),
    password: str = Form(default="", max_length=256),
    next: str = Form(default="/"),
    csrf_token: str = Form(default=""),
    uow: UnitOfWork = Depends(get_uow),
    context: AppContext = Depends(get_context),
    locale: str = Depends(page_locale),
) -> Response:
    check_csrf(request, csrf_token)
    policy = context.login_policy
    try:
        result = auth.login(
            uow,
            shop_slug=shop,
            email=email,
            password=password,
            client_address=client_address(request),
            user_agent=request.headers.get("user-agent", ""),
            policy=policy,
        )
    except DomainError as exc:
        return _login_page(
            request,
            shop=shop,
            email=email,
            next_path=safe_next(next),
            error=localised(locale, exc),
            status_code=status_of(exc),
        )
    response = RedirectResponse(safe_next(next), status_code=303)
    secure = context.settings.secure_cookies
    set_session_cookie(
        response,
        result.session_token,
        max_age=int(policy.session_lifetime.total_seconds()),
        secure=secure,
    )
    # A fresh CSRF token per login, so a token planted before login is worthless after it.
    new_csrf_cookie(response, secure=secure)
    return response


@router.post("/logout")
def logout_submit(
    request: Request, csrf_token: str = Form(default=""), uow: UnitOfWork = Depends(get_uow)
) -> Response:
    check_csrf(request, csrf_token)
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        auth.logout(uow, raw_token=raw)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/lang")
def switch_language(
    request: Request,
    lang: str = Form(...),
    next: str = Form(default="/"),
    csrf_token: str = Form(default=""),
) -> Response:
    check_csrf(request, csrf_token)
    if lang not in LOCALES:
        raise Invalid(
            f"unsupported language {lang!r}", field="lang", key="errors.unsupported_language"
        )
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax", path="/")
    return response


@router.get("/account/password", response_class=HTMLResponse)
def password_form(
    request: Request,
    _: Principal = Depends(page_principal),
    __: str = Depends(page_locale),
) -> HTMLResponse:
    return render(request, "account_password.html", {"done": False, "error": None})


@router.post("/account/password", response_class=HTMLResponse)
def password_submit(
    request: Request,
    current_password: str = Form(default="", max_length=256),
    new_password: str = Form(default="", max_length=256),
    confirm_password: str = Form(default="", max_length=256),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    context: AppContext = Depends(get_context),
    locale: str = Depends(page_locale),
) -> HTMLResponse:
    check_csrf(request, csrf_token)
    if new_password != confirm_password:
        error = translate(locale, "errors.password_mismatch")
        return render(
            request, "account_password.html", {"done": False, "error": error}, status_code=422
        )
    try:
        auth.change_password(
            uow,
            principal=principal,
            current_password=current_password,
            new_password=new_password,
            client_address=client_address(request),
            policy=context.login_policy,
        )
    except DomainError as exc:
        shown = {"done": False, "error": localised(locale, exc)}
        return render(request, "account_password.html", shown, status_code=status_of(exc))
    return render(request, "account_password.html", {"done": True, "error": None})
