"""Well-formed input the database cannot hold must still be a clear answer, never a 500.

Numbers beyond the integer columns' range and strings with NUL characters pass request
validation and reach the database; what happens there depends on the backend (SQLite's
integers are 64-bit, PostgreSQL's ``integer`` columns 32-bit; PostgreSQL text cannot hold
NUL). As in test_bad_input.py, ``strict`` re-raises any server-side exception.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kefu.uow import UnitOfWork
from tests.factories import PASSWORD, ShopWithStaff, make_shop_with_staff

UowFactory = Callable[[], UnitOfWork]


@pytest.fixture
def strict(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=True) as client:
        yield client


@pytest.fixture
def alpha(uow_factory: UowFactory) -> ShopWithStaff:
    return make_shop_with_staff(uow_factory, "alpha")


@pytest.fixture
def owner(strict: TestClient, alpha: ShopWithStaff) -> TestClient:
    response = strict.post(
        "/api/v1/auth/login",
        json={"shop": "alpha", "email": alpha.owner.email, "password": PASSWORD},
    )
    assert response.status_code == 200
    return strict


@pytest.mark.parametrize("bits", [31, 63])
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/agents/{n}",
        "/api/v1/teams/{n}",
        "/api/v1/customers/{n}",
        "/api/v1/conversations/{n}/messages",
        "/api/v1/tickets/{n}",
        "/api/v1/tickets/{n}/history",
        "/api/v1/tickets/from-conversation/{n}",
    ],
)
def test_a_path_id_too_big_for_the_database_is_404(
    request: pytest.FixtureRequest, owner: TestClient, db: Engine, url: str, bits: int
) -> None:
    response = owner.get(url.format(n=2**bits))
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("bits", [31, 63])
@pytest.mark.parametrize(
    ("url", "int4_column"),
    [
        # OFFSET takes a bigint on PostgreSQL: only 2**63 is out of range there.
        ("/api/v1/customers?offset={n}", False),
        ("/api/v1/conversations?customer_id={n}", True),
    ],
)
def test_a_query_number_too_big_for_the_database_is_not_a_500(
    request: pytest.FixtureRequest,
    owner: TestClient,
    db: Engine,
    url: str,
    int4_column: bool,
    bits: int,
) -> None:
    response = owner.get(url.format(n=2**bits))
    # Either "nothing there" or "out of range" is a clear answer.
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        assert response.json() == []


@pytest.mark.parametrize("bits", [31, 63])
@pytest.mark.parametrize(
    "param", ["team_id", "customer_id", "conversation_id", "order_id", "offset", "assignee"]
)
def test_a_ticket_filter_too_big_for_the_database_is_refused_not_a_500(
    request: pytest.FixtureRequest, owner: TestClient, db: Engine, param: str, bits: int
) -> None:
    response = owner.get("/api/v1/tickets", params={param: str(2**bits)})
    assert response.status_code == 422, response.text
    assert param in response.text


@pytest.mark.parametrize("param", ["q", "tag"])
def test_a_nul_character_in_a_ticket_search_is_not_a_500(
    request: pytest.FixtureRequest, owner: TestClient, db: Engine, param: str
) -> None:
    response = owner.get("/api/v1/tickets", params={param: "退\x00货"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == param


def test_a_nul_character_in_a_ticket_is_refused_before_the_database(
    request: pytest.FixtureRequest, owner: TestClient, db: Engine
) -> None:
    csrf = owner.cookies.get("kefu_csrf") or ""
    response = owner.post(
        "/api/v1/tickets",
        json={"type": "other", "title": "退\x00货"},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == "title"
    assert owner.get("/api/v1/tickets").json()["total"] == 0


def test_the_largest_id_the_database_holds_is_a_plain_404(owner: TestClient) -> None:
    response = owner.get(f"/api/v1/agents/{2**31 - 1}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("field", "value", "status"),
    [("email", "owner\x00@alpha.test", 401), ("shop", "al\x00pha", 404)],
)
def test_a_nul_character_in_a_login_is_a_clear_refusal(
    strict: TestClient, alpha: ShopWithStaff, field: str, value: str, status: int
) -> None:
    """PostgreSQL cannot store NUL: it must be refused before the database sees it."""
    body = {"shop": "alpha", "email": alpha.owner.email, "password": PASSWORD, field: value}
    response = strict.post("/api/v1/auth/login", json=body)
    # The exact 4xx is the app's choice (422 would be fine too); no session either way.
    assert response.status_code in (status, 422), response.text
    assert "kefu_session" not in strict.cookies


def test_a_nul_character_in_a_customer_search_is_not_a_500(
    request: pytest.FixtureRequest, owner: TestClient, db: Engine
) -> None:
    response = owner.get("/api/v1/customers", params={"q": "王\x00"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == "q"
