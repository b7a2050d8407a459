"""The built-in 放假 and 调休 days match the State Council's notices, day for day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from kefu.tickets import holidays_cn
from kefu.tickets.models import DayKind


def _days(first: date, last: date) -> set[date]:
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}


def _holidays(year: int) -> set[date]:
    return {d for d, kind, _ in holidays_cn.days_of(year) if kind is DayKind.HOLIDAY}


def _workdays(year: int) -> set[date]:
    return {d for d, kind, _ in holidays_cn.days_of(year) if kind is DayKind.WORKDAY}


def test_2026_as_published() -> None:
    expected = (
        _days(date(2026, 1, 1), date(2026, 1, 3))
        | _days(date(2026, 2, 15), date(2026, 2, 23))
        | _days(date(2026, 4, 4), date(2026, 4, 6))
        | _days(date(2026, 5, 1), date(2026, 5, 5))
        | _days(date(2026, 6, 19), date(2026, 6, 21))
        | _days(date(2026, 9, 25), date(2026, 9, 27))
        | _days(date(2026, 10, 1), date(2026, 10, 7))
    )
    assert _holidays(2026) == expected
    assert _workdays(2026) == {
        date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9),
        date(2026, 9, 20), date(2026, 10, 10),
    }  # fmt: skip
    assert holidays_cn.builtin_day(date(2026, 2, 17)) == (DayKind.HOLIDAY, "春节")
    assert holidays_cn.builtin_day(date(2026, 2, 14)) == (DayKind.WORKDAY, "春节")


def test_2025_as_published() -> None:
    expected = (
        {date(2025, 1, 1)}
        | _days(date(2025, 1, 28), date(2025, 2, 4))
        | _days(date(2025, 4, 4), date(2025, 4, 6))
        | _days(date(2025, 5, 1), date(2025, 5, 5))
        | _days(date(2025, 5, 31), date(2025, 6, 2))
        | _days(date(2025, 10, 1), date(2025, 10, 8))
    )
    assert _holidays(2025) == expected
    assert _workdays(2025) == {
        date(2025, 1, 26), date(2025, 2, 8), date(2025, 4, 27), date(2025, 9, 28),
        date(2025, 10, 11),
    }  # fmt: skip
    assert holidays_cn.builtin_day(date(2025, 10, 6)) == (DayKind.HOLIDAY, "国庆节、中秋节")


def test_2024_as_published() -> None:
    expected = (
        {date(2024, 1, 1), date(2024, 6, 10)}
        | _days(date(2024, 2, 10), date(2024, 2, 17))
        | _days(date(2024, 4, 4), date(2024, 4, 6))
        | _days(date(2024, 5, 1), date(2024, 5, 5))
        | _days(date(2024, 9, 15), date(2024, 9, 17))
        | _days(date(2024, 10, 1), date(2024, 10, 7))
    )
    assert _holidays(2024) == expected
    assert _workdays(2024) == {
        date(2024, 2, 4), date(2024, 2, 18), date(2024, 4, 7), date(2024, 4, 28),
        date(2024, 5, 11), date(2024, 9, 14), date(2024, 9, 29), date(2024, 10, 12),
    }  # fmt: skip


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_make_up_days_are_weekends_and_never_holidays(year: int) -> None:
    # 调休上班 is always a Saturday or Sunday that becomes a working day.
    for day in _workdays(year):
        assert day.isoweekday() in (6, 7), day
    assert not _workdays(year) & _holidays(year)


def test_years_built_in_and_beyond() -> None:
    assert holidays_cn.YEARS == (2024, 2025, 2026)
    assert holidays_cn.days_of(2027) == []
    assert holidays_cn.builtin_day(date(2027, 1, 1)) is None
    assert holidays_cn.last_day() == date(2026, 10, 10)


def test_days_read_as_the_notice_lists_them() -> None:
    ranges = holidays_cn.ranges_of(2026)
    assert (date(2026, 2, 15), date(2026, 2, 23), DayKind.HOLIDAY, "春节") in ranges
    assert (date(2026, 2, 14), date(2026, 2, 14), DayKind.WORKDAY, "春节") in ranges
    assert ranges[0] == (date(2026, 1, 1), date(2026, 1, 3), DayKind.HOLIDAY, "元旦")
    assert len(ranges) == 13  # seven holidays, six make-up days
