"""The date ranges of the quality reports, in the shop's time zone: a report covers whole
local days (``since`` to ``until``, both included), and its trend is bucketed per local day
or per week (Monday to Sunday) — cut at the shop's midnights, whatever the zone's offset
or its daylight-saving changes.

The buckets become one SQL ``CASE`` over the scores' close times, so a trend is one
grouped query on every backend (no date functions, which differ between them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import case, literal, select
from sqlalchemy.orm import Session

from kefu.errors import Invalid
from kefu.shops.models import Shop

Period = Literal["day", "week"]
PERIODS: Final[tuple[Period, ...]] = ("day", "week")
MAX_DAYS: Final = 366
DEFAULT_DAYS: Final = 30


@dataclass(frozen=True, slots=True)
class QaRange:
    """Local days ``since``..``until`` (inclusive) of the shop's zone, as UTC instants
    ``start`` (inclusive) and ``end`` (exclusive), with the trend's buckets."""

    since: date
    until: date
    zone: str
    period: Period
    start: datetime
    end: datetime
    buckets: tuple[date, ...]  # each bucket's first local day
    edges: tuple[datetime, ...]  # each bucket's start in UTC, then ``end``

    def bucket_of(self, column: Any) -> Any:
        """A SQL expression: the index of the bucket a UTC time column falls in (rows
        are filtered to [start, end) beforehand)."""
        if len(self.buckets) == 1:
            return literal(0)
        whens = [(column < edge, index) for index, edge in enumerate(self.edges[1:-1])]
        return case(*whens, else_=len(self.buckets) - 1)


def shop_zone(session: Session, *, shop_id: int) -> str:
    zone = session.scalar(select(Shop.timezone).where(Shop.id == shop_id))
    return zone or "Asia/Shanghai"


def today(*, now: datetime, zone: str) -> date:
    return now.astimezone(ZoneInfo(zone)).date()


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def qa_range(
    session: Session,
    *,
    shop_id: int,
    now: datetime,
    since: date | None = None,
    until: date | None = None,
    period: str = "day",
) -> QaRange:
    """The range asked for (default: the last DEFAULT_DAYS days, today included) in the
    shop's zone. Invalid: ``until`` before ``since``, more than MAX_DAYS, an unknown
    period."""
    if period not in PERIODS:
        raise Invalid(
            f"the period is day or week, not {period!r}",
            field="period", key="coach.qa.error.period",
        )  # fmt: skip
    zone_name = shop_zone(session, shop_id=shop_id)
    zone = ZoneInfo(zone_name)
    last = until or today(now=now, zone=zone_name)
    first = since or last - timedelta(days=DEFAULT_DAYS - 1)
    if last < first:
        raise Invalid(
            "the end of the range comes before its start",
            field="to", key="coach.qa.error.range_order",
        )  # fmt: skip
    if (last - first).days + 1 > MAX_DAYS:
        raise Invalid(
            f"a report covers at most {MAX_DAYS} days",
            field="from", key="coach.qa.error.range_length", limit=MAX_DAYS,
        )  # fmt: skip
    chosen: Period = "week" if period == "week" else "day"
    if chosen == "day":
        buckets = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    else:
        monday = first - timedelta(days=first.weekday())
        buckets = [monday + timedelta(weeks=n) for n in range((last - monday).days // 7 + 1)]
    starts = [max(bucket, first) for bucket in buckets]
    edges = [_midnight(day, zone) for day in starts]
    end = _midnight(last + timedelta(days=1), zone)
    return QaRange(
        since=first,
        until=last,
        zone=zone_name,
        period=chosen,
        start=edges[0],
        end=end,
        buckets=tuple(buckets),
        edges=(*edges, end),
    )


def day_bounds(
    session: Session, *, shop_id: int, since: date | None, until: date | None
) -> tuple[datetime | None, datetime | None]:
    """Open-ended bounds of whole local days for a list filter: from ``since``'s midnight,
    until the midnight after ``until`` (either may be None: no bound)."""
    if since is None and until is None:
        return None, None
    zone = ZoneInfo(shop_zone(session, shop_id=shop_id))
    if since is not None and until is not None and until < since:
        raise Invalid(
            "the end of the range comes before its start",
            field="to", key="coach.qa.error.range_order",
        )  # fmt: skip
    start = _midnight(since, zone) if since is not None else None
    end = _midnight(until + timedelta(days=1), zone) if until is not None else None
    return start, end
