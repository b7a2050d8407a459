"""A shop's business calendar: its working hours per weekday (several periods a day, such
as 09:00–12:00 and 13:30–18:00, in shop time), China's public holidays and 调休 workdays,
and the shop's own days, which win over both.

:class:`WorkCalendar` is pure (no database): it answers "when is this many working
minutes after that moment?" (:meth:`~WorkCalendar.add`) and the inverse
(:meth:`~WorkCalendar.minutes_between`). It works day by day in the shop's wall time and
turns each period into a UTC interval, so a period is as long as the clock on the wall
says even on a day a zone changes to or from summer time; closed days cost one lookup,
and a whole week without any special day is skipped at once.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import Executable, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kefu.errors import Invalid, NotFound
from kefu.shops import service as shops
from kefu.tickets import holidays_cn
from kefu.tickets.models import BusinessCalendar, CalendarDay, DayKind
from kefu.tickets.work_hours import (
    DAY_MINUTES,
    DEFAULT_WEEK,
    FIRST_DAY,
    LAST_DAY,
    Period,
    WeeklyHours,
    check_weekly_hours,
    no_hours,
    parse_period,
)
from kefu.uow import UnitOfWork
from kefu.validation import clean_text

_WEEK = timedelta(days=7)


class WorkCalendar:
    """Working time of one shop. Times in and out are aware datetimes (UTC out)."""

    def __init__(
        self,
        *,
        timezone: str,
        week: Mapping[int, Sequence[Period]],
        cn_holidays: bool = True,
        own_days: Mapping[date, DayKind] | None = None,
    ) -> None:
        self.zone = ZoneInfo(timezone)
        self.timezone = timezone
        self.cn_holidays = cn_holidays
        self.week: dict[int, tuple[Period, ...]] = {
            day: tuple(sorted(week.get(day, ()))) for day in range(1, 8)
        }
        self.own_days: dict[date, DayKind] = dict(own_days or {})
        self.week_minutes = sum(end - start for day in self.week.values() for start, end in day)
        # A worked weekend day (调休) has the hours of a normal weekday: Monday's, or for a
        # shop closed on Mondays the first weekday it opens.
        self.normal_day: tuple[Period, ...] = next(
            (self.week[d] for d in (1, 2, 3, 4, 5, 6, 7) if self.week[d]), ()
        )
        special = set(self.own_days)
        if cn_holidays:
            special |= set(holidays_cn.HOLIDAYS) | set(holidays_cn.WORKDAYS)
        self._special = sorted(special)
        self._intervals: dict[date, list[tuple[datetime, datetime]]] = {}

    @classmethod
    def from_hours(
        cls,
        *,
        timezone: str,
        weekly_hours: WeeklyHours,
        cn_holidays: bool = True,
        own_days: Mapping[date, DayKind] | None = None,
    ) -> WorkCalendar:
        week = {
            day: [parse_period(start, end) for start, end in p] for day, p in weekly_hours.items()
        }
        return cls(timezone=timezone, week=week, cn_holidays=cn_holidays, own_days=own_days)

    # --- what a day is -------------------------------------------------------------------

    def day_kind(self, day: date) -> tuple[DayKind, str] | None:
        """The day's exception, if any: the shop's own first, then the built-in one."""
        if day in self.own_days:
            return self.own_days[day], "own"
        if self.cn_holidays:
            found = holidays_cn.builtin_day(day)
            if found is not None:
                return found[0], "cn"
        return None

    def periods_on(self, day: date) -> tuple[Period, ...]:
        kind = self.day_kind(day)
        if kind is None:
            return self.week[day.isoweekday()]
        return () if kind[0] is DayKind.HOLIDAY else self.normal_day

    def _day_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's periods as UTC intervals. A wall time inside a spring-forward gap maps
        past it, so such a period is only as long as it really lasts; one that vanishes
        in the gap is dropped."""
        cached = self._intervals.get(day)
        if cached is not None:
            return cached
        intervals = []
        for start, end in self.periods_on(day):
            a = self._utc(day, start)
            b = self._utc(day, end)
            if b > a:
                intervals.append((a, b))
        self._intervals[day] = intervals
        return intervals

    def _utc(self, day: date, minute: int) -> datetime:
        if minute >= DAY_MINUTES:
            day, minute = day + timedelta(days=1), minute - DAY_MINUTES
        local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self.zone)
        return local.astimezone(UTC)

    def _local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def _plain_week(self, first: date) -> bool:
        """Whether the seven days from ``first`` are ordinary (no holiday, no 调休, no own
        day, no change of UTC offset), so they hold exactly ``week_minutes``."""
        i = bisect.bisect_left(self._special, first)
        if i < len(self._special) and self._special[i] < first + _WEEK:
            return False
        noon = time(12)
        before = datetime.combine(first, noon, tzinfo=self.zone).utcoffset()
        after = datetime.combine(first + _WEEK, noon, tzinfo=self.zone).utcoffset()
        midnight = datetime.combine(first, time(0), tzinfo=self.zone).utcoffset()
        return before == after == midnight

    # --- the questions -------------------------------------------------------------------

    def is_open(self, at: datetime) -> bool:
        _aware(at)
        return any(a <= at < b for a, b in self._day_intervals(self._local_day(at)))

    def add(self, start: datetime, minutes: int) -> datetime:
        """The moment ``minutes`` working minutes after ``start`` (before it when negative).

        Landing exactly on the end of a period gives that end (a target of the rest of
        the day is due at 18:00, not at 09:00 the next morning).
        """
        _aware(start)
        if minutes == 0:
            return start
        if self.week_minutes == 0:
            raise no_hours()
        if minutes > 0:
            return self._forward(start, timedelta(minutes=minutes))
        return self._backward(start, timedelta(minutes=-minutes))

    def _forward(self, start: datetime, remaining: timedelta) -> datetime:
        day = self._local_day(start)
        first = True
        week = timedelta(minutes=self.week_minutes)
        while True:
            if not first:
                while remaining > week and self._plain_week(day):
                    remaining -= week
                    day += _WEEK
            first = False
            for a, b in self._day_intervals(day):
                if b <= start:
                    continue
                a = max(a, start)
                if remaining <= b - a:
                    return a + remaining
                remaining -= b - a
            day += timedelta(days=1)

    def _backward(self, end: datetime, remaining: timedelta) -> datetime:
        day = self._local_day(end)
        first = True
        week = timedelta(minutes=self.week_minutes)
        while True:
            if not first:
                while remaining > week and self._plain_week(day - timedelta(days=6)):
                    remaining -= week
                    day -= _WEEK
            first = False
            for a, b in reversed(self._day_intervals(day)):
                if a >= end:
                    continue
                b = min(b, end)
                if remaining <= b - a:
                    return b - remaining
                remaining -= b - a
            day -= timedelta(days=1)

    def minutes_between(self, start: datetime, end: datetime) -> int:
        """Whole working minutes from ``start`` to ``end``; negative when ``end`` is earlier
        (how far past a deadline). The inverse of :meth:`add`."""
        _aware(start)
        _aware(end)
        if end < start:
            return -self.minutes_between(end, start)
        return int(self._open_time(start, end).total_seconds() // 60)

    def _open_time(self, start: datetime, end: datetime) -> timedelta:
        total = timedelta()
        day, last = self._local_day(start), self._local_day(end)
        week = timedelta(minutes=self.week_minutes)
        first = True
        while day <= last:
            if not first:
                # A whole ordinary week strictly inside (start, end) counts as one block.
                while day + _WEEK <= last and self._plain_week(day):
                    total += week
                    day += _WEEK
            first = False
            for a, b in self._day_intervals(day):
                a, b = max(a, start), min(b, end)
                if b > a:
                    total += b - a
            day += timedelta(days=1)
        return total


class RoundTheClock:
    """Calendar time, for policies that count every minute (nights and holidays too)."""

    def is_open(self, at: datetime) -> bool:
        return True

    def add(self, start: datetime, minutes: int) -> datetime:
        _aware(start)
        return start + timedelta(minutes=minutes)

    def minutes_between(self, start: datetime, end: datetime) -> int:
        _aware(start)
        _aware(end)
        seconds = (end - start).total_seconds()
        whole = int(abs(seconds) // 60)
        return whole if seconds >= 0 else -whole


ROUND_THE_CLOCK: Final = RoundTheClock()
# How a target counts its minutes: on the shop's calendar, or around the clock.
TimeBasis = WorkCalendar | RoundTheClock


def _aware(moment: datetime) -> None:
    if moment.tzinfo is None:
        raise ValueError("a naive datetime was given to the calendar; pass an aware one")


def _stored_week(row: BusinessCalendar | None) -> dict[int, list[tuple[str, str]]]:
    if row is None:
        return {day: list(p) for day, p in DEFAULT_WEEK.items()}
    raw: dict[str, list[list[str]]] = json.loads(row.weekly_hours)
    return {day: [(s, e) for s, e in raw.get(str(day), [])] for day in range(1, 8)}


# --- the shop's calendar -----------------------------------------------------------------


@dataclass(frozen=True)
class CalendarSettings:
    """What the settings page and the API show: the week, the holiday switch, own days."""

    timezone: str
    weekly_hours: dict[int, list[tuple[str, str]]]
    cn_holidays: bool
    days: list[CalendarDay]


def calendar_settings(session: Session, *, shop_id: int) -> CalendarSettings:
    shop = shops.get_shop(session, shop_id=shop_id)
    row = session.get(BusinessCalendar, shop_id)
    return CalendarSettings(
        timezone=shop.timezone,
        weekly_hours=_stored_week(row),
        cn_holidays=row.cn_holidays if row is not None else True,
        days=list_calendar_days(session, shop_id=shop_id),
    )


def calendar_of(session: Session, *, shop_id: int) -> WorkCalendar:
    """The shop's working time: its week (Mon–Fri 09:00–18:00 until it sets one), China's
    holidays unless switched off, and its own days."""
    settings = calendar_settings(session, shop_id=shop_id)
    return WorkCalendar.from_hours(
        timezone=settings.timezone,
        weekly_hours=settings.weekly_hours,
        cn_holidays=settings.cn_holidays,
        own_days={d.day: d.kind for d in settings.days},
    )


def list_calendar_days(session: Session, *, shop_id: int) -> list[CalendarDay]:
    query = select(CalendarDay).where(CalendarDay.shop_id == shop_id).order_by(CalendarDay.day)
    return list(session.scalars(query))


def update_calendar(
    uow: UnitOfWork,
    *,
    shop_id: int,
    weekly_hours: WeeklyHours | None = None,
    cn_holidays: bool | None = None,
    commit: bool = True,
) -> BusinessCalendar:
    """Change the week and/or the holiday switch (None keeps one). Deadlines already set
    stay as they are; targets started from now on count the new hours."""
    session = uow.session
    shops.get_shop(session, shop_id=shop_id)
    week = check_weekly_hours(weekly_hours) if weekly_hours is not None else None
    row = calendar_row(uow, shop_id=shop_id)
    if week is not None:
        row.weekly_hours = _week_json(week)
    if cn_holidays is not None:
        row.cn_holidays = cn_holidays
    row.updated_at = uow.clock.now()
    if commit:
        uow.commit()
    return row


def calendar_row(uow: UnitOfWork, *, shop_id: int) -> BusinessCalendar:
    """The shop's calendar row, written with the default week if it has none yet. An
    insert that ignores a row another transaction wrote meanwhile, so two first saves
    at once don't fail on the primary key."""
    session = uow.session
    values = {
        "shop_id": shop_id,
        "weekly_hours": _week_json(_stored_week(None)),
        "cn_holidays": True,
        "updated_at": uow.clock.now(),
    }
    if session.get_bind().dialect.name == "postgresql":
        statement: Executable = (
            postgresql.insert(BusinessCalendar).values(**values).on_conflict_do_nothing()
        )
    else:
        statement = sqlite.insert(BusinessCalendar).values(**values).on_conflict_do_nothing()
    session.execute(statement)
    return session.get_one(BusinessCalendar, shop_id, populate_existing=True)


def _week_json(week: Mapping[int, Sequence[tuple[str, str]]]) -> str:
    return json.dumps({str(d): [list(p) for p in v] for d, v in week.items()})


def set_calendar_day(
    uow: UnitOfWork,
    *,
    shop_id: int,
    day: date,
    kind: DayKind,
    name: str = "",
    commit: bool = True,
) -> CalendarDay:
    """Mark a day closed (店休, a holiday not built in) or worked (with the hours of a
    normal weekday); a day already marked is changed. Wins over the built-in days."""
    session = uow.session
    shops.get_shop(session, shop_id=shop_id)
    if not FIRST_DAY <= day <= LAST_DAY:
        raise Invalid(
            f"{day.isoformat()} is outside {FIRST_DAY.year}–{LAST_DAY.year}",
            field="day",
            key="errors.tickets.sla.day_range",
            day=day.isoformat(),
        )
    kind = DayKind(kind)
    name = clean_text(name, field="name", max_length=60)
    row = session.scalar(
        select(CalendarDay).where(CalendarDay.shop_id == shop_id, CalendarDay.day == day)
    )
    if row is None:
        row = CalendarDay(shop_id=shop_id, day=day, kind=kind, name=name)
        session.add(row)
    else:
        row.kind, row.name = kind, name
    session.flush()
    if commit:
        uow.commit()
    return row


def remove_calendar_day(uow: UnitOfWork, *, shop_id: int, day: date, commit: bool = True) -> None:
    """Drop the shop's own mark on a day: the week (and the built-in days) apply again."""
    session = uow.session
    row = session.scalar(
        select(CalendarDay).where(CalendarDay.shop_id == shop_id, CalendarDay.day == day)
    )
    if row is None:
        raise NotFound(
            f"the calendar has no day {day.isoformat()} of the shop's own",
            key="errors.tickets.sla.no_such_day",
            day=day.isoformat(),
        )
    session.delete(row)
    session.flush()
    if commit:
        uow.commit()
