"""Dates and times of day in buyers' words, relative to the shop's "now".

"明天", "下周一", "11月20号", "11.20", "3天后", "双十一"; "上午10点", "晚上8点", "10:30";
and a date said right before a time ("明天下午3点", "今晚8点") makes one moment. The
ambiguous ones are settled the way a shop's buyers mean them, each rule stated where it is
applied.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from kefu.nlp.numerals import CN_NUM, number


@dataclass(frozen=True, slots=True)
class Said:
    """A date or a time of day found at text[start:end]."""

    start: int
    end: int
    value: date | time
    period: str | None = None  # date: the part of day it implies ("今晚" → 晚上)
    bare_hour: int | None = None  # time: the hour said without a part of day ("8点")
    day_shift: int = 0  # time: "晚上12点" is midnight, the start of the next day


_DAY_WORDS: dict[str, tuple[int, str | None]] = {
    "大前天": (-3, None), "前天": (-2, None), "昨天": (-1, None), "昨日": (-1, None),
    "昨晚": (-1, "晚上"), "今天": (0, None), "今日": (0, None), "今儿": (0, None),
    "今早": (0, "早上"), "今晚": (0, "晚上"), "明天": (1, None), "明日": (1, None),
    "明儿": (1, None), "明早": (1, "早上"), "明晚": (1, "晚上"), "后天": (2, None),
    "大后天": (3, None),
}  # fmt: skip
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEKDAYS |= {str(n): n - 1 for n in range(1, 8)}
_WEEK_SHIFT = {"下下": 2, "下": 1, "上": -1, "这": 0, "本": 0, "": 0}
_DAY_NUM = rf"\d{{1,2}}|{CN_NUM}"
_DATE = re.compile(
    # Most positions start no date at all: one character class turns them away before
    # the alternatives are tried one by one.
    r"(?=[大前昨今明后双下上这本个周星礼\d零〇一二两三四五六七八九十百千])(?:"
    f"(?P<word>{'|'.join(sorted(_DAY_WORDS, key=len, reverse=True))})"
    r"|双(?P<fest>11|十一|12|十二)(?!\d)"
    r"|(?<!每)(?P<wrel>下下|下|上|这|本)?个?(?:周|星期|礼拜)(?P<wd>[一二三四五六日天1-7]|末)"
    r"|(?<!\d)(?P<iy>\d{4})[-/.](?P<im>\d{1,2})[-/.](?P<id>\d{1,2})(?!\d)"
    rf"|(?<![\d.])(?:(?P<y>\d{{4}})年)?(?P<m>{_DAY_NUM})月(?P<d>{_DAY_NUM})(?:号|日)?(?!\d)"
    # "11.20", "6/18": the day in two digits, so "1.5倍" and "3/4" stay numbers.
    r"|(?<![\d.¥/])(?P<sm>1[0-2]|0?[1-9])[./](?P<sd>[0-2]\d|3[01])"
    r"(?![\d.%/]|\s*(?:元|块|折|倍|米|斤|公斤|克|个|件|kg|cm|mm))"
    rf"|(?<![\d.月])(?P<dd>{_DAY_NUM})(?:号|日)(?![楼线门店房室位桌床座机])"
    rf"|(?P<n>\d{{1,3}}|{CN_NUM})\s*个?(?P<span>天|周|星期|礼拜|月)\s*(?P<dir>之后|以后|后|前))"
)
# A bare 晚 ("晚8点") is a part of the day, but not the 晚 of 今晚 (the date's).
_PERIODS = "凌晨|清晨|早晨|早上|上午|中午|下午|傍晚|晚上|夜里|夜间|半夜|(?<![今明昨])晚"
_AFTERNOON = {"下午", "傍晚", "晚上", "夜里", "夜间", "晚"}
_NIGHT = {"晚上", "夜里", "夜间", "半夜", "晚"}
_TIME = re.compile(
    r"(?=[凌清早上中下傍晚夜半\d零一二两三四五六七八九十])"
    rf"(?:(?P<period>{_PERIODS})\s*)?"
    r"(?:(?<![\d:])(?P<ch>[01]?\d|2[0-3]):(?P<cm>[0-5]\d)(?![\d:])"
    rf"|(?<![\d.])(?P<h>\d{{1,2}}|[零一二两三四五六七八九十]{{1,3}})\s*点"
    r"(?:(?P<half>半)|(?P<quarter>一刻|三刻)|(?P<zhong>钟)"
    rf"|\s*(?P<m>[0-5]?\d|[零一二三四五六七八九十]{{1,3}})(?P<fen>分)?"
    r"(?![\d件个双套条只盒瓶包袋箱块元]))?)"
)


def find_dates(folded: str, today: date) -> Iterator[Said]:
    """Dates in folded text (simplified, half width, lower case), relative to ``today``."""
    for match in _DATE.finditer(folded):
        day, period = _resolve_date(match, today)
        if day is not None:
            yield Said(match.start(), match.end(), day, period=period)


def _resolve_date(match: re.Match[str], today: date) -> tuple[date | None, str | None]:
    group = match.group
    if fest := group("fest"):
        month = 11 if fest in ("11", "十一") else 12
        return _nearest_year(today, month, month), None
    if word := group("word"):
        offset, period = _DAY_WORDS[word]
        return today + timedelta(days=offset), period
    if weekday := group("wd"):
        # "周五" is this week's Friday (weeks start on Monday), whether it has passed or
        # not: "周一买的" on a Thursday is three days ago.
        monday = today - timedelta(days=today.weekday())
        shift = _WEEK_SHIFT[group("wrel") or ""]
        index = 5 if weekday == "末" else _WEEKDAYS[weekday]
        return monday + timedelta(days=7 * shift + index), None
    if group("iy"):
        return _safe_date(int(group("iy")), int(group("im")), int(group("id"))), None
    if group("m"):
        month_said, day_said = number(group("m")), number(group("d"))
        if month_said is None or day_said is None:
            return None, None
        if group("y"):
            return _safe_date(int(group("y")), month_said, day_said), None
        return _nearest_year(today, month_said, day_said), None
    if group("sm"):
        return _nearest_year(today, int(group("sm")), int(group("sd"))), None
    if group("dd"):
        day_of_month = number(group("dd"))
        return (_nearest_month(today, day_of_month) if day_of_month else None), None
    count = number(group("n"))
    if count is None:
        return None, None
    sign = -1 if group("dir") == "前" else 1
    span = group("span")
    if span == "月":
        return _add_months(today, sign * count), None
    days = count if span == "天" else 7 * count
    return today + timedelta(days=sign * days), None


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _nearest_year(today: date, month: int, day: int) -> date | None:
    """A month and day without a year is the closest such date: "1月3号" said in late
    December is next January."""
    options = [d for y in (-1, 0, 1) if (d := _safe_date(today.year + y, month, day))]
    return _closest(today, options)


def _nearest_month(today: date, day: int) -> date | None:
    """ "5号" said on the 28th is most likely next month's 5th."""
    options = [d for m in (-1, 0, 1) if (d := _safe_date(*_month_shift(today, m), day))]
    return _closest(today, options)


def _closest(today: date, options: list[date]) -> date | None:
    # On a tie the future wins: buyers ask about deliveries more than they recall orders.
    return min(options, key=lambda d: (abs((d - today).days), d < today), default=None)


def _month_shift(today: date, months: int) -> tuple[int, int]:
    index = today.year * 12 + today.month - 1 + months
    return index // 12, index % 12 + 1


def _add_months(today: date, months: int) -> date:
    year, month = _month_shift(today, months)
    # 1月31日 plus one month is the end of February.
    return date(year, month, min(today.day, calendar.monthrange(year, month)[1]))


def find_times(folded: str) -> Iterator[Said]:
    """Times of day in folded text."""
    for match in _TIME.finditer(folded):
        said = _time_said(match)
        if said is not None:
            yield said


def _time_said(match: re.Match[str]) -> Said | None:
    group = match.group
    period = group("period")
    if group("ch"):
        hour, minute = int(group("ch")), int(group("cm"))
    else:
        written = group("h")
        # "便宜一点", "晚一点" are "a bit": 一点 is one o'clock only when something else
        # says so ("两点", "十一点" are times either way).
        said_time = group("half") or group("quarter") or group("zhong") or group("fen")
        if written == "一" and not said_time and period in (None, "晚"):
            return None
        if not written.isascii() and not said_time and period is None and _counted(match):
            return None
        parsed = number(written)
        if parsed is None or parsed > 24:
            return None
        hour = parsed
        minute = 0
        if group("half"):
            minute = 30
        elif quarter := group("quarter"):
            minute = 15 if quarter == "一刻" else 45
        elif group("m"):
            parsed_minute = number(group("m"))
            if parsed_minute is None or parsed_minute > 59:
                return None
            minute = parsed_minute
    spoken = not group("ch")  # "15:00" is a 24-hour clock; "3点" leaves the half of day open
    clock, shift = _clock(hour, period, spoken=spoken)
    if clock is None:
        return None
    return Said(
        match.start(),
        match.end(),
        time(clock, minute),
        bare_hour=hour if spoken and period is None else None,
        day_shift=shift,
    )


# "有三点不满意", "两点建议": points made, not o'clock.
_POINTS_BEFORE = set("有第这那几和")
_POINTS_AFTER = re.compile(r"建议|意见|问题|原因|不足|缺点|优点|要求|感受|疑问|不满|看法|想法|需要")


def _counted(match: re.Match[str]) -> bool:
    text = match.string
    before = text[match.start() - 1] if match.start() else ""
    return before in _POINTS_BEFORE or _POINTS_AFTER.match(text, match.end()) is not None


def _clock(hour: int, period: str | None, *, spoken: bool = True) -> tuple[int | None, int]:
    """24-hour clock of an hour said with a part of the day, and days it moves the date."""
    if hour == 24 or (hour == 12 and period in _NIGHT):
        return 0, 1  # "晚上12点" is the midnight that ends the day
    if period in _NIGHT and 1 <= hour <= 4:
        return hour, 1  # "晚上一点" is after that midnight
    if hour > 23:
        return None, 0
    if period in _AFTERNOON and hour < 12:
        return hour + 12, 0
    if period == "中午" and hour < 11:  # "中午1点" is 13:00
        return hour + 12, 0
    if period in ("凌晨", "半夜") and hour == 12:
        return 0, 0
    if period is None and spoken and 1 <= hour <= 6:
        # "三点前拍下今天发": a shop's cut-offs and a buyer's bare small hours are the
        # afternoon; the night is said with 凌晨.
        return hour + 12, 0
    return hour, 0


def moment(day: Said, clock: Said, zone: tzinfo | None) -> datetime:
    """The moment a date and the time said right after it name together."""
    if not isinstance(day.value, date) or not isinstance(clock.value, time):
        raise TypeError("moment() takes a date and then a time")
    at, shift = clock.value, clock.day_shift
    if clock.bare_hour is not None and day.period is not None:
        # "今晚8点", "明早6点": the date says which part of the day.
        hour, shift = _clock(clock.bare_hour, day.period)
        at = at.replace(hour=hour if hour is not None else at.hour)
    return datetime.combine(day.value + timedelta(days=shift), at, tzinfo=zone)
