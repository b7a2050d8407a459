"""Shifts, handovers and escalations over REST: supervisors set shifts up and everyone reads
them; a person hands over and acknowledges; an API token escalates a question as "api";
the duty manager's answer and its KB entry; another shop's ids are 404."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kefu.accounts import auth
from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.clock import FrozenClock
from kefu.kb import service as kb
from tests.factories import PASSWORD, UowFactory
from tests.tickets.conftest import BuyerChat, Elsewhere, TicketStaff, chat_lines
from tests.tickets.shiftkit import local

SHIFTS, HANDOVERS, TICKETS = "/api/v1/shifts", "/api/v1/handovers", "/api/v1/tickets"


class Caller:
    """A member of staff's session; writes carry the CSRF token."""

    def __init__(self, app: FastAPI, email: str, shop: str = "tkt") -> None:
        self.client = TestClient(app)
        response = self.client.post(
            "/api/v1/auth/login", json={"shop": shop, "email": email, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        self.headers = {"X-CSRF-Token": response.json()["csrf_token"]}

    def send(self, method: str, url: str, body: Any = None) -> Any:
        return self.client.request(method, url, json=body, headers=self.headers)

    def ok(self, method: str, url: str, body: Any = None, status: int = 200) -> Any:
        response = self.send(method, url, body)
        assert response.status_code == status, response.text
        return response.json()


def _token(uow_factory: UowFactory, staff: TicketStaff) -> dict[str, str]:
    owner = Principal(
        shop_id=staff.shop_id, role=Role.OWNER, agent_id=staff.owner.id, name="掌柜",
        via="session", credential_id=0,
    )  # fmt: skip
    with uow_factory() as uow:
        raw = auth.create_api_token(
            uow, shop_id=staff.shop_id, name="排班系统", role=Role.SUPERVISOR, created_by=owner
        ).raw
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def lead(app: FastAPI, staff: TicketStaff) -> Caller:
    return Caller(app, staff.supervisor.email)


def _day_and_evening(lead: Caller, staff: TicketStaff) -> tuple[dict, dict]:
    day = lead.ok("POST", SHIFTS, {
        "team_id": staff.teams["aftersale"], "name": "白班", "start_time": "09:00",
        "end_time": "18:00", "member_ids": [staff.aftersale.id],
        "duty_manager_id": staff.supervisor.id,
    }, status=201)  # fmt: skip
    evening = lead.ok("POST", SHIFTS, {
        "team_id": staff.teams["aftersale"], "name": "晚班", "start_time": "18:00",
        "end_time": "24:00", "member_ids": [staff.aftersale2.id],
    }, status=201)  # fmt: skip
    return day, evening


def test_shifts_are_set_up_by_supervisors_and_read_by_everyone(
    app: FastAPI, lead: Caller, staff: TicketStaff
) -> None:
    day, evening = _day_and_evening(lead, staff)
    assert day["members"] == [{"id": staff.aftersale.id, "name": "小刘"}]
    assert (day["team_name"], day["duty_manager_name"]) == ("售后", "主管")
    assert evening["end_time"] == "00:00"
    agent = Caller(app, staff.aftersale.email)
    listed = agent.ok("GET", SHIFTS)
    assert [s["name"] for s in listed] == ["白班", "晚班"]
    refused = agent.send("POST", SHIFTS, {"team_id": staff.teams["aftersale"], "name": "x",
                                          "start_time": "01:00", "end_time": "02:00"})  # fmt: skip
    assert refused.status_code == 403
    # PATCH: only what is sent; null clears the duty manager.
    patched = lead.ok(
        "PATCH", f"{SHIFTS}/{day['id']}", {"duty_manager_id": None, "end_time": "17:30"}
    )
    assert (patched["duty_manager_id"], patched["end_time"], patched["members"]) == (
        None, "17:30", day["members"],
    )  # fmt: skip
    assert lead.ok("DELETE", f"{SHIFTS}/{evening['id']}") == {"removed": True}
    assert agent.send("GET", f"{SHIFTS}/{evening['id']}").status_code == 404


def test_a_bad_shift_is_refused_by_name(lead: Caller, staff: TicketStaff) -> None:
    response = lead.send("POST", SHIFTS, {
        "team_id": staff.teams["aftersale"], "name": "早班", "start_time": "08:00",
        "end_time": "16:00", "member_ids": [staff.agent.id],
    })  # fmt: skip
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("invalid", "member_ids")
    assert error["message"] == "小美 不是售后组的成员：请先在员工页把 TA 加入该组"
    response = lead.send("POST", SHIFTS, {
        "team_id": staff.teams["aftersale"], "name": "早班", "start_time": "8点",
        "end_time": "16:00",
    })  # fmt: skip
    assert response.json()["error"]["field"] == "start_time"


def test_a_handover_over_the_api(
    app: FastAPI, lead: Caller, clock: FrozenClock, staff: TicketStaff, buyer_chat: BuyerChat
) -> None:
    day, _ = _day_and_evening(lead, staff)
    clock.set(local(23, "17:50"))
    outgoing = Caller(app, staff.aftersale.email)
    report = outgoing.ok("POST", HANDOVERS, {"shift_id": day["id"], "note": "注意王芳"}, status=201)
    assert (report["shift_name"], report["next_shift_name"], report["note"]) == (
        "白班",
        "晚班",
        "注意王芳",
    )
    assert report["period_end"] == "2026-11-23T10:00:00Z"
    [item] = report["item_list"]
    assert (item["kind"], item["conversation_id"], item["state"]) == (
        "conversation", buyer_chat.conversation_id, "waiting",
    )  # fmt: skip
    again = outgoing.send("POST", HANDOVERS, {"shift_id": day["id"]})
    assert again.status_code == 409
    assert (
        again.json()["error"]["message"]
        == f"班次「白班」这一班已经交过班了（交班报告 #{report['id']}）"
    )

    incoming = Caller(app, staff.aftersale2.email)
    done = incoming.ok("POST", f"{HANDOVERS}/{report['id']}/acknowledge", {"item_ids": None})
    assert (done["acknowledged"], done["items"]) == (1, 1)
    assert done["item_list"][0]["acknowledged_by_name"] == "小张"
    listed = incoming.ok("GET", HANDOVERS)
    assert listed["total"] == 1 and listed["handovers"][0]["id"] == report["id"]


def test_a_token_reads_but_does_not_hand_over(
    app: FastAPI, lead: Caller, uow_factory: UowFactory, staff: TicketStaff
) -> None:
    day, _ = _day_and_evening(lead, staff)
    client = TestClient(app)
    headers = _token(uow_factory, staff)
    assert client.get(SHIFTS, headers=headers).status_code == 200
    refused = client.post(HANDOVERS, json={"shift_id": day["id"]}, headers=headers)
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "只有店铺员工本人可以这样做，API 令牌不行"


def test_an_escalation_from_a_token_answered_and_added_to_the_kb(
    app: FastAPI, lead: Caller, uow_factory: UowFactory, db: Engine, staff: TicketStaff,
    buyer_chat: BuyerChat,
) -> None:  # fmt: skip
    client = TestClient(app)
    headers = _token(uow_factory, staff)
    created = client.post(
        f"{TICKETS}/escalations",
        json={"question": "可以开专票吗", "conversation_id": buyer_chat.conversation_id},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    ticket = created.json()
    assert (ticket["type"], ticket["assignee_name"], ticket["created_by_agent_id"]) == (
        "escalation", "主管", None,
    )  # fmt: skip
    # A token does not answer for the duty manager.
    refused = client.post(
        f"{TICKETS}/{ticket['id']}/escalation/answer", json={"answer": "可以"}, headers=headers
    )
    assert refused.status_code == 403
    answered = lead.ok("POST", f"{TICKETS}/{ticket['id']}/escalation/answer",
                       {"answer": "可以，下单时备注税号即可。"})  # fmt: skip
    assert (answered["status"], answered["answer"]) == ("solved", "可以，下单时备注税号即可。")
    assert chat_lines(db, buyer_chat.conversation_id)[-1] == "可以，下单时备注税号即可。"
    phrasings = ["可以开专票吗", "能开增值税专用发票吗"]
    in_kb = lead.ok("POST", f"{TICKETS}/{ticket['id']}/escalation/kb",
                    {"questions": phrasings, "category": "发票"})  # fmt: skip
    entry_id = in_kb["kb_entry_id"]
    with uow_factory() as uow:
        entry = kb.get_entry(uow.session, shop_id=staff.shop_id, entry_id=entry_id)
    assert entry.questions == phrasings
    twice = lead.send("POST", f"{TICKETS}/{ticket['id']}/escalation/kb", {})
    assert twice.status_code == 409


def test_an_agent_escalates_only_chats_they_may_see(
    app: FastAPI, staff: TicketStaff, buyer_chat: BuyerChat
) -> None:
    # 小美 works 售前; 王芳's chat is 小刘's in 售后.
    agent = Caller(app, staff.agent.email)
    body = {"question": "运费险怎么理赔？", "conversation_id": buyer_chat.conversation_id}
    refused = agent.send("POST", f"{TICKETS}/escalations", body)
    assert refused.status_code in (403, 404)
    mine = Caller(app, staff.aftersale.email)
    created = mine.ok("POST", f"{TICKETS}/escalations", body, status=201)
    assert created["title"] == "运费险怎么理赔？"


def test_another_shops_ids_are_not_found(
    app: FastAPI, lead: Caller, staff: TicketStaff, elsewhere: Elsewhere
) -> None:
    day, _ = _day_and_evening(lead, staff)
    report = Caller(app, staff.aftersale.email).ok(
        "POST", HANDOVERS, {"shift_id": day["id"]}, status=201
    )
    stranger = Caller(app, elsewhere.staff.supervisor.email, shop=elsewhere.staff.shop.slug)
    assert stranger.send("GET", f"{SHIFTS}/{day['id']}").status_code == 404
    assert stranger.send("PATCH", f"{SHIFTS}/{day['id']}", {"name": "x"}).status_code == 404
    assert stranger.send("DELETE", f"{SHIFTS}/{day['id']}").status_code == 404
    assert stranger.send("GET", f"{HANDOVERS}/{report['id']}").status_code == 404
    assert stranger.send("POST", f"{HANDOVERS}/{report['id']}/acknowledge", {}).status_code == 404
    assert stranger.send("POST", HANDOVERS, {"shift_id": day["id"]}).status_code == 404
    assert stranger.ok("GET", HANDOVERS) == {"total": 0, "handovers": []}
