"""Find the facts an agent needs in a buyer's message: order numbers, phones, sizes, colours,
quantities, amounts of money, dates and times.

Patterns match a folded copy of the message (traditional → simplified, full → half width,
lower case) that has exactly one character per character of the original, so every entity
keeps its position in, and its text from, what the buyer actually typed. Candidates from
all patterns compete for the text: the leftmost wins, then the longest, then the kind that
is rarer to fake (an order number before a phone before an amount …), so a 15-digit order
number is never also an amount and "11月20号" is never also a quantity.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from kefu.nlp import when
from kefu.nlp.numerals import CN_NUM, number
from kefu.nlp.text import to_simplified

EntityValue = str | int | Decimal | date | time | datetime

KINDS = ("order_no", "phone", "size", "colour", "quantity", "amount", "date", "time", "datetime")
# Shops in China keep China's time; used only when the caller gives no ``now``.
CHINA_TIME = timezone(timedelta(hours=8), "CST")


@dataclass(frozen=True, slots=True)
class Entity:
    kind: str  # one of KINDS
    text: str  # exactly as the buyer typed it: original[start:end]
    value: EntityValue  # normalised: "DD2026…", "13812345678", "XL", "黑色", 2, Decimal("99.9"), …
    start: int
    end: int
    unit: str | None = None  # quantity: the measure word ("件"); amount: "元"


# --- folding: one character out for every character in ------------------------------

_FOLD = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {
    0x3000: 0x20,  # ideographic space
    0xFFE5: 0xA5,  # full-width yen sign ("￥") → "¥"
}
# Only the width folding of text.normalize is mirrored here; its other steps (collapsing
# punctuation and spaces, dropping emoji) change lengths and would lose the positions.


def _fold(text: str) -> tuple[str, str]:
    """(simplified half-width text with its case kept, the same lower-cased), both as long
    as ``text``."""
    half = text.translate(_FOLD)
    simplified = to_simplified(half)
    if len(simplified) != len(half):  # a phrase conversion changed a length: go character-wise
        simplified = "".join(_one_to_one(char, to_simplified(char)) for char in half)
    lowered = simplified.lower()
    if len(lowered) != len(simplified):  # "İ".lower() is two characters
        lowered = "".join(_one_to_one(char, char.lower()) for char in simplified)
    return simplified, lowered


def _one_to_one(char: str, converted: str) -> str:
    return converted if len(converted) == 1 else char


# --- candidates and their resolution --------------------------------------------------

# Lower wins when two candidates start at the same place and are equally long: the kinds
# that are hardest to produce by accident first.
_RANK = {
    "order_no": 0, "phone": 1, "amount": 2, "datetime": 3, "date": 3, "time": 4,
    "size": 5, "quantity": 6, "colour": 7,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Candidate:
    kind: str
    start: int
    end: int
    value: EntityValue
    unit: str | None = None
    said: when.Said | None = None  # dates and times: what a following time needs to know


@dataclass(frozen=True, slots=True)
class _Context:
    text: str  # simplified, half width, case kept
    folded: str  # the same, lower case
    now: datetime


Finder = Callable[[_Context], Iterator[_Candidate]]

# Order numbers: long digit runs, or a few letters then digits ("DD20261101001"); after the
# words "订单号" any run of letters and digits with at least six digits.
_ORDER_DEFAULT = re.compile(
    r"(?<![0-9a-z])(?:(?!qq)[a-z]{1,4}\d{8,20}|\d{12,20})(?![0-9a-z])"  # "qq4295…" is an account
)
_ORDER_KEYWORD = re.compile(
    r"(?:订单|单号)(?:编号|号码|号)?\s*(?:是|为|:)?\s*(?P<id>[a-z0-9][a-z0-9-]{4,29}[a-z0-9])"
    r"(?![0-9a-z])"
)
# Mainland mobiles: 1[3-9] and nine more digits, grouped 3-4-4 with spaces or dashes or not,
# optionally after +86 / 0086 (or "86 " with a separator: "86138…" bare is an order number).
_PHONE = re.compile(
    r"(?<![0-9a-z+])(?:(?:\+|00)86[\s-]?|86[\s-])?1[3-9]\d(?:[\s-]?\d{4}){2}(?![0-9a-z])"
)
_AMOUNT_PREFIX = re.compile(r"(?:¥|rmb|人民币)\s*(?P<n>\d{1,9}(?:\.\d{1,2})?)(?![\d.])(?:\s*元)?")
_AMOUNT_SUFFIX = re.compile(
    rf"(?<![\d.几])(?P<n>\d{{1,9}}(?:\.\d{{1,2}})?|{CN_NUM})\s*(?P<wan>万)?\s*"
    r"(?:(?P<yuan>元|圆)钱?"
    # "99块5", "三十块五": the digit after 块 is dimes, unless it starts a count ("50块2件").
    r"|块(?:(?P<qian>钱)|(?P<jiao>[1-9]|[一二两三四五六七八九])(?:毛|角)?"
    r"(?![\d件个双套条只盒瓶包袋箱]))?)"
)
# After "一块" with nothing that says money, these end a phrase; anything else is a noun
# ("一块布") or an adverb ("一块去").
_AFTER_MONEY = set("的吗呢吧啊呀了啦哦么嘛,.!?;~ 左右多")
_SIZE = re.compile(
    r"(?=[\dxsml均加特大中小])(?:"
    # A lone s/m/l before a number is a model or a building ("s3幢"), unless the number
    # counts pieces ("M2件").
    r"(?<![0-9a-z'/.*几])(?P<size>[2-6]xl|x{1,3}l|xs|(?:s|m|l)(?!\d+(?![\d件条套双])))(?![a-z])"
    r"(?:\s*(?:码|号))?"
    r"|(?P<cn>均码|加大码|特大码|大码|中码|小码)"
    r"|(?<![\d.])(?P<height>1[4-9]\d|200)/(?P<chest>\d{2,3})(?P<fit>[aby])(?![a-z])"
    r"|(?<![\d.])(?P<shoe>3[4-9]|4[0-8])(?P<half>\.5)?\s*(?:码|号))"
)
# Compound colour names that mean nothing else, so they are colours without 色 ("要藏青的").
_COLOUR_NAMES = [
    *("藏青", "藏蓝", "米白", "米黄", "卡其", "酒红", "玫红", "桃红", "粉红", "枣红", "西瓜红"),
    *("天蓝", "宝蓝", "湖蓝", "雾霾蓝", "牛仔蓝", "墨绿", "军绿", "草绿", "薄荷绿", "浅灰", "深灰"),
    *("奶白", "乳白", "象牙白"),
]
# Colours only before 色: alone they are a red envelope (大红包), coffee or an ashtray.
_COLOUR_STEMS = [
    *_COLOUR_NAMES,
    *("大红", "香槟", "咖啡", "焦糖", "豆沙", "姜黄", "烟灰", "驼", "杏", "米", "咖", "肉"),
    *("黑", "白", "红", "灰", "蓝", "绿", "黄", "紫", "粉", "橙", "棕", "褐", "青", "金", "银"),
]


def _longest_first(words: list[str]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_COLOUR_ALTERNATION = _longest_first(_COLOUR_STEMS)
_COLOUR_MULTI = _longest_first(_COLOUR_NAMES)
_COLOUR = re.compile(
    rf"(?=[深浅亮暗淡{''.join({stem[0] for stem in _COLOUR_STEMS})}])(?:"
    rf"(?P<shade>深|浅|亮|暗|淡)?(?P<stem>{_COLOUR_ALTERNATION})色"
    rf"|(?P<multi>{_COLOUR_MULTI})"
    # "黑的还有吗": one-character colours before 的, but not the 白 of 明白的 / 空白的 ….
    r"|(?<![明空坦告表独对蛋漂苍酒黑白])(?P<single>[黑白红灰蓝绿黄紫粉])(?=的))"
)
_QUANTITY_UNITS = "件个双套条只盒瓶包袋箱台本张支份对顶把副片罐桶卷部根枚颗组提册"
_QUANTITY = re.compile(
    rf"(?<![\d.第每几另这那哪零〇一二两三四五六七八九十百千])(?P<n>\d{{1,4}}|{CN_NUM})\s*"
    rf"(?P<unit>[{_QUANTITY_UNITS}])"
    # "3个月", "两个星期", "一个小时" are durations, not things bought.
    r"(?!多?(?:月|星期|礼拜|小时|钟头|工作日|季度|半月))"
)


def _find_orders(pattern: re.Pattern[str] | None) -> Finder:
    def find(context: _Context) -> Iterator[_Candidate]:
        if pattern is not None:
            # The shop's own pattern sees the case as typed: compile it with re.IGNORECASE
            # to accept either.
            for match in pattern.finditer(context.text):
                if match.end() > match.start():
                    yield _order(match.start(), match.end(), context.text)
            return
        for match in _ORDER_DEFAULT.finditer(context.folded):
            if len(set(match.group())) > 1:  # "66666666666666" is praise, not an order
                yield _order(match.start(), match.end(), context.text)
        for match in _ORDER_KEYWORD.finditer(context.folded):
            identifier = match.group("id")
            if sum(char.isdigit() for char in identifier) >= 6:
                yield _order(match.start("id"), match.end("id"), context.text)

    return find


def _order(start: int, end: int, text: str) -> _Candidate:
    # Order systems print their numbers in capitals and buyers type them in either case.
    value = "".join(text[start:end].split()).upper()
    return _Candidate("order_no", start, end, value)


def _find_phones(context: _Context) -> Iterator[_Candidate]:
    for match in _PHONE.finditer(context.folded):
        digits = re.sub(r"\D", "", match.group())
        yield _Candidate("phone", match.start(), match.end(), digits[-11:])


def _find_amounts(context: _Context) -> Iterator[_Candidate]:
    folded = context.folded
    for match in _AMOUNT_PREFIX.finditer(folded):
        yield _Candidate("amount", match.start(), match.end(), Decimal(match.group("n")), "元")
    for match in _AMOUNT_SUFFIX.finditer(folded):
        written = match.group("n")
        if written.isascii():
            value = Decimal(written)
        else:
            whole = number(written)
            if whole is None:
                continue
            follower = folded[match.end() : match.end() + 1]
            unmarked = match.group("yuan") is None and not match.group("qian")
            if unmarked and not match.group("jiao") and follower and follower not in _AFTER_MONEY:
                continue
            value = Decimal(whole)
        if match.group("wan"):
            value *= 10_000
        if jiao := match.group("jiao"):
            value += Decimal(number(jiao) or 0) / 10
        yield _Candidate("amount", match.start(), match.end(), value, "元")


def _find_sizes(context: _Context) -> Iterator[_Candidate]:
    for match in _SIZE.finditer(context.folded):
        if size := match.group("size"):
            value = size.upper()
        elif cn := match.group("cn"):
            value = cn
        elif match.group("height"):
            value = f"{match.group('height')}/{match.group('chest')}{match.group('fit').upper()}"
        else:
            value = f"{match.group('shoe')}{match.group('half') or ''}码"
        yield _Candidate("size", match.start(), match.end(), value)


def _find_colours(context: _Context) -> Iterator[_Candidate]:
    for match in _COLOUR.finditer(context.folded):
        if stem := match.group("stem"):
            value = f"{match.group('shade') or ''}{stem}色"
        else:
            value = f"{match.group('multi') or match.group('single')}色"
        yield _Candidate("colour", match.start(), match.end(), value)


def _find_quantities(context: _Context) -> Iterator[_Candidate]:
    for match in _QUANTITY.finditer(context.folded):
        count = number(match.group("n"))
        if count is None or count == 0:
            continue
        unit = match.group("unit")
        follower = context.folded[match.end() : match.end() + 1]
        # "一个问题", "一个朋友": one of the generic measure word before a noun is an
        # article, not an order of one (which is the default anyway).
        if count == 1 and unit == "个" and follower and follower not in _AFTER_MONEY:
            continue
        yield _Candidate("quantity", match.start(), match.end(), count, unit)


# --- dates and times (kefu.nlp.when) -----------------------------------------------------


def _find_dates(context: _Context) -> Iterator[_Candidate]:
    for said in when.find_dates(context.folded, context.now.date()):
        yield _Candidate("date", said.start, said.end, said.value, said=said)


def _find_times(context: _Context) -> Iterator[_Candidate]:
    for said in when.find_times(context.folded):
        yield _Candidate("time", said.start, said.end, said.value, said=said)


def _merge_date_times(chosen: list[_Candidate], context: _Context) -> list[_Candidate]:
    """A date right before a time ("明天下午3点", "今晚8点") is one moment."""
    merged: list[_Candidate] = []
    for candidate in chosen:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and previous.kind == "date"
            and candidate.kind == "time"
            and context.folded[previous.end : candidate.start].strip(" 的,") == ""
            and previous.said is not None
            and candidate.said is not None
        ):
            moment = when.moment(previous.said, candidate.said, context.now.tzinfo)
            merged[-1] = _Candidate("datetime", previous.start, candidate.end, moment)
        else:
            merged.append(candidate)
    return merged


# --- the public entry points ------------------------------------------------------------

_FIXED_FINDERS: tuple[Finder, ...] = (
    _find_phones,
    _find_amounts,
    _find_dates,
    _find_times,
    _find_sizes,
    _find_quantities,
    _find_colours,
)


def extract(
    text: str,
    *,
    now: datetime | None = None,
    order_pattern: re.Pattern[str] | None = None,
) -> list[Entity]:
    """Entities of a buyer's message, in order, none overlapping another.

    ``now`` (timezone-aware, the shop's time) anchors "明天" and "周五"; without it, the
    current time in China. ``order_pattern`` is the shop's order-number format, matched
    against the simplified half-width text with its case kept; without it, 12–20 digits or
    a few letters then 8+ digits ("DD20261101001"), and any id after "订单号".
    """
    if now is None:
        now = datetime.now(CHINA_TIME)
    elif now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware: the shop's local time")
    if not text:
        return []
    half, folded = _fold(text)
    context = _Context(text=half, folded=folded, now=now)
    candidates = list(_find_orders(order_pattern)(context))
    for finder in _FIXED_FINDERS:
        candidates.extend(finder(context))
    chosen = _merge_date_times(_resolve(candidates), context)
    return [Entity(c.kind, text[c.start : c.end], c.value, c.start, c.end, c.unit) for c in chosen]


def _resolve(candidates: list[_Candidate]) -> list[_Candidate]:
    """Leftmost, then longest, then best-ranked candidates that overlap none chosen before."""
    candidates.sort(key=lambda c: (c.start, c.start - c.end, _RANK[c.kind]))
    chosen: list[_Candidate] = []
    reached = 0
    for candidate in candidates:
        if candidate.start >= reached:
            chosen.append(candidate)
            reached = candidate.end
    return chosen


# --- the agent's one-line summary --------------------------------------------------------

_LABELS = {
    "order_no": "订单号", "phone": "手机", "size": "尺码", "colour": "颜色",
    "quantity": "数量", "amount": "金额", "date": "日期", "time": "时间", "datetime": "时间",
}  # fmt: skip
_SUMMARY_ORDER = ("order_no", "phone", "size", "colour", "quantity", "amount", "date", "time")


def summary_of(entities: Iterable[Entity]) -> str:
    """A short Chinese line for a handoff: "订单号 DD20261101001 · 尺码 XL · 颜色 黑色".

    Each kind once, in a fixed order, its distinct values joined by "、" ("/" is part of
    sizes like 165/88A). Phone numbers are
    masked: summaries end up in lists and notifications that more people see than the
    conversation itself.
    """
    values: dict[str, list[str]] = {}
    for entity in entities:
        label = _LABELS.get(entity.kind)
        if label is None:
            continue
        shown = _show(entity)
        group = values.setdefault("time" if entity.kind == "datetime" else entity.kind, [])
        if shown not in group:
            group.append(shown)
    parts = [
        f"{_LABELS[kind]} {'、'.join(values[kind])}" for kind in _SUMMARY_ORDER if kind in values
    ]
    return " · ".join(parts)


def _show(entity: Entity) -> str:
    value = entity.value
    if entity.kind == "phone" and isinstance(value, str) and len(value) == 11:
        return f"{value[:3]}****{value[7:]}"
    if entity.kind == "quantity":
        return f"{value}{entity.unit or ''}"
    if isinstance(value, Decimal):
        return f"¥{value.normalize():f}"
    if isinstance(value, datetime):
        return f"{value.month}月{value.day}日 {value:%H:%M}"
    if isinstance(value, date):
        return f"{value.month}月{value.day}日"
    if isinstance(value, time):
        return f"{value:%H:%M}"
    return str(value)
