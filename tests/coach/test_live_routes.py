"""``POST /api/v1/coach/check`` as the desk calls it on every typing pause: the hints as
JSON, refusals in the caller's language, the desk's access rule, and nothing written."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from kefu.accounts import auth
from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.coach.live import ANALYSED_CHARS, MAX_DRAFT
from tests.coach.conftest import SLUG, ChatFactory, CoachStaff, Elsewhere
from tests.factories import PASSWORD, UowFactory

URL = "/api/v1/coach/check"
ANGRY = "你们的东西质量太差了，我要退款"
REFUND = "那你退款好了"


def log_in(client: TestClient, email: str) -> dict[str, str]:
    response = client.post(
        "/api/v1/auth/login", json={"shop": SLUG, "email": email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf_token"]}


def token(uow_factory: UowFactory, staff: CoachStaff) -> dict[str, str]:
    owner = Principal(
        shop_id=staff.shop_id, role=Role.OWNER, agent_id=staff.owner.id, name="掌柜",
        via="session", credential_id=0,
    )  # fmt: skip
    with uow_factory() as uow:
        raw = auth.create_api_token(
            uow, shop_id=staff.shop_id, name="ERP", role=Role.SUPERVISOR, created_by=owner
        ).raw
    return {"Authorization": f"Bearer {raw}"}


def test_the_desk_gets_hints_spans_and_the_apology_opening(
    app: FastAPI, staff: CoachStaff, chat: ChatFactory, db: Engine
) -> None:
    c = chat(name="王芳", gender="F").buyer(ANGRY)
    with TestClient(app) as client:
        headers = log_in(client, staff.aftersale.email)
        written: list[str] = []

        def record(*args: object) -> None:
            statement = str(args[2])
            verb = statement.lstrip().split(None, 1)[0].upper()
            if verb in ("INSERT", "UPDATE", "DELETE"):
                written.append(statement)

        event.listen(db, "before_cursor_execute", record)
        try:
            response = client.post(
                URL, json={"conversation_id": c.conversation_id, "text": REFUND}, headers=headers
            )
        finally:
            event.remove(db, "before_cursor_execute", record)
    assert response.status_code == 200, response.text
    assert written == []  # called on every pause: it must never write
    body = response.json()
    assert set(body) == {
        "hits", "buyer_angry", "complaint", "apology_template", "truncated", "analysed_chars",
        "elapsed_ms",
    }  # fmt: skip
    refund = next(h for h in body["hits"] if h["code"] == "refund_first")
    assert set(refund) == {
        "code", "name", "description", "severity", "points", "start", "end", "excerpt",
        "suggestion",
    }  # fmt: skip
    assert refund["name"] == "首句推退款" and refund["severity"] == "major"
    assert "退款" in REFUND[refund["start"] : refund["end"]]
    assert refund["suggestion"].startswith("王女士")
    assert {"no_apology_angry", "no_greeting"} <= {h["code"] for h in body["hits"]}
    assert body["complaint"] is True
    assert body["apology_template"].startswith("王女士")
    assert body["truncated"] is False and body["analysed_chars"] == ANALYSED_CHARS
    assert isinstance(body["elapsed_ms"], float)


def test_drafts_up_to_the_limit_are_read_and_longer_ones_refused_clearly(
    app: FastAPI, staff: CoachStaff, chat: ChatFactory
) -> None:
    c = chat().buyer(ANGRY)
    with TestClient(app) as client:
        headers = log_in(client, staff.aftersale.email)
        longest = REFUND + "好" * (MAX_DRAFT - len(REFUND))
        ok = client.post(URL, json={"conversation_id": c.conversation_id, "text": longest},
                         headers=headers)  # fmt: skip
        assert ok.status_code == 200, ok.text
        assert ok.json()["truncated"] is True
        too_long = {"conversation_id": c.conversation_id, "text": longest + "好"}
        refused = client.post(URL, json=too_long, headers=headers)
        assert refused.status_code == 422
        error = refused.json()["error"]
        assert error["code"] == "invalid" and error["field"] == "text"
        assert "20001" in error["message"] and "20000" in error["message"]
        assert "草稿" in error["message"]
        english = client.post(URL, json=too_long, headers={**headers, "Accept-Language": "en"})
        assert "draft" in english.json()["error"]["message"].lower()
        # Malformed bodies are refused before anything is read.
        for bad in ({"conversation_id": c.conversation_id}, {"text": "好"},
                    {"conversation_id": 0, "text": "好"},
                    {"conversation_id": c.conversation_id, "text": "好", "extra": 1}):  # fmt: skip
            assert client.post(URL, json=bad, headers=headers).status_code == 422


def test_access_is_the_desks_and_another_shops_conversation_is_not_found(
    app: FastAPI, staff: CoachStaff, chat: ChatFactory, elsewhere: Elsewhere,
    uow_factory: UowFactory,
) -> None:  # fmt: skip
    c = chat().buyer(ANGRY)  # 售后, given to 小刘
    draft = {"conversation_id": c.conversation_id, "text": REFUND}
    with TestClient(app) as client:
        assert client.post(URL, json=draft).status_code == 401
        headers = log_in(client, staff.agent.email)  # 小美 of 售前: not her team's
        other_team = client.post(URL, json=draft, headers=headers)
        assert other_team.status_code == 403
        assert other_team.json()["error"]["code"] == "forbidden"
        away = {"conversation_id": elsewhere.conversation_id, "text": REFUND}
        assert client.post(URL, json=away, headers=headers).status_code == 404
        # A session needs its CSRF token, as every write-shaped call of the desk.
        assert client.post(URL, json=draft).status_code == 403
    with TestClient(app) as client:
        headers = log_in(client, staff.supervisor.email)
        response = client.post(URL, json=draft, headers=headers)
        assert response.status_code == 200
        assert "refund_first" in {h["code"] for h in response.json()["hits"]}
        assert client.post(URL, json=away, headers=headers).status_code == 404
    with TestClient(app) as client:  # an integration's token: no person, shop-wide
        bearer = token(uow_factory, staff)
        response = client.post(URL, json=draft, headers=bearer)
        assert response.status_code == 200, response.text
        assert "refund_first" in {h["code"] for h in response.json()["hits"]}
        assert client.post(URL, json=away, headers=bearer).status_code == 404
