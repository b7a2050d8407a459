"""The shifts page (/shifts) as staff use it: everyone sees the shifts in shop time and who
is on duty; supervisors set them up, a refused form keeps what was typed, nothing written."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from kefu.clock import FrozenClock
from kefu.db import make_session_factory
from kefu.tickets import handover
from kefu.tickets.models import Shift
from tests.factories import UowFactory
from tests.tickets.conftest import TicketStaff
from tests.tickets.pagekit import Person, log_in, part, text_of
from tests.tickets.shiftkit import day_and_evening, local, make_shift


def person(app: FastAPI, staff: TicketStaff, email: str) -> Person:
    return log_in(TestClient(app), shop=staff.shop.slug, email=email)


@pytest.fixture
def lead(client: TestClient, staff: TicketStaff) -> Person:
    return log_in(client, shop=staff.shop.slug, email=staff.supervisor.email)


def _shift_count(db: Engine) -> int:
    with make_session_factory(db)() as session:
        return int(session.scalar(select(func.count(Shift.id))) or 0)


def test_a_supervisor_sets_up_a_night_shift(lead: Person, db: Engine, staff: TicketStaff) -> None:
    form = {
        "team_id": str(staff.teams["aftersale"]),
        "name": "夜班",
        "start_time": "22:00",
        "end_time": "06:00",
        "weekdays": ["1", "2", "3", "4", "5"],
        "member_ids": [str(staff.aftersale.id), str(staff.aftersale2.id)],
        "duty_manager_id": str(staff.supervisor.id),
        "ack_within_minutes": "20",
    }
    page = lead.follow(lead.post("/shifts", form))
    assert part(page.text, "shift-notice") == "班次已创建。"
    shown = part(page.text, "shift")
    assert "售后 · 夜班" in shown
    assert "22:00–06:00 （次日） · 周一、周二、周三、周四、周五" in shown
    assert "小刘、小张" in shown
    assert "值班经理： 主管" in shown
    assert "20 分钟内确认" in shown


def test_a_refused_shift_keeps_the_form_and_writes_nothing(
    lead: Person, db: Engine, staff: TicketStaff
) -> None:
    form = {
        "team_id": str(staff.teams["aftersale"]),
        "name": "早班",
        "start_time": "08:00",
        "end_time": "16:00",
        "weekdays": ["1"],
        "member_ids": [str(staff.agent.id)],  # 小美 works 售前
    }
    page = lead.post("/shifts", form)
    assert page.status_code == 422
    assert part(page.text, "shift-error") == "小美 不是售后组的成员：请先在员工页把 TA 加入该组"
    assert 'value="早班"' in page.text  # what was typed is still there
    assert _shift_count(db) == 0


def test_agents_read_but_do_not_set_up(
    app: FastAPI, uow_factory: UowFactory, db: Engine, staff: TicketStaff
) -> None:
    make_shift(uow_factory, staff, member_ids=[staff.aftersale.id])
    agent = person(app, staff, staff.aftersale.email)
    page = agent.get("/shifts")
    assert page.status_code == 200
    assert "售后 · 白班" in text_of(page.text)
    assert 'data-testid="shift-new-form"' not in page.text
    assert 'data-testid="shift-edit-form"' not in page.text
    refused = agent.post("/shifts", {"team_id": str(staff.teams["aftersale"]), "name": "偷偷加"})
    assert refused.status_code == 403
    assert _shift_count(db) == 1


def test_who_is_on_duty_now_in_shop_time(
    lead: Person, uow_factory: UowFactory, clock: FrozenClock, staff: TicketStaff
) -> None:
    day_and_evening(uow_factory, staff)
    clock.set(local(23, "19:00"))
    page = lead.get("/shifts")
    assert part(page.text, "duty-manager-now") == "掌柜"  # the evening shift's
    on = [s for s in page.text.split('data-testid="shift"')[1:] if 'data-testid="shift-on"' in s]
    assert len(on) == 1 and "晚班" in on[0]


def test_editing_and_deleting_a_shift(
    lead: Person, uow_factory: UowFactory, db: Engine, staff: TicketStaff
) -> None:
    both = day_and_evening(uow_factory, staff)
    page = lead.follow(
        lead.post(
            f"/shifts/{both.day.id}",
            {
                "name": "白班",
                "start_time": "09:30",
                "end_time": "18:00",
                "weekdays": ["1", "2", "3", "4", "5", "6", "7"],
                "member_ids": [str(staff.aftersale2.id)],
                "duty_manager_id": "",
                "ack_within_minutes": "30",
                "is_active": "1",
            },
        )
    )
    assert part(page.text, "shift-notice") == "班次已保存。"
    with make_session_factory(db)() as session:
        saved = session.get(Shift, both.day.id)
        assert saved is not None
        assert (saved.start_time, saved.duty_manager_id) == ("09:30", None)
    page = lead.follow(lead.post(f"/shifts/{both.evening.id}/delete"))
    assert part(page.text, "shift-notice") == "班次已删除。"
    # A shift with a handover report is retired, not deleted: its reports stay readable.
    with uow_factory() as uow:
        handover.hand_over(
            uow, shop_id=staff.shop_id, shift_id=both.day.id, actor_agent_id=staff.supervisor.id
        )
    page = lead.follow(lead.post(f"/shifts/{both.day.id}/delete"))
    assert part(page.text, "shift-notice") == "该班次已有交班报告，已停用并保留报告。"
    assert 'data-testid="shift-retired"' in page.text
    assert _shift_count(db) == 1


def test_a_hostile_shift_name_is_shown_as_text(
    lead: Person, uow_factory: UowFactory, staff: TicketStaff
) -> None:
    make_shift(uow_factory, staff, name="<img src=x onerror=alert(1)>")
    page = lead.get("/shifts")
    assert "<img src=x" not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text


def test_the_forms_need_the_pages_token(client: TestClient, staff: TicketStaff, db: Engine) -> None:
    log_in(client, shop=staff.shop.slug, email=staff.supervisor.email)
    refused = client.post(
        "/shifts",
        data={"team_id": str(staff.teams["aftersale"]), "name": "x", "csrf_token": "forged"},
    )
    assert refused.status_code == 403
    assert _shift_count(db) == 0
