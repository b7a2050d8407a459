"""Checks for text that comes from outside (buyers, agents, integrations).

Control characters are refused rather than stored: PostgreSQL rejects NUL outright, and
the others only ever arrive by accident or as an attack on whoever reads the text later.
"""

from __future__ import annotations

import re

from kefu.errors import Invalid

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f]")


def clean_text(
    value: str,
    *,
    field: str,
    max_length: int,
    min_length: int = 0,
    multiline: bool = False,
    strip: bool = True,
) -> str:
    """Return the text (stripped) or raise :class:`Invalid` naming the field and the problem."""
    pattern = _CONTROL if multiline else _CONTROL_SINGLE_LINE
    if pattern.search(value):
        raise Invalid(
            f"{field} contains a control character", field=field, key="errors.control_char"
        )
    if strip:
        value = value.strip()
    if not min_length <= len(value) <= max_length:
        raise Invalid(
            f"{field} must be {min_length}–{max_length} characters (got {len(value)})",
            field=field,
            min=min_length,
            max=max_length,
            length=len(value),
        )
    return value
