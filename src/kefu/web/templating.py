"""Jinja2 pages: autoescaped, translated, times shown in the shop's time zone."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from kefu.accounts.models import Role
from kefu.web.i18n import LOCALES, translate
from kefu.web.security import csrf_token, set_pending_cookies

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def local_time(value: datetime | None, zone: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return "—"
    return value.astimezone(ZoneInfo(zone)).strftime(fmt)


def money(value: Decimal | int | float | None) -> str:
    return "—" if value is None else f"¥{Decimal(value):,.2f}"


templates.env.filters["local_time"] = local_time
templates.env.filters["money"] = money


def render(
    request: Request, name: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    locale = getattr(request.state, "locale", None) or "zh-CN"
    full = {
        "t": partial(translate, locale),
        "locale": locale,
        "locales": LOCALES,
        "csrf_token": csrf_token(request),
        "principal": getattr(request.state, "principal", None),
        "staff_role": Role.SUPERVISOR,  # who sees the staff page in the navigation
        "owner_role": Role.OWNER,
        **context,
    }
    response = templates.TemplateResponse(request, name, full, status_code=status_code)
    settings = request.app.state.kefu.settings
    set_pending_cookies(request, response, secure=settings.secure_cookies)
    return response
