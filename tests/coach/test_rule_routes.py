"""``/api/v1/coach/rules``: everyone of the shop reads the rules; supervisors, owners and
their tokens change them; a refusal says why in the caller's language and changes nothing."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.accounts.models import Role
from kefu.coach import service as coach
from kefu.coach.defaults import DEFAULT_RULES
from kefu.coach.models import CoachRule
from tests.coach.conftest import SLUG, CoachStaff, Elsewhere
from tests.factories import UowFactory
from tests.tickets.api import Caller, error, token

API = "/api/v1/coach/rules"


def _rows(uow_factory: UowFactory, shop_id: int) -> int:
    with uow_factory() as uow:
        query = select(func.count(CoachRule.id)).where(CoachRule.shop_id == shop_id)
        return uow.session.scalar(query) or 0


def test_everyone_reads_the_rules_and_only_supervisors_change_them(
    app: FastAPI, staff: CoachStaff, uow_factory: UowFactory
) -> None:
    agent = Caller(app, staff.agent.email, shop=SLUG)
    listed = agent.read(API)
    assert [r["code"] for r in listed] == [spec.code for spec in DEFAULT_RULES]
    follow_up = agent.read(f"{API}/missed_follow_up")
    assert (follow_up["kind"], follow_up["minutes"], follow_up["builtin"]) == (
        "follow_up", 10, True,
    )  # fmt: skip
    assert follow_up["updated_at"] is None and follow_up["changed"] is False
    error(agent.send("PATCH", f"{API}/missed_follow_up", {"minutes": 20}), 403, "forbidden")
    error(agent.send("POST", API, {"name": "x", "patterns": ["x"]}), 403, "forbidden")
    error(agent.send("POST", f"{API}/reset"), 403, "forbidden")
    assert _rows(uow_factory, staff.shop_id) == 0

    lead = Caller(app, staff.supervisor.email, shop=SLUG)
    edited = lead.ok("PATCH", f"{API}/missed_follow_up", {"minutes": 20, "enabled": False})
    assert (edited["minutes"], edited["enabled"], edited["changed"]) == (20, False, True)
    assert edited["updated_by_agent_id"] == staff.supervisor.id
    assert agent.read(f"{API}/missed_follow_up")["minutes"] == 20
    # An integration with the owner's role may, one with an agent's may not.
    strong = token(uow_factory, staff)  # type: ignore[arg-type]
    weak = token(uow_factory, staff, Role.AGENT)  # type: ignore[arg-type]
    with TestClient(app) as client:
        answer = client.patch(f"{API}/no_greeting", json={"points": 3}, headers=strong)
        assert answer.status_code == 200, answer.text
        refused = client.patch(f"{API}/no_greeting", json={"points": 4}, headers=weak)
        error(refused, 403, "forbidden")
    assert agent.read(f"{API}/no_greeting")["points"] == 3


def test_a_bad_pattern_is_refused_naming_which_and_why_and_nothing_changes(
    app: FastAPI, staff: CoachStaff, uow_factory: UowFactory
) -> None:
    lead = Caller(app, staff.supervisor.email, shop=SLUG)
    before = lead.read(f"{API}/forbidden_phrases")
    body = {"patterns": ["爱买不买", "(退款"], "points": 30}
    refused = error(lead.send("PATCH", f"{API}/forbidden_phrases", body), 422, "invalid")
    assert refused["field"] == "patterns"
    assert "第 2 条" in refused["message"] and "(退款" in refused["message"]
    assert "missing )" in refused["message"]
    english = lead.client.patch(
        f"{API}/forbidden_phrases", json=body,
        headers={**lead.headers, "Accept-Language": "en"},
    )  # fmt: skip
    assert error(english, 422, "invalid")["message"].startswith("Pattern 2 ((退款) is not valid")
    nested = lead.send("PATCH", f"{API}/forbidden_phrases", {"patterns": ["(哈+)+"]})
    assert "第 1 条" in error(nested, 422, "invalid", "patterns")["message"]
    assert lead.read(f"{API}/forbidden_phrases") == before
    assert _rows(uow_factory, staff.shop_id) == 0
    unknown = lead.send("PATCH", f"{API}/no_apology_angry", {"suggestion": "{customer_name}您好"})
    assert "{customer_name}" in error(unknown, 422, "invalid", "suggestion")["message"]
    for bad, field in (
        ({"minutes": 0}, "minutes"),
        ({"points": 500}, "points"),
        ({"severity": "fatal"}, "severity"),  # pydantic: not one of the choices
        ({"scope": "angry"}, "scope"),  # a timed rule has no scope
        ({"colour": "red"}, "colour"),
    ):
        answer = lead.send("PATCH", f"{API}/missed_follow_up", bad)
        assert answer.status_code == 422, (bad, answer.text)
        assert field in answer.text
    assert _rows(uow_factory, staff.shop_id) == 0


def test_the_shops_own_rules_are_added_deleted_and_reset(
    app: FastAPI, staff: CoachStaff, uow_factory: UowFactory
) -> None:
    lead = Caller(app, staff.supervisor.email, shop=SLUG)
    made = lead.ok(
        "POST", API,
        {"name": "别说亲爱的", "patterns": ["亲爱的"], "scope": "angry", "severity": "major",
         "points": 8, "suggestion": "{customer_surname}{customer_title}"},
        status=201,
    )  # fmt: skip
    assert (made["code"], made["kind"], made["builtin"], made["scope"]) == (
        "custom_1", "pattern", False, "angry",
    )  # fmt: skip
    assert lead.read(API)[-1]["code"] == "custom_1"
    error(lead.send("DELETE", f"{API}/blame_shifting"), 409, "conflict")
    deleted = lead.send("DELETE", f"{API}/custom_1")
    assert deleted.status_code == 204
    error(lead.send("GET", f"{API}/custom_1"), 404, "not_found")
    lead.ok("POST", API, {"name": "第二条", "patterns": ["随便"]}, status=201)
    lead.ok("PATCH", f"{API}/no_closing", {"points": 1})
    back = lead.ok("POST", f"{API}/reset")
    assert [r["code"] for r in back] == [spec.code for spec in DEFAULT_RULES]
    assert not any(r["changed"] for r in back)
    assert _rows(uow_factory, staff.shop_id) == 0
    for url in (f"{API}/nothing_like_it", f"{API}/BAD!", f"{API}/{'x' * 41}"):
        error(lead.send("GET", url), 404, "not_found")


def test_another_shops_rules_are_not_found(
    app: FastAPI, staff: CoachStaff, elsewhere: Elsewhere, uow_factory: UowFactory
) -> None:
    other = elsewhere.staff
    with uow_factory() as uow:
        coach.create_rule(
            uow, shop_id=other.shop.id, agent_id=None, name="别家机密规则", patterns=["别家"]
        )
    owner = Caller(app, staff.owner.email, shop=SLUG)
    assert "别家机密规则" not in owner.client.get(API).text
    error(owner.send("GET", f"{API}/custom_1"), 404, "not_found")
    error(owner.send("PATCH", f"{API}/custom_1", {"name": "抢来的"}), 404, "not_found")
    error(owner.send("DELETE", f"{API}/custom_1"), 404, "not_found")
    with uow_factory() as uow:
        kept = coach.get_rule(uow.session, shop_id=other.shop.id, code="custom_1")
    assert kept.name == "别家机密规则"
