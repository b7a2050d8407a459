"""Numbers as buyers write them: ASCII digits or Chinese numerals ("十五", "两百零五")."""

from __future__ import annotations

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
_CN_DIGITS |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
# A regular-expression class for a run of Chinese numerals (values checked by number()).
CN_NUM = "[零〇一二两三四五六七八九十百千]{1,6}"


def number(text: str) -> int | None:
    """An integer written in ASCII digits or Chinese numerals ("十五", "两百零五"), or None."""
    if text.isascii() and text.isdigit():
        return int(text)
    if not text:
        return None
    total = 0
    pending: int | None = None
    for char in text:
        if char in _CN_DIGITS:
            if pending is not None and pending != 0:  # "一二件" is "one or two", not a number
                return None
            pending = _CN_DIGITS[char]
        elif char in _CN_UNITS:
            total += (pending or 1) * _CN_UNITS[char]
            pending = None
        else:
            return None
    return total + (pending or 0)
