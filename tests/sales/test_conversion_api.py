"""询单转化率 over the API (``/api/v1/sales/conversion``) and on the page
(``/sales/conversion``): supervisors, owners and their tokens see the shop, an agent their
own row, and no shop sees another's. The app wires the subscribers itself."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kefu.accounts import auth
from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.clock import FrozenClock
from kefu.events import EventBus
from kefu.web.security import LANG_COOKIE
from tests.factories import PASSWORD, UowFactory
from tests.sales.conversion_floor import Floor, make_floor

URL = "/api/v1/sales/conversion"


@pytest.fixture
def floor(
    app: FastAPI, uow_factory: UowFactory, bus: EventBus, clock: FrozenClock, db: Engine
) -> Floor:
    """小美 answers two inquiries (one paid), 阿杰 one (paid); a second shop has its own."""
    floor = make_floor(uow_factory, bus, clock, db)
    floor.online(floor.staff.agent)
    paid, window_shopper = floor.buyer("付款买家"), floor.buyer("只看看")
    floor.chat(paid)
    floor.chat(window_shopper)
    floor.offline(floor.staff.agent)
    floor.online(floor.seller)
    jie = floor.buyer("阿杰的买家")
    floor.chat(jie)
    clock.advance(timedelta(days=1))
    floor.pay(paid)
    floor.pay(jie, quantity=3)
    other = make_floor(uow_factory, bus, clock, db, slug="rival")
    other.online(other.seller)
    for n in range(4):
        rival_buyer = other.buyer(f"别家买家{n}")
        other.chat(rival_buyer)
        other.pay(rival_buyer)
    assert len(other.inquiries()) == 4
    clock.advance(timedelta(minutes=1))
    return floor


def _client(app: FastAPI, email: str) -> TestClient:
    client = TestClient(app)
    shop = email.split("@")[1].removesuffix(".test")
    response = client.post(
        "/api/v1/auth/login", json={"shop": shop, "email": email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return client


@pytest.fixture
def as_supervisor(app: FastAPI, floor: Floor) -> Iterator[TestClient]:
    with _client(app, floor.staff.supervisor.email) as client:
        yield client


@pytest.fixture
def as_agent(app: FastAPI, floor: Floor) -> Iterator[TestClient]:
    with _client(app, floor.staff.agent.email) as client:
        yield client


def _token(floor: Floor, role: Role) -> str:
    owner = floor.staff.owner
    creator = Principal(
        shop_id=floor.shop_id, role=Role.OWNER, agent_id=owner.id, name="掌柜", via="session",
        credential_id=0,
    )  # fmt: skip
    with floor.uow() as uow:
        return auth.create_api_token(
            uow, shop_id=floor.shop_id, name=f"BI {role.value}", role=role, created_by=creator
        ).raw


def _rows(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(r["id"], r["name"], r["inquiries"], r["converted"]) for r in body["rows"]]


def test_a_supervisor_sees_every_agent_and_the_shop_total(
    as_supervisor: TestClient, floor: Floor
) -> None:
    response = as_supervisor.get(URL)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["by"] == "agent" and body["window_days"] == 3
    assert _rows(body) == [
        (floor.staff.agent.id, "小美", 2, 1),
        (floor.seller.id, "阿杰", 1, 1),
    ]
    assert [r["rate"] for r in body["rows"]] == [0.5, 1.0]
    assert [r["amount"] for r in body["rows"]] == ["199.00", "597.00"]
    total = body["total"]
    assert (total["inquiries"], total["converted"], total["amount"]) == (3, 2, "796.00")
    assert total["rate"] == pytest.approx(0.6667)

    by_team = as_supervisor.get(URL, params={"by": "team"}).json()
    assert _rows(by_team) == [(floor.team_id("presale"), "售前", 3, 2)]


def test_the_period_is_given_in_the_shops_days(as_supervisor: TestClient, floor: Floor) -> None:
    # The inquiries started on 2026-11-23 at 10:00 Shanghai time (02:00 UTC).
    same_day = as_supervisor.get(URL, params={"since": "2026-11-23", "until": "2026-11-24"})
    assert same_day.json()["total"]["inquiries"] == 3
    assert same_day.json()["since"] == "2026-11-23T00:00:00+08:00"
    day_after = as_supervisor.get(URL, params={"since": "2026-11-24", "until": "2026-11-25"})
    assert day_after.json()["rows"] == [] and day_after.json()["total"]["inquiries"] == 0
    to_the_hour = as_supervisor.get(
        URL, params={"since": "2026-11-23T10:00:00+08:00", "until": "2026-11-23T10:00:01+08:00"}
    )
    assert to_the_hour.json()["total"]["inquiries"] == 3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"by": "customer"}, "by"),
        ({"since": "2026-11-24", "until": "2026-11-23"}, "until"),
        ({"since": "昨天"}, "since"),
    ],
)
def test_bad_questions_are_refused(
    as_supervisor: TestClient, params: dict[str, str], field: str
) -> None:
    response = as_supervisor.get(URL, params=params)
    assert response.status_code == 422, response.text
    assert field in response.text


def test_an_agent_sees_only_their_own_row(as_agent: TestClient, floor: Floor) -> None:
    body = as_agent.get(URL).json()
    assert _rows(body) == [(floor.staff.agent.id, "小美", 2, 1)]
    assert body["total"] is None
    refused = as_agent.get(URL, params={"by": "team"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"


def test_an_agent_without_inquiries_sees_an_empty_row_of_their_own(
    app: FastAPI, floor: Floor
) -> None:
    with _client(app, floor.aftersale.email) as client:
        body = client.get(URL).json()
    assert _rows(body) == [(floor.aftersale.id, "售后小王", 0, 0)]
    assert body["rows"][0]["rate"] is None


def test_api_tokens_of_supervisors_read_it_and_others_do_not(app: FastAPI, floor: Floor) -> None:
    with TestClient(app) as client:
        assert client.get(URL).status_code == 401
        supervisor = {"Authorization": f"Bearer {_token(floor, Role.SUPERVISOR)}"}
        body = client.get(URL, headers=supervisor).json()
        assert body["total"]["inquiries"] == 3
        agent = {"Authorization": f"Bearer {_token(floor, Role.AGENT)}"}
        assert client.get(URL, headers=agent).status_code == 403


def test_another_shops_inquiries_never_show(app: FastAPI, floor: Floor) -> None:
    with _client(app, "owner@rival.test") as rival:
        body = rival.get(URL).json()
    ours = {floor.staff.agent.id, floor.seller.id}
    assert body["total"]["inquiries"] == 4
    assert not ours & {r["id"] for r in body["rows"]}


def test_the_page_shows_both_tables_to_a_supervisor(
    as_supervisor: TestClient, floor: Floor
) -> None:
    page = as_supervisor.get("/sales/conversion")
    assert page.status_code == 200
    html = page.text
    assert "询单转化率" in html and 'data-testid="conversion-agent"' in html
    assert 'data-testid="conversion-team"' in html
    assert "小美" in html and "阿杰" in html and "50.0%" in html and "100.0%" in html
    assert "¥796.00" in html  # the shop's total
    assert 'aria-current="page">近 7 天' in html
    month = as_supervisor.get("/sales/conversion", params={"days": 30})
    assert 'aria-current="page">近 30 天' in month.text
    as_supervisor.cookies.set(LANG_COOKIE, "en")
    english = as_supervisor.get("/sales/conversion").text
    assert "Inquiry conversion" in english and "By team" in english


def test_the_page_shows_an_agent_their_own_row(as_agent: TestClient, floor: Floor) -> None:
    html = as_agent.get("/sales/conversion").text
    assert "小美" in html and "阿杰" not in html
    assert 'data-testid="conversion-team"' not in html
    assert 'data-testid="nav-conversion"' in html


def test_the_page_wants_a_login(app: FastAPI) -> None:
    with TestClient(app) as client:
        response = client.get("/sales/conversion", follow_redirects=False)
    assert response.status_code in (302, 303)
    assert "/login" in response.headers["location"]
