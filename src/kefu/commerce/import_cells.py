"""Reading one spreadsheet cell of a catalogue or order import: amounts, counts, 是/否,
times in the shop's zone, order statuses, tags and picture addresses.

Each reader returns the value or raises ``Invalid`` with a key under
``errors.commerce_import`` (the row and column are added by :mod:`.import_rows`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from kefu.commerce.models import OrderStatus
from kefu.errors import Invalid
from kefu.spreadsheets import NO, YES

MAX_INTEGER = 1_000_000_000
# What shops' systems (淘宝, 拼多多, 有赞 …) and people write for each status.
STATUS_NAMES: dict[str, OrderStatus] = {
    **{status.value: status for status in OrderStatus},
    "待付款": OrderStatus.UNPAID,
    "未付款": OrderStatus.UNPAID,
    "等待买家付款": OrderStatus.UNPAID,
    "已付款": OrderStatus.PAID,
    "待发货": OrderStatus.PAID,
    "买家已付款": OrderStatus.PAID,
    "等待卖家发货": OrderStatus.PAID,
    "已发货": OrderStatus.SHIPPED,
    "待收货": OrderStatus.SHIPPED,
    "卖家已发货": OrderStatus.SHIPPED,
    "已签收": OrderStatus.DELIVERED,
    "已收货": OrderStatus.DELIVERED,
    "交易成功": OrderStatus.DELIVERED,
    "已完成": OrderStatus.DELIVERED,
    "已关闭": OrderStatus.CLOSED,
    "交易关闭": OrderStatus.CLOSED,
    "已取消": OrderStatus.CLOSED,
    "退款中": OrderStatus.REFUNDING,
    "售后中": OrderStatus.REFUNDING,
    "已退款": OrderStatus.REFUNDED,
    "退款成功": OrderStatus.REFUNDED,
}
# The names the template and the pages show, one per status.
STATUS_LABELS: dict[OrderStatus, str] = {
    OrderStatus.UNPAID: "待付款",
    OrderStatus.PAID: "已付款",
    OrderStatus.SHIPPED: "已发货",
    OrderStatus.DELIVERED: "已签收",
    OrderStatus.CLOSED: "已关闭",
    OrderStatus.REFUNDING: "退款中",
    OrderStatus.REFUNDED: "已退款",
}
_TIME = re.compile(
    r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
    r"(?:[ T]+(\d{1,2})[:：](\d{1,2})(?:[:：](\d{1,2})(?:\.\d+)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_TAG_SEPARATORS = re.compile(r"[、,,;；\n]")
_IMAGE_SEPARATORS = re.compile(r"[|｜\n]")
_MONEY_NOISE = str.maketrans("", "", "¥￥元, ")


def _invalid(message: str, key: str, **params: Any) -> Invalid:
    return Invalid(message, key=f"errors.commerce_import.{key}", **params)


def required(value: str) -> str:
    if not value:
        raise _invalid("this column is required", "required")
    return value


def amount(value: str) -> Decimal | None:
    """An amount in yuan (¥ and thousands separators allowed); None when the cell is empty."""
    if not value:
        return None
    try:
        number = Decimal(value.translate(_MONEY_NOISE))
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        raise _invalid(f"{value!r} is not an amount", "not_amount", value=value)
    if number < 0:
        raise _invalid(f"{value} is negative", "negative", value=value)
    return number


def integer(value: str, *, default: int, minimum: int) -> int:
    """A whole number of at least ``minimum`` (Excel's "3.0" is 3); ``default`` when empty."""
    if not value:
        return default
    text = value.replace(",", "").strip()
    if text.endswith(".0"):
        text = text[:-2]
    if not re.fullmatch(r"-?\d{1,10}", text):
        raise _invalid(f"{value!r} is not a whole number", "not_integer", value=value)
    number = int(text)
    if number < minimum:
        raise _invalid(f"{value} is less than {minimum}", "too_small", value=value, minimum=minimum)
    if number > MAX_INTEGER:
        raise _invalid(f"{value} is too large", "too_large", value=value)
    return number


def yes_no(value: str, *, default: bool) -> bool:
    word = value.strip().lower()
    if not word:
        return default
    if word in YES:
        return True
    if word in NO:
        return False
    raise _invalid(f"{value!r} is not 是 or 否", "not_yes_no", value=value)


def status(value: str) -> OrderStatus:
    found = STATUS_NAMES.get(value.strip().lower()) if value else None
    if found is None:
        raise _invalid(
            f"{value!r} is not an order status", "not_status", value=value,
            allowed="/".join(STATUS_LABELS.values()),
        )  # fmt: skip
    return found


def when(value: str, zone: tzinfo) -> datetime | None:
    """A time as a spreadsheet writes it (2026-11-20 10:05, 2026/11/20 10:05:00, ISO 8601);
    without an offset it is the shop's local time. Returned in UTC; None when empty."""
    if not value:
        return None
    match = _TIME.match(value.strip())
    if match is None:
        raise _invalid(f"{value!r} is not a date and time", "not_time", value=value)
    year, month, day, hour, minute, second, offset = match.groups()
    # Without an offset: the shop's zone (fold=0: an ambiguous time at a DST change is
    # read as the earlier one).
    where: tzinfo = zone
    if offset == "Z":
        where = UTC
    elif offset is not None:
        digits = offset.replace(":", "")
        delta = timedelta(hours=int(digits[1:3]), minutes=int(digits[3:5]))
        where = timezone(-delta if digits[0] == "-" else delta)
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
            tzinfo=where,
        )  # fmt: skip
    except ValueError as exc:
        raise _invalid(f"{value!r} is not a date and time", "not_time", value=value) from exc
    return moment.astimezone(UTC)


def tags(value: str) -> tuple[str, ...]:
    """Tags separated by 、 or commas (Chinese or not), each once."""
    found: list[str] = []
    for tag in _TAG_SEPARATORS.split(value):
        tag = tag.strip()
        if tag and tag not in found:
            found.append(tag)
    return tuple(found)


def images(value: str) -> tuple[str, ...]:
    """Picture addresses separated by |; each must be https (the desk shows them as is)."""
    found: list[str] = []
    for address in _IMAGE_SEPARATORS.split(value):
        address = address.strip()
        if not address:
            continue
        if not re.fullmatch(r"https://[^\s\"'<>]+", address):
            raise _invalid(f"{address!r} is not an https:// address", "not_https", value=address)
        found.append(address)
    return tuple(found)
