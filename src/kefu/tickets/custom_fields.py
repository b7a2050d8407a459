"""Custom fields a shop adds per ticket type (障碍申告: 故障页面, 发生时间 …) and the check
of a ticket's values against them.

Values are stored on the ticket as a JSON object by field key: text as text, a number as
a JSON number, a choice as one of the field's choices, a date as "YYYY-MM-DD".
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.errors import Conflict, Invalid, NotFound
from kefu.tickets.models import FieldKind, TicketFieldDef, TicketType
from kefu.uow import UnitOfWork
from kefu.validation import clean_text

MAX_FIELDS_PER_TYPE: Final = 30
MAX_CHOICES: Final = 50
MAX_CHOICE_LENGTH: Final = 60
MAX_TEXT_VALUE_LENGTH: Final = 500
MAX_LABEL_LENGTH: Final = 60
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def create_field(
    uow: UnitOfWork,
    *,
    shop_id: int,
    ticket_type: TicketType,
    key: str,
    label: str,
    kind: FieldKind,
    choices: Sequence[str] = (),
    required: bool = False,
    commit: bool = True,
) -> TicketFieldDef:
    session = uow.session
    ticket_type = _type(ticket_type)
    kind = _kind(kind)
    key = key.strip() if isinstance(key, str) else ""
    if not _KEY.match(key):
        raise Invalid(
            "the field key must be 1–40 lower-case letters, digits or _, starting with a "
            "letter (e.g. fault_page)",
            field="key",
            key="errors.tickets.bad_field_key",
        )
    label = _label(label)
    checked_choices = _choices(kind, choices)
    taken = session.scalar(
        select(TicketFieldDef.id).where(
            TicketFieldDef.shop_id == shop_id,
            TicketFieldDef.ticket_type == ticket_type,
            TicketFieldDef.key == key,
        )
    )
    if taken is not None:
        raise Conflict(
            f"{ticket_type.value} tickets already have a field {key!r}",
            key="errors.tickets.field_exists",
            field_key=key,
        )
    count = session.scalar(
        select(func.count(TicketFieldDef.id)).where(
            TicketFieldDef.shop_id == shop_id, TicketFieldDef.ticket_type == ticket_type
        )
    )
    if (count or 0) >= MAX_FIELDS_PER_TYPE:
        raise Invalid(
            f"a ticket type has at most {MAX_FIELDS_PER_TYPE} custom fields",
            field="key",
            key="errors.tickets.too_many_fields",
            limit=MAX_FIELDS_PER_TYPE,
        )
    field = TicketFieldDef(
        shop_id=shop_id,
        ticket_type=ticket_type,
        key=key,
        label=label,
        kind=kind,
        choices=json.dumps(checked_choices, ensure_ascii=False),
        required=bool(required),
        sort_order=count or 0,
        created_at=uow.clock.now(),
    )
    session.add(field)
    session.flush()
    if commit:
        uow.commit()
    return field


def update_field(
    uow: UnitOfWork,
    *,
    shop_id: int,
    field_id: int,
    label: str | None = None,
    choices: Sequence[str] | None = None,
    required: bool | None = None,
    commit: bool = True,
) -> TicketFieldDef:
    """Change a field (None = unchanged). Tickets keep the values they have: removing a
    choice does not rewrite the tickets that chose it."""
    field = get_field(uow.session, shop_id=shop_id, field_id=field_id)
    new_label = _label(label) if label is not None else None
    new_choices = _choices(field.kind, choices) if choices is not None else None
    if new_label is not None:
        field.label = new_label
    if new_choices is not None:
        field.choices = json.dumps(new_choices, ensure_ascii=False)
    if required is not None:
        field.required = bool(required)
    if commit:
        uow.commit()
    return field


def delete_field(uow: UnitOfWork, *, shop_id: int, field_id: int, commit: bool = True) -> None:
    """The field is no longer asked for or shown; values already on tickets stay in their
    JSON (and come back if a field with the same key is added again)."""
    field = get_field(uow.session, shop_id=shop_id, field_id=field_id)
    uow.session.delete(field)
    if commit:
        uow.commit()


def get_field(session: Session, *, shop_id: int, field_id: int) -> TicketFieldDef:
    field = session.scalar(
        select(TicketFieldDef).where(
            TicketFieldDef.shop_id == shop_id, TicketFieldDef.id == field_id
        )
    )
    if field is None:
        raise NotFound("custom field not found", key="errors.tickets.field_not_found")
    return field


def fields_for(session: Session, *, shop_id: int, ticket_type: TicketType) -> list[TicketFieldDef]:
    return list(
        session.scalars(
            select(TicketFieldDef)
            .where(
                TicketFieldDef.shop_id == shop_id,
                TicketFieldDef.ticket_type == _type(ticket_type),
            )
            .order_by(TicketFieldDef.sort_order, TicketFieldDef.id)
        )
    )


def choices_of(field: TicketFieldDef) -> list[str]:
    try:
        loaded = json.loads(field.choices or "[]")
    except ValueError:
        return []
    return [str(choice) for choice in loaded] if isinstance(loaded, list) else []


def check_values(
    session: Session,
    *,
    shop_id: int,
    ticket_type: TicketType,
    values: Mapping[str, object],
    partial: bool = False,
) -> dict[str, object]:
    """The values checked and normalised against the type's fields.

    Every key must be a field of the type (an unknown one is refused by name). An empty
    value (None or "") clears the field: with ``partial`` (an update) it comes back as None,
    meaning "remove"; otherwise it is left out. A required field must have a value, except
    in a partial update that does not name it.
    """
    if not isinstance(values, Mapping):
        raise Invalid("custom fields must be an object of field → value", field="custom_fields")
    defs = {
        field.key: field for field in fields_for(session, shop_id=shop_id, ticket_type=ticket_type)
    }
    for key in values:
        if key not in defs:
            raise Invalid(
                f"{_type(ticket_type).value} tickets have no field {key!r}",
                field="custom_fields",
                key="errors.tickets.unknown_field",
                field_key=str(key)[:40],
            )
    checked: dict[str, object] = {}
    for key, field in defs.items():
        if key not in values:
            if field.required and not partial:
                raise _required(field)
            continue
        value = _value(field, values[key])
        if value is None:
            if field.required:
                raise _required(field)
            if partial:
                checked[key] = None
            continue
        checked[key] = value
    return checked


def values_of(raw: str) -> dict[str, object]:
    """A ticket's stored values."""
    try:
        loaded = json.loads(raw or "{}")
    except ValueError:
        return {}
    return dict(loaded) if isinstance(loaded, dict) else {}


def dump(values: Mapping[str, object]) -> str:
    return json.dumps(dict(sorted(values.items())), ensure_ascii=False)


def shown(value: object) -> str:
    """A value as a person reads it (in the history and on the page)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- helpers -------------------------------------------------------------------------------


def _value(field: TicketFieldDef, raw: object) -> object | None:
    where = f"custom_fields.{field.key}"
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if field.kind is FieldKind.TEXT:
        if not isinstance(raw, str):
            raise _bad(field, "text")
        return clean_text(raw, field=where, max_length=MAX_TEXT_VALUE_LENGTH, multiline=True)
    if field.kind is FieldKind.NUMBER:
        return _number(field, raw)
    if field.kind is FieldKind.CHOICE:
        text = raw.strip() if isinstance(raw, str) else None
        allowed = choices_of(field)
        if text not in allowed:
            raise Invalid(
                f"{field.label}: {str(raw)[:40]!r} is not one of {', '.join(allowed)}",
                field=where,
                key="errors.tickets.bad_choice",
                label=field.label,
                value=str(raw)[:40],
                choices="、".join(allowed),
            )
        return text
    if isinstance(raw, date):
        return date(raw.year, raw.month, raw.day).isoformat()
    text = raw.strip() if isinstance(raw, str) else ""
    if len(text) == 10:
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            pass
    raise _bad(field, "a date (YYYY-MM-DD)")


def _number(field: TicketFieldDef, raw: object) -> int | float:
    if isinstance(raw, bool):
        raise _bad(field, "a number")
    if isinstance(raw, int):
        return raw
    try:
        number = Decimal(str(raw).strip()) if isinstance(raw, (str, float, Decimal)) else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or abs(number) >= Decimal(10) ** 15:
        raise _bad(field, "a number")
    as_float = float(number)
    if not math.isfinite(as_float):
        raise _bad(field, "a number")
    return int(number) if number == number.to_integral_value() else as_float


def _bad(field: TicketFieldDef, wanted: str) -> Invalid:
    return Invalid(
        f"{field.label} must be {wanted}",
        field=f"custom_fields.{field.key}",
        key=f"errors.tickets.field_{field.kind.value}",
        label=field.label,
    )


def _required(field: TicketFieldDef) -> Invalid:
    return Invalid(
        f"{field.label} is required",
        field=f"custom_fields.{field.key}",
        key="errors.tickets.field_required",
        label=field.label,
    )


def _label(label: str) -> str:
    label = clean_text(label, field="label", max_length=MAX_LABEL_LENGTH)
    if not label:
        raise Invalid(
            "the field's label is required", field="label", key="errors.tickets.label_required"
        )
    return label


def _choices(kind: FieldKind, choices: Sequence[str]) -> list[str]:
    if isinstance(choices, str):
        raise Invalid("choices must be a list", field="choices")
    cleaned = list(
        dict.fromkeys(
            clean_text(str(choice), field="choices", max_length=MAX_CHOICE_LENGTH)
            for choice in choices
        )
    )
    cleaned = [choice for choice in cleaned if choice]
    if kind is not FieldKind.CHOICE:
        if cleaned:
            raise Invalid("only a choice field has choices", field="choices")
        return []
    if not cleaned:
        raise Invalid(
            "a choice field needs at least one choice",
            field="choices",
            key="errors.tickets.choices_required",
        )
    if len(cleaned) > MAX_CHOICES:
        raise Invalid(f"at most {MAX_CHOICES} choices", field="choices")
    return cleaned


def _type(value: TicketType | str) -> TicketType:
    try:
        return TicketType(value)
    except ValueError as exc:
        raise Invalid(f"unknown ticket type {value!r}", field="ticket_type") from exc


def _kind(value: FieldKind | str) -> FieldKind:
    try:
        return FieldKind(value)
    except ValueError as exc:
        raise Invalid(f"unknown field kind {value!r}", field="kind") from exc
