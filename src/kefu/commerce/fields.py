"""Checks for the catalogue's and the order book's fields, shared by both."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal

from kefu.errors import Invalid
from kefu.validation import clean_text

MAX_TAGS_LENGTH = 200
MAX_AMOUNT = Decimal("9999999999.99")  # what Numeric(12, 2) holds
CENT = Decimal("0.01")
SKU_PATTERN = re.compile(r"^\S{1,64}$")


def money(value: Decimal, field: str, *, allow_zero: bool, what: str = "") -> Decimal:
    what = what or field.replace("_", " ")
    if not isinstance(value, Decimal) or not value.is_finite():
        raise Invalid(
            f"{what} must be an amount in yuan", field=field, key="errors.commerce.amount"
        )
    if value < 0 or (value == 0 and not allow_zero):
        raise Invalid(
            f"{what} must be {'0 or more' if allow_zero else 'more than 0'}",
            field=field,
            key="errors.commerce.amount_negative" if allow_zero else "errors.commerce.amount_zero",
        )
    # Before quantizing: 1E+400 has no cents to round to (quantize would raise).
    if value > MAX_AMOUNT:
        raise Invalid(
            f"{what} is larger than {MAX_AMOUNT}",
            field=field,
            key="errors.commerce.amount_too_large",
            max=str(MAX_AMOUNT),
        )
    if value != value.quantize(CENT):
        raise Invalid(
            f"{what} has more than 2 decimal places", field=field, key="errors.commerce.cents"
        )
    return value.quantize(CENT)


def sku(value: str, *, field: str) -> str:
    value = value.strip()
    if not SKU_PATTERN.match(value):
        raise Invalid(
            "SKU must be 1–64 characters without spaces", field=field, key="errors.commerce.sku"
        )
    return value


def text(
    value: str,
    field: str,
    limit: int,
    *,
    required: bool = False,
    what: str = "",
    multiline: bool = False,
) -> str:
    what = what or field.replace("_", " ")
    value = clean_text(value, field=field, max_length=len(value), multiline=multiline)
    if required and not value:
        raise Invalid(f"{what} is required", field=field, key="errors.commerce.required")
    if len(value) > limit:
        raise Invalid(
            f"{what} is {len(value)} characters; the limit is {limit}",
            field=field,
            key="errors.commerce.too_long",
            length=len(value),
            limit=limit,
        )
    return value


def tags(tags: Sequence[str]) -> str:
    cleaned: list[str] = []
    for tag in tags:
        tag = tag.strip()
        if not tag or "," in tag:
            raise Invalid("a tag must be non-empty and contain no comma", field="tags")
        if tag not in cleaned:
            cleaned.append(tag)
    joined = ",".join(cleaned)
    if len(joined) > MAX_TAGS_LENGTH:
        raise Invalid(f"tags take more than {MAX_TAGS_LENGTH} characters", field="tags")
    return joined
