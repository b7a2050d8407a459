"""``/api/v1/tickets/sla`` as a shop's integration and its staff use it: everyone reads,
supervisors (and tokens with that role) change policies and the calendar, refusals say
what is wrong in the caller's language, and the report shows the period's figures."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from fastapi.testclient import TestClient

from kefu.accounts import auth
from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.clock import FrozenClock
from kefu.tickets import sla_watch
from tests.factories import PASSWORD, UowFactory
from tests.tickets.conftest import SLUG, TicketStaff, make_ticket

API = "/api/v1/tickets/sla"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def log_in(client: TestClient, email: str) -> dict[str, str]:
    response = client.post(
        "/api/v1/auth/login", json={"shop": SLUG, "email": email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf_token"]}


def token(uow_factory: UowFactory, staff: TicketStaff, role: Role) -> dict[str, str]:
    owner = Principal(
        shop_id=staff.shop_id, role=Role.OWNER, agent_id=staff.owner.id, name="掌柜",
        via="session", credential_id=0,
    )  # fmt: skip
    with uow_factory() as uow:
        raw = auth.create_api_token(
            uow, shop_id=staff.shop_id, name=f"ERP {role.value}", role=role, created_by=owner
        ).raw
    return {"Authorization": f"Bearer {raw}"}


POLICY = {
    "name": "内部请求",
    "ticket_type": "internal",
    "priority": None,
    "first_response_minutes": 240,
    "next_response_minutes": None,
    "resolution_minutes": 2880,
    "business_hours": True,
    "warn_before_minutes": 60,
}


def test_agents_read_the_defaults_and_supervisors_change_policies(
    app: FastAPI, staff: TicketStaff
) -> None:
    with TestClient(app) as agent, TestClient(app) as lead:
        agent_csrf = log_in(agent, staff.agent.email)
        lead_csrf = log_in(lead, staff.supervisor.email)
        listed = agent.get(f"{API}/policies")
        assert listed.status_code == 200
        assert [p["name"] for p in listed.json()] == [
            "投诉·紧急", "投诉", "售后", "障碍申告", "升级", "默认"
        ]  # fmt: skip
        urgent = listed.json()[0]
        assert (urgent["ticket_type"], urgent["priority"], urgent["first_response_minutes"]) == (
            "complaint", "urgent", 30
        )  # fmt: skip
        refused = agent.post(f"{API}/policies", json=POLICY, headers=agent_csrf)
        assert refused.status_code == 403

        made = lead.post(f"{API}/policies", json=POLICY, headers=lead_csrf)
        assert made.status_code == 201, made.text
        policy = made.json()
        assert policy["resolution_minutes"] == 2880 and policy["next_response_minutes"] is None
        again = lead.post(f"{API}/policies", json=POLICY, headers=lead_csrf)
        assert again.status_code == 409
        assert (
            again.json()["error"]["message"]
            == "规则「内部请求」已经覆盖这个类型和优先级，请直接修改它"
        )

        changed = lead.put(
            f"{API}/policies/{policy['id']}",
            json={**POLICY, "name": "内部请求（加急）", "first_response_minutes": 120},
            headers=lead_csrf,
        )
        assert changed.status_code == 200 and changed.json()["first_response_minutes"] == 120
        assert agent.get(f"{API}/policies/{policy['id']}").json()["name"] == "内部请求（加急）"
        assert lead.delete(f"{API}/policies/{policy['id']}", headers=lead_csrf).status_code == 204
        assert agent.get(f"{API}/policies/{policy['id']}").status_code == 404

        catch_all = next(p for p in listed.json() if p["ticket_type"] is None)
        kept = lead.delete(f"{API}/policies/{catch_all['id']}", headers=lead_csrf)
        assert kept.status_code == 409 and kept.json()["error"]["code"] == "conflict"


def test_bad_policies_are_named_in_the_callers_language(app: FastAPI, staff: TicketStaff) -> None:
    with TestClient(app) as lead:
        csrf = log_in(lead, staff.supervisor.email)
        english = {**csrf, "Accept-Language": "en"}
        early = lead.post(
            f"{API}/policies",
            json={**POLICY, "first_response_minutes": 30, "warn_before_minutes": 45},
            headers=english,
        )
        assert early.status_code == 422
        error = early.json()["error"]
        assert error["field"] == "warn_before_minutes"
        assert error["message"].startswith("Warning 45 minutes before is too early")
        kind = lead.post(f"{API}/policies", json={**POLICY, "ticket_type": "refund"}, headers=csrf)
        assert kind.status_code == 422 and kind.json()["error"]["field"] == "ticket_type"
        assert "refund 不是可选的值" in kind.json()["error"]["message"]
        huge = lead.post(
            f"{API}/policies", json={**POLICY, "resolution_minutes": 10**6}, headers=csrf
        )
        assert huge.status_code == 422 and huge.json()["error"]["field"] == "resolution_minutes"


def test_the_calendar_over_rest(app: FastAPI, staff: TicketStaff) -> None:
    with TestClient(app) as agent, TestClient(app) as lead:
        log_in(agent, staff.agent.email)
        csrf = log_in(lead, staff.supervisor.email)
        shown = agent.get(f"{API}/calendar").json()
        assert shown["timezone"] == "Asia/Shanghai" and shown["cn_holidays"] is True
        assert shown["weekly_hours"]["1"] == [["09:00", "18:00"]]
        assert shown["weekly_hours"]["7"] == []
        assert shown["builtin_years"] == [2024, 2025, 2026]
        assert {"day": "2026-02-14", "kind": "workday", "name": "春节"} in shown["builtin_days"]

        night = lead.put(
            f"{API}/calendar", json={"weekly_hours": {"1": [["22:00", "06:00"]]}}, headers=csrf
        )
        assert night.status_code == 422
        assert night.json()["error"]["field"] == "weekly_hours.1"
        assert "周一：22:00–06:00 跨过了午夜" in night.json()["error"]["message"]
        lone = lead.put(f"{API}/calendar", json={"weekly_hours": {"2": [["09:00"]]}}, headers=csrf)
        assert lone.status_code == 422 and lone.json()["error"]["field"] == "weekly_hours.2"

        week = {str(d): [["09:00", "12:00"], ["13:30", "18:00"]] for d in range(1, 6)}
        saved = lead.put(
            f"{API}/calendar", json={"weekly_hours": week, "cn_holidays": False}, headers=csrf
        )
        assert saved.status_code == 200, saved.text
        assert saved.json()["weekly_hours"]["3"] == [["09:00", "12:00"], ["13:30", "18:00"]]
        assert saved.json()["weekly_hours"]["6"] == [] and saved.json()["cn_holidays"] is False

        day = {"day": "2026-12-24", "kind": "holiday", "name": "年会"}
        assert agent.post(f"{API}/calendar/days", json=day).status_code in (401, 403)
        added = lead.post(f"{API}/calendar/days", json=day, headers=csrf)
        assert added.status_code == 201 and added.json() == day
        assert agent.get(f"{API}/calendar").json()["days"] == [day]
        gone = lead.delete(f"{API}/calendar/days/2026-12-24", headers=csrf)
        assert gone.status_code == 204
        missing = lead.delete(f"{API}/calendar/days/2026-12-24", headers=csrf)
        assert missing.status_code == 404
        assert missing.json()["error"]["message"] == "本店日历里没有 2026-12-24 这一天的设置"


def test_tokens_act_by_their_role(
    app: FastAPI, staff: TicketStaff, uow_factory: UowFactory
) -> None:
    reader, writer = (
        token(uow_factory, staff, Role.AGENT),
        token(uow_factory, staff, Role.SUPERVISOR),
    )
    with TestClient(app) as client:
        assert client.get(f"{API}/calendar", headers=reader).status_code == 200
        assert (
            client.put(f"{API}/calendar", json={"cn_holidays": False}, headers=reader).status_code
            == 403
        )
        assert client.post(f"{API}/policies", json=POLICY, headers=reader).status_code == 403
        assert client.post(f"{API}/policies", json=POLICY, headers=writer).status_code == 201
        assert client.get(f"{API}/calendar", headers=reader).json()["cn_holidays"] is True


def test_the_report_over_rest(
    app: FastAPI, staff: TicketStaff, uow_factory: UowFactory, clock: FrozenClock
) -> None:
    make_ticket(
        uow_factory, staff, team_id=staff.teams["aftersale"], assignee_id=staff.aftersale.id
    )
    clock.advance(timedelta(hours=5))  # 15:00: the 14:00 first response breached
    with uow_factory() as uow:
        assert sla_watch.check_deadlines(uow) == (0, 1)
    with TestClient(app) as agent:
        log_in(agent, staff.agent.email)
        report = agent.get(f"{API}/report", params={"since": "2026-11-23T00:00:00"})
        assert report.status_code == 200, report.text
        body = report.json()
        assert datetime.fromisoformat(body["since"]) == datetime(2026, 11, 23, tzinfo=SHANGHAI)
        assert [(r["team_name"], r["metric"], r["due"], r["breached"], r["rate"])
                for r in body["rows"]] == [("售后", "first_response", 1, 1, 0.0)]  # fmt: skip
        [breach] = body["breaches"]
        assert (breach["number"], breach["assignee_name"]) == (1001, "小刘")
        backwards = agent.get(
            f"{API}/report", params={"since": "2026-11-24T00:00:00", "until": "2026-11-23T00:00:00"}
        )
        assert backwards.status_code == 422
