"""Around the tickets over REST: saved views keep their owners (shared ones are a
supervisor's), custom fields and the ticket settings are a supervisor's, and each agent's
notifications are their own."""

from __future__ import annotations

from fastapi import FastAPI

from tests.tickets.api import API, Caller, error
from tests.tickets.conftest import TicketStaff


# --------------------------------------------------------------------------- views
def test_saved_views_keep_their_owners(app: FastAPI, staff: TicketStaff) -> None:
    agent = Caller(app, staff.agent.email)
    lead = Caller(app, staff.supervisor.email)
    mine = agent.ok(
        "POST", f"{API}/views",
        {"name": "我的紧急", "filters": {"assignee": "me", "priority": "urgent"}}, status=201,
    )  # fmt: skip
    assert (mine["shared"], mine["filters"]) == (False, {"assignee": "me", "priority": "urgent"})
    assert lead.ok("GET", f"{API}/views") == []
    error(lead.send("PATCH", f"{API}/views/{mine['id']}", {"name": "偷看"}), 404, "not_found")
    error(agent.send("POST", f"{API}/views", {"name": "全员", "shared": True}), 403, "forbidden")
    shared = lead.ok(
        "POST", f"{API}/views", {"name": "超时", "shared": True, "filters": {"sla": "breached"}},
        status=201,
    )  # fmt: skip
    assert [v["name"] for v in agent.ok("GET", f"{API}/views")] == ["超时", "我的紧急"]
    error(agent.send("DELETE", f"{API}/views/{shared['id']}"), 403, "forbidden")
    error(
        agent.send("POST", f"{API}/views", {"name": "我的紧急"}), 409, "conflict"
    )  # one name per owner
    bad = error(
        agent.send("POST", f"{API}/views", {"name": "坏", "filters": {"colour": "red"}}),
        422, "invalid", "filters.colour",
    )  # fmt: skip
    assert "colour" in bad["message"]
    renamed = agent.ok("PATCH", f"{API}/views/{mine['id']}", {"filters": {"open_only": True}})
    assert (renamed["name"], renamed["filters"]) == ("我的紧急", {"open_only": True})
    assert agent.send("DELETE", f"{API}/views/{mine['id']}").status_code == 204
    assert [v["name"] for v in agent.ok("GET", f"{API}/views")] == ["超时"]


# --------------------------------------------------------------------------- setup
def test_custom_fields_and_settings_are_a_supervisors(app: FastAPI, staff: TicketStaff) -> None:
    agent = Caller(app, staff.agent.email)
    lead = Caller(app, staff.supervisor.email)
    field = {"ticket_type": "fault", "key": "fault_page", "label": "故障页面", "kind": "text"}
    error(agent.send("POST", f"{API}/fields", field), 403, "forbidden")
    made = lead.ok("POST", f"{API}/fields", {**field, "required": True}, status=201)
    assert (made["key"], made["required"]) == ("fault_page", True)
    assert [f["key"] for f in agent.ok("GET", f"{API}/fields")] == ["fault_page"]
    assert agent.get(f"{API}/fields", ticket_type="complaint").json() == []
    # The form now asks for it: a fault without it is refused, naming it.
    missing = agent.send("POST", API, {"type": "fault", "title": "打不开"})
    assert missing.status_code == 422, missing.text
    asked = {"type": "fault", "title": "打不开", "custom_fields": {"fault_page": "结算页"}}
    ticket = agent.ok("POST", API, asked, status=201)
    assert [(f["label"], f["shown"]) for f in ticket["custom_fields"]] == [("故障页面", "结算页")]
    lead.ok("PATCH", f"{API}/fields/{made['id']}", {"required": False})
    assert lead.send("DELETE", f"{API}/fields/{made['id']}").status_code == 204

    error(agent.get(f"{API}/settings"), 403, "forbidden")
    settings = lead.ok("GET", f"{API}/settings")
    assert settings["notice_templates"] == {}
    assert "#{number}" in settings["default_notices"]["created"]
    changed = lead.ok(
        "PUT", f"{API}/settings",
        {"notice_templates": {"created": "已为您登记工单 #{number},请稍候"},
         "duty_manager_id": staff.supervisor.id},
    )  # fmt: skip
    assert changed["notice_templates"] == {"created": "已为您登记工单 #{number},请稍候"}
    assert changed["duty_manager_id"] == staff.supervisor.id
    kept = lead.ok("PUT", f"{API}/settings", {"auto_escalate_unanswered": True})
    assert (kept["duty_manager_id"], kept["auto_escalate_unanswered"]) == (
        staff.supervisor.id,
        True,
    )
    error(
        lead.send("PUT", f"{API}/settings", {"notice_templates": {"shipped": "x"}}),
        422, "invalid", "notice_templates",
    )  # fmt: skip


def test_notifications_are_each_agents_own(app: FastAPI, staff: TicketStaff) -> None:
    lead = Caller(app, staff.supervisor.email)
    made = lead.ok(
        "POST", API, {"type": "aftersale", "title": "换货", "team_id": staff.teams["aftersale"],
                      "assignee_id": staff.aftersale.id}, status=201,
    )  # fmt: skip
    fixer = Caller(app, staff.aftersale.email)
    inbox = fixer.ok("GET", "/api/v1/notifications")
    assert inbox["unread"] == 1
    [note] = inbox["notifications"]
    assert (note["kind"], note["ticket_id"], note["read_at"]) == ("assigned", made["id"], None)
    # Nobody else reads it, or marks it read: to them it does not exist.
    assert lead.ok("GET", "/api/v1/notifications")["unread"] == 0
    error(lead.send("POST", "/api/v1/notifications/read", {"ids": [note["id"]]}), 404, "not_found")
    assert fixer.read("/api/v1/notifications")["unread"] == 1
    assert fixer.ok("POST", "/api/v1/notifications/read", {"ids": None}) == {
        "marked": 1, "unread": 0,
    }  # fmt: skip
    assert fixer.read("/api/v1/notifications", unread_only=True)["notifications"] == []
