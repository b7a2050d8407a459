"""A shop's sales settings: the 催付 reminder (on/off, delay, quiet hours, wording, coupon
hint) and the window in which an inquiry counts as converted.

A shop that never saved them gets the defaults (not stored). The reminder template is
checked when saved, so a buyer never sees "{xxx}": only the variables in
:data:`TEMPLATE_VARIABLES` are allowed, each written plainly as ``{name}``.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from kefu.errors import Invalid
from kefu.sales.models import DEFAULT_COUPON_HINT, DEFAULT_REMINDER_TEMPLATE, SalesSettings
from kefu.shops import service as shops
from kefu.uow import UnitOfWork
from kefu.validation import clean_text

DEFAULT_DELAY_MINUTES: Final = 30
DEFAULT_QUIET_START: Final = "22:00"
DEFAULT_QUIET_END: Final = "08:00"
DEFAULT_CONVERSION_WINDOW_DAYS: Final = 3
DELAY_RANGE: Final = (5, 1440)  # minutes: five minutes to a day
WINDOW_RANGE: Final = (1, 30)  # days
MAX_TEMPLATE_LENGTH: Final = 500
MAX_COUPON_HINT_LENGTH: Final = 200
MAX_RETURN_ADDRESS_LENGTH: Final = 255

TEMPLATE_VARIABLES: Final = (
    "customer_name",
    "customer_surname",
    "product",
    "order_no",
    "total",
    "coupon_hint",
    "shop_name",
)
_CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def settings_of(session: Session, *, shop_id: int) -> SalesSettings:
    """The shop's settings (defaults, not stored, when it never changed any)."""
    stored = session.get(SalesSettings, shop_id)
    if stored is not None:
        return stored
    return SalesSettings(
        shop_id=shop_id,
        reminders_enabled=True,
        reminder_delay_minutes=DEFAULT_DELAY_MINUTES,
        quiet_start=DEFAULT_QUIET_START,
        quiet_end=DEFAULT_QUIET_END,
        reminder_template=DEFAULT_REMINDER_TEMPLATE,
        coupon_hint=DEFAULT_COUPON_HINT,
        conversion_window_days=DEFAULT_CONVERSION_WINDOW_DAYS,
        return_address="",
    )


def update_settings(
    uow: UnitOfWork,
    *,
    shop_id: int,
    reminders_enabled: bool | None = None,
    reminder_delay_minutes: int | None = None,
    quiet_start: str | None = None,
    quiet_end: str | None = None,
    reminder_template: str | None = None,
    coupon_hint: str | None = None,
    conversion_window_days: int | None = None,
    return_address: str | None = None,
    commit: bool = True,
) -> SalesSettings:
    """Change the given settings (None keeps one). Reminders already scheduled keep their
    time; quiet hours are checked again when each is sent, and a reminder that falls due
    while reminders are off is skipped."""
    session = uow.session
    shops.get_shop(session, shop_id=shop_id)
    settings = session.get(SalesSettings, shop_id)
    if settings is None:
        settings = settings_of(session, shop_id=shop_id)
        session.add(settings)
    if reminders_enabled is not None:
        settings.reminders_enabled = reminders_enabled
    if reminder_delay_minutes is not None:
        settings.reminder_delay_minutes = _in_range(
            reminder_delay_minutes, DELAY_RANGE, field="reminder_delay_minutes"
        )
    if quiet_start is not None:
        settings.quiet_start = check_clock_time(quiet_start, field="quiet_start")
    if quiet_end is not None:
        settings.quiet_end = check_clock_time(quiet_end, field="quiet_end")
    if reminder_template is not None:
        settings.reminder_template = check_template(reminder_template)
    if coupon_hint is not None:
        settings.coupon_hint = clean_text(
            coupon_hint, field="coupon_hint", max_length=MAX_COUPON_HINT_LENGTH
        )
    if conversion_window_days is not None:
        settings.conversion_window_days = _in_range(
            conversion_window_days, WINDOW_RANGE, field="conversion_window_days"
        )
    if return_address is not None:
        settings.return_address = clean_text(
            return_address, field="return_address", max_length=MAX_RETURN_ADDRESS_LENGTH
        )
    settings.updated_at = uow.clock.now()
    if commit:
        uow.commit()
    return settings


def _in_range(value: int, bounds: tuple[int, int], *, field: str) -> int:
    low, high = bounds
    if isinstance(value, bool) or not low <= value <= high:
        raise Invalid(
            f"{field} must be a whole number from {low} to {high}",
            field=field,
            key="errors.sales.out_of_range",
            min=low,
            max=high,
        )
    return value


def check_clock_time(value: str, *, field: str) -> str:
    value = value.strip()
    if not _CLOCK_TIME.match(value):
        raise Invalid("use a 24-hour time such as 22:00", field=field, key="errors.sales.clock")
    return value


# --- the reminder's wording -------------------------------------------------------------


def check_template(template: str) -> str:
    """The template, or Invalid naming the first variable that is not one of ours.

    Only plain ``{name}`` is allowed: no positions (``{}``), attributes (``{a.b}``),
    conversions or formats, which could show a buyer Python internals.
    """
    template = clean_text(
        template,
        field="reminder_template",
        min_length=1,
        max_length=MAX_TEMPLATE_LENGTH,
        multiline=True,
    )
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise Invalid(
            "unbalanced { or } in the template; write {{ or }} for a brace itself",
            field="reminder_template",
            key="errors.sales.braces",
        ) from exc
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in TEMPLATE_VARIABLES or spec or conversion:
            shown = "{" + name + (f"!{conversion}" if conversion else "")
            shown += (f":{spec}" if spec else "") + "}"
            known = " ".join(f"{{{v}}}" for v in TEMPLATE_VARIABLES)
            raise Invalid(
                f"the template uses {shown}, which is not a variable; use {known}",
                field="reminder_template",
                key="errors.sales.unknown_variable",
                variable=shown,
                known=known,
            )
    return template


def render_template(template: str, values: Mapping[str, str]) -> str:
    """Fill the variables in; a name that is no variable (never saved so) is dropped."""
    out: list[str] = []
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError:
        return template
    for literal, name, _spec, _conversion in parts:
        out.append(literal)
        if name is not None:
            out.append(values.get(name, ""))
    return "".join(out)


# --- quiet hours (免打扰) ------------------------------------------------------------------


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def quiet_until(settings: SalesSettings, *, moment: datetime, timezone: str) -> datetime | None:
    """When the quiet hours around ``moment`` end (UTC), or None when it is not in them.

    Quiet hours are shop time and may cross midnight (22:00–08:00); start == end means
    none. The end is found on the local calendar, so it is 08:00 on the shop's clock.
    """
    start, end = _clock(settings.quiet_start), _clock(settings.quiet_end)
    if start == end:
        return None
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone)
    now = local.time()
    if start < end:
        inside, next_day = start <= now < end, False
    else:
        inside, next_day = now >= start or now < end, now >= start
    if not inside:
        return None
    day = local.date() + timedelta(days=1 if next_day else 0)
    return datetime.combine(day, end, tzinfo=zone).astimezone(UTC)


def outside_quiet_hours(settings: SalesSettings, *, moment: datetime, timezone: str) -> datetime:
    """``moment``, or the end of the quiet hours it falls in."""
    return quiet_until(settings, moment=moment, timezone=timezone) or moment
