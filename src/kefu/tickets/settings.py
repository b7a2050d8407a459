"""A shop's ticket settings: the running number (工单号), what the buyer is told (notice
templates), the standing duty manager (值班经理) and whether unanswered questions escalate
by themselves."""

from __future__ import annotations

import json
from collections.abc import Mapping

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kefu.errors import Invalid
from kefu.shops import service as shops
from kefu.tickets import checks
from kefu.tickets.checks import KEEP, _Keep
from kefu.tickets.models import TicketSettings
from kefu.tickets.notices import MAX_TEMPLATE_LENGTH, NOTICE_KEYS, check_template, own_templates
from kefu.uow import UnitOfWork
from kefu.validation import clean_text

FIRST_NUMBER = 1001


def ticket_settings(uow: UnitOfWork, *, shop_id: int) -> TicketSettings:
    """The shop's settings row, created with the defaults the first time it is needed."""
    session = uow.session
    shops.get_shop(session, shop_id=shop_id)
    row = session.get(TicketSettings, shop_id)
    if row is not None:
        return row
    # Two first tickets of a shop at once both find no row: the second insert does
    # nothing (it waits for the first one's row and then reads it).
    values = {
        "shop_id": shop_id,
        "last_number": FIRST_NUMBER - 1,
        "notice_templates": "{}",
        "auto_escalate_unanswered": False,
        "updated_at": uow.clock.now(),
    }
    insert = (
        postgresql.insert(TicketSettings)
        if session.get_bind().dialect.name == "postgresql"
        else sqlite.insert(TicketSettings)
    )
    session.execute(insert.values(values).on_conflict_do_nothing())
    row = session.get(TicketSettings, shop_id, populate_existing=True)
    assert row is not None
    return row


def read_settings(session: Session, *, shop_id: int) -> TicketSettings | None:
    """The row if the shop has one (reads never write; None means "all defaults")."""
    return session.scalar(select(TicketSettings).where(TicketSettings.shop_id == shop_id))


def take_number(uow: UnitOfWork, *, shop_id: int) -> int:
    """The shop's next ticket number. The UPDATE takes the settings row's lock until the
    transaction ends, so two tickets created at once never share a number."""
    ticket_settings(uow, shop_id=shop_id)
    session = uow.session
    number = session.execute(
        update(TicketSettings)
        .where(TicketSettings.shop_id == shop_id)
        .values(last_number=TicketSettings.last_number + 1)
        .returning(TicketSettings.last_number)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    loaded = session.get(TicketSettings, shop_id)
    if loaded is not None:
        session.expire(loaded, ["last_number"])
    return int(number)


def update_ticket_settings(
    uow: UnitOfWork,
    *,
    shop_id: int,
    notice_templates: Mapping[str, str] | None = None,
    duty_manager_id: int | _Keep | None = KEEP,
    auto_escalate_unanswered: bool | None = None,
    commit: bool = True,
) -> TicketSettings:
    """Change what is given (None / KEEP = unchanged). ``notice_templates`` lists the
    notices to change: an empty text goes back to the default wording."""
    session = uow.session
    templates: dict[str, str] | None = None
    if notice_templates is not None:
        templates = _checked_templates(notice_templates)
    if not isinstance(duty_manager_id, _Keep) and duty_manager_id is not None:
        checks.active_agent(
            session, shop_id=shop_id, agent_id=duty_manager_id, field="duty_manager_id"
        )
    if auto_escalate_unanswered is not None and not isinstance(auto_escalate_unanswered, bool):
        raise Invalid(
            "auto_escalate_unanswered must be true or false", field="auto_escalate_unanswered"
        )
    row = ticket_settings(uow, shop_id=shop_id)
    if templates is not None:
        merged = own_templates(row)
        for key, text in templates.items():
            if text:
                merged[key] = text
            else:
                merged.pop(key, None)
        row.notice_templates = json.dumps(merged, ensure_ascii=False, sort_keys=True)
    if not isinstance(duty_manager_id, _Keep):
        row.duty_manager_id = duty_manager_id
    if auto_escalate_unanswered is not None:
        row.auto_escalate_unanswered = auto_escalate_unanswered
    row.updated_at = uow.clock.now()
    if commit:
        uow.commit()
    return row


def _checked_templates(given: Mapping[str, str]) -> dict[str, str]:
    checked: dict[str, str] = {}
    for key, text in given.items():
        if key not in NOTICE_KEYS:
            raise Invalid(
                f"there is no {key!r} notice; the notices are {', '.join(NOTICE_KEYS)}",
                field="notice_templates",
                key="errors.tickets.unknown_notice",
                notice=str(key)[:40],
            )
        if not isinstance(text, str):
            raise Invalid(f"the {key} notice must be text", field=f"notice_templates.{key}")
        text = clean_text(
            text, field=f"notice_templates.{key}", max_length=MAX_TEMPLATE_LENGTH, multiline=True
        )
        check_template(key, text)
        checked[key] = text
    return checked
