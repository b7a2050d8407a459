"""When shifts are on: a shift's occurrences in real (UTC) moments, from its times in shop
time. Pure functions of a shift and a time zone, no database.

A shift starts on the ISO weekdays it names at ``start_time`` shop time and ends at
``end_time``; an end at or before the start is on the next day (夜班 22:00–06:00 started on
Monday ends on Tuesday morning). So a moment on Tuesday 03:00 is covered by Monday's
occurrence: every lookup also looks at the day before.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from kefu.tickets.models import Shift

# How far ahead the incoming shift is looked for: a team whose only shift is on Mondays
# still finds next Monday's.
LOOKAHEAD_DAYS = 8


class Occurrence(NamedTuple):
    """One occurrence of a shift: ``start`` and ``end`` are UTC moments (aware)."""

    shift: Shift
    start: datetime
    end: datetime


def parse_time(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def occurrence_on(shift: Shift, day: date, zone: ZoneInfo) -> Occurrence | None:
    """The occurrence that starts on ``day`` (shop time), or None if the shift is off then."""
    if str(day.isoweekday()) not in shift.weekdays:
        return None
    start_clock, end_clock = parse_time(shift.start_time), parse_time(shift.end_time)
    end_day = day if end_clock > start_clock else day + timedelta(days=1)
    start = datetime.combine(day, start_clock, tzinfo=zone)
    end = datetime.combine(end_day, end_clock, tzinfo=zone)
    return Occurrence(shift, _utc(start), _utc(end))


def occurrences(
    shifts: Iterable[Shift], zone: ZoneInfo, *, first_day: date, last_day: date
) -> Iterator[Occurrence]:
    """Every occurrence starting on a shop-time day from ``first_day`` to ``last_day``."""
    listed = list(shifts)
    day = first_day
    while day <= last_day:
        for shift in listed:
            found = occurrence_on(shift, day, zone)
            if found is not None:
                yield found
        day += timedelta(days=1)


def covering(shifts: Iterable[Shift], zone: ZoneInfo, at: datetime) -> list[Occurrence]:
    """The occurrences on at ``at`` (start ≤ at < end), earliest start first. Yesterday's
    are included: a night shift that started then may still be on."""
    today = at.astimezone(zone).date()
    found = [
        o
        for o in occurrences(shifts, zone, first_day=today - timedelta(days=1), last_day=today)
        if o.start <= at < o.end
    ]
    return sorted(found, key=lambda o: (o.start, o.shift.id))


def ending_at(shift: Shift, zone: ZoneInfo, end: datetime) -> Occurrence | None:
    """The occurrence of ``shift`` that ends exactly at ``end``, if there is one."""
    local_day = end.astimezone(zone).date()
    for o in occurrences(
        [shift], zone, first_day=local_day - timedelta(days=1), last_day=local_day
    ):
        if o.end == end:
            return o
    return None


def ended_between(
    shifts: Iterable[Shift], zone: ZoneInfo, *, after: datetime, until: datetime
) -> list[Occurrence]:
    """Occurrences whose end is in (after, until]: the handovers that are due."""
    first = after.astimezone(zone).date() - timedelta(days=1)
    last = until.astimezone(zone).date()
    return sorted(
        (
            o
            for o in occurrences(shifts, zone, first_day=first, last_day=last)
            if after < o.end <= until
        ),
        key=lambda o: (o.end, o.shift.id),
    )


def latest_ended(
    shift: Shift, zone: ZoneInfo, *, at: datetime, within: timedelta
) -> Occurrence | None:
    """The shift's last occurrence that ended at or before ``at``, no longer than
    ``within`` ago."""
    found = ended_between([shift], zone, after=at - within, until=at)
    return found[-1] if found else None


def next_after(shifts: Iterable[Shift], zone: ZoneInfo, outgoing: Occurrence) -> Occurrence | None:
    """The incoming occurrence: who takes over when ``outgoing`` ends.

    Among the team's other occurrences still on after the outgoing one ends, one already on
    at that moment wins (晚班 16:00–24:00 takes over from 早班 08:00–17:00 at 17:00: the
    latest started); else the next to start. A team with one shift hands over to its own
    next occurrence (tomorrow's).
    """
    at = outgoing.end
    local_day = at.astimezone(zone).date()
    candidates = [
        o
        for o in occurrences(
            shifts,
            zone,
            first_day=local_day - timedelta(days=1),
            last_day=local_day + timedelta(days=LOOKAHEAD_DAYS),
        )
        if o.end > at and not (o.shift.id == outgoing.shift.id and o.start == outgoing.start)
    ]
    on_already = [o for o in candidates if o.start <= at]
    if on_already:
        return max(on_already, key=lambda o: (o.start, -o.shift.id))
    return min(candidates, key=lambda o: (o.start, o.shift.id), default=None)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
