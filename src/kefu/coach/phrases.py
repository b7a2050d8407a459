"""Canned phrases (快捷短语). STUB: H-rules fills."""

from __future__ import annotations

from sqlalchemy.orm import Session

VARIABLES = ("customer_surname", "customer_title", "order_no", "product", "shop")


def variables_for(session: Session, *, shop_id: int, conversation_id: int | None) -> dict[str, str]:
    return dict.fromkeys(VARIABLES, "")


def render(text: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text
