"""Login, sessions, CSRF and API tokens over HTTP (/api/v1/auth, /api/v1/api-tokens).

Agents (create, update, role checks) are in test_agents_api.py.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.accounts.models import ApiToken
from kefu.uow import UnitOfWork
from tests.factories import PASSWORD, ShopWithStaff, make_shop_with_staff

UowFactory = Callable[[], UnitOfWork]
LOGIN = "/api/v1/auth/login"


@pytest.fixture
def alpha(uow_factory: UowFactory) -> ShopWithStaff:
    return make_shop_with_staff(uow_factory, "alpha")


def _log_in(client: TestClient, email: str, password: str = PASSWORD, shop: str = "alpha") -> str:
    """Logs the client in; returns the CSRF token to send with writes."""
    response = client.post(LOGIN, json={"shop": shop, "email": email, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])


def _set_cookie(response_headers: list[str], name: str) -> str:
    matches = [h for h in response_headers if h.startswith(f"{name}=")]
    assert len(matches) == 1, response_headers
    return matches[0]


def _token_count(uow_factory: UowFactory) -> int:
    with uow_factory() as uow:
        return uow.session.scalar(select(func.count(ApiToken.id))) or 0


# --- login and the session cookie ------------------------------------------------------


def test_login_sets_an_httponly_lax_session_cookie_and_returns_a_csrf_token(
    client: TestClient, alpha: ShopWithStaff
) -> None:
    response = client.post(
        LOGIN, json={"shop": "ALPHA", "email": "Agent@Alpha.test", "password": PASSWORD}
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["me"]["shop_slug"] == "alpha"
    assert body["me"]["agent"]["email"] == "agent@alpha.test"
    assert body["me"]["role"] == "agent"
    assert body["expires_at"] == "2026-11-23T14:00:00Z"  # 12 hours after the test clock
    cookies = response.headers.get_list("set-cookie")
    session = _set_cookie(cookies, "kefu_session").lower()
    assert "httponly" in session
    assert "samesite=lax" in session
    assert "path=/" in session
    assert "max-age=43200" in session
    assert "secure" not in session  # plain-HTTP test settings
    csrf = _set_cookie(cookies, "kefu_csrf")
    assert csrf.startswith(f"kefu_csrf={body['csrf_token']};")
    # The raw session value is in the cookie only, never in the JSON body.
    assert client.cookies["kefu_session"] not in response.text


def test_me_describes_the_logged_in_agent(client: TestClient, alpha: ShopWithStaff) -> None:
    assert client.get("/api/v1/auth/me").status_code == 401

    _log_in(client, alpha.supervisor.email)
    me = client.get("/api/v1/auth/me")

    assert me.status_code == 200
    assert me.json() == {
        "shop_id": alpha.shop.id,
        "shop_slug": "alpha",
        "shop_name": "alpha 旗舰店",
        "timezone": "Asia/Shanghai",
        "role": "supervisor",
        "name": "主管",
        "via": "session",
        "agent": me.json()["agent"],
    }
    assert me.json()["agent"]["id"] == alpha.supervisor.id
    assert me.json()["agent"]["last_login_at"] == "2026-11-23T02:00:00Z"


# --- CSRF ------------------------------------------------------------------------------


def test_cookie_authenticated_writes_need_the_csrf_header(
    client: TestClient, alpha: ShopWithStaff, uow_factory: UowFactory
) -> None:
    csrf = _log_in(client, alpha.owner.email)
    body = {"name": "ERP", "role": "agent"}

    for headers in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": ""}):
        refused = client.post("/api/v1/api-tokens", json=body, headers=headers)
        assert refused.status_code == 403, headers
        assert refused.json()["error"]["code"] == "csrf_failed"
        assert refused.json()["error"]["message"] == "表单已过期或来自其他网站,请刷新页面后重试"
    # A form field is not accepted in place of the header on the API.
    assert client.post("/api/v1/auth/logout", data={"csrf_token": csrf}).status_code == 403
    assert _token_count(uow_factory) == 0

    created = client.post("/api/v1/api-tokens", json=body, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201, created.text
    assert _token_count(uow_factory) == 1
    # Reads need no CSRF token.
    assert client.get("/api/v1/api-tokens").status_code == 200


def test_csrf_header_must_match_this_browsers_cookie(
    app: FastAPI, alpha: ShopWithStaff, uow_factory: UowFactory
) -> None:
    """Another logged-in user's CSRF token is worthless in this browser."""
    with TestClient(app) as mine, TestClient(app) as theirs:
        _log_in(mine, alpha.owner.email)
        their_csrf = _log_in(theirs, alpha.owner.email)
        refused = mine.post(
            "/api/v1/api-tokens", json={"name": "x"}, headers={"X-CSRF-Token": their_csrf}
        )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "csrf_failed"
    assert _token_count(uow_factory) == 0


# --- logout ----------------------------------------------------------------------------


def test_logout_ends_the_session_on_the_server(client: TestClient, alpha: ShopWithStaff) -> None:
    csrf = _log_in(client, alpha.agent.email)
    raw = client.cookies["kefu_session"]

    refused = client.post("/api/v1/auth/logout")
    assert refused.status_code == 403  # no CSRF header: still logged in
    assert client.get("/api/v1/auth/me").status_code == 200

    response = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 204
    assert "kefu_session" not in client.cookies
    assert client.get("/api/v1/auth/me").status_code == 401

    # The old cookie replayed (e.g. copied before logout) is dead too.
    client.cookies.set("kefu_session", raw)
    replayed = client.get("/api/v1/auth/me")
    assert replayed.status_code == 401
    assert replayed.json()["error"]["code"] == "session_expired"


# --- bearer tokens ---------------------------------------------------------------------


def test_bearer_token_flow_create_use_list_revoke(
    client: TestClient, app: FastAPI, alpha: ShopWithStaff
) -> None:
    csrf = _log_in(client, alpha.owner.email)
    created = client.post(
        "/api/v1/api-tokens",
        json={"name": "订单同步", "role": "supervisor"},
        headers={"X-CSRF-Token": csrf},
    )
    assert created.status_code == 201, created.text
    raw = created.json()["token"]
    token_id = created.json()["id"]
    assert raw.startswith("kefu_")
    assert created.json()["prefix"] == raw[:11]
    assert created.json()["role"] == "supervisor"

    listed = client.get("/api/v1/api-tokens")
    assert listed.status_code == 200
    assert [t["id"] for t in listed.json()] == [token_id]
    assert "token" not in listed.json()[0]
    assert raw not in listed.text

    with TestClient(app) as integration:
        bearer = {"Authorization": f"Bearer {raw}"}
        teams = integration.get("/api/v1/teams", headers=bearer)
        assert teams.status_code == 200
        assert [t["code"] for t in teams.json()] == [
            "presale",
            "aftersale",
            "complaints",
            "promotion",
            "shipping",
        ]
        me = integration.get("/api/v1/auth/me", headers=bearer).json()
        assert (me["via"], me["role"], me["name"], me["agent"]) == (
            "token",
            "supervisor",
            "订单同步",
            None,
        )
        # A supervisor token cannot manage tokens.
        assert integration.get("/api/v1/api-tokens", headers=bearer).status_code == 403
        # The list shows when the token was last used.
        assert client.get("/api/v1/api-tokens").json()[0]["last_used_at"] is not None

        revoked = client.delete(f"/api/v1/api-tokens/{token_id}", headers={"X-CSRF-Token": csrf})
        assert revoked.status_code == 200
        assert revoked.json()["revoked_at"] is not None
        assert "token" not in revoked.json()

        after = integration.get("/api/v1/teams", headers=bearer)
        assert after.status_code == 401
        assert after.json()["error"]["code"] == "unauthenticated"
    # Revoking again is harmless; an unknown id is 404.
    assert (
        client.delete(f"/api/v1/api-tokens/{token_id}", headers={"X-CSRF-Token": csrf}).status_code
        == 200
    )
    missing = client.delete("/api/v1/api-tokens/99999", headers={"X-CSRF-Token": csrf})
    assert missing.status_code == 404


def test_bearer_token_writes_need_no_csrf(
    client: TestClient, app: FastAPI, alpha: ShopWithStaff
) -> None:
    csrf = _log_in(client, alpha.owner.email)
    raw = client.post(
        "/api/v1/api-tokens", json={"name": "运维", "role": "owner"}, headers={"X-CSRF-Token": csrf}
    ).json()["token"]
    with TestClient(app) as integration:
        made = integration.post(
            "/api/v1/api-tokens",
            json={"name": "second"},
            headers={"Authorization": f"Bearer {raw}"},
        )
    assert made.status_code == 201, made.text
    assert made.json()["role"] == "agent"  # the default role


def test_an_owner_cannot_create_a_token_with_an_unknown_role(
    client: TestClient, alpha: ShopWithStaff, uow_factory: UowFactory
) -> None:
    csrf = _log_in(client, alpha.owner.email)
    response = client.post(
        "/api/v1/api-tokens", json={"name": "x", "role": "root"}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "role"
    assert _token_count(uow_factory) == 0


@pytest.mark.parametrize(
    "authorization",
    ["Basic b3duZXI6cGFzcw==", "Bearer", "Bearer    ", "Token kefu_abc", "kefu_abc"],
)
def test_a_malformed_authorization_header_is_401_and_names_bearer(
    app: FastAPI, alpha: ShopWithStaff, authorization: str
) -> None:
    with TestClient(app) as integration:
        response = integration.get("/api/v1/teams", headers={"Authorization": authorization})
        english = integration.get(
            "/api/v1/teams", headers={"Authorization": authorization, "Accept-Language": "en"}
        )
    assert response.status_code == 401
    assert "Bearer" in response.json()["error"]["message"]
    assert english.status_code == 401
    assert english.json()["error"]["message"] == "Use the header 'Authorization: Bearer <token>'"


def test_a_bearer_header_wins_over_a_session_cookie(
    client: TestClient, alpha: ShopWithStaff
) -> None:
    """A wrong token is refused even when the browser also has a valid session."""
    _log_in(client, alpha.owner.email)
    response = client.get("/api/v1/auth/me", headers={"Authorization": "Bearer kefu_nope"})
    assert response.status_code == 401
