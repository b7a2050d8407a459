"""Tickets over /api/v1/tickets end to end: a chat becomes a ticket and is worked to the end,
an API token works tickets as "api", session writes need the CSRF token, lists filter and
search in Chinese, bulk changes are all or nothing, bad input is named and writes nothing,
another shop's ids are 404, and every route is described (OpenAPI, docs/TICKETS_API.md)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kefu.tickets.models import TicketPriority, TicketStatus, TicketType
from tests.factories import UowFactory
from tests.tickets.api import API, Caller, error, token
from tests.tickets.conftest import (
    BuyerChat,
    Elsewhere,
    TicketStaff,
    chat_lines,
    make_ticket,
    snapshot,
)


@pytest.fixture
def fixer(app: FastAPI, staff: TicketStaff) -> Caller:
    """小刘 of 售后, who has the angry buyer's chat."""
    return Caller(app, staff.aftersale.email)


# --------------------------------------------------------------------------- the story
def test_a_complaint_chat_becomes_a_ticket_worked_to_the_end_over_the_api(
    fixer: Caller, staff: TicketStaff, buyer_chat: BuyerChat, db: Engine
) -> None:
    conversation = buyer_chat.conversation_id
    drafted = fixer.ok("GET", f"{API}/from-conversation/{conversation}")
    # The buyer was angry ("太过分了！！我要投诉"): a complaint, high priority.
    assert (drafted["type"], drafted["priority"], drafted["customer_name"]) == (
        "complaint", "high", "王女士",
    )  # fmt: skip
    made = fixer.ok(
        "POST", f"{API}/from-conversation/{conversation}",
        {"team_id": staff.teams["aftersale"], "assignee_id": staff.aftersale.id},
        status=201,
    )  # fmt: skip
    ticket_id, number = made["id"], made["number"]
    assert number == 1001
    assert (made["type"], made["status"], made["title"]) == ("complaint", "open", drafted["title"])
    assert made["requester"] == {"kind": "customer", "id": buyer_chat.customer_id, "name": "王女士"}
    assert [c["id"] for c in made["conversations"]] == [conversation]
    assert (made["team_name"], made["assignee_name"]) == ("售后", "小刘")
    # The 售后 agent sees the SLA clocks (the default complaint policy, in working hours).
    assert {c["metric"] for c in made["sla"]} >= {"first_response", "resolution"}
    assert all(c["state"] == "ok" and c["minutes_left"] > 0 for c in made["sla"])
    # The buyer reads the number in the chat.
    assert any("#1001" in line for line in chat_lines(db, conversation))

    url = f"{API}/{ticket_id}"
    changed = fixer.ok("PATCH", url, {"priority": "urgent", "tags": ["质量问题"]})
    assert (changed["priority"], changed["tags"]) == ("urgent", ["质量问题"])
    noted = fixer.ok(
        "POST", f"{url}/comments", {"kind": "note", "body": "@小张 请帮忙看下照片"}, status=201
    )
    assert noted["mentions"] == [{"agent_id": staff.aftersale2.id, "name": "小张"}]
    assert fixer.ok("POST", f"{url}/status", {"status": "solved"})["status"] == "solved"
    # Solved moves back only by reopening.
    error(fixer.send("POST", f"{url}/status", {"status": "open"}), 409, "conflict")
    reopened = fixer.ok("POST", f"{url}/reopen", {"reason": "买家说还是有破洞"})
    assert reopened["status"] == "open"
    assert fixer.ok("POST", f"{url}/status", {"status": "closed"})["status"] == "closed"
    # Closed is final.
    refused = error(fixer.send("POST", f"{url}/reopen", {}), 409, "conflict")
    assert "#1001" in refused["message"]
    history = fixer.ok("GET", f"{url}/history")
    assert history[0]["field"] == "created"
    assert {"priority", "tags", "status"} <= {row["field"] for row in history}
    assert {row["actor_name"] for row in history} == {"小刘"}
    assert [c["body"] for c in fixer.ok("GET", f"{url}/comments")] == ["@小张 请帮忙看下照片"]


def test_an_api_token_works_tickets_as_api_and_nobody_in_particular(
    app: FastAPI, uow_factory: UowFactory, staff: TicketStaff
) -> None:
    with TestClient(app, headers=token(uow_factory, staff)) as erp:
        made = erp.post(
            API, json={"type": "fault", "title": "支付页面打不开", "priority": "urgent",
                       "team_id": staff.teams["aftersale"]},
        )  # fmt: skip
        assert made.status_code == 201, made.text  # no CSRF token: a bearer token is no cookie
        ticket = made.json()
        assert (ticket["created_by_agent_id"], ticket["status"]) == (None, "new")
        assert [(h["actor"], h["actor_name"]) for h in ticket["history"]] == [("api", "API")]
        moved = erp.post(f"{API}/{ticket['id']}/status", json={"status": "pending_internal"})
        assert moved.json()["history"][-1]["actor"] == "api"
        # What needs a person says so.
        error(erp.get(API, params={"assignee": "me"}), 422, "invalid", "assignee")
        reply = erp.post(f"{API}/{ticket['id']}/comments", json={"kind": "reply", "body": "好的"})
        error(reply, 422, "invalid")
        error(erp.post(f"{API}/views", json={"name": "集成", "filters": {}}), 403, "forbidden")
        assert erp.get("/api/v1/notifications").json() == {"unread": 0, "notifications": []}
        listed = erp.get(API, params={"type": "fault"}).json()
        assert (listed["total"], listed["tickets"][0]["number"]) == (1, ticket["number"])


def test_a_session_write_without_the_csrf_token_writes_nothing(
    app: FastAPI, staff: TicketStaff, db: Engine
) -> None:
    agent = Caller(app, staff.agent.email)
    before = snapshot(db)
    response = agent.client.post(API, json={"type": "other", "title": "没有令牌"})
    error(response, 403, "csrf_failed")
    assert snapshot(db) == before
    assert agent.ok("POST", API, {"type": "other", "title": "有令牌"}, status=201)["number"] == 1001


# --------------------------------------------------------------------------- lists
def test_the_list_filters_and_searches_in_chinese(
    app: FastAPI, uow_factory: UowFactory, staff: TicketStaff, buyer_chat: BuyerChat
) -> None:
    aftersale = staff.teams["aftersale"]
    coat = make_ticket(
        uow_factory, staff, title="大衣退货申请", team_id=aftersale, tags=["退货"],
        conversation_ids=[buyer_chat.conversation_id], tell_buyer=False,
    )  # fmt: skip
    page = make_ticket(
        uow_factory, staff, type=TicketType.FAULT, title="支付页面报错",
        priority=TicketPriority.URGENT,
    )  # fmt: skip
    caller = Caller(app, staff.agent.email)

    def numbers(**params: Any) -> list[int]:
        response = caller.get(API, **params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] >= len(body["tickets"])
        return [t["number"] for t in body["tickets"]]

    assert numbers() == [page.number, coat.number]
    assert numbers(q="退貨") == [coat.number]  # 繁體 finds 简体
    assert numbers(q=f"#{page.number}") == [page.number]
    assert numbers(q="王芳") == [coat.number]  # the requesting buyer
    assert numbers(type="fault") == [page.number]
    assert numbers(team_id=aftersale) == [coat.number]
    assert numbers(assignee="none") == [page.number, coat.number]
    assert numbers(tag="退货") == [coat.number]
    assert numbers(conversation_id=buyer_chat.conversation_id) == [coat.number]
    assert numbers(status=["new", "open"], priority="urgent") == [page.number]
    assert numbers(sla="ok") == [page.number, coat.number]
    assert numbers(sort="priority", limit=1) == [page.number]
    paged = caller.get(API, limit=1, offset=1).json()
    assert (paged["total"], [t["number"] for t in paged["tickets"]]) == (2, [coat.number])
    row = caller.get(API, q="退货").json()["tickets"][0]
    assert (row["team_name"], row["requester_name"], row["tags"], row["sla_state"]) == (
        "售后", "王女士", ["退货"], "ok",
    )  # fmt: skip
    # Bad filters are named.
    error(caller.get(API, sort="number"), 422, "invalid", "sort")
    error(caller.get(API, assignee="小美"), 422, "invalid", "assignee")
    error(caller.get(API, sla="late"), 422, "invalid", "sla")
    error(caller.get(API, q="退\x00货"), 422, "invalid", "q")
    error(caller.get(API, status="done"), 422, "validation_failed")
    error(caller.get(API, limit=500), 422, "validation_failed")


def test_a_bulk_change_is_all_or_nothing(
    app: FastAPI, uow_factory: UowFactory, staff: TicketStaff, db: Engine
) -> None:
    first = make_ticket(uow_factory, staff, title="第一张")
    second = make_ticket(uow_factory, staff, title="第二张")
    closed = make_ticket(uow_factory, staff, title="已关闭的")
    caller = Caller(app, staff.supervisor.email)
    caller.ok("POST", f"{API}/{closed.id}/status", {"status": "closed"})
    before = snapshot(db)
    everything = [first.id, second.id, closed.id]
    refused = caller.send(
        "POST", f"{API}/bulk", {"ticket_ids": everything, "status": "pending_internal"}
    )
    assert refused.status_code in (409, 422), refused.text
    assert f"#{closed.number}" in refused.json()["error"]["message"]
    assert snapshot(db) == before  # not even the first two changed
    done = caller.ok(
        "POST", f"{API}/bulk",
        {"ticket_ids": [first.id, second.id], "priority": "high", "add_tags": ["批量"],
         "team_id": staff.teams["aftersale"], "assignee_id": staff.aftersale.id},
    )  # fmt: skip
    assert done == {"updated": 2}
    rows = caller.get(API, tag="批量").json()["tickets"]
    assert {(r["number"], r["priority"], r["assignee_name"], r["status"]) for r in rows} == {
        (first.number, "high", "小刘", "open"),
        (second.number, "high", "小刘", "open"),
    }
    error(caller.send("POST", f"{API}/bulk", {"ticket_ids": []}), 422, "validation_failed")


def test_another_shops_ids_are_nothing_here(
    app: FastAPI, uow_factory: UowFactory, staff: TicketStaff, elsewhere: Elsewhere, db: Engine
) -> None:
    theirs = make_ticket(uow_factory, elsewhere.staff, title="别家店的工单")
    ours = make_ticket(uow_factory, staff, title="本店工单")
    caller = Caller(app, staff.owner.email)
    before = snapshot(db)
    for method, url, body in (
        ("GET", f"{API}/{theirs.id}", None),
        ("PATCH", f"{API}/{theirs.id}", {"title": "改别家的"}),
        ("POST", f"{API}/{theirs.id}/status", {"status": "closed"}),
        ("POST", f"{API}/{theirs.id}/merge", {"target_id": ours.id}),
        ("GET", f"{API}/{theirs.id}/history", None),
        ("GET", f"{API}/from-conversation/{elsewhere.conversation_id}", None),
    ):
        response = caller.send(method, url, body)
        error(response, 404, "not_found")
        assert "别家" not in response.text
    # Our ticket cannot reach their rows either: named, refused, nothing written.
    for url in (
        f"{API}/{ours.id}/conversations/{elsewhere.conversation_id}",
        f"{API}/{ours.id}/orders/{elsewhere.order_id}",
    ):
        response = caller.send("POST", url)
        assert response.status_code in (404, 422), response.text
        assert "别家" not in response.text
    response = caller.send("POST", f"{API}/{ours.id}/merge", {"target_id": theirs.id})
    assert response.status_code in (404, 422), response.text
    response = caller.send("POST", f"{API}/{ours.id}/assign", {"team_id": elsewhere.team_id})
    error(response, 422, "invalid", "team_id")
    assert snapshot(db) == before
    assert caller.get(API, customer_id=elsewhere.customer_id).json() == {"total": 0, "tickets": []}


def test_every_ticket_route_is_described_in_the_openapi_schema(client: TestClient) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    described = {
        (method.upper(), path): bool(operation.get("description"))
        for path, methods in schema["paths"].items()
        if path.startswith(("/api/v1/tickets", "/api/v1/notifications"))
        for method, operation in methods.items()
    }
    assert len(described) >= 30, described
    assert [route for route, ok in described.items() if not ok] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "refund", "title": "x"}, "type"),
        ({"type": "other"}, "title"),
        ({"type": "other", "title": "x", "team_id": 0}, "team_id"),
        ({"type": "other", "title": "x", "colour": "red"}, "colour"),
        ({"type": "other", "title": "x", "conversation_ids": "1"}, "conversation_ids"),
    ],
)
def test_a_malformed_ticket_is_refused_naming_the_field(
    app: FastAPI, staff: TicketStaff, db: Engine, body: dict[str, Any], field: str
) -> None:
    caller = Caller(app, staff.agent.email)
    before = snapshot(db)
    refused = error(caller.send("POST", API, body), 422, "validation_failed")
    assert field in [d["field"] for d in refused["details"]], refused
    assert snapshot(db) == before


@pytest.mark.parametrize(
    ("body", "status", "key_field"),
    [
        ({"type": "other", "title": ""}, 422, "title"),
        ({"type": "other", "title": "长" * 201}, 422, "title"),
        ({"type": "other", "title": "x", "tags": ["长" * 41]}, 422, "tags"),
    ],
)
def test_a_ticket_the_service_refuses_says_why(
    app: FastAPI, staff: TicketStaff, db: Engine, body: dict[str, Any], status: int,
    key_field: str,
) -> None:  # fmt: skip
    caller = Caller(app, staff.agent.email)
    before = snapshot(db)
    error(caller.send("POST", API, body), status, "invalid", key_field)
    assert snapshot(db) == before


def test_assigning_to_an_agent_outside_the_team_is_refused(
    app: FastAPI, uow_factory: UowFactory, staff: TicketStaff, db: Engine
) -> None:
    ticket = make_ticket(uow_factory, staff, team_id=staff.teams["aftersale"])
    caller = Caller(app, staff.supervisor.email)
    before = snapshot(db)
    refused = error(
        caller.send("POST", f"{API}/{ticket.id}/assign", {"assignee_id": staff.agent.id}),
        422, "invalid", "assignee_id",
    )  # fmt: skip
    assert "小美" in refused["message"]
    assert snapshot(db) == before
    done = caller.ok("POST", f"{API}/{ticket.id}/assign", {"assignee_id": staff.aftersale.id})
    assert (done["assignee_name"], done["status"]) == ("小刘", TicketStatus.OPEN.value)


def test_the_api_document_shows_every_ticket_route(app: FastAPI) -> None:
    """docs/TICKETS_API.md names each route of the tickets API (any parameter name)."""
    text = (Path(__file__).parents[2] / "docs" / "TICKETS_API.md").read_text(encoding="utf-8")
    prefixes = ("/api/v1/tickets", "/api/v1/notifications", "/api/v1/shifts", "/api/v1/handovers")
    paths = {getattr(r, "path", "") for r in iter_route_contexts(app.routes)}
    routes = sorted(p for p in paths if p.startswith(prefixes))
    assert len(routes) >= 30, routes
    missing = []
    for path in routes:
        pattern = re.sub(r"\\\{\w+\\\}", r"\\{\\w+\\}", re.escape(path)) + r"(?![\w/])"
        if not re.search(pattern, text):
            missing.append(path)
    assert missing == []
