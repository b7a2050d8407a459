"""Managing agents over HTTP: who may, what is validated, what a change does to sessions.

Login, CSRF and API tokens are in test_accounts_api.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.accounts.models import Agent
from kefu.shops import service as shops
from kefu.uow import UnitOfWork
from tests.factories import PASSWORD, ShopWithStaff, make_shop_with_staff

UowFactory = Callable[[], UnitOfWork]
NEW_AGENT = {"email": "xiaoli@alpha.test", "display_name": "小丽", "password": "new password 1"}


@pytest.fixture
def alpha(uow_factory: UowFactory) -> ShopWithStaff:
    return make_shop_with_staff(uow_factory, "alpha")


def _log_in(client: TestClient, email: str, password: str = PASSWORD, shop: str = "alpha") -> dict:
    """Logs the client in; returns the headers a cookie-authenticated write needs."""
    response = client.post(
        "/api/v1/auth/login", json={"shop": shop, "email": email, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf_token"]}


def _agents(uow_factory: UowFactory) -> list[tuple[str, str, bool, str]]:
    with uow_factory() as uow:
        rows = uow.session.execute(
            select(Agent.email, Agent.role, Agent.is_active, Agent.display_name).order_by(Agent.id)
        )
        return [(e, r.value, a, n) for e, r, a, n in rows]


def _team_ids(uow_factory: UowFactory, shop_id: int, *codes: str) -> list[int]:
    with uow_factory() as uow:
        return [shops.get_team_by_code(uow.session, shop_id=shop_id, code=c).id for c in codes]


@pytest.fixture
def owner(client: TestClient, alpha: ShopWithStaff) -> dict:
    return _log_in(client, alpha.owner.email)


# --- role checks -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_only_an_owner_manages_agents_and_tokens(
    app: FastAPI, alpha: ShopWithStaff, uow_factory: UowFactory, role: str
) -> None:
    before = _agents(uow_factory)
    target = alpha.agent.id
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", "/api/v1/agents", {**NEW_AGENT, "role": "owner"}),
        ("PATCH", f"/api/v1/agents/{target}", {"role": "owner"}),
        ("PATCH", f"/api/v1/agents/{alpha.owner.id}", {"is_active": False}),
        ("GET", "/api/v1/api-tokens", None),
        ("POST", "/api/v1/api-tokens", {"name": "x", "role": "agent"}),
        ("DELETE", "/api/v1/api-tokens/1", None),
    ]
    with TestClient(app) as client:
        headers = _log_in(client, f"{'lead' if role == 'supervisor' else 'agent'}@alpha.test")
        for method, url, body in calls:
            response = client.request(method, url, json=body, headers=headers)
            assert response.status_code == 403, (method, url, response.text)
            error = response.json()["error"]
            assert error["code"] == "forbidden"
            assert error["message"] == "此操作需要 owner 或更高的角色"
        # Everyone may read the staff list.
        assert client.get("/api/v1/agents").status_code == 200
        assert client.get(f"/api/v1/agents/{target}").status_code == 200
    assert _agents(uow_factory) == before


# --- creating agents -------------------------------------------------------------------


def test_owner_creates_an_agent_who_can_then_log_in(
    client: TestClient, app: FastAPI, alpha: ShopWithStaff, owner: dict, uow_factory: UowFactory
) -> None:
    teams = _team_ids(uow_factory, alpha.shop.id, "aftersale", "complaints")
    response = client.post(
        "/api/v1/agents",
        json={**NEW_AGENT, "email": " XiaoLi@Alpha.TEST ", "role": "supervisor", "team_ids": teams},
        headers=owner,
    )

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["email"] == "xiaoli@alpha.test"
    assert created["role"] == "supervisor"
    assert created["is_active"] is True
    assert created["team_ids"] == sorted(teams)
    assert "password" not in response.text
    assert client.get(f"/api/v1/agents/{created['id']}").json() == created
    with TestClient(app) as newcomer:
        _log_in(newcomer, "xiaoli@alpha.test", NEW_AGENT["password"])
        me = newcomer.get("/api/v1/auth/me").json()
    assert (me["name"], me["role"], me["agent"]["team_ids"]) == (
        "小丽",
        "supervisor",
        sorted(teams),
    )


@pytest.mark.parametrize("team_id", [0, 2**31, 2**40])
def test_a_team_id_no_team_can_have_is_refused_not_a_500(
    client: TestClient, alpha: ShopWithStaff, owner: dict, uow_factory: UowFactory, team_id: int
) -> None:
    before = _agents(uow_factory)
    for method, url in (("POST", "/api/v1/agents"), ("PATCH", f"/api/v1/agents/{alpha.agent.id}")):
        body = {**NEW_AGENT, "team_ids": [team_id]} if method == "POST" else {"team_ids": [team_id]}
        response = client.request(method, url, json=body, headers=owner)
        assert response.status_code == 422, f"{method} {url}: {response.text}"
        assert response.json()["error"]["field"] == "team_ids"
    assert _agents(uow_factory) == before


def test_create_agent_rejects_a_bad_email(
    client: TestClient, alpha: ShopWithStaff, owner: dict, uow_factory: UowFactory
) -> None:
    before = _agents(uow_factory)
    for email in ("not-an-email", "two@@alpha.test", "no-dot@localhost", "sp ace@alpha.test"):
        response = client.post("/api/v1/agents", json={**NEW_AGENT, "email": email}, headers=owner)
        assert response.status_code == 422, email
        assert response.json()["error"]["field"] == "email"
        assert response.json()["error"]["message"] == "邮箱地址格式不正确"
    assert _agents(uow_factory) == before


def test_create_agent_with_a_taken_email_is_a_conflict(
    client: TestClient, alpha: ShopWithStaff, owner: dict, uow_factory: UowFactory
) -> None:
    before = _agents(uow_factory)
    response = client.post(
        "/api/v1/agents", json={**NEW_AGENT, "email": "AGENT@alpha.test"}, headers=owner
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert "agent@alpha.test" in response.json()["error"]["message"]
    assert _agents(uow_factory) == before


def test_the_same_email_may_work_for_two_shops(
    client: TestClient, alpha: ShopWithStaff, owner: dict, uow_factory: UowFactory
) -> None:
    beta = make_shop_with_staff(uow_factory, "beta")
    response = client.post(
        "/api/v1/agents", json={**NEW_AGENT, "email": beta.agent.email}, headers=owner
    )
    assert response.status_code == 201, response.text


def test_create_agent_in_another_shops_team_writes_nothing(
    client: TestClient, alpha: ShopWithStaff, owner: dict, uow_factory: UowFactory
) -> None:
    beta = make_shop_with_staff(uow_factory, "beta")
    before = _agents(uow_factory)
    own_team, their_team = (
        _team_ids(uow_factory, alpha.shop.id, "presale")[0],
        _team_ids(uow_factory, beta.shop.id, "presale")[0],
    )

    response = client.post(
        "/api/v1/agents", json={**NEW_AGENT, "team_ids": [own_team, their_team]}, headers=owner
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "team_ids"
    assert response.json()["error"]["message"] == "所选团队不属于本店铺"
    assert _agents(uow_factory) == before
    with uow_factory() as uow:
        assert (
            uow.session.scalar(
                select(func.count(Agent.id)).where(Agent.email == "xiaoli@alpha.test")
            )
            == 0
        )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"password": "short"}, "password"),
        ({"password": "x" * 257}, "password"),
        ({"display_name": ""}, "display_name"),
        ({"role": "admin"}, "role"),
        ({"team_ids": ["presale"]}, "team_ids.0"),
    ],
)
def test_create_agent_validates_the_body(
    client: TestClient,
    alpha: ShopWithStaff,
    owner: dict,
    uow_factory: UowFactory,
    change: dict[str, Any],
    field: str,
) -> None:
    before = _agents(uow_factory)
    response = client.post("/api/v1/agents", json={**NEW_AGENT, **change}, headers=owner)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert [d["field"] for d in error["details"]] == [field]
    assert _agents(uow_factory) == before


def test_a_blank_display_name_is_refused_after_trimming(
    client: TestClient, alpha: ShopWithStaff, owner: dict, uow_factory: UowFactory
) -> None:
    before = _agents(uow_factory)
    response = client.post(
        "/api/v1/agents", json={**NEW_AGENT, "display_name": "   "}, headers=owner
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "display_name"
    assert _agents(uow_factory) == before


# --- updating agents -------------------------------------------------------------------


@pytest.mark.parametrize(
    "change", [{"role": "supervisor"}, {"role": "agent"}, {"is_active": False}]
)
def test_an_owner_cannot_demote_or_deactivate_themself(
    client: TestClient, alpha: ShopWithStaff, owner: dict, uow_factory: UowFactory, change: dict
) -> None:
    before = _agents(uow_factory)
    response = client.patch(
        f"/api/v1/agents/{alpha.owner.id}", json={"display_name": "改名", **change}, headers=owner
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    # Nothing half-applied: the name in the same request was not saved either.
    assert _agents(uow_factory) == before
    assert client.get("/api/v1/auth/me").json()["role"] == "owner"


def test_an_owner_may_rename_themself(
    client: TestClient, alpha: ShopWithStaff, owner: dict
) -> None:
    response = client.patch(
        f"/api/v1/agents/{alpha.owner.id}",
        json={"display_name": "大掌柜", "role": "owner", "is_active": True},
        headers=owner,
    )
    assert response.status_code == 200, response.text
    assert client.get("/api/v1/auth/me").json()["name"] == "大掌柜"


def test_deactivating_an_agent_ends_their_session(
    client: TestClient, app: FastAPI, alpha: ShopWithStaff, owner: dict
) -> None:
    with TestClient(app) as victim:
        _log_in(victim, alpha.agent.email)
        assert victim.get("/api/v1/auth/me").status_code == 200

        response = client.patch(
            f"/api/v1/agents/{alpha.agent.id}", json={"is_active": False}, headers=owner
        )
        assert response.status_code == 200
        assert response.json()["is_active"] is False

        me = victim.get("/api/v1/auth/me", headers={"Accept-Language": "en"})
        assert me.status_code == 401
        assert me.json()["error"]["message"] == "This account is deactivated; ask the shop owner"
        # Nor can they log in again.
        again = victim.post(
            "/api/v1/auth/login",
            json={"shop": "alpha", "email": alpha.agent.email, "password": PASSWORD},
        )
        assert again.status_code == 401
    # The owner's own session is untouched.
    assert client.get("/api/v1/auth/me").status_code == 200


def test_a_session_ended_by_deactivation_stays_ended_after_reactivation(
    client: TestClient, app: FastAPI, alpha: ShopWithStaff, owner: dict
) -> None:
    url = f"/api/v1/agents/{alpha.agent.id}"
    with TestClient(app) as victim:
        _log_in(victim, alpha.agent.email)  # e.g. on a laptop that was then lost
        assert client.patch(url, json={"is_active": False}, headers=owner).status_code == 200
        assert client.patch(url, json={"is_active": True}, headers=owner).status_code == 200

        assert victim.get("/api/v1/auth/me").status_code == 401


def test_a_role_change_applies_to_the_live_session(
    client: TestClient, app: FastAPI, alpha: ShopWithStaff, owner: dict
) -> None:
    with TestClient(app) as lead:
        _log_in(lead, alpha.supervisor.email)
        assert (
            client.patch(
                f"/api/v1/agents/{alpha.supervisor.id}", json={"role": "agent"}, headers=owner
            ).status_code
            == 200
        )
        assert lead.get("/api/v1/auth/me").json()["role"] == "agent"


def test_patch_moves_an_agent_between_teams(
    client: TestClient, alpha: ShopWithStaff, owner: dict, uow_factory: UowFactory
) -> None:
    shipping = _team_ids(uow_factory, alpha.shop.id, "shipping")
    response = client.patch(
        f"/api/v1/agents/{alpha.agent.id}",
        json={"team_ids": shipping, "locale": "en"},
        headers=owner,
    )
    assert response.status_code == 200
    assert (response.json()["team_ids"], response.json()["locale"]) == (shipping, "en")

    bad = client.patch(
        f"/api/v1/agents/{alpha.agent.id}", json={"locale": "fr", "team_ids": []}, headers=owner
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "locale"
    assert client.get(f"/api/v1/agents/{alpha.agent.id}").json()["team_ids"] == shipping
