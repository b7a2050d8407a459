"""The owner's page for connecting the order system: address, secret, signing, 发货时效."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kefu.commerce import service as commerce
from kefu.uow import UnitOfWork
from tests.factories import PASSWORD, ShopWithStaff, make_shop_with_staff

UowFactory = Callable[[], UnitOfWork]
PAGE = "/settings/integrations"


@pytest.fixture
def staff(uow_factory: UowFactory) -> ShopWithStaff:
    return make_shop_with_staff(uow_factory, "mianli")


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def log_in(client: TestClient, email: str) -> str:
    response = client.post(
        "/api/v1/auth/login", json={"shop": "mianli", "email": email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])


def _secret(html: str) -> str:
    found = re.search(r'data-testid="webhook-secret">([^<]+)<', html)
    assert found, html
    return found.group(1)


def test_the_owner_sees_the_address_the_secret_and_how_to_sign(
    client: TestClient, staff: ShopWithStaff, uow_factory: UowFactory
) -> None:
    log_in(client, staff.owner.email)
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "订单系统对接" in page.text
    assert "http://testserver/api/v1/hooks/commerce/mianli" in page.text
    with uow_factory() as uow:
        secret = commerce.commerce_settings(uow, shop_id=staff.shop.id).webhook_secret
    assert _secret(page.text) == secret and len(secret) >= 40
    assert "X-Kefu-Signature" in page.text and "hmac.new" in page.text
    assert 'href="/tokens"' in page.text
    assert 'data-testid="nav-integrations"' in page.text
    assert 'value="48"' in page.text  # the default 发货时效
    client.cookies.set("kefu_lang", "en")
    assert "Connecting your order system" in client.get(PAGE).text


@pytest.mark.parametrize("who", ["agent", "supervisor"])
def test_other_staff_cannot_open_it(
    client: TestClient, staff: ShopWithStaff, uow_factory: UowFactory, who: str
) -> None:
    csrf = log_in(client, getattr(staff, who).email)
    page = client.get(PAGE)
    assert page.status_code == 403
    assert "webhook-secret" not in page.text
    assert 'data-testid="nav-integrations"' not in client.get("/").text
    refused = client.post(f"{PAGE}/secret", data={"csrf_token": csrf})
    assert refused.status_code == 403
    refused = client.post(PAGE, data={"ships_within_hours": "24", "csrf_token": csrf})
    assert refused.status_code == 403
    with uow_factory() as uow:
        assert commerce.ships_within_hours(uow.session, shop_id=staff.shop.id) == 48


def test_the_owner_rotates_the_secret(client: TestClient, staff: ShopWithStaff) -> None:
    csrf = log_in(client, staff.owner.email)
    before = _secret(client.get(PAGE).text)
    forged = client.post(f"{PAGE}/secret", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    assert _secret(client.get(PAGE).text) == before
    rotated = client.post(f"{PAGE}/secret", data={"csrf_token": csrf}, follow_redirects=True)
    assert rotated.status_code == 200
    assert 'data-testid="integrations-notice"' in rotated.text
    assert _secret(rotated.text) != before


def test_the_owner_sets_the_shipping_promise(
    client: TestClient, staff: ShopWithStaff, uow_factory: UowFactory
) -> None:
    csrf = log_in(client, staff.owner.email)
    saved = client.post(
        PAGE, data={"ships_within_hours": "24", "csrf_token": csrf}, follow_redirects=True
    )
    assert saved.status_code == 200 and 'value="24"' in saved.text
    with uow_factory() as uow:
        assert commerce.ships_within_hours(uow.session, shop_id=staff.shop.id) == 24
    for bad in ("0", "721", "soon"):
        refused = client.post(PAGE, data={"ships_within_hours": bad, "csrf_token": csrf})
        assert refused.status_code == 422
        assert 'data-testid="integrations-error"' in refused.text
    with uow_factory() as uow:
        assert commerce.ships_within_hours(uow.session, shop_id=staff.shop.id) == 24


def test_each_shop_has_its_own_secret(uow_factory: UowFactory, staff: ShopWithStaff) -> None:
    other = make_shop_with_staff(uow_factory, "other")
    with uow_factory() as uow:
        mine = commerce.commerce_settings(uow, shop_id=staff.shop.id).webhook_secret
        theirs = commerce.commerce_settings(uow, shop_id=other.shop.id).webhook_secret
    assert mine != theirs
