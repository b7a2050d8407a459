"""A shop's ticket settings: its wording of the buyer's notices (checked when saved, a
variable that does not exist refused by name), the standing duty manager, auto-escalation."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine

from kefu.errors import Invalid, NotFound
from kefu.tickets import service as tickets
from kefu.tickets.models import TicketSettings, TicketStatus
from tests.factories import UowFactory
from tests.tickets.conftest import (
    BuyerChat,
    Elsewhere,
    TicketStaff,
    chat_lines,
    make_ticket,
    snapshot,
)


def _update(uow_factory: UowFactory, staff: TicketStaff, **changes: object) -> TicketSettings:
    with uow_factory() as uow:
        return tickets.update_ticket_settings(uow, shop_id=staff.shop_id, **changes)  # type: ignore[arg-type]


def test_a_shop_starts_with_the_defaults(uow_factory: UowFactory, staff: TicketStaff) -> None:
    with uow_factory() as uow:
        assert tickets.read_settings(uow.session, shop_id=staff.shop_id) is None
        row = tickets.ticket_settings(uow, shop_id=staff.shop_id)
        uow.commit()
    assert (row.last_number, row.notice_templates, row.duty_manager_id) == (1000, "{}", None)
    assert row.auto_escalate_unanswered is False


def test_the_buyer_reads_the_shops_own_wording(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff, buyer_chat: BuyerChat
) -> None:
    _update(
        uow_factory, staff,
        notice_templates={
            "created": "亲，已为您登记工单 #{number}「{title}」，由{team}跟进～",
            "solved": "亲，工单 #{number} 状态：{status}。{{有问题随时找我们}}",
        },
    )  # fmt: skip
    ticket = make_ticket(
        uow_factory, staff, team_id=staff.teams["aftersale"],
        conversation_ids=[buyer_chat.conversation_id],
    )  # fmt: skip
    assert chat_lines(db, buyer_chat.conversation_id)[-1] == (
        "亲，已为您登记工单 #1001「大衣袖子破洞」，由售后跟进～"
    )
    with uow_factory() as uow:
        tickets.change_status(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, status=TicketStatus.SOLVED,
            actor_agent_id=staff.agent.id,
        )  # fmt: skip
    assert chat_lines(db, buyer_chat.conversation_id)[-1] == (
        "亲，工单 #1001 状态：已解决。{有问题随时找我们}"
    )


def test_an_empty_wording_goes_back_to_the_default(
    uow_factory: UowFactory, staff: TicketStaff
) -> None:
    _update(uow_factory, staff, notice_templates={"created": "工单 #{number}", "solved": "好了"})
    row = _update(uow_factory, staff, notice_templates={"created": "  "})
    assert json.loads(row.notice_templates) == {"solved": "好了"}


@pytest.mark.parametrize(
    ("templates", "key", "params"),
    [
        (
            {"solved": "工单 #{number} 已由 {agent} 处理完毕"},
            "errors.tickets.unknown_template_variable",
            {"variable": "agent", "notice": "solved"},
        ),
        (
            # Attribute lookups would reach into Python objects with str.format: refused.
            {"created": "{number.__class__}"},
            "errors.tickets.unknown_template_variable",
            {"variable": "number.__class__", "notice": "created"},
        ),
        ({"closed": "工单 #{number 已关闭"}, "errors.tickets.template_brace", {"notice": "closed"}),
        ({"closed": "已关闭}"}, "errors.tickets.template_brace", {"notice": "closed"}),
        ({"reminder": "该付款了"}, "errors.tickets.unknown_notice", {"notice": "reminder"}),
    ],
)
def test_a_wording_that_cannot_be_filled_is_refused_by_name(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff,
    templates: dict[str, str], key: str, params: dict[str, str],
) -> None:  # fmt: skip
    _update(uow_factory, staff, notice_templates={"open": "继续处理工单 #{number}"})
    before = snapshot(db)
    with pytest.raises(Invalid) as refused:
        _update(uow_factory, staff, notice_templates=templates, auto_escalate_unanswered=True)
    assert refused.value.key == key
    assert params.items() <= refused.value.params.items()
    assert snapshot(db) == before  # nothing of the request was saved, not even the flag


def test_the_message_names_the_unknown_variable_and_the_ones_there_are(
    uow_factory: UowFactory, staff: TicketStaff
) -> None:
    with pytest.raises(Invalid) as refused:
        _update(uow_factory, staff, notice_templates={"solved": "{agent} 已处理"})
    assert refused.value.message == (
        "the solved notice uses {agent}, which does not exist; "
        "use {number}, {title}, {team}, {status}"
    )
    assert refused.value.field == "notice_templates.solved"


def test_a_huge_wording_is_refused(uow_factory: UowFactory, staff: TicketStaff) -> None:
    with pytest.raises(Invalid) as refused:
        _update(uow_factory, staff, notice_templates={"created": "字" * 501})
    assert refused.value.field == "notice_templates.created"


def test_the_duty_manager_is_one_of_the_shops_active_staff(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff, elsewhere: Elsewhere
) -> None:
    row = _update(uow_factory, staff, duty_manager_id=staff.supervisor.id)
    assert row.duty_manager_id == staff.supervisor.id
    before = snapshot(db)
    with pytest.raises(Invalid) as refused:
        _update(uow_factory, staff, duty_manager_id=elsewhere.staff.supervisor.id)
    assert refused.value.key == "errors.tickets.agent_not_found"
    assert snapshot(db) == before
    # Left out: unchanged; None: nobody standing (the shift's duty manager, else a supervisor).
    assert _update(uow_factory, staff, auto_escalate_unanswered=True).duty_manager_id == (
        staff.supervisor.id
    )
    assert _update(uow_factory, staff, duty_manager_id=None).duty_manager_id is None


def test_settings_of_a_shop_that_does_not_exist(uow_factory: UowFactory) -> None:
    with pytest.raises(NotFound), uow_factory() as uow:
        tickets.ticket_settings(uow, shop_id=987654)
