"""``/api/v1/coach/phrases``: an agent's own and the shared phrases, searched as the
composer types, filled in for a conversation the caller may work, and counted when used."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from kefu.accounts.models import Role
from tests.coach.conftest import SLUG, ChatFactory, CoachStaff, Elsewhere
from tests.factories import UowFactory
from tests.tickets.api import Caller, error, token

API = "/api/v1/coach/phrases"
HOSTILE = "<script>alert(1)</script>{customer_title}"


def test_agents_keep_their_own_phrases_and_supervisors_the_shared_ones(
    app: FastAPI, staff: CoachStaff, uow_factory: UowFactory
) -> None:
    agent = Caller(app, staff.agent.email, shop=SLUG)
    lead = Caller(app, staff.supervisor.email, shop=SLUG)
    own = agent.ok("POST", API, {"shortcut": "/退货", "body": "亲，退货请在订单页申请"}, status=201)
    assert (own["shortcut"], own["shared"], own["owner_agent_id"]) == (
        "退货",
        False,
        staff.agent.id,
    )
    error(agent.send("POST", API, {"shortcut": "发货", "body": "48 小时内", "shared": True}),
          403, "forbidden")  # fmt: skip
    shared = lead.ok(
        "POST", API, {"shortcut": "发货", "title": "发货时间", "body": "48 小时内发货",
                      "shared": True}, status=201,
    )  # fmt: skip
    assert shared["shared"] is True and shared["owner_agent_id"] is None
    listed = agent.read(API)
    assert [p["id"] for p in listed["phrases"]] == [own["id"], shared["id"]]
    assert listed["variables"] is None
    assert [p["id"] for p in lead.read(API)["phrases"]] == [shared["id"]]
    # One namespace per agent: the shared shortcut is taken, by name.
    clash = error(agent.send("POST", API, {"shortcut": "发货", "body": "x"}), 409, "conflict")
    assert "发货时间" in clash["message"] and "/发货" in clash["message"]
    # Changing: the owner of a personal phrase only; shared ones, supervisors.
    error(lead.send("PATCH", f"{API}/{own['id']}", {"title": "主管改"}), 404, "not_found")
    error(agent.send("PATCH", f"{API}/{shared['id']}", {"title": "客服改"}), 403, "forbidden")
    changed = agent.ok("PATCH", f"{API}/{own['id']}", {"title": "退货怎么办", "body": HOSTILE})
    assert (changed["title"], changed["body"]) == ("退货怎么办", HOSTILE)
    error(agent.send("DELETE", f"{API}/{shared['id']}"), 403, "forbidden")
    assert agent.send("DELETE", f"{API}/{own['id']}").status_code == 204
    assert [p["id"] for p in agent.read(API)["phrases"]] == [shared["id"]]
    # An integration reads and writes the shared ones, never personal ones.
    with TestClient(app, headers=token(uow_factory, staff)) as integration:  # type: ignore[arg-type]
        assert [p["id"] for p in integration.get(API).json()["phrases"]] == [shared["id"]]
        personal = integration.post(API, json={"shortcut": "erp", "body": "x"})
        error(personal, 403, "forbidden")
        made = integration.post(API, json={"shortcut": "erp", "body": "x", "shared": True})
        assert made.status_code == 201, made.text
    weak = token(uow_factory, staff, Role.AGENT)  # type: ignore[arg-type]
    with TestClient(app, headers=weak) as integration:
        error(integration.patch(f"{API}/{shared['id']}", json={"title": "x"}), 403, "forbidden")


def test_bad_phrases_are_refused_by_field(app: FastAPI, staff: CoachStaff) -> None:
    agent = Caller(app, staff.agent.email, shop=SLUG)
    for body, field in (
        ({"shortcut": "退 货", "body": "x"}, "shortcut"),
        ({"shortcut": "a" * 31, "body": "x"}, "shortcut"),
        ({"shortcut": "t", "body": ""}, "body"),
        ({"shortcut": "t", "body": "字" * 1001}, "body"),
        ({"shortcut": "t", "title": "题" * 61, "body": "x"}, "title"),
        ({"shortcut": "t", "body": "{customer}您好"}, "body"),
    ):
        answer = error(agent.send("POST", API, body), 422, "invalid", field)
        assert answer["message"], body
    unknown = agent.send("POST", API, {"shortcut": "t", "body": "{customer}您好"})
    assert "{customer}" in unknown.json()["error"]["message"]
    assert error(agent.send("POST", API, {"shortcut": "t", "body": "x", "owner": 1}),
                 422, "validation_failed")  # fmt: skip
    assert agent.read(API)["phrases"] == []


def test_phrases_are_searched_and_filled_in_for_a_conversation_the_caller_may_work(
    app: FastAPI, staff: CoachStaff, chat: ChatFactory, elsewhere: Elsewhere
) -> None:
    shouhou = Caller(app, staff.aftersale.email, shop=SLUG)
    greet = shouhou.ok(
        "POST", API, {"shortcut": "问候", "body": "{customer_surname}{customer_title}您好"},
        status=201,
    )  # fmt: skip
    shouhou.ok("POST", API, {"shortcut": "退货运费", "body": "运费我们出"}, status=201)
    shouhou.ok("POST", API, {"shortcut": "运费", "body": "退貨運費險"}, status=201)
    found = shouhou.read(API, q="/退货")["phrases"]
    assert [p["shortcut"] for p in found] == ["退货运费", "运费"]
    assert [p["shortcut"] for p in shouhou.read(API, q="退貨", limit=1)["phrases"]] == ["退货运费"]
    c = chat(agent=staff.aftersale, name="王芳", gender="F")
    filled = shouhou.read(API, q="问候", conversation_id=c.conversation_id)
    assert filled["phrases"][0]["rendered"] == "王女士您好"
    assert filled["variables"]["shop"] == "qa-shop 旗舰店"
    used = shouhou.ok("POST", f"{API}/{greet['id']}/use?conversation_id={c.conversation_id}")
    assert (used["text"], used["use_count"]) == ("王女士您好", 1)
    assert shouhou.ok("POST", f"{API}/{greet['id']}/use")["text"] == "亲您好"
    # Another team's conversation (小美 is 售前) is 403, another shop's is 404.
    presale = Caller(app, staff.agent.email, shop=SLUG)
    error(presale.send("GET", f"{API}?conversation_id={c.conversation_id}"), 403, "forbidden")
    error(shouhou.send("GET", f"{API}?conversation_id={elsewhere.conversation_id}"),
          404, "not_found")  # fmt: skip
    foreign = f"{API}/{greet['id']}/use?conversation_id={elsewhere.conversation_id}"
    error(shouhou.send("POST", foreign), 404, "not_found")
    error(presale.send("POST", f"{API}/{greet['id']}/use"), 404, "not_found")
    assert shouhou.read(API, q="问候")["phrases"][0]["use_count"] == 2
