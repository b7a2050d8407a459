"""Custom fields per ticket type: defined by the shop, values checked and normalised by kind."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from kefu.errors import Conflict, Invalid, NotFound
from kefu.tickets import service as tickets
from kefu.tickets.models import FieldKind, TicketFieldDef, TicketType
from tests.factories import ShopWithStaff, UowFactory
from tests.tickets.conftest import Elsewhere, TicketStaff

FAULT = TicketType.FAULT


def _field(
    uow_factory: UowFactory, staff: ShopWithStaff, key: str, kind: FieldKind, **extra: Any
) -> TicketFieldDef:
    extra.setdefault("label", key)
    extra.setdefault("ticket_type", FAULT)
    with uow_factory() as uow:
        return tickets.create_field(uow, shop_id=staff.shop.id, key=key, kind=kind, **extra)


def _check(
    uow_factory: UowFactory, staff: TicketStaff, values: dict[str, object], **extra: Any
) -> dict[str, object]:
    with uow_factory() as uow:
        return tickets.check_values(
            uow.session, shop_id=staff.shop_id, ticket_type=FAULT, values=values, **extra
        )


@pytest.fixture
def fault_fields(uow_factory: UowFactory, staff: TicketStaff) -> None:
    _field(uow_factory, staff, "page", FieldKind.TEXT, label="故障页面", required=True)
    _field(uow_factory, staff, "amount", FieldKind.NUMBER, label="涉及金额")
    _field(uow_factory, staff, "channel", FieldKind.CHOICE, label="支付方式",
           choices=["支付宝", "微信支付", " 支付宝 ", "银行卡"])  # fmt: skip
    _field(uow_factory, staff, "day", FieldKind.DATE, label="发生日期")


def test_fields_are_listed_in_the_order_they_were_added(
    uow_factory: UowFactory, staff: TicketStaff, fault_fields: None
) -> None:
    with uow_factory() as uow:
        fields = tickets.fields_for(uow.session, shop_id=staff.shop_id, ticket_type=FAULT)
        other = tickets.fields_for(uow.session, shop_id=staff.shop_id, ticket_type="complaint")  # type: ignore[arg-type]
    assert [f.label for f in fields] == ["故障页面", "涉及金额", "支付方式", "发生日期"]
    assert fields[2].choices == '["支付宝", "微信支付", "银行卡"]'
    assert other == []


def test_values_are_normalised_by_kind(
    uow_factory: UowFactory, staff: TicketStaff, fault_fields: None
) -> None:
    assert _check(
        uow_factory, staff,
        {"page": " 收银台 ", "amount": "99.50", "channel": "微信支付", "day": date(2026, 11, 20)},
    ) == {"page": "收银台", "amount": 99.5, "channel": "微信支付", "day": "2026-11-20"}  # fmt: skip
    assert _check(uow_factory, staff, {"page": "x", "amount": 12, "day": "2026-11-21"}) == {
        "page": "x",
        "amount": 12,
        "day": "2026-11-21",
    }
    assert _check(uow_factory, staff, {"page": "x", "amount": "100.00"})["amount"] == 100


@pytest.mark.parametrize(
    ("values", "key", "field"),
    [
        ({}, "errors.tickets.field_required", "custom_fields.page"),
        ({"page": "  "}, "errors.tickets.field_required", "custom_fields.page"),
        ({"page": "x", "colour": "红"}, "errors.tickets.unknown_field", "custom_fields"),
        ({"page": "x", "amount": "九十九"}, "errors.tickets.field_number", "custom_fields.amount"),
        ({"page": "x", "amount": True}, "errors.tickets.field_number", "custom_fields.amount"),
        ({"page": "x", "amount": "nan"}, "errors.tickets.field_number", "custom_fields.amount"),
        ({"page": "x", "amount": "1e400"}, "errors.tickets.field_number", "custom_fields.amount"),
        ({"page": "x", "channel": "现金"}, "errors.tickets.bad_choice", "custom_fields.channel"),
        ({"page": "x", "day": "2026-02-30"}, "errors.tickets.field_date", "custom_fields.day"),
        ({"page": "x", "day": "昨天"}, "errors.tickets.field_date", "custom_fields.day"),
        ({"page": 42}, "errors.tickets.field_text", "custom_fields.page"),
        ({"page": "长" * 501}, None, "custom_fields.page"),
    ],
)
def test_bad_values_are_refused_naming_the_field(
    uow_factory: UowFactory, staff: TicketStaff, fault_fields: None,
    values: dict[str, object], key: str | None, field: str,
) -> None:  # fmt: skip
    with pytest.raises(Invalid) as refused:
        _check(uow_factory, staff, values)
    assert (refused.value.key, refused.value.field) == (key, field)


def test_a_bad_choice_says_which_choices_there_are(
    uow_factory: UowFactory, staff: TicketStaff, fault_fields: None
) -> None:
    with pytest.raises(Invalid) as refused:
        _check(uow_factory, staff, {"page": "x", "channel": "现金"})
    assert refused.value.message == "支付方式: '现金' is not one of 支付宝, 微信支付, 银行卡"
    assert refused.value.params["choices"] == "支付宝、微信支付、银行卡"


def test_a_partial_check_clears_with_none_and_skips_what_is_not_named(
    uow_factory: UowFactory, staff: TicketStaff, fault_fields: None
) -> None:
    assert _check(uow_factory, staff, {"amount": None}, partial=True) == {"amount": None}
    with pytest.raises(Invalid) as refused:
        _check(uow_factory, staff, {"page": ""}, partial=True)
    assert refused.value.key == "errors.tickets.field_required"


def test_defining_fields_is_checked(
    uow_factory: UowFactory, staff: TicketStaff, fault_fields: None
) -> None:
    with pytest.raises(Conflict) as taken:
        _field(uow_factory, staff, "page", FieldKind.TEXT)
    assert taken.value.key == "errors.tickets.field_exists"
    # The same key on another type is another field.
    _field(uow_factory, staff, "page", FieldKind.TEXT, ticket_type=TicketType.COMPLAINT)
    for bad_key in ("Page", "1page", "页面", "", "a" * 41, "page-url"):
        with pytest.raises(Invalid) as refused:
            _field(uow_factory, staff, bad_key, FieldKind.TEXT)
        assert refused.value.key == "errors.tickets.bad_field_key"
    with pytest.raises(Invalid) as no_choices:
        _field(uow_factory, staff, "level", FieldKind.CHOICE, choices=[" ", ""])
    assert no_choices.value.key == "errors.tickets.choices_required"
    with pytest.raises(Invalid):
        _field(uow_factory, staff, "note", FieldKind.TEXT, choices=["a"])
    with pytest.raises(Invalid) as no_label:
        _field(uow_factory, staff, "note", FieldKind.TEXT, label=" ")
    assert no_label.value.key == "errors.tickets.label_required"
    with pytest.raises(Invalid):
        _field(uow_factory, staff, "note", "colour")  # type: ignore[arg-type]


def test_a_type_has_at_most_thirty_fields(uow_factory: UowFactory, staff: TicketStaff) -> None:
    with uow_factory() as uow:
        for i in range(30):
            tickets.create_field(
                uow, shop_id=staff.shop_id, ticket_type=FAULT, key=f"f{i}", label=f"字段{i}",
                kind=FieldKind.TEXT, commit=False,
            )  # fmt: skip
        uow.commit()
    with pytest.raises(Invalid) as refused:
        _field(uow_factory, staff, "f30", FieldKind.TEXT)
    assert refused.value.key == "errors.tickets.too_many_fields"


def test_updating_and_deleting_a_field(
    uow_factory: UowFactory, staff: TicketStaff, fault_fields: None
) -> None:
    with uow_factory() as uow:
        channel = next(
            f
            for f in tickets.fields_for(uow.session, shop_id=staff.shop_id, ticket_type=FAULT)
            if f.key == "channel"
        )
    with uow_factory() as uow:
        tickets.update_field(
            uow, shop_id=staff.shop_id, field_id=channel.id, label="付款方式",
            choices=["支付宝", "云闪付"], required=True,
        )  # fmt: skip
    with pytest.raises(Invalid) as refused:
        _check(uow_factory, staff, {"page": "x", "channel": "微信支付"})
    assert refused.value.params["label"] == "付款方式"
    with pytest.raises(Invalid), uow_factory() as uow:
        tickets.update_field(uow, shop_id=staff.shop_id, field_id=channel.id, choices=[])
    with uow_factory() as uow:
        tickets.delete_field(uow, shop_id=staff.shop_id, field_id=channel.id)
    assert _check(uow_factory, staff, {"page": "x"}) == {"page": "x"}


def test_another_shops_field_is_not_found(
    uow_factory: UowFactory, staff: TicketStaff, elsewhere: Elsewhere
) -> None:
    theirs = _field(uow_factory, elsewhere.staff, "secret", FieldKind.TEXT)
    with pytest.raises(NotFound), uow_factory() as uow:
        tickets.update_field(uow, shop_id=staff.shop_id, field_id=theirs.id, label="偷改")
    with pytest.raises(NotFound), uow_factory() as uow:
        tickets.delete_field(uow, shop_id=staff.shop_id, field_id=theirs.id)
    with uow_factory() as uow:
        assert tickets.fields_for(uow.session, shop_id=staff.shop_id, ticket_type=FAULT) == []
