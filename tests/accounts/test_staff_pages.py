"""The staff page: owners manage the shop's accounts; supervisors look; agents cannot."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.accounts.models import Agent, Role
from kefu.shops import service as shops
from kefu.uow import UnitOfWork
from tests.factories import PASSWORD, ShopWithStaff, make_shop_with_staff

UowFactory = Callable[[], UnitOfWork]
NEW_PASSWORD = "another long passphrase"


@pytest.fixture
def alpha(uow_factory: UowFactory) -> ShopWithStaff:
    return make_shop_with_staff(uow_factory, "alpha")


def _log_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    response = client.post(
        "/api/v1/auth/login", json={"shop": "alpha", "email": email, "password": password}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])


@pytest.fixture
def owner(app: FastAPI, alpha: ShopWithStaff) -> Iterator[tuple[TestClient, str]]:
    with TestClient(app) as client:
        yield client, _log_in(client, alpha.owner.email)


def _agent(uow_factory: UowFactory, email: str) -> Agent | None:
    with uow_factory() as uow:
        return uow.session.scalar(select(Agent).where(Agent.email == email))


def _team_id(uow_factory: UowFactory, shop_id: int, code: str) -> int:
    with uow_factory() as uow:
        return shops.get_team_by_code(uow.session, shop_id=shop_id, code=code).id


def _can_log_in(app: FastAPI, email: str, password: str) -> bool:
    with TestClient(app) as fresh:
        body = {"shop": "alpha", "email": email, "password": password}
        return fresh.post("/api/v1/auth/login", json=body).status_code == 200


def test_who_sees_what(app: FastAPI, alpha: ShopWithStaff) -> None:
    with TestClient(app) as anonymous:
        assert anonymous.get("/staff", follow_redirects=False).status_code == 303
    for email, status, can_manage in (
        (alpha.owner.email, 200, True),
        (alpha.supervisor.email, 200, False),
        (alpha.agent.email, 403, False),
    ):
        with TestClient(app) as client:
            _log_in(client, email)
            page = client.get("/staff")
            assert page.status_code == status, email
            assert ('data-testid="add-agent"' in page.text) is can_manage
            assert ('href="/staff"' in client.get("/").text) is (status == 200)
            if status == 200:
                for member in (alpha.owner, alpha.supervisor, alpha.agent):
                    assert member.email in page.text


def test_an_owner_adds_an_agent_who_can_then_log_in(
    app: FastAPI, alpha: ShopWithStaff, owner: tuple[TestClient, str], uow_factory: UowFactory
) -> None:
    client, csrf = owner
    aftersale = _team_id(uow_factory, alpha.shop.id, "aftersale")
    response = client.post(
        "/staff",
        data={
            "display_name": "售后小林",
            "email": "xiaolin@alpha.test",
            "role": "agent",
            "password": NEW_PASSWORD,
            "team_ids": [str(aftersale)],
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/staff?done=added"
    page = client.get("/staff?done=added").text
    assert "已添加员工" in page
    row = re.search(r'<tr data-email="xiaolin@alpha.test">.*?</tr>', page, re.S)
    assert row and "售后小林" in row.group(0) and "售后" in row.group(0)
    assert _can_log_in(app, "xiaolin@alpha.test", NEW_PASSWORD)


@pytest.mark.parametrize(
    ("changes", "status", "message"),
    [
        ({"email": "not-an-email"}, 422, "邮箱地址格式不正确"),
        ({"email": "agent@alpha.test"}, 409, "already exists"),
        ({"password": "short"}, 422, "密码长度需为 8–256 个字符"),
        ({"role": "emperor"}, 422, "role"),
    ],
)
def test_a_refused_addition_says_why_and_adds_nobody(
    owner: tuple[TestClient, str],
    uow_factory: UowFactory,
    changes: dict[str, str],
    status: int,
    message: str,
) -> None:
    client, csrf = owner
    form = {
        "display_name": "新人",
        "email": "newcomer@alpha.test",
        "role": "agent",
        "password": NEW_PASSWORD,
        "csrf_token": csrf,
        **changes,
    }
    response = client.post("/staff", data=form, follow_redirects=False)
    assert response.status_code == status
    assert message in response.text
    assert _agent(uow_factory, "newcomer@alpha.test") is None
    with uow_factory() as uow:
        assert len(uow.session.scalars(select(Agent)).all()) == 3


def test_forms_need_the_csrf_token(owner: tuple[TestClient, str], alpha: ShopWithStaff) -> None:
    client, _ = owner
    response = client.post(
        f"/staff/{alpha.agent.id}/active", data={"active": "false", "csrf_token": "forged"}
    )
    assert response.status_code == 403


def test_an_owner_changes_role_and_teams(
    owner: tuple[TestClient, str], alpha: ShopWithStaff, uow_factory: UowFactory
) -> None:
    client, csrf = owner
    shipping = _team_id(uow_factory, alpha.shop.id, "shipping")
    complaints = _team_id(uow_factory, alpha.shop.id, "complaints")
    response = client.post(
        f"/staff/{alpha.agent.id}",
        data={
            "role": "supervisor",
            "team_ids": [str(shipping), str(complaints)],
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/staff?done=updated"
    row = re.search(
        rf'<tr data-email="{alpha.agent.email}">.*?</tr>', client.get("/staff").text, re.S
    )
    assert row
    cells = row.group(0)
    assert "客服主管" in cells and "投诉" in cells and "发货" in cells
    agent = _agent(uow_factory, alpha.agent.email)
    assert agent is not None and agent.role is Role.SUPERVISOR


def test_deactivation_ends_sessions_and_reactivation_restores_login(
    app: FastAPI, owner: tuple[TestClient, str], alpha: ShopWithStaff
) -> None:
    client, csrf = owner
    with TestClient(app) as agent_browser:
        _log_in(agent_browser, alpha.agent.email)
        off = client.post(
            f"/staff/{alpha.agent.id}/active",
            data={"active": "false", "csrf_token": csrf},
            follow_redirects=False,
        )
        assert off.headers["location"] == "/staff?done=deactivated"
        assert agent_browser.get("/api/v1/auth/me").status_code == 401
    assert "已停用" in client.get("/staff").text
    assert not _can_log_in(app, alpha.agent.email, PASSWORD)
    client.post(f"/staff/{alpha.agent.id}/active", data={"active": "true", "csrf_token": csrf})
    assert _can_log_in(app, alpha.agent.email, PASSWORD)


def test_an_owner_resets_a_password_but_not_their_own(
    app: FastAPI, owner: tuple[TestClient, str], alpha: ShopWithStaff
) -> None:
    client, csrf = owner
    reset = client.post(
        f"/staff/{alpha.agent.id}/password",
        data={"password": NEW_PASSWORD, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert reset.headers["location"] == "/staff?done=password"
    assert _can_log_in(app, alpha.agent.email, NEW_PASSWORD)
    assert not _can_log_in(app, alpha.agent.email, PASSWORD)
    own = client.post(
        f"/staff/{alpha.owner.id}/active", data={"active": "false", "csrf_token": csrf}
    )
    assert own.status_code == 403
    assert _can_log_in(app, alpha.owner.email, PASSWORD)


def test_a_supervisor_cannot_manage(
    app: FastAPI, alpha: ShopWithStaff, uow_factory: UowFactory
) -> None:
    with TestClient(app) as lead:
        csrf = _log_in(lead, alpha.supervisor.email)
        response = lead.post(
            f"/staff/{alpha.agent.id}/active", data={"active": "false", "csrf_token": csrf}
        )
    assert response.status_code == 403
    agent = _agent(uow_factory, alpha.agent.email)
    assert agent is not None and agent.is_active


def test_staff_names_are_shown_as_text(
    owner: tuple[TestClient, str], uow_factory: UowFactory
) -> None:
    client, csrf = owner
    hostile = "<script>alert(1)</script>"
    client.post(
        "/staff",
        data={
            "display_name": hostile,
            "email": "x@alpha.test",
            "role": "agent",
            "password": NEW_PASSWORD,
            "csrf_token": csrf,
        },
    )
    page = client.get("/staff").text
    assert hostile not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
