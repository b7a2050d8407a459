"""Working hours in the shop's time zone, including shifts that cross midnight."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from kefu.bot.hours import describe_hours, describe_opening, is_working, next_opening
from kefu.bot.models import BotSettings

SHANGHAI = "Asia/Shanghai"


def _hours(start: str, end: str, days: str = "1234567") -> BotSettings:
    return BotSettings(work_start=start, work_end=end, work_days=days)


def _at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A Shanghai wall-clock time."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(SHANGHAI))


def test_day_hours_follow_the_shops_clock_not_utc() -> None:
    hours = _hours("09:00", "22:00")
    assert is_working(hours, now=_at(2026, 11, 23, 9, 0), timezone=SHANGHAI)
    assert is_working(hours, now=_at(2026, 11, 23, 21, 59), timezone=SHANGHAI)
    assert not is_working(hours, now=_at(2026, 11, 23, 22, 0), timezone=SHANGHAI)
    assert not is_working(hours, now=_at(2026, 11, 23, 8, 59), timezone=SHANGHAI)
    # 08:00 UTC is 16:00 in Shanghai but midnight in Los Angeles.
    utc_eight = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert is_working(hours, now=utc_eight, timezone=SHANGHAI)
    assert not is_working(hours, now=utc_eight, timezone="America/Los_Angeles")


def test_a_night_shift_belongs_to_the_day_it_started() -> None:
    hours = _hours("20:00", "02:00", days="5")  # Friday evening until Saturday 02:00
    friday_late = _at(2026, 11, 27, 23, 0)
    saturday_early = _at(2026, 11, 28, 1, 30)
    saturday_late = _at(2026, 11, 28, 23, 0)
    assert is_working(hours, now=friday_late, timezone=SHANGHAI)
    assert is_working(hours, now=saturday_early, timezone=SHANGHAI)
    assert not is_working(hours, now=saturday_late, timezone=SHANGHAI)


def test_next_opening_skips_days_off_and_reads_like_a_person() -> None:
    weekdays = _hours("09:00", "18:00", days="12345")
    friday_evening = _at(2026, 11, 27, 19, 0)
    opening = next_opening(weekdays, now=friday_evening, timezone=SHANGHAI)
    assert (opening.isoweekday(), opening.hour) == (1, 9)
    assert describe_opening(opening, now=friday_evening) == "周一 09:00"
    tuesday_night = _at(2026, 11, 24, 23, 0)
    tomorrow = next_opening(weekdays, now=tuesday_night, timezone=SHANGHAI)
    assert describe_opening(tomorrow, now=tuesday_night) == "明天 09:00"
    early = _at(2026, 11, 24, 7, 0)
    assert (
        describe_opening(next_opening(weekdays, now=early, timezone=SHANGHAI), now=early)
        == "今天 09:00"
    )
    assert describe_hours(weekdays) == "周一至周五 09:00–18:00"
    assert describe_hours(_hours("10:00", "20:00", days="67")) == "周六、周日 10:00–20:00"
