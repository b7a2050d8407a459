"""The login, home and language pages as a browser without JavaScript uses them."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient

from kefu.clock import FrozenClock
from kefu.conversations import service as conversations
from kefu.conversations.models import Channel
from kefu.crm import service as crm
from kefu.uow import UnitOfWork
from tests.factories import PASSWORD, make_shop_with_staff


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF field"
    return match.group(1)


def _form_login(client: TestClient, *, shop: str, email: str, password: str, next_path: str = "/"):
    token = _csrf(client.get("/login").text)
    return client.post(
        "/login",
        data={
            "shop": shop,
            "email": email,
            "password": password,
            "next": next_path,
            "csrf_token": token,
        },
        follow_redirects=False,
    )


def test_single_shop_install_prefills_the_shop_code(
    client: TestClient, uow_factory: Callable[[], UnitOfWork]
) -> None:
    make_shop_with_staff(uow_factory, "mianli")
    page = client.get("/login")
    assert page.status_code == 200
    assert 'name="shop" value="mianli"' in page.text
    assert 'lang="zh-CN"' in page.text and "登录客服工作台" in page.text


def test_form_login_sets_a_safe_session_cookie_and_lands_on_next(
    client: TestClient, uow_factory: Callable[[], UnitOfWork]
) -> None:
    staff = make_shop_with_staff(uow_factory, "mianli")
    response = _form_login(
        client, shop="mianli", email=staff.agent.email, password=PASSWORD, next_path="/?tab=mine"
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/?tab=mine"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("kefu_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    home = client.get("/")
    assert home.status_code == 200
    assert "mianli 旗舰店" in home.text


def test_login_never_redirects_to_another_site(
    client: TestClient, uow_factory: Callable[[], UnitOfWork]
) -> None:
    staff = make_shop_with_staff(uow_factory, "mianli")
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        client.cookies.clear()
        response = _form_login(
            client, shop="mianli", email=staff.agent.email, password=PASSWORD, next_path=target
        )
        assert response.headers["location"] == "/"


def test_form_post_without_the_csrf_token_is_refused(
    client: TestClient, uow_factory: Callable[[], UnitOfWork]
) -> None:
    staff = make_shop_with_staff(uow_factory, "mianli")
    client.get("/login")
    response = client.post(
        "/login",
        data={
            "shop": "mianli",
            "email": staff.agent.email,
            "password": PASSWORD,
            "csrf_token": "forged",
        },
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "表单已过期" in response.text
    assert "kefu_session" not in response.headers.get("set-cookie", "")


def test_wrong_password_and_unknown_shop_are_explained_on_the_form(
    client: TestClient, uow_factory: Callable[[], UnitOfWork]
) -> None:
    staff = make_shop_with_staff(uow_factory, "mianli")
    wrong = _form_login(client, shop="mianli", email=staff.agent.email, password="nope-nope")
    assert wrong.status_code == 401
    assert "邮箱或密码错误" in wrong.text
    assert f'value="{staff.agent.email}"' in wrong.text
    unknown = _form_login(client, shop="nosuchshop", email=staff.agent.email, password=PASSWORD)
    assert unknown.status_code == 404
    assert "店铺代码“nosuchshop”不存在" in unknown.text


def test_expired_session_goes_back_to_login_with_a_notice(
    client: TestClient, uow_factory: Callable[[], UnitOfWork], clock: FrozenClock
) -> None:
    staff = make_shop_with_staff(uow_factory, "mianli")
    _form_login(client, shop="mianli", email=staff.agent.email, password=PASSWORD)
    clock.advance(timedelta(hours=12, seconds=1))
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2F&expired=1"
    assert "登录已过期" in client.get(response.headers["location"]).text


def test_home_shows_counts_teams_and_times_in_the_shop_zone(
    client: TestClient, uow_factory: Callable[[], UnitOfWork]
) -> None:
    staff = make_shop_with_staff(uow_factory, "mianli")
    with uow_factory() as uow:
        buyer = crm.create_customer(uow, shop_id=staff.shop.id, name="李雷", gender="M")
        conversation = conversations.start_conversation(
            uow,
            shop_id=staff.shop.id,
            customer_id=buyer.id,
            channel=Channel.WIDGET,
            team_code="aftersale",
        )
        conversations.receive_message(
            uow,
            shop_id=staff.shop.id,
            conversation_id=conversation.id,
            client_msg_id="1",
            body="退货",
        )
    _form_login(client, shop="mianli", email=staff.supervisor.email, password=PASSWORD)
    home = client.get("/").text
    assert "早上好" in home  # 10:00 in Shanghai
    assert "李先生" in home
    assert "2026-11-23 10:00" in home  # 02:00 UTC shown in Asia/Shanghai
    assert re.search(r'data-testid="open-conversations">1<', home)
    for team in ("售前", "售后", "投诉", "推广", "发货"):
        assert team in home


def test_language_switch_persists_and_only_accepts_known_languages(
    client: TestClient, uow_factory: Callable[[], UnitOfWork]
) -> None:
    staff = make_shop_with_staff(uow_factory, "mianli")
    _form_login(client, shop="mianli", email=staff.agent.email, password=PASSWORD)
    token = _csrf(client.get("/").text)
    switched = client.post(
        "/lang", data={"lang": "en", "next": "/", "csrf_token": token}, follow_redirects=False
    )
    assert switched.status_code == 303
    home = client.get("/").text
    assert 'lang="en"' in home and "Teams" in home and "Log out" in home
    bad = client.post("/lang", data={"lang": "fr", "csrf_token": token}, follow_redirects=False)
    assert bad.status_code == 422
    assert 'lang="en"' in client.get("/").text


def test_logout_ends_the_session_on_the_server(
    client: TestClient, uow_factory: Callable[[], UnitOfWork]
) -> None:
    staff = make_shop_with_staff(uow_factory, "mianli")
    _form_login(client, shop="mianli", email=staff.agent.email, password=PASSWORD)
    stolen_cookie = client.cookies.get("kefu_session")
    token = _csrf(client.get("/").text)
    out = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    # Even a copy of the old cookie no longer opens the desk.
    client.cookies.set("kefu_session", stolen_cookie or "")
    assert client.get("/", follow_redirects=False).status_code == 303
    assert client.get("/api/v1/auth/me").status_code == 401


def test_pages_forbid_framing_and_foreign_scripts(client: TestClient) -> None:
    response = client.get("/login")
    assert response.headers["x-frame-options"] == "DENY"
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    # Every asset the page loads is served by Kefu itself.
    for asset in re.findall(r'(?:href|src)="([^"]+)"', response.text):
        assert asset.startswith("/"), asset
        if asset.startswith("/static/"):
            assert client.get(asset).status_code == 200
