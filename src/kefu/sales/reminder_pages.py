"""The page ``/sales/reminders`` (催付): what the reminders did in the last 7 and 30 days,
the latest reminders one by one, and the settings. Everyone may look; supervisors and
owners change the settings."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.errors import DomainError, Invalid
from kefu.sales import service
from kefu.shops import service as shops
from kefu.uow import UnitOfWork
from kefu.web.deps import ensure_role, get_uow, page_locale, page_principal
from kefu.web.errors import localised, status_of
from kefu.web.security import check_csrf
from kefu.web.templating import render

router = APIRouter(prefix="/sales/reminders", include_in_schema=False)
PERIODS = (7, 30)  # days
LISTED = 50


def _page(
    request: Request,
    uow: UnitOfWork,
    principal: Principal,
    *,
    error: str | None = None,
    saved: bool = False,
    form: dict[str, object] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    session = uow.session
    now = uow.clock.now()
    reports = [
        (
            days,
            service.reminder_report(
                session, shop_id=principal.shop_id, since=now - timedelta(days=days), until=now
            ),
        )
        for days in PERIODS
    ]
    settings = service.settings_of(session, shop_id=principal.shop_id)
    return render(
        request,
        "sales_reminders.html",
        {
            "zone": shops.get_shop(session, shop_id=principal.shop_id).timezone,
            "reports": reports,
            "pending": reports[0][1].pending,
            "reminders": service.list_reminders(session, shop_id=principal.shop_id, limit=LISTED),
            # After a refused save the form shows what was typed, not the stored values.
            "form": form or {name: getattr(settings, name) for name in _FIELDS},
            "variables": service.TEMPLATE_VARIABLES,
            "can_edit": principal.has_role(Role.SUPERVISOR),
            "error": error,
            "saved": saved,
        },
        status_code=status_code,
    )


_FIELDS = (
    "reminders_enabled",
    "reminder_delay_minutes",
    "quiet_start",
    "quiet_end",
    "reminder_template",
    "coupon_hint",
    "conversion_window_days",
)


@router.get("", response_class=HTMLResponse)
def reminders_page(
    request: Request,
    saved: bool = False,
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    _: str = Depends(page_locale),
) -> HTMLResponse:
    return _page(request, uow, principal, saved=saved)


@router.post("", response_class=HTMLResponse)
def save_reminder_settings(
    request: Request,
    reminders_enabled: bool = Form(default=False),
    reminder_delay_minutes: str = Form(default="", max_length=10),
    quiet_start: str = Form(default="", max_length=5),
    quiet_end: str = Form(default="", max_length=5),
    reminder_template: str = Form(default="", max_length=2000),
    coupon_hint: str = Form(default="", max_length=1000),
    conversion_window_days: str = Form(default="", max_length=10),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    check_csrf(request, csrf_token)
    ensure_role(principal, Role.SUPERVISOR)
    typed: dict[str, object] = {
        "reminders_enabled": reminders_enabled,
        "reminder_delay_minutes": reminder_delay_minutes,
        "quiet_start": quiet_start,
        "quiet_end": quiet_end,
        "reminder_template": reminder_template,
        "coupon_hint": coupon_hint,
        "conversion_window_days": conversion_window_days,
    }
    try:
        service.update_settings(
            uow,
            shop_id=principal.shop_id,
            reminders_enabled=reminders_enabled,
            reminder_delay_minutes=_whole(reminder_delay_minutes, "reminder_delay_minutes"),
            quiet_start=quiet_start,
            quiet_end=quiet_end,
            reminder_template=reminder_template,
            coupon_hint=coupon_hint,
            conversion_window_days=_whole(conversion_window_days, "conversion_window_days"),
        )
    except DomainError as exc:
        uow.rollback()
        return _page(
            request,
            uow,
            principal,
            error=localised(locale, exc),
            form=typed,
            status_code=status_of(exc),
        )
    return RedirectResponse("/sales/reminders?saved=true#settings", status_code=303)


def _whole(value: str, field: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise Invalid(
            f"{field} must be a whole number", field=field, key="errors.sales.whole_number"
        ) from None
