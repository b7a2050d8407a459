"""Bad input gets a clear 4xx, never a 500, and leaves nothing half-written.

Every request here goes through ``strict``: a TestClient that re-raises any server-side
exception, so a 500 fails the test loudly instead of hiding behind an error page.
Inputs that reach the database with values it cannot hold are in test_bad_input_values.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from kefu.accounts.models import Agent, ApiToken, LoginAttempt, LoginSession
from kefu.clock import FrozenClock
from kefu.config import Settings
from kefu.uow import UnitOfWork
from tests.factories import PASSWORD, ShopWithStaff, make_shop_with_staff

UowFactory = Callable[[], UnitOfWork]
LOGIN = "/api/v1/auth/login"
JSON = {"content-type": "application/json"}
WRONG = {"shop": "alpha", "email": "owner@alpha.test", "password": "wrong password!"}


@pytest.fixture
def strict(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=True) as client:
        yield client


@pytest.fixture
def alpha(uow_factory: UowFactory) -> ShopWithStaff:
    return make_shop_with_staff(uow_factory, "alpha")


def _rows(uow_factory: UowFactory) -> dict[str, int]:
    with uow_factory() as uow:
        return {
            model.__tablename__: uow.session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Agent, LoginAttempt, LoginSession, ApiToken)
        }


def _error(response: Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error: dict = response.json()["error"]
    assert error["code"] == code
    return error


def _owner_headers(client: TestClient) -> dict[str, str]:
    response = client.post(LOGIN, json={**WRONG, "password": PASSWORD})
    assert response.status_code == 200
    return {"X-CSRF-Token": response.json()["csrf_token"]}


def test_the_guard_turns_a_server_error_into_a_test_failure(
    app: FastAPI, strict: TestClient
) -> None:
    """The app answers unexpected errors with a JSON 500; ``strict`` must still raise."""

    @app.get("/api/v1/_boom")
    def boom() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        strict.get("/api/v1/_boom")


# --- wrong password --------------------------------------------------------------------


def test_wrong_password_is_401_in_the_callers_language(
    strict: TestClient, alpha: ShopWithStaff, uow_factory: UowFactory
) -> None:
    zh = _error(strict.post(LOGIN, json=WRONG), 401, "invalid_credentials")
    assert zh["message"] == "邮箱或密码错误"
    en = strict.post(LOGIN, json=WRONG, headers={"Accept-Language": "en-US,en;q=0.9"})
    assert _error(en, 401, "invalid_credentials")["message"] == "Wrong e-mail or password"
    assert "kefu_session" not in strict.cookies
    assert _rows(uow_factory) | {"agents": 0} == {
        "agents": 0,
        "login_attempts": 2,
        "login_sessions": 0,
        "api_tokens": 0,
    }


def test_wrong_password_on_the_login_page_shows_the_error_and_keeps_the_email(
    strict: TestClient, alpha: ShopWithStaff
) -> None:
    assert strict.get("/login").status_code == 200  # issues the CSRF cookie
    form = {**WRONG, "csrf_token": strict.cookies["kefu_csrf"], "next": "/"}
    response = strict.post("/login", data=form)
    assert response.status_code == 401
    assert "邮箱或密码错误" in response.text
    assert 'value="owner@alpha.test"' in response.text
    assert "kefu_session" not in strict.cookies

    forged = strict.post("/login", data={**form, "csrf_token": "forged"})
    assert forged.status_code == 403
    assert "表单已过期或来自其他网站" in forged.text


# --- malformed JSON and the wrong shape ------------------------------------------------


@pytest.mark.parametrize(
    "body", [b"{bad", b'{"shop": "alpha",', b"{'shop': 'alpha'}", b"\xff\xfe{}", b"[1, 2"]
)
def test_malformed_json_is_400(
    strict: TestClient, alpha: ShopWithStaff, uow_factory: UowFactory, body: bytes
) -> None:
    before = _rows(uow_factory)
    error = _error(strict.post(LOGIN, content=body, headers=JSON), 400, "malformed_json")
    assert error["message"].startswith("请求体不是合法的 JSON")
    english = strict.post(LOGIN, content=body, headers={**JSON, "Accept-Language": "en"})
    assert _error(english, 400, "malformed_json")["message"].startswith(
        "The request body is not valid JSON"
    )
    assert _rows(uow_factory) == before


def test_malformed_json_on_a_write_writes_nothing(
    strict: TestClient, alpha: ShopWithStaff, uow_factory: UowFactory
) -> None:
    headers = {**_owner_headers(strict), **JSON}
    before = _rows(uow_factory)
    response = strict.post(
        "/api/v1/agents", content=b'{"email": "x@alpha.test", "password": ', headers=headers
    )
    _error(response, 400, "malformed_json")
    assert _rows(uow_factory) == before


@pytest.mark.parametrize(
    ("body", "field", "problem"),
    [
        ({"shop": "alpha", "email": "owner@alpha.test"}, "password", "Field required"),
        ({**WRONG, "remember_me": True}, "remember_me", "Extra inputs are not permitted"),
        ({**WRONG, "password": 12345678}, "password", "Input should be a valid string"),
        ({**WRONG, "shop": ["alpha"]}, "shop", "Input should be a valid string"),
        ({**WRONG, "shop": ""}, "shop", "at least 1 character"),
    ],
)
def test_json_of_the_wrong_shape_is_422_naming_the_field(
    strict: TestClient,
    alpha: ShopWithStaff,
    uow_factory: UowFactory,
    body: dict,
    field: str,
    problem: str,
) -> None:
    error = _error(strict.post(LOGIN, json=body), 422, "validation_failed")
    assert [d["field"] for d in error["details"]] == [field]
    assert problem in error["details"][0]["message"]
    assert error["message"].startswith(f"请求参数有误:{field}: ")
    assert _rows(uow_factory)["login_attempts"] == 0


@pytest.mark.parametrize("body", [[WRONG], "alpha", None, 42])
def test_a_json_body_that_is_not_an_object_is_422(
    strict: TestClient, alpha: ShopWithStaff, uow_factory: UowFactory, body: object
) -> None:
    response = strict.post(LOGIN, content=json.dumps(body).encode(), headers=JSON)
    error = _error(response, 422, "validation_failed")
    # Nothing inside the body to point at: the message names the body as a whole.
    assert len(error["details"]) == 1
    assert error["message"].startswith("请求参数有误:body: ")
    assert _rows(uow_factory)["login_attempts"] == 0


# --- oversized bodies ------------------------------------------------------------------


def _padded(payload: dict, size: int) -> bytes:
    """Valid JSON of exactly ``size`` bytes: the payload with whitespace before the brace."""
    head = json.dumps(payload).encode()
    return head[:-1] + b" " * (size - len(head)) + b"}"


def _send(client: TestClient, url: str, body: bytes, how: str, headers: dict) -> Response:
    if how == "declared":
        response = client.post(url, content=body, headers={**JSON, **headers})
        assert response.request.headers["content-length"] == str(len(body))
        return response

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    response = client.post(url, content=chunks(), headers={**JSON, **headers})
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    return response


@pytest.mark.parametrize("how", ["declared", "streamed"])
def test_an_oversized_login_is_413_and_not_counted(
    strict: TestClient,
    alpha: ShopWithStaff,
    settings: Settings,
    uow_factory: UowFactory,
    how: str,
) -> None:
    limit = settings.max_body_bytes
    too_big = _send(strict, LOGIN, _padded(WRONG, limit + 1), how, {})
    error = _error(too_big, 413, "payload_too_large")
    assert str(limit) in error["message"]
    if how == "declared":
        # Refused on the announced size alone, before a byte of the body is read.
        assert error["message"] == f"request body is {limit + 1} bytes; limit {limit}"
    assert _rows(uow_factory)["login_attempts"] == 0

    # The same request at exactly the limit is read and judged: a failed login is recorded.
    at_limit = _send(strict, LOGIN, _padded(WRONG, limit), how, {})
    _error(at_limit, 401, "invalid_credentials")
    assert _rows(uow_factory)["login_attempts"] == 1


@pytest.mark.parametrize("how", ["declared", "streamed"])
def test_an_oversized_create_agent_is_413_and_writes_no_agent(
    strict: TestClient,
    alpha: ShopWithStaff,
    settings: Settings,
    uow_factory: UowFactory,
    how: str,
) -> None:
    headers = _owner_headers(strict)
    new = {"email": "big@alpha.test", "display_name": "大", "password": "long enough 1"}
    before = _rows(uow_factory)

    response = _send(
        strict, "/api/v1/agents", _padded(new, settings.max_body_bytes + 1), how, headers
    )
    _error(response, 413, "payload_too_large")
    assert _rows(uow_factory) == before
    created = _send(strict, "/api/v1/agents", _padded(new, settings.max_body_bytes), how, headers)
    assert created.status_code == 201


# --- unknown shop ----------------------------------------------------------------------


def test_an_unknown_shop_is_404_naming_the_shop_code(
    strict: TestClient, alpha: ShopWithStaff, uow_factory: UowFactory
) -> None:
    body = {**WRONG, "shop": "no-such-shop", "password": PASSWORD}
    zh = _error(strict.post(LOGIN, json=body), 404, "not_found")
    assert zh["message"] == "店铺代码“no-such-shop”不存在"
    en = _error(strict.post(LOGIN, json=body, headers={"Accept-Language": "en"}), 404, "not_found")
    assert en["message"] == "There is no shop with the code 'no-such-shop'"
    assert _rows(uow_factory)["login_sessions"] == 0

    strict.get("/login")
    page = strict.post("/login", data={**body, "csrf_token": strict.cookies["kefu_csrf"]})
    assert page.status_code == 404
    assert "店铺代码“no-such-shop”不存在" in page.text


# --- expired sessions ------------------------------------------------------------------


def test_an_expired_session_is_401_on_the_api_and_a_redirect_on_pages(
    strict: TestClient, alpha: ShopWithStaff, clock: FrozenClock
) -> None:
    _owner_headers(strict)
    assert strict.get("/").status_code == 200
    clock.advance(timedelta(hours=12))

    api = strict.get("/api/v1/auth/me")
    assert _error(api, 401, "session_expired")["message"] == "登录已过期,请重新登录"
    en = strict.get("/api/v1/auth/me", headers={"Accept-Language": "en"})
    assert en.json()["error"]["message"] == "Your session has expired; please log in again"

    page = strict.get("/", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2F&expired=1"
    login = strict.get(page.headers["location"])
    assert login.status_code == 200
    assert "登录已过期,请重新登录。" in login.text
    assert 'name="next" value="/"' in login.text


def test_a_garbage_session_cookie_redirects_without_the_expired_notice(
    strict: TestClient, alpha: ShopWithStaff
) -> None:
    strict.cookies.set("kefu_session", "garbage")
    page = strict.get("/?tab=teams", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2F%3Ftab%3Dteams"
    assert "登录已过期" not in strict.get(page.headers["location"]).text
    _error(strict.get("/api/v1/auth/me"), 401, "unauthenticated")


# --- unknown paths, wrong methods, wrong content types ---------------------------------


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v2/agents", "/api/v1/agents/1/extra"])
def test_an_unknown_api_path_is_404_json(
    strict: TestClient, alpha: ShopWithStaff, path: str
) -> None:
    assert _error(strict.get(path), 404, "not_found")["message"] == "找不到该内容"


def test_an_unknown_page_is_a_404_page(strict: TestClient) -> None:
    response = strict.get("/no-such-page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "找不到该内容" in response.text


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", LOGIN, "POST"),
        ("PUT", LOGIN, "POST"),
        ("DELETE", "/api/v1/agents", "GET, POST"),
    ],
)
def test_a_wrong_method_on_the_api_is_405_json(
    strict: TestClient, alpha: ShopWithStaff, method: str, path: str, allow: str
) -> None:
    response = strict.request(method, path)
    assert _error(response, 405, "method_not_allowed")["message"] == "不支持该请求方法"
    assert sorted(response.headers["allow"].split(", ")) == sorted(allow.split(", "))


def test_a_wrong_method_on_a_page_is_405_with_allow(strict: TestClient) -> None:
    response = strict.post("/")
    assert response.status_code == 405
    assert response.headers.get("allow") == "GET"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", b"shop=alpha&email=owner%40alpha.test&password=x"),
        ("text/plain", json.dumps({**WRONG, "password": PASSWORD}).encode()),
        ("multipart/form-data; boundary=kefu", b"--kefu--\r\n"),
        (None, json.dumps({**WRONG, "password": PASSWORD}).encode()),
    ],
)
def test_the_login_api_accepts_only_json(
    strict: TestClient,
    alpha: ShopWithStaff,
    uow_factory: UowFactory,
    content_type: str | None,
    body: bytes,
) -> None:
    """A cross-site form can post text/plain or a form without a preflight: no login from it."""
    headers = {"content-type": content_type} if content_type else {}
    response = strict.post(LOGIN, content=body, headers=headers)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["code"] == "validation_failed"
    assert "kefu_session" not in strict.cookies
    assert _rows(uow_factory)["login_sessions"] == 0


# --- too many failed logins ------------------------------------------------------------


def test_too_many_failed_logins_is_429_with_retry_after(
    strict: TestClient,
    alpha: ShopWithStaff,
    settings: Settings,
    clock: FrozenClock,
    uow_factory: UowFactory,
) -> None:
    for _ in range(settings.login_max_failures):
        _error(strict.post(LOGIN, json=WRONG), 401, "invalid_credentials")

    right = {**WRONG, "password": PASSWORD}
    limited = strict.post(LOGIN, json=right)
    error = _error(limited, 429, "rate_limited")
    window = settings.login_window_minutes * 60
    assert limited.headers["retry-after"] == str(window)
    assert error["message"] == f"登录失败次数过多,请 {window} 秒后再试"
    en = strict.post(LOGIN, json=right, headers={"Accept-Language": "en"})
    assert en.json()["error"]["message"] == f"Too many failed logins; try again in {window} seconds"
    assert "kefu_session" not in strict.cookies

    clock.advance(timedelta(minutes=10))
    assert strict.post(LOGIN, json=right).headers["retry-after"] == str(window - 600)
    clock.advance(timedelta(minutes=5))
    assert strict.post(LOGIN, json=right).status_code == 200
    assert _rows(uow_factory)["login_attempts"] == 0
