"""The shop's working hours, in the shop's time zone: when people answer."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from kefu.bot.models import BotSettings

_DAY_NAMES = "一二三四五六日"


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def is_working(settings: BotSettings, *, now: datetime, timezone: str) -> bool:
    """Whether people are at work now. Hours may cross midnight (e.g. 20:00–02:00): the
    late part belongs to the day the shift started."""
    local = now.astimezone(ZoneInfo(timezone))
    start, end = _clock(settings.work_start), _clock(settings.work_end)
    if start < end:
        return str(local.isoweekday()) in settings.work_days and start <= local.time() < end
    if local.time() >= start:
        return str(local.isoweekday()) in settings.work_days
    yesterday = (local - timedelta(days=1)).isoweekday()
    return local.time() < end and str(yesterday) in settings.work_days


def next_opening(settings: BotSettings, *, now: datetime, timezone: str) -> datetime:
    """When people are next at work (local time of the shop), at most a week ahead."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    start = _clock(settings.work_start)
    for days in range(8):
        day = (local + timedelta(days=days)).date()
        opening = datetime.combine(day, start, tzinfo=zone)
        if opening > local and str(opening.isoweekday()) in settings.work_days:
            return opening
    return local


def describe_opening(opening: datetime, *, now: datetime) -> str:
    """ "今天 09:00", "明天 09:00", "周一 09:00" — as a buyer would say it."""
    local_now = now.astimezone(opening.tzinfo)
    days = (opening.date() - local_now.date()).days
    clock = opening.strftime("%H:%M")
    if days == 0:
        return f"今天 {clock}"
    if days == 1:
        return f"明天 {clock}"
    if days == 2:
        return f"后天 {clock}"
    return f"周{_DAY_NAMES[opening.weekday()]} {clock}"


def describe_hours(settings: BotSettings) -> str:
    days = settings.work_days
    if days == "1234567":
        which = "每天"
    elif days == "12345":
        which = "周一至周五"
    else:
        which = "、".join(f"周{_DAY_NAMES[int(d) - 1]}" for d in days)
    return f"{which} {settings.work_start}–{settings.work_end}"
