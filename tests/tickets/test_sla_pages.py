"""The pages /settings/sla and /tickets/sla-report as people use them: a supervisor edits
policies, working hours and the shop's own days; an agent only looks; refusals are shown
next to the form with what was typed; hostile names are escaped; the report's period."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient

from kefu.clock import FrozenClock
from kefu.tickets import calendar, sla, sla_watch
from tests.factories import PASSWORD, UowFactory
from tests.tickets.conftest import SLUG, TicketStaff, make_ticket

HOSTILE = "<img src=x onerror=alert(1)>"


def log_in(client: TestClient, email: str) -> str:
    response = client.post(
        "/api/v1/auth/login", json={"shop": SLUG, "email": email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])


def policy_form(csrf: str, **changes: str) -> dict[str, str]:
    form = {
        "csrf_token": csrf,
        "name": "内部请求",
        "ticket_type": "internal",
        "priority": "",
        "first_response_value": "4",
        "first_response_unit": "h",
        "next_response_value": "",
        "next_response_unit": "h",
        "resolution_value": "90",
        "resolution_unit": "m",
        "warn_before_minutes": "30",
        "business_hours": "true",
    }
    form.update(changes)
    return form


def week_form(csrf: str, **cells: str) -> dict[str, str]:
    form = {"csrf_token": csrf, "cn_holidays": "true"}
    for day in range(1, 6):
        form[f"start_{day}_0"], form[f"end_{day}_0"] = "09:00", "12:00"
        form[f"start_{day}_1"], form[f"end_{day}_1"] = "13:30", "18:00"
    form.update(cells)
    return form


def test_a_supervisor_sees_the_defaults_and_the_built_in_holidays(
    app: FastAPI, staff: TicketStaff
) -> None:
    with TestClient(app) as client:
        log_in(client, staff.supervisor.email)
        page = client.get("/settings/sla")
    assert page.status_code == 200
    text = page.text
    assert 'data-testid="nav-sla"' in text
    assert "售后" in text and "4 小时" in text and "48 小时" in text
    assert "内置 2024、2025、2026 年国务院办公厅公布的放假和调休安排" in text
    assert re.search(r"春节\s*<span class=\"nowrap\">02-15–02-23</span>", text)
    assert re.search(r"上班</span>\s*春节\s*<span class=\"nowrap\">02-14</span>", text)
    assert 'name="start_1_0" value="09:00"' in text and 'name="end_5_0" value="18:00"' in text
    assert 'data-testid="policy-new"' in text


def test_an_agent_only_looks(app: FastAPI, staff: TicketStaff) -> None:
    with TestClient(app) as client:
        csrf = log_in(client, staff.agent.email)
        page = client.get("/settings/sla")
        assert page.status_code == 200
        assert 'data-testid="sla-read-only"' in page.text
        assert 'data-testid="policy-new"' not in page.text
        assert 'data-testid="calendar-save"' not in page.text
        refused = client.post("/settings/sla/policies", data=policy_form(csrf))
        assert refused.status_code == 403
        refused = client.post("/settings/sla/calendar", data=week_form(csrf))
        assert refused.status_code == 403


def test_a_supervisor_adds_edits_and_deletes_a_policy(
    app: FastAPI, staff: TicketStaff, uow_factory: UowFactory
) -> None:
    with TestClient(app) as client:
        csrf = log_in(client, staff.supervisor.email)
        added = client.post(
            "/settings/sla/policies", data=policy_form(csrf), follow_redirects=False
        )
        assert added.status_code == 303
        assert added.headers["location"] == "/settings/sla?done=policy_created#policies"
        with uow_factory() as uow:
            [policy] = [
                p for p in sla.list_policies(uow.session, shop_id=staff.shop_id)
                if p.name == "内部请求"
            ]  # fmt: skip
        assert (policy.first_response_minutes, policy.resolution_minutes) == (240, 90)
        assert policy.next_response_minutes is None and policy.business_hours
        page = client.get(added.headers["location"])
        assert "规则已添加。" in page.text
        assert f'data-testid="resolution-{policy.id}">1 小时 30 分<' in page.text

        edited = client.post(
            f"/settings/sla/policies/{policy.id}",
            data=policy_form(csrf, name=HOSTILE, business_hours="", first_response_value="45",
                             first_response_unit="m"),
            follow_redirects=False,
        )  # fmt: skip
        assert edited.status_code == 303
        page = client.get("/settings/sla")
        assert HOSTILE not in page.text and "&lt;img src=x onerror=alert(1)&gt;" in page.text
        assert f'data-testid="first-{policy.id}">45 分钟<' in page.text
        deleted = client.post(
            f"/settings/sla/policies/{policy.id}/delete",
            data={"csrf_token": csrf},
            follow_redirects=False,
        )
        assert deleted.status_code == 303
    with uow_factory() as uow:
        names = {p.name for p in sla.list_policies(uow.session, shop_id=staff.shop_id)}
    assert HOSTILE not in names and len(names) == 6


def test_a_refused_policy_is_explained_next_to_its_form_with_what_was_typed(
    app: FastAPI, staff: TicketStaff, uow_factory: UowFactory
) -> None:
    with TestClient(app) as client:
        csrf = log_in(client, staff.supervisor.email)
        page = client.post(
            "/settings/sla/policies",
            data=policy_form(csrf, name="太早预警", warn_before_minutes="120",
                             resolution_value="", first_response_value="1"),
        )  # fmt: skip
        assert page.status_code == 422
        assert "提前 120 分钟预警太早了：最短的时限只有 60 分钟，请改小" in page.text
        assert 'value="太早预警"' in page.text and 'value="120"' in page.text
        words = client.post(
            "/settings/sla/policies", data=policy_form(csrf, first_response_value="四小时")
        )
        assert words.status_code == 422 and "请填写整数" in words.text
        with uow_factory() as uow:
            catch_all = next(
                p for p in sla.list_policies(uow.session, shop_id=staff.shop_id)
                if p.ticket_type is None and p.priority is None
            )  # fmt: skip
        kept = client.post(
            f"/settings/sla/policies/{catch_all.id}/delete", data={"csrf_token": csrf}
        )
        assert kept.status_code == 409 and "兜底规则" in kept.text
    with uow_factory() as uow:
        assert len(sla.list_policies(uow.session, shop_id=staff.shop_id)) == 6


def test_working_hours_with_a_lunch_break_and_a_refused_night(
    app: FastAPI, staff: TicketStaff, uow_factory: UowFactory
) -> None:
    with TestClient(app) as client:
        csrf = log_in(client, staff.supervisor.email)
        saved = client.post("/settings/sla/calendar", data=week_form(csrf), follow_redirects=False)
        assert saved.status_code == 303
        with uow_factory() as uow:
            week = calendar.calendar_settings(uow.session, shop_id=staff.shop_id).weekly_hours
        assert week[2] == [("09:00", "12:00"), ("13:30", "18:00")] and week[6] == []

        night = client.post(
            "/settings/sla/calendar", data=week_form(csrf, start_6_0="22:00", end_6_0="06:00")
        )
        assert night.status_code == 422
        assert "周六：22:00–06:00 跨过了午夜" in night.text
        assert 'name="start_6_0" value="22:00"' in night.text  # what was typed stays
        lone = client.post("/settings/sla/calendar", data=week_form(csrf, start_7_0="10:00"))
        assert lone.status_code == 422 and "每个时段要有开始和结束两个时间" in lone.text
        off = client.post(
            "/settings/sla/calendar", data={**week_form(csrf), "cn_holidays": ""},
            follow_redirects=False,
        )  # fmt: skip
        assert off.status_code == 303
        assert "本店已关闭法定节假日" in client.get("/settings/sla").text
    with uow_factory() as uow:
        settings = calendar.calendar_settings(uow.session, shop_id=staff.shop_id)
    assert settings.weekly_hours[6] == [] and not settings.cn_holidays


def test_the_shops_own_days(app: FastAPI, staff: TicketStaff) -> None:
    with TestClient(app) as client:
        csrf = log_in(client, staff.supervisor.email)
        day = {"csrf_token": csrf, "day": "2026-12-24", "kind": "holiday", "name": "年会"}
        added = client.post("/settings/sla/days", data=day, follow_redirects=False)
        assert added.status_code == 303
        page = client.get("/settings/sla")
        assert 'data-day="2026-12-24"' in page.text and "年会" in page.text
        bad = client.post("/settings/sla/days", data={**day, "day": "12/24"})
        assert bad.status_code == 422 and "请填写日期，如 2026-10-08" in bad.text
        assert 'value="12/24"' in bad.text
        removed = client.post(
            "/settings/sla/days/2026-12-24/delete", data={"csrf_token": csrf},
            follow_redirects=False,
        )  # fmt: skip
        assert removed.status_code == 303
        assert 'data-day="2026-12-24"' not in client.get("/settings/sla").text
        again = client.post("/settings/sla/days/2026-12-24/delete", data={"csrf_token": csrf})
        assert again.status_code == 404


def test_the_report_page(
    app: FastAPI, staff: TicketStaff, uow_factory: UowFactory, clock: FrozenClock
) -> None:
    make_ticket(
        uow_factory, staff, team_id=staff.teams["aftersale"], assignee_id=staff.aftersale.id,
        title=HOSTILE,
    )  # fmt: skip
    clock.advance(timedelta(hours=5))
    with uow_factory() as uow:
        assert sla_watch.check_deadlines(uow) == (0, 1)
    with TestClient(app) as client:
        log_in(client, staff.agent.email)
        page = client.get("/tickets/sla-report")
        assert page.status_code == 200
        assert 'value="2026-11-17"' in page.text and 'value="2026-11-23"' in page.text
        assert 'data-metric="first_response"' in page.text
        assert 'data-testid="rate">0.0%<' in page.text
        assert "#1001" in page.text and "超时未完成" in page.text
        assert HOSTILE not in page.text
        earlier = client.get("/tickets/sla-report?since=2026-11-01&until=2026-11-22")
        assert 'data-testid="sla-report-empty"' in earlier.text
        bad = client.get("/tickets/sla-report?since=2026-11-24&until=2026-11-23")
        assert bad.status_code == 422 and "结束日期要晚于开始日期" in bad.text
