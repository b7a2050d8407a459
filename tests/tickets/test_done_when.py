"""Issue 6's "Done when", end to end over the API: an agent turns a complaint chat into a
ticket for 售后, the buyer sees the ticket number in the chat, the 售后 agent sees the SLA
clock, the supervisor is warned before it breaches, and the evening handover lists it for
the next shift.

The story runs on the suite's clock, moved instead of slept: the buyer writes on a Monday
evening at 19:00 (Shanghai), after the shop's working hours (Mon–Fri 09:00–18:00), so the
first response is due four working hours into Tuesday, at 13:00. The evening shift (小刘,
18:00–24:00) hands over at midnight to the morning shift (小张, 09:00–18:00); the
supervisor (主管) is warned at 12:30, half an hour before the deadline; 小张 answers the
buyer in time, and nothing breaches.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kefu.clock import FrozenClock
from kefu.commerce.models import OrderStatus
from kefu.conversations import service as conversations
from kefu.tickets import service as tickets
from tests.conversations.catalogue import add_order, add_product
from tests.factories import PASSWORD, UowFactory
from tests.tickets.conftest import ORDER_NO, TicketStaff, history_fields

API = "/api/v1/tickets"
# Monday 2026-11-23, Shanghai (UTC+8).
EVENING = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # 19:00
MIDNIGHT = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # Tuesday 00:00
DUE = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)  # Tuesday 13:00: four working hours later
WARN = DUE - timedelta(minutes=30)  # the default policy warns half an hour before


class Staff:
    """One member of staff's own client, logged in; writes carry the CSRF token."""

    def __init__(self, app: FastAPI, email: str) -> None:
        self.client = TestClient(app)
        response = self.client.post(
            "/api/v1/auth/login", json={"shop": "tkt", "email": email, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        self.headers = {"X-CSRF-Token": response.json()["csrf_token"]}

    def get(self, url: str, **params: Any) -> Any:
        response = self.client.get(url, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, url: str, body: Any = None, status: int = 200) -> Any:
        response = self.client.post(url, json=body, headers=self.headers)
        assert response.status_code == status, response.text
        return response.json()


class Buyer:
    """A buyer in the shop's chat widget."""

    def __init__(self, app: FastAPI) -> None:
        self.client = TestClient(app)
        session = self.client.post("/api/v1/widget/tkt/session", json={}).json()
        self.customer_id: int = session["customer"]["id"]
        self.headers = {"X-Visitor-Token": session["visitor_token"]}

    def write(self, client_msg_id: str, body: str) -> int:
        response = self.client.post(
            "/api/v1/widget/messages",
            json={"client_msg_id": client_msg_id, "body": body},
            headers=self.headers,
        )
        assert response.status_code == 201, response.text
        conversation_id: int = response.json()["conversation_id"]
        return conversation_id

    def reads(self) -> list[dict[str, Any]]:
        response = self.client.get("/api/v1/widget/messages", headers=self.headers)
        assert response.status_code == 200, response.text
        messages: list[dict[str, Any]] = response.json()["messages"]
        return messages


def _sla(ticket: dict[str, Any], metric: str) -> dict[str, Any]:
    clock: dict[str, Any] = next(c for c in ticket["sla"] if c["metric"] == metric)
    return clock


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture
def shifts(app: FastAPI, staff: TicketStaff, clock: FrozenClock) -> dict[str, int]:
    """售后's day shift (小张, the supervisor on duty) and evening shift (小刘, the owner on
    duty), set up by the supervisor that Monday evening."""
    clock.set(EVENING - timedelta(minutes=30))
    lead = Staff(app, staff.supervisor.email)
    team = staff.teams["aftersale"]
    day = lead.post("/api/v1/shifts", {
        "team_id": team, "name": "早班", "start_time": "09:00", "end_time": "18:00",
        "member_ids": [staff.aftersale2.id], "duty_manager_id": staff.supervisor.id,
    }, status=201)  # fmt: skip
    evening = lead.post("/api/v1/shifts", {
        "team_id": team, "name": "晚班", "start_time": "18:00", "end_time": "24:00",
        "member_ids": [staff.aftersale.id], "duty_manager_id": staff.owner.id,
    }, status=201)  # fmt: skip
    return {"day": day["id"], "evening": evening["id"]}


@pytest.mark.usefixtures("shifts")
def test_a_complaint_chat_becomes_an_aftersale_ticket_watched_warned_and_handed_over(
    app: FastAPI,
    staff: TicketStaff,
    clock: FrozenClock,
    uow_factory: UowFactory,
    db: Engine,
) -> None:
    # --- Monday 19:00: an angry buyer complains in the chat about their order -----------------
    clock.set(EVENING)
    buyer = Buyer(app)
    add_product(uow_factory, staff.shop_id, sku="COAT-1", title="双面羊绒大衣", price="1299.00",
                stock=[("M", "驼色", 3)])  # fmt: skip
    order = add_order(
        uow_factory, staff.shop_id, buyer.customer_id, order_no=ORDER_NO,
        lines=[("COAT-1-1", 1)], status=OrderStatus.DELIVERED,
        created_at=EVENING - timedelta(days=6),
    )  # fmt: skip
    chat = buyer.write(
        "b-1", f"你们的羊绒大衣质量太差了！！洗了一次就起球，订单号{ORDER_NO}，我要投诉"
    )
    # 投诉's front line, 小张, has the chat.
    with uow_factory() as uow:
        conversations.transfer_conversation(
            uow, shop_id=staff.shop_id, conversation_id=chat, by_agent_id=staff.supervisor.id,
            agent_id=staff.aftersale2.id,
        )  # fmt: skip

    # --- the agent turns it into a ticket for 售后 in one click ------------------------------
    front = Staff(app, staff.aftersale2.email)
    draft = front.get(f"{API}/from-conversation/{chat}")
    assert (draft["type"], draft["priority"], draft["order_ids"]) == (
        "complaint", "high", [order.id],
    )  # fmt: skip
    made = front.post(f"{API}/from-conversation/{chat}", {
        "type": "aftersale", "team_id": staff.teams["aftersale"],
        "assignee_id": staff.aftersale.id,
    }, status=201)  # fmt: skip
    ticket_id, number = made["id"], made["number"]
    assert (number, made["type"], made["status"], made["team_name"], made["assignee_name"]) == (
        1001, "aftersale", "open", "售后", "小刘",
    )  # fmt: skip
    assert [c["id"] for c in made["conversations"]] == [chat]
    assert [o["order_no"] for o in made["orders"]] == [ORDER_NO]

    # --- the buyer sees the ticket number in the chat -----------------------------------------
    told = buyer.reads()[-1]
    assert told["sender_type"] == "system"
    assert "工单 #1001" in told["body"] and "售后" in told["body"]

    # --- the 售后 agent sees the SLA clock ----------------------------------------------------
    fixer = Staff(app, staff.aftersale.email)
    seen = fixer.get(f"{API}/{ticket_id}")
    first = _sla(seen, "first_response")
    # Outside working hours the clock stands: 240 working minutes, due Tuesday 13:00.
    assert (first["state"], first["minutes_left"], _at(first["due_at"])) == ("ok", 240, DUE)
    assert _sla(seen, "resolution")["state"] == "ok"
    [row] = fixer.get(API, assignee="me", open_only="true")["tickets"]
    assert (row["number"], row["sla_state"], _at(row["next_due_at"])) == (1001, "ok", DUE)

    # --- midnight: the evening shift's handover lists it for the morning shift -------------------
    clock.set(MIDNIGHT + timedelta(minutes=1))
    assert tickets.write_due_handovers(uow_factory, now=clock.now()) == 1
    clock.set(MIDNIGHT + timedelta(hours=9, minutes=2))  # Tuesday 09:02
    morning = Staff(app, staff.aftersale2.email)  # 小张 starts the day shift
    [report] = morning.get("/api/v1/handovers")["handovers"]
    assert (report["shift_name"], report["next_shift_name"], report["items"]) == ("晚班", "早班", 1)
    handover = morning.get(f"/api/v1/handovers/{report['id']}")
    [item] = handover["item_list"]
    assert item["ticket_id"] == ticket_id and item["title"].startswith("#1001 ")
    assert (_at(item["deadline"]), item["outgoing_name"]) == (DUE, "小刘")
    taken = morning.post(f"/api/v1/handovers/{report['id']}/acknowledge", {"item_ids": None})
    assert taken["acknowledged"] == 1 and taken["item_list"][0]["acknowledged_by_name"] == "小张"

    # --- the supervisor is warned before it breaches (and not before its time) -----------------
    lead = Staff(app, staff.supervisor.email)
    clock.set(WARN - timedelta(minutes=1))
    with uow_factory() as uow:
        assert tickets.check_deadlines(uow, now=clock.now()) == (0, 0)
    assert not _warnings(lead, ticket_id)
    clock.set(WARN + timedelta(minutes=1))  # 12:31
    with uow_factory() as uow:
        assert tickets.check_deadlines(uow, now=clock.now()) == (1, 0)
    [warning] = _warnings(lead, ticket_id)
    assert "#1001" in warning["text"] and "首次响应" in warning["text"]
    assert warning["link"] == f"/tickets/{ticket_id}" and _at(warning["created_at"]) < DUE
    fixer = Staff(app, staff.aftersale.email)
    assert _warnings(fixer, ticket_id)  # the assignee too
    first = _sla(fixer.get(f"{API}/{ticket_id}"), "first_response")
    assert (first["state"], first["minutes_left"]) == ("warning", 29)
    # A second watcher round (another process) warns nobody again.
    with uow_factory() as uow:
        assert tickets.check_deadlines(uow, now=clock.now()) == (0, 0)

    # --- warned in time, the morning shift answers the buyer: nothing breaches ---------------
    clock.set(WARN + timedelta(minutes=10))
    answer = "亲，非常抱歉！新的大衣今天给您发出，旧的那件快递员上门取回，运费我们承担🙏"
    morning.post(f"{API}/{ticket_id}/comments", {"kind": "reply", "body": answer}, status=201)
    assert buyer.reads()[-1]["body"] == answer
    clock.set(DUE + timedelta(minutes=1))
    with uow_factory() as uow:
        assert tickets.check_deadlines(uow, now=clock.now()) == (0, 0)
    first = _sla(lead.get(f"{API}/{ticket_id}"), "first_response")
    assert (first["state"], first["breached"]) == ("met", False)
    assert ("sla", "first_response", "warning") in history_fields(db, ticket_id)


def _warnings(person: Staff, ticket_id: int) -> list[dict[str, Any]]:
    listed = person.get("/api/v1/notifications")["notifications"]
    return [n for n in listed if n["kind"] == "sla_warning" and n["ticket_id"] == ticket_id]
