"""Calling the tickets API as the pages' scripts and integrations do: a member of staff's
session (with the CSRF token on writes) or an API token; errors read back as the API
shapes them."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from kefu.accounts import auth
from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from tests.factories import PASSWORD, UowFactory
from tests.tickets.conftest import TicketStaff

API = "/api/v1/tickets"


class Caller:
    """A TestClient logged in as one member of staff; writes carry the CSRF token."""

    def __init__(self, app: FastAPI, email: str, shop: str = "tkt") -> None:
        self.client = TestClient(app)
        response = self.client.post(
            "/api/v1/auth/login", json={"shop": shop, "email": email, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        self.headers = {"X-CSRF-Token": response.json()["csrf_token"]}

    def get(self, url: str, **params: Any) -> Any:
        return self.client.get(url, params=params)

    def read(self, url: str, **params: Any) -> Any:
        response = self.get(url, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def send(self, method: str, url: str, body: Any = None) -> Any:
        return self.client.request(method, url, json=body, headers=self.headers)

    def ok(self, method: str, url: str, body: Any = None, status: int = 200) -> Any:
        response = self.send(method, url, body) if method != "GET" else self.get(url)
        assert response.status_code == status, response.text
        return response.json() if response.content else None


def error(response: Any, status: int, code: str, key_field: str | None = None) -> dict:
    """The answer's error, checked: its status, code and (when given) the field it names."""
    assert response.status_code == status, response.text
    body: dict = response.json()["error"]
    assert body["code"] == code, body
    if key_field is not None:
        assert body.get("field") == key_field, body
    return body


def token(uow_factory: UowFactory, staff: TicketStaff, role: Role = Role.OWNER) -> dict[str, str]:
    """The headers of an integration: a fresh API token of the shop, issued by the owner."""
    owner = Principal(
        shop_id=staff.shop_id, role=Role.OWNER, agent_id=staff.owner.id, name="掌柜",
        via="session", credential_id=0,
    )  # fmt: skip
    with uow_factory() as uow:
        raw = auth.create_api_token(
            uow, shop_id=staff.shop_id, name="ERP 工单同步", role=role, created_by=owner
        ).raw
    return {"Authorization": f"Bearer {raw}"}
