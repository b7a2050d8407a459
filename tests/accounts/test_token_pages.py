"""The owner issues API tokens on a page (the secret shown once) and revokes them."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.accounts.models import ApiToken
from kefu.uow import UnitOfWork
from tests.factories import PASSWORD, ShopWithStaff, make_shop_with_staff

UowFactory = Callable[[], UnitOfWork]


@pytest.fixture
def alpha(uow_factory: UowFactory) -> ShopWithStaff:
    return make_shop_with_staff(uow_factory, "alpha")


def _log_in(client: TestClient, email: str) -> str:
    response = client.post(
        "/api/v1/auth/login", json={"shop": "alpha", "email": email, "password": PASSWORD}
    )
    assert response.status_code == 200
    return str(response.json()["csrf_token"])


@pytest.fixture
def owner(app: FastAPI, alpha: ShopWithStaff) -> Iterator[tuple[TestClient, str]]:
    with TestClient(app) as client:
        yield client, _log_in(client, alpha.owner.email)


def _works(app: FastAPI, token: str) -> bool:
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as integration:
        return integration.get("/api/v1/teams").status_code == 200


def test_the_secret_is_shown_once_and_works(app: FastAPI, owner: tuple[TestClient, str]) -> None:
    client, csrf = owner
    created = client.post("/tokens", data={"name": "订单同步", "role": "agent", "csrf_token": csrf})
    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    match = re.search(r'data-testid="token-secret">(kefu_[^<]+)<', created.text)
    assert match
    secret = match.group(1)
    assert _works(app, secret)
    later = client.get("/tokens").text
    assert "订单同步" in later
    assert secret not in later
    assert secret[:11] in later  # the prefix, to tell tokens apart


def test_a_revoked_token_stops_working(app: FastAPI, owner: tuple[TestClient, str]) -> None:
    client, csrf = owner
    created = client.post("/tokens", data={"name": "ERP", "role": "agent", "csrf_token": csrf})
    secret = re.search(r'data-testid="token-secret">(kefu_[^<]+)<', created.text)
    token_id = re.search(r'data-token="(\d+)"', created.text)
    assert secret and token_id
    revoked = client.post(
        f"/tokens/{token_id.group(1)}/revoke", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert revoked.status_code == 303
    assert "已作废" in client.get(revoked.headers["location"]).text
    assert not _works(app, secret.group(1))


def test_a_nameless_token_is_refused_and_none_is_made(
    owner: tuple[TestClient, str], uow_factory: UowFactory
) -> None:
    client, csrf = owner
    response = client.post("/tokens", data={"name": "   ", "role": "agent", "csrf_token": csrf})
    assert response.status_code == 422
    assert 'data-testid="token-error"' in response.text
    with uow_factory() as uow:
        assert uow.session.scalar(select(func.count(ApiToken.id))) == 0


def test_only_the_owner_may_see_or_issue_tokens(app: FastAPI, alpha: ShopWithStaff) -> None:
    for member in (alpha.supervisor, alpha.agent):
        with TestClient(app) as client:
            csrf = _log_in(client, member.email)
            assert client.get("/tokens").status_code == 403
            refused = client.post(
                "/tokens", data={"name": "x", "role": "agent", "csrf_token": csrf}
            )
            assert refused.status_code == 403
            assert 'href="/tokens"' not in client.get("/").text


def test_issuing_needs_the_csrf_token(owner: tuple[TestClient, str]) -> None:
    client, _ = owner
    response = client.post("/tokens", data={"name": "x", "role": "agent", "csrf_token": "forged"})
    assert response.status_code == 403
