"""The pages ``/settings/sla`` (policies, working hours, China's holidays, the shop's own
days) and ``/tickets/sla-report`` (how the teams kept their deadlines in a period).

Everyone may look; supervisors and owners change the settings. Each form posts back and
lands on the page with a notice, or on the page again with the reason it was refused
(nothing changed) next to that form, still holding what was typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.errors import DomainError, Invalid
from kefu.shops import service as shops
from kefu.tickets import calendar, holidays_cn, sla, sla_report
from kefu.tickets.models import DayKind, SlaPolicy, TicketPriority, TicketType
from kefu.tickets.work_hours import MAX_PERIODS_PER_DAY
from kefu.uow import UnitOfWork
from kefu.web.deps import ResourceId, ensure_role, get_uow, page_locale, page_principal
from kefu.web.errors import localised, status_of
from kefu.web.forms import redirect_done, typed_fields
from kefu.web.security import check_csrf
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)
SETTINGS: Final = "/settings/sla"
NOTICES: Final = {
    "policy_created", "policy_saved", "policy_deleted", "calendar_saved", "day_saved",
    "day_removed",
}  # fmt: skip
TARGETS: Final = ("first_response", "next_response", "resolution")
REPORT_PERIODS: Final = (7, 30, 90)  # days offered as one click


# --- /settings/sla ------------------------------------------------------------------------


def _in_units(minutes: int | None) -> tuple[str, str]:
    """What a form shows for a target: whole hours in hours, anything else in minutes."""
    if minutes is None:
        return "", "h"
    if minutes % 60 == 0:
        return str(minutes // 60), "h"
    return str(minutes), "m"


def _policy_form(policy: SlaPolicy) -> dict[str, str]:
    form = {
        "name": policy.name,
        "ticket_type": policy.ticket_type.value if policy.ticket_type else "",
        "priority": policy.priority.value if policy.priority else "",
        "business_hours": "true" if policy.business_hours else "",
        "warn_before_minutes": str(policy.warn_before_minutes),
    }
    for target in TARGETS:
        value, unit = _in_units(getattr(policy, f"{target}_minutes"))
        form[f"{target}_value"], form[f"{target}_unit"] = value, unit
    return form


def _settings_page(
    request: Request,
    uow: UnitOfWork,
    principal: Principal,
    *,
    done: str | None = None,
    error: str | None = None,
    failed: str = "",
    typed: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    shop_id = principal.shop_id
    # A new shop's defaults are written on the first look, so what is shown can be edited.
    sla.ensure_policies(uow, shop_id=shop_id)
    uow.commit()
    policies = sla.list_policies(uow.session, shop_id=shop_id)
    settings = calendar.calendar_settings(uow.session, shop_id=shop_id)
    week = {
        day: [*periods, *[("", "")] * (MAX_PERIODS_PER_DAY - len(periods))]
        for day, periods in settings.weekly_hours.items()
    }
    forms = {str(p.id): _policy_form(p) for p in policies}
    forms["new"] = {
        "name": "", "ticket_type": "", "priority": "", "business_hours": "true",
        "warn_before_minutes": "30", "first_response_value": "", "first_response_unit": "h",
        "next_response_value": "", "next_response_unit": "h", "resolution_value": "",
        "resolution_unit": "h",
    }  # fmt: skip
    if typed is not None and failed in forms:
        forms[failed] = dict(typed)
    if typed is not None and failed == "calendar":
        week = {
            day: [
                (typed.get(f"start_{day}_{i}", ""), typed.get(f"end_{day}_{i}", ""))
                for i in range(MAX_PERIODS_PER_DAY)
            ]
            for day in range(1, 8)
        }
    return render(
        request,
        "sla_settings.html",
        {
            "policies": policies,
            "forms": forms,
            "types": list(TicketType),
            "priorities": list(TicketPriority),
            "targets": TARGETS,
            "week": week,
            "cn_holidays": (
                typed.get("cn_holidays") == "true"
                if typed is not None and failed == "calendar"
                else settings.cn_holidays
            ),
            "zone": settings.timezone,
            "years": [(year, holidays_cn.ranges_of(year)) for year in holidays_cn.YEARS],
            "own_days": settings.days,
            "day_form": dict(typed) if typed is not None and failed == "day" else {},
            "day_kinds": list(DayKind),
            "can_edit": principal.has_role(Role.SUPERVISOR),
            "done": done if done in NOTICES else None,
            "error": error,
            "failed": failed,
        },
        status_code=status_code,
    )


@router.get(SETTINGS, response_class=HTMLResponse)
def sla_settings(
    request: Request,
    done: str = Query(default="", max_length=20),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    _: str = Depends(page_locale),
) -> HTMLResponse:
    return _settings_page(request, uow, principal, done=done)


def _refused(
    request: Request,
    uow: UnitOfWork,
    principal: Principal,
    locale: str,
    exc: DomainError,
    *,
    failed: str,
    typed: Mapping[str, str] | None,
) -> HTMLResponse:
    uow.rollback()
    return _settings_page(
        request, uow, principal, error=localised(locale, exc), failed=failed, typed=typed,
        status_code=status_of(exc),
    )  # fmt: skip


def _done(notice: str, anchor: str) -> RedirectResponse:
    return redirect_done(SETTINGS, notice, anchor)


def _whole(value: str, *, field: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 7:
        raise Invalid(
            f"{field} must be a whole number", field=field, key="errors.tickets.sla.whole_number"
        )
    return int(value)


def _policy_values(typed: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": typed.get("name", ""),
        "ticket_type": typed.get("ticket_type") or None,
        "priority": typed.get("priority") or None,
        "business_hours": typed.get("business_hours") == "true",
        "warn_before_minutes": _whole(
            typed.get("warn_before_minutes", ""), field="warn_before_minutes"
        )
        or 0,
    }
    for target in TARGETS:
        amount = _whole(typed.get(f"{target}_value", ""), field=f"{target}_minutes")
        hours = typed.get(f"{target}_unit") == "h"
        values[f"{target}_minutes"] = None if amount is None else amount * (60 if hours else 1)
    return values


@router.post(f"{SETTINGS}/policies", response_class=HTMLResponse)
def create_policy(
    request: Request,
    csrf_token: str = Form(default=""),
    typed: dict[str, str] = Depends(typed_fields),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    check_csrf(request, csrf_token)
    ensure_role(principal, Role.SUPERVISOR)
    try:
        sla.create_policy(uow, shop_id=principal.shop_id, **_policy_values(typed))
    except DomainError as exc:
        return _refused(request, uow, principal, locale, exc, failed="new", typed=typed)
    return _done("policy_created", "policies")


@router.post(SETTINGS + "/policies/{policy_id}", response_class=HTMLResponse)
def update_policy(
    request: Request,
    policy_id: ResourceId,
    csrf_token: str = Form(default=""),
    typed: dict[str, str] = Depends(typed_fields),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    check_csrf(request, csrf_token)
    ensure_role(principal, Role.SUPERVISOR)
    try:
        sla.update_policy(
            uow, shop_id=principal.shop_id, policy_id=policy_id, **_policy_values(typed)
        )
    except DomainError as exc:
        return _refused(request, uow, principal, locale, exc, failed=str(policy_id), typed=typed)
    return _done("policy_saved", f"policy-{policy_id}")


@router.post(SETTINGS + "/policies/{policy_id}/delete", response_class=HTMLResponse)
def delete_policy(
    request: Request,
    policy_id: ResourceId,
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    check_csrf(request, csrf_token)
    ensure_role(principal, Role.SUPERVISOR)
    try:
        sla.delete_policy(uow, shop_id=principal.shop_id, policy_id=policy_id)
    except DomainError as exc:
        return _refused(request, uow, principal, locale, exc, failed=str(policy_id), typed=None)
    return _done("policy_deleted", "policies")


@router.post(f"{SETTINGS}/calendar", response_class=HTMLResponse)
def save_calendar(
    request: Request,
    csrf_token: str = Form(default=""),
    typed: dict[str, str] = Depends(typed_fields),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    """The week as typed: a row with both times blank is no period; one time alone is
    refused by the service as not two times."""
    check_csrf(request, csrf_token)
    ensure_role(principal, Role.SUPERVISOR)
    week: dict[int, list[tuple[str, ...]]] = {}
    for day in range(1, 8):
        periods: list[tuple[str, ...]] = []
        for i in range(MAX_PERIODS_PER_DAY):
            start = typed.get(f"start_{day}_{i}", "").strip()
            end = typed.get(f"end_{day}_{i}", "").strip()
            if start or end:
                periods.append((start, end) if start and end else (start or end,))
        week[day] = periods
    try:
        calendar.update_calendar(
            uow,
            shop_id=principal.shop_id,
            weekly_hours=week,  # type: ignore[arg-type]  # a lone time is refused by name
            cn_holidays=typed.get("cn_holidays") == "true",
        )
    except DomainError as exc:
        return _refused(request, uow, principal, locale, exc, failed="calendar", typed=typed)
    return _done("calendar_saved", "hours")


@router.post(f"{SETTINGS}/days", response_class=HTMLResponse)
def add_day(
    request: Request,
    day: str = Form(default="", max_length=10),
    kind: str = Form(default="", max_length=20),
    name: str = Form(default="", max_length=200),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    check_csrf(request, csrf_token)
    ensure_role(principal, Role.SUPERVISOR)
    typed = {"day": day, "kind": kind, "name": name}
    try:
        calendar.set_calendar_day(
            uow, shop_id=principal.shop_id, day=_date(day, field="day"), kind=_kind(kind),
            name=name,
        )  # fmt: skip
    except DomainError as exc:
        return _refused(request, uow, principal, locale, exc, failed="day", typed=typed)
    return _done("day_saved", "own-days")


@router.post(SETTINGS + "/days/{day}/delete", response_class=HTMLResponse)
def remove_day(
    request: Request,
    day: date,
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    check_csrf(request, csrf_token)
    ensure_role(principal, Role.SUPERVISOR)
    try:
        calendar.remove_calendar_day(uow, shop_id=principal.shop_id, day=day)
    except DomainError as exc:
        return _refused(request, uow, principal, locale, exc, failed="day", typed=None)
    return _done("day_removed", "own-days")


def _date(value: str, *, field: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(
            f"{field} must be a date such as 2026-10-08", field=field,
            key="errors.tickets.sla.date",
        ) from None  # fmt: skip


def _kind(value: str) -> DayKind:
    try:
        return DayKind(value)
    except ValueError:
        raise Invalid(
            "choose a closed day or a working day", field="kind",
            key="errors.tickets.sla.day_kind",
        ) from None  # fmt: skip


# --- /tickets/sla-report -----------------------------------------------------------------


@router.get("/tickets/sla-report", response_class=HTMLResponse)
def sla_report_page(
    request: Request,
    since: str = Query(default="", max_length=10),
    until: str = Query(default="", max_length=10),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> HTMLResponse:
    """Deadlines that fell due from ``since`` to ``until`` (days in shop time, both
    included; the last 7 days by default)."""
    session, shop_id = uow.session, principal.shop_id
    zone_name = shops.get_shop(session, shop_id=shop_id).timezone
    zone = ZoneInfo(zone_name)
    today = uow.clock.now().astimezone(zone).date()
    error = None
    try:
        last = _date(until, field="until") if until else today
        first = _date(since, field="since") if since else last - timedelta(days=6)
        start, end = _midnight(first, zone), _midnight(last + timedelta(days=1), zone)
        rows = sla_report.breach_report(session, shop_id=shop_id, since=start, until=end)
        missed = sla_report.list_breaches(session, shop_id=shop_id, since=start, until=end)
    except Invalid as exc:
        error, rows, missed = localised(locale, exc), [], []
        first, last = today - timedelta(days=6), today
    return render(
        request,
        "sla_report.html",
        {
            "since": first.isoformat(),
            "until": last.isoformat(),
            "presets": [
                (days, (today - timedelta(days=days - 1)).isoformat(), today.isoformat())
                for days in REPORT_PERIODS
            ],
            "rows": rows,
            "totals": sla_report.totals(rows),
            "breaches": missed,
            "zone": zone_name,
            "error": error,
        },
        status_code=422 if error else 200,
    )


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)
