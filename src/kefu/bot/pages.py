"""The owner's page for the bot: on/off, greeting, confidence threshold, working hours,
and the intent → team table. Supervisors may look; only the owner changes it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.bot import service
from kefu.bot.schemas import BotSettingsIn
from kefu.errors import DomainError
from kefu.nlp.intents import LABELS, Action
from kefu.shops import service as shops
from kefu.uow import UnitOfWork
from kefu.web.deps import ensure_role, get_uow, page_locale, page_principal
from kefu.web.errors import localised, status_of
from kefu.web.security import check_csrf
from kefu.web.templating import render

router = APIRouter(prefix="/settings/bot", include_in_schema=False)


def _page(
    request: Request,
    uow: UnitOfWork,
    principal: Principal,
    *,
    error: str | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    session = uow.session
    return render(
        request,
        "bot_settings.html",
        {
            "shop": shops.get_shop(session, shop_id=principal.shop_id),
            "settings": service.settings_of(session, shop_id=principal.shop_id),
            "intents": list(enumerate(service.intent_table(session, shop_id=principal.shop_id), 1)),
            "teams": shops.list_teams(session, shop_id=principal.shop_id),
            "actions": [a.value for a in Action],
            "can_edit": principal.has_role(Role.OWNER),
            "error": error,
            "saved": saved,
        },
        status_code=status_code,
    )


@router.get("", response_class=HTMLResponse)
def bot_settings_page(
    request: Request,
    saved: bool = False,
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    _: str = Depends(page_locale),
) -> HTMLResponse:
    ensure_role(principal, Role.SUPERVISOR)
    return _page(request, uow, principal, saved=saved)


@router.post("", response_class=HTMLResponse)
def save_bot_settings(
    request: Request,
    enabled: bool = Form(default=False),
    bot_name: str = Form(default="", max_length=30),
    threshold: str = Form(default="", max_length=10),
    greeting: str = Form(default="", max_length=500),
    handoff_message: str = Form(default="", max_length=500),
    offline_message: str = Form(default="", max_length=500),
    work_start: str = Form(default="", max_length=5),
    work_end: str = Form(default="", max_length=5),
    work_days: list[str] = Form(default=[]),
    order_pattern: str = Form(default="", max_length=100),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    check_csrf(request, csrf_token)
    ensure_role(principal, Role.OWNER)
    try:
        value = float(threshold) / 100 if threshold.strip() else None
        changes = BotSettingsIn(
            enabled=enabled,
            bot_name=bot_name,
            threshold=value,
            use_default_threshold=value is None,
            greeting=greeting,
            handoff_message=handoff_message,
            offline_message=offline_message,
            work_start=work_start,
            work_end=work_end,
            work_days="".join(day for day in work_days if day in "1234567" and len(day) == 1),
            order_pattern=order_pattern,
        )
        service.update_settings(uow, shop_id=principal.shop_id, changes=changes)
    except (DomainError, ValueError) as exc:
        uow.rollback()
        message = localised(locale, exc) if isinstance(exc, DomainError) else _first_error(exc)
        code = status_of(exc) if isinstance(exc, DomainError) else 422
        return _page(request, uow, principal, error=message, status_code=code)
    return RedirectResponse("/settings/bot?saved=true", status_code=303)


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        return f"{where}: {first.get('msg', '')}" if where else str(first.get("msg", ""))
    return "threshold: 请输入 5–99 之间的数字"


@router.post("/intents/{number}", response_class=HTMLResponse)
def save_intent_route(
    request: Request,
    number: Annotated[int, Path(ge=1, le=len(LABELS))],
    team_code: str = Form(default="", max_length=40),
    action: str = Form(default="", max_length=40),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    check_csrf(request, csrf_token)
    ensure_role(principal, Role.OWNER)
    try:
        service.set_intent_route(
            uow,
            shop_id=principal.shop_id,
            intent=LABELS[number - 1],
            team_code=team_code,
            action=action or None,
        )
    except DomainError as exc:
        uow.rollback()
        return _page(
            request, uow, principal, error=localised(locale, exc), status_code=status_of(exc)
        )
    return RedirectResponse(f"/settings/bot?saved=true#intent-{number}", status_code=303)
