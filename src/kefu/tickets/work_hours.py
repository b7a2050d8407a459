"""Working hours as a shop types them: periods "HH:MM"–"HH:MM" per ISO weekday (Monday =
1), checked before they are stored so the calendar can rely on them: 24-hour times, the
end after the start (24:00 closes the day; a night shift is two periods, one on each
day), no overlaps, at most four a day, and some hours somewhere in the week."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Final

from kefu.errors import Invalid

Period = tuple[int, int]  # minutes after local midnight: start < end <= 1440
WeeklyHours = Mapping[int, Sequence[tuple[str, str]]]

MAX_PERIODS_PER_DAY: Final = 4
DAY_MINUTES: Final = 24 * 60
# What a shop that never set its hours works: Monday to Friday, 09:00–18:00 shop time.
DEFAULT_WEEK: Final[dict[int, list[tuple[str, str]]]] = {
    day: ([("09:00", "18:00")] if day <= 5 else []) for day in range(1, 8)
}
# Own days beyond these years are refused: nobody plans them, and a stray year 9999 would
# only be a typo.
FIRST_DAY: Final = date(2000, 1, 1)
LAST_DAY: Final = date(2099, 12, 31)
WEEKDAY_ZH: Final = ("", "周一", "周二", "周三", "周四", "周五", "周六", "周日")
WEEKDAY_EN: Final = (
    "",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)
_CLOCK = re.compile(r"^(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$")


def no_hours() -> Invalid:
    return Invalid(
        "the calendar has no working hours at all: open at least one period on one weekday, "
        "or count the policy's targets around the clock",
        field="weekly_hours",
        key="errors.tickets.sla.no_hours",
    )


def to_minutes(value: str) -> int:
    match = _CLOCK.match(value)
    if match is None:
        raise ValueError(value)
    hours, minutes = (match.group(1), match.group(2)) if match.group(1) else ("24", "00")
    return int(hours) * 60 + int(minutes)


def parse_period(start: str, end: str) -> Period:
    return to_minutes(start), to_minutes(end)


def clock_text(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def check_weekly_hours(weekly_hours: WeeklyHours) -> dict[int, list[tuple[str, str]]]:
    """The week as stored (all seven days, periods in order), or Invalid naming the day and
    the problem: a time not "HH:MM", a period ending before it starts (one crossing
    midnight must be split at 24:00), overlapping periods, more than four a day, or no
    hours in the whole week."""
    week: dict[int, list[tuple[str, str]]] = {day: [] for day in range(1, 8)}
    for day, periods in weekly_hours.items():
        if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= 7:
            raise Invalid(
                f"weekday {day!r} is not 1 (Monday) to 7 (Sunday)",
                field="weekly_hours",
                key="errors.tickets.sla.weekday",
                weekday=str(day),
            )
        names = {"day_zh": WEEKDAY_ZH[day], "day_en": WEEKDAY_EN[day]}
        field = f"weekly_hours.{day}"
        if len(periods) > MAX_PERIODS_PER_DAY:
            raise Invalid(
                f"{WEEKDAY_EN[day]} has {len(periods)} periods; at most {MAX_PERIODS_PER_DAY}",
                field=field,
                key="errors.tickets.sla.too_many_periods",
                max=MAX_PERIODS_PER_DAY,
                **names,
            )
        parsed: list[Period] = []
        for pair in periods:
            start, end = _checked_period(pair, field=field, names=names)
            parsed.append((start, end))
        parsed.sort()
        for (_s1, e1), (s2, e2) in itertools.pairwise(parsed):
            if s2 < e1:
                shown = f"{clock_text(s2)}–{clock_text(e2)}"
                raise Invalid(
                    f"{WEEKDAY_EN[day]}: {shown} overlaps the period before it",
                    field=field,
                    key="errors.tickets.sla.overlap",
                    period=shown,
                    **names,
                )
        week[day] = [(clock_text(s), clock_text(e)) for s, e in parsed]
    if not any(week.values()):
        raise no_hours()
    return week


def _checked_period(pair: object, *, field: str, names: dict[str, str]) -> Period:
    if (
        not isinstance(pair, list | tuple)
        or len(pair) != 2
        or not all(isinstance(v, str) for v in pair)
    ):
        raise Invalid(
            f"{names['day_en']}: a period is two times such as ['09:00', '18:00']",
            field=field,
            key="errors.tickets.sla.period_shape",
            **names,
        )
    start_text, end_text = (str(v).strip() for v in pair)
    try:
        start, end = to_minutes(start_text), to_minutes(end_text)
    except ValueError:
        raise Invalid(
            f"{names['day_en']}: use 24-hour times such as 09:00 or 13:30 "
            f"(got {start_text}–{end_text})",
            field=field,
            key="errors.tickets.sla.clock",
            period=f"{start_text}–{end_text}",
            **names,
        ) from None
    shown = f"{start_text}–{end_text}"
    if start >= DAY_MINUTES:
        raise Invalid(
            f"{names['day_en']}: a period cannot start at 24:00",
            field=field,
            key="errors.tickets.sla.clock",
            period=shown,
            **names,
        )
    if end < start:
        raise Invalid(
            f"{names['day_en']}: {shown} crosses midnight; split it into "
            f"{start_text}–24:00 and 00:00–{end_text} of the next day",
            field=field,
            key="errors.tickets.sla.overnight",
            period=shown,
            **names,
        )
    if end == start:
        raise Invalid(
            f"{names['day_en']}: {shown} is empty; the end must be after the start",
            field=field,
            key="errors.tickets.sla.empty_period",
            period=shown,
            **names,
        )
    return start, end
