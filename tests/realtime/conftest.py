"""A shop with staff, a logged-in agent client and buyers, for the websocket tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession

from tests.factories import PASSWORD, ShopWithStaff, UowFactory, make_shop_with_staff


@dataclass
class Desk:
    app: FastAPI
    staff: ShopWithStaff
    uow_factory: UowFactory

    client: TestClient

    def login(self, email: str | None = None) -> dict[str, str]:
        """Headers that make a request (or websocket) an agent's: their cookies and CSRF.

        The shared client's cookie jar is emptied again, so several agents and buyers can
        use the one client (one app lifespan, one event loop) side by side.
        """
        email = email or self.staff.agent.email
        response = self.client.post(
            "/api/v1/auth/login",
            json={"shop": self.staff.shop.slug, "email": email, "password": PASSWORD},
        )
        assert response.status_code == 200, response.text
        cookies = "; ".join(f"{k}={v}" for k, v in response.cookies.items())
        self.client.cookies.clear()
        return {"cookie": cookies, "x-csrf-token": response.json()["csrf_token"]}

    def buyer(self, **body: Any) -> dict[str, Any]:
        """A new (or resumed) widget session: the visitor token and history."""
        response = self.client.post(f"/api/v1/widget/{self.staff.shop.slug}/session", json=body)
        assert response.status_code == 200, response.text
        session: dict[str, Any] = response.json()
        return session


def receive_until(ws: WebSocketTestSession, frame_type: str, limit: int = 20) -> dict[str, Any]:
    """The next frame of a type, skipping others (presence, receipts …)."""
    for _ in range(limit):
        frame: dict[str, Any] = ws.receive_json()
        if frame["type"] == frame_type:
            return frame
    raise AssertionError(f"no {frame_type!r} frame in {limit} frames")


@pytest.fixture
def desk(app: FastAPI, client: TestClient, uow_factory: UowFactory) -> Desk:
    return Desk(
        app=app,
        staff=make_shop_with_staff(uow_factory, "live"),
        uow_factory=uow_factory,
        client=client,
    )
