"""Agents change their own password; owners reset others'. Old credentials stop working."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kefu.accounts import auth, service
from kefu.accounts.auth import LoginPolicy
from kefu.accounts.events import PasswordChanged
from kefu.errors import Invalid, PermissionDenied, RateLimited
from kefu.events import EventBus
from kefu.uow import UnitOfWork
from tests.factories import PASSWORD, ShopWithStaff, make_shop_with_staff

UowFactory = Callable[[], UnitOfWork]
NEW = "a much better passphrase"
POLICY = LoginPolicy(
    max_failures=5, window=timedelta(minutes=15), session_lifetime=timedelta(hours=12)
)


@pytest.fixture
def alpha(uow_factory: UowFactory) -> ShopWithStaff:
    return make_shop_with_staff(uow_factory, "alpha")


def _log_in(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post(
        "/api/v1/auth/login", json={"shop": "alpha", "email": email, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf_token"]}


def _can_log_in(app: FastAPI, email: str, password: str) -> bool:
    with TestClient(app) as fresh:
        return (
            fresh.post(
                "/api/v1/auth/login", json={"shop": "alpha", "email": email, "password": password}
            ).status_code
            == 200
        )


def test_changing_the_password_ends_other_sessions_and_keeps_this_one(
    app: FastAPI, alpha: ShopWithStaff, bus: EventBus
) -> None:
    email = alpha.agent.email
    with TestClient(app) as laptop, TestClient(app) as phone:
        headers = _log_in(laptop, email)
        _log_in(phone, email)
        with bus.capture() as events:
            response = laptop.post(
                "/api/v1/auth/password",
                json={"current_password": PASSWORD, "new_password": NEW},
                headers=headers,
            )
        assert response.status_code == 204
        assert laptop.get("/api/v1/auth/me").status_code == 200
        assert phone.get("/api/v1/auth/me").status_code == 401
    assert [type(e) for e in events] == [PasswordChanged]
    assert not _can_log_in(app, email, PASSWORD)
    assert _can_log_in(app, email, NEW)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"current_password": "not it", "new_password": NEW}, "current_password"),
        ({"current_password": PASSWORD, "new_password": PASSWORD}, "new_password"),
        ({"current_password": PASSWORD, "new_password": "short"}, "new_password"),
    ],
)
def test_a_refused_change_says_why_and_keeps_the_old_password(
    app: FastAPI, alpha: ShopWithStaff, body: dict[str, str], field: str
) -> None:
    with TestClient(app) as client:
        headers = _log_in(client, alpha.agent.email)
        response = client.post("/api/v1/auth/password", json=body, headers=headers)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error.get("field") == field or field in str(error.get("details"))
    assert _can_log_in(app, alpha.agent.email, PASSWORD)


def test_guessing_the_current_password_is_throttled_like_a_login(
    uow_factory: UowFactory, alpha: ShopWithStaff
) -> None:
    with uow_factory() as uow:
        principal = auth.login(
            uow,
            shop_slug="alpha",
            email=alpha.agent.email,
            password=PASSWORD,
            client_address="10.0.0.9",
            user_agent="test",
            policy=POLICY,
        ).principal
    for attempt in range(POLICY.max_failures):
        with uow_factory() as uow, pytest.raises(Invalid):
            auth.change_password(
                uow,
                principal=principal,
                current_password=f"guess {attempt}",
                new_password=NEW,
                client_address="10.0.0.9",
                policy=POLICY,
            )
    with uow_factory() as uow, pytest.raises(RateLimited):
        auth.change_password(
            uow,
            principal=principal,
            current_password=PASSWORD,
            new_password=NEW,
            client_address="10.0.0.9",
            policy=POLICY,
        )


def test_an_api_token_has_no_password(app: FastAPI, alpha: ShopWithStaff) -> None:
    with TestClient(app) as owner:
        headers = _log_in(owner, alpha.owner.email)
        token = owner.post(
            "/api/v1/api-tokens", json={"name": "sync", "role": "agent"}, headers=headers
        ).json()["token"]
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as integration:
        response = integration.post(
            "/api/v1/auth/password", json={"current_password": "x", "new_password": NEW}
        )
    assert response.status_code == 403


def test_an_owner_resets_an_agents_password_and_ends_their_sessions(
    app: FastAPI, alpha: ShopWithStaff
) -> None:
    with TestClient(app) as owner, TestClient(app) as lost_laptop:
        headers = _log_in(owner, alpha.owner.email)
        _log_in(lost_laptop, alpha.agent.email)
        response = owner.patch(
            f"/api/v1/agents/{alpha.agent.id}", json={"password": NEW}, headers=headers
        )
        assert response.status_code == 200
        assert lost_laptop.get("/api/v1/auth/me").status_code == 401
        # Owners change their own password with the current one, not by reset.
        own = owner.patch(
            f"/api/v1/agents/{alpha.owner.id}", json={"password": NEW}, headers=headers
        )
        assert own.status_code == 403
    assert _can_log_in(app, alpha.agent.email, NEW)
    assert not _can_log_in(app, alpha.agent.email, PASSWORD)
    assert _can_log_in(app, alpha.owner.email, PASSWORD)


def test_the_service_refuses_a_reset_of_ones_own_password(
    uow_factory: UowFactory, alpha: ShopWithStaff
) -> None:
    with uow_factory() as uow, pytest.raises(PermissionDenied):
        service.update_agent(
            uow,
            shop_id=alpha.shop.id,
            agent_id=alpha.owner.id,
            acting_agent_id=alpha.owner.id,
            password=NEW,
        )


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def test_the_password_page_changes_the_password(app: FastAPI, alpha: ShopWithStaff) -> None:
    with TestClient(app) as client:
        assert client.get("/account/password", follow_redirects=False).status_code == 303
        _log_in(client, alpha.agent.email)
        page = client.get("/account/password")
        assert page.status_code == 200
        assert "修改密码" in page.text
        token = _csrf(page.text)
        form = {"current_password": PASSWORD, "new_password": NEW, "csrf_token": token}
        mismatch = client.post("/account/password", data={**form, "confirm_password": "other one"})
        assert mismatch.status_code == 422
        assert "两次输入的新密码不一致" in mismatch.text
        wrong = client.post(
            "/account/password",
            data={**form, "current_password": "nope", "confirm_password": NEW},
        )
        assert wrong.status_code == 422
        assert "当前密码不正确" in wrong.text
        forged = client.post(
            "/account/password", data={**form, "confirm_password": NEW, "csrf_token": "x"}
        )
        assert forged.status_code == 403
        done = client.post("/account/password", data={**form, "confirm_password": NEW})
        assert done.status_code == 200
        assert "密码已修改" in done.text
    assert _can_log_in(app, alpha.agent.email, NEW)
