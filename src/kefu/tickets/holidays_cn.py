"""China's public holidays (放假) and make-up working days (调休上班), as the State Council
publishes them each autumn for the next year, so SLA clocks stop over 春节 and run on the
Saturday everyone works instead.

Sources, one notice per year (国务院办公厅关于…年部分节假日安排的通知):
- 2024: 国办发明电〔2023〕7号 (25 October 2023)
- 2025: 国办发明电〔2024〕12号 (12 November 2024), the first year with the new 全体公民放假
  rules (除夕 and a second day of 劳动节 became holidays)
- 2026: 《国务院办公厅关于2026年部分节假日安排的通知》 (November 2025)

Only what a notice lists as 放假 is a holiday here: "6月10日放假，与周末连休" names one day,
the weekend around it is closed for a Monday-to-Friday shop anyway, and a shop open at
weekends stays open on them, as the notice intends.

Years not listed here have no built-in days: the notice comes out in the autumn before,
and until a release of Kefu carries it a shop adds the next year's days (or any
correction) as its own calendar days (``calendar.set_calendar_day``), which always win over
these. The settings page says which years are built in.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

from kefu.tickets.models import DayKind


def _span(first: date, last: date, name: str) -> dict[date, str]:
    days = (last - first).days
    return {first + timedelta(days=n): name for n in range(days + 1)}


# Closed days: date → the holiday's name.
HOLIDAYS: Final[dict[date, str]] = {
    # 2024
    date(2024, 1, 1): "元旦",
    **_span(date(2024, 2, 10), date(2024, 2, 17), "春节"),
    **_span(date(2024, 4, 4), date(2024, 4, 6), "清明节"),
    **_span(date(2024, 5, 1), date(2024, 5, 5), "劳动节"),
    date(2024, 6, 10): "端午节",
    **_span(date(2024, 9, 15), date(2024, 9, 17), "中秋节"),
    **_span(date(2024, 10, 1), date(2024, 10, 7), "国庆节"),
    # 2025
    date(2025, 1, 1): "元旦",
    **_span(date(2025, 1, 28), date(2025, 2, 4), "春节"),
    **_span(date(2025, 4, 4), date(2025, 4, 6), "清明节"),
    **_span(date(2025, 5, 1), date(2025, 5, 5), "劳动节"),
    **_span(date(2025, 5, 31), date(2025, 6, 2), "端午节"),
    **_span(date(2025, 10, 1), date(2025, 10, 8), "国庆节、中秋节"),
    # 2026
    **_span(date(2026, 1, 1), date(2026, 1, 3), "元旦"),
    **_span(date(2026, 2, 15), date(2026, 2, 23), "春节"),
    **_span(date(2026, 4, 4), date(2026, 4, 6), "清明节"),
    **_span(date(2026, 5, 1), date(2026, 5, 5), "劳动节"),
    **_span(date(2026, 6, 19), date(2026, 6, 21), "端午节"),
    **_span(date(2026, 9, 25), date(2026, 9, 27), "中秋节"),
    **_span(date(2026, 10, 1), date(2026, 10, 7), "国庆节"),
}

# Weekend days worked instead (调休上班): date → the holiday they make up for.
WORKDAYS: Final[dict[date, str]] = {
    # 2024
    date(2024, 2, 4): "春节",
    date(2024, 2, 18): "春节",
    date(2024, 4, 7): "清明节",
    date(2024, 4, 28): "劳动节",
    date(2024, 5, 11): "劳动节",
    date(2024, 9, 14): "中秋节",
    date(2024, 9, 29): "国庆节",
    date(2024, 10, 12): "国庆节",
    # 2025
    date(2025, 1, 26): "春节",
    date(2025, 2, 8): "春节",
    date(2025, 4, 27): "劳动节",
    date(2025, 9, 28): "国庆节、中秋节",
    date(2025, 10, 11): "国庆节、中秋节",
    # 2026
    date(2026, 1, 4): "元旦",
    date(2026, 2, 14): "春节",
    date(2026, 2, 28): "春节",
    date(2026, 5, 9): "劳动节",
    date(2026, 9, 20): "国庆节",
    date(2026, 10, 10): "国庆节",
}

YEARS: Final[tuple[int, ...]] = tuple(
    sorted({d.year for d in HOLIDAYS} | {d.year for d in WORKDAYS})
)


def builtin_day(day: date) -> tuple[DayKind, str] | None:
    """The built-in kind of ``day`` (closed holiday or 调休 workday) and its name, if any."""
    if day in HOLIDAYS:
        return DayKind.HOLIDAY, HOLIDAYS[day]
    if day in WORKDAYS:
        return DayKind.WORKDAY, WORKDAYS[day]
    return None


def days_of(year: int) -> list[tuple[date, DayKind, str]]:
    """Every built-in day of ``year`` in date order (empty for a year not built in)."""
    found = [(d, DayKind.HOLIDAY, n) for d, n in HOLIDAYS.items() if d.year == year]
    found += [(d, DayKind.WORKDAY, n) for d, n in WORKDAYS.items() if d.year == year]
    return sorted(found)


def ranges_of(year: int) -> list[tuple[date, date, DayKind, str]]:
    """The year's days as a notice reads them: (first, last, kind, name), consecutive days
    of one holiday joined — 春节 02-15–02-23, 调休 02-14."""
    ranges: list[tuple[date, date, DayKind, str]] = []
    for day, kind, name in days_of(year):
        if ranges:
            first, last, last_kind, last_name = ranges[-1]
            if (last_kind, last_name) == (kind, name) and last + timedelta(days=1) == day:
                ranges[-1] = (first, day, kind, name)
                continue
        ranges.append((day, day, kind, name))
    return ranges


def last_day() -> date:
    """The latest built-in day: after it, only the shop's week and its own days apply."""
    return max(max(HOLIDAYS), max(WORKDAYS))
