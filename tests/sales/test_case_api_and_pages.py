"""After-sales cases over /api/v1/sales/cases and on the /aftersales pages: an agent opens a
case from the conversation, a 售后 agent decides it, an API token can open and read but
never decide, and the pages show the case in shop time with forms that need the CSRF token."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kefu.accounts import auth
from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.clock import FrozenClock
from kefu.commerce.models import OrderStatus
from kefu.sales import service as sales
from kefu.sales.models import CaseKind, CaseStatus
from tests.factories import PASSWORD, UowFactory
from tests.sales.casebook import Casebook, make_casebook

API = "/api/v1/sales/cases"


@pytest.fixture
def book(uow_factory: UowFactory, db: Engine, clock: FrozenClock) -> Casebook:
    return make_casebook(uow_factory, db, clock)


def _log_in(client: TestClient, book: Casebook, email: str, shop: str | None = None) -> str:
    response = client.post(
        "/api/v1/auth/login",
        json={"shop": shop or book.staff.shop.slug, "email": email, "password": PASSWORD},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])


def _open_body(book: Casebook, **extra: object) -> dict[str, object]:
    return {
        "order_id": book.orders[OrderStatus.DELIVERED].id,
        "kind": "refund",
        "reason": "衣服有破洞",
        "conversation_id": book.conversation_id,
        **extra,
    }


def test_an_agent_opens_a_case_from_the_conversation_and_a_colleague_decides_it(
    app: FastAPI, book: Casebook
) -> None:
    with TestClient(app) as client:
        csrf = _log_in(client, book, book.staff.agent.email)
        made = client.post(API, json=_open_body(book), headers={"x-csrf-token": csrf})
        assert made.status_code == 201, made.text
        case = made.json()
        assert (case["status"], case["kind"], case["amount"]) == ("open", "refund", "1299.00")
        assert (case["opened_by"], case["customer_name"]) == ("小美", "王芳")
        assert [s["status"] for s in case["steps"]] == ["open"]
        # Without the CSRF header a cookie caller writes nothing.
        assert client.post(API, json=_open_body(book, kind="return")).status_code == 403
        # The conversation went to 售后: no longer 小美's to work.
        moved = client.post(API, json=_open_body(book), headers={"x-csrf-token": csrf})
        assert moved.status_code == 403

    with TestClient(app) as client:
        csrf = _log_in(client, book, book.aftersale.email)
        headers = {"x-csrf-token": csrf}
        again = client.post(API, json=_open_body(book), headers=headers)
        assert again.status_code == 409
        assert f"#{case['id']}" in again.json()["error"]["message"]
        listed = client.get(API, params={"status": "open"}).json()
        assert listed["total"] == 1 and [c["id"] for c in listed["cases"]] == [case["id"]]
        refused = client.post(
            f"{API}/{case['id']}/decision", json={"approve": False, "note": ""}, headers=headers
        )
        assert refused.status_code == 422 and refused.json()["error"]["field"] == "note"
        decided = client.post(
            f"{API}/{case['id']}/decision", json={"approve": True, "note": "破损属实"},
            headers=headers,
        )  # fmt: skip
        assert decided.status_code == 200, decided.text
        body = decided.json()
        assert (body["status"], body["decided_by"], body["decision_note"]) == (
            "approved", "售后小刘", "破损属实",
        )  # fmt: skip
        done = client.post(f"{API}/{case['id']}/complete", json={}, headers=headers)
        assert done.json()["status"] == "completed"
        assert [s["status"] for s in done.json()["steps"]] == ["open", "approved", "completed"]
        late = client.post(f"{API}/{case['id']}/cancel", json={}, headers=headers)
        assert late.status_code == 422
        assert (
            "completed" in late.json()["error"]["message"]
            or "已完成" in (late.json()["error"]["message"])
        )
    assert book.messages()[-1].body.startswith("您的退款已办理完成")


def test_bad_requests_name_the_field(app: FastAPI, book: Casebook) -> None:
    with TestClient(app) as client:
        headers = {"x-csrf-token": _log_in(client, book, book.staff.agent.email)}
        for extra, field in (
            ({"order_id": book.orders[OrderStatus.UNPAID].id}, "order_id"),
            ({"kind": "return", "order_id": book.orders[OrderStatus.PAID].id}, "kind"),
            ({"amount": "2000"}, "amount"),
            ({"reason": " "}, "reason"),
        ):
            response = client.post(API, json=_open_body(book, **extra), headers=headers)
            assert response.status_code == 422, (extra, response.text)
            assert response.json()["error"]["field"] == field
        unpaid = client.post(
            API,
            json=_open_body(book, order_id=book.orders[OrderStatus.UNPAID].id),
            headers={**headers, "accept-language": "zh-CN"},
        )
        assert "还没有付款" in unpaid.json()["error"]["message"]
        other = client.post(
            API, json=_open_body(book, order_id=book.other_shop_order.id), headers=headers
        )
        assert other.status_code == 404
    assert book.messages() == []


def test_an_api_token_may_open_and_read_but_never_decide(app: FastAPI, book: Casebook) -> None:
    owner = Principal(
        shop_id=book.shop_id, role=Role.OWNER, agent_id=book.staff.owner.id, name="掌柜",
        via="session", credential_id=0,
    )  # fmt: skip
    with book.uow() as uow:
        raw = auth.create_api_token(
            uow, shop_id=book.shop_id, name="ERP", role=Role.OWNER, created_by=owner
        ).raw
    token = {"Authorization": f"Bearer {raw}"}
    with TestClient(app) as client:
        body = _open_body(book, kind="return", amount="99.5", conversation_id=None)
        made = client.post(API, json=body, headers=token)
        assert made.status_code == 201, made.text
        case = made.json()
        assert (case["opened_by_agent_id"], case["amount"]) == (None, "99.50")
        assert case["conversation_id"] == book.conversation_id  # told in their latest
        decided = client.post(f"{API}/{case['id']}/decision", json={"approve": True}, headers=token)
        assert decided.status_code == 403
        assert client.get(f"{API}/{case['id']}", headers=token).json()["status"] == "open"


def test_another_shops_case_is_not_found(app: FastAPI, book: Casebook) -> None:
    case = book.open()
    with TestClient(app) as client:
        csrf = _log_in(client, book, book.other_shop.owner.email, book.other_shop.shop.slug)
        assert client.get(f"{API}/{case.id}").status_code == 404
        answer = client.post(
            f"{API}/{case.id}/decision", json={"approve": True}, headers={"x-csrf-token": csrf}
        )
        assert answer.status_code == 404
        assert client.get(API).json() == {"total": 0, "cases": []}
        assert client.get(f"/aftersales/{case.id}").status_code == 404


def test_an_agent_cannot_open_a_case_in_another_teams_conversation(
    app: FastAPI, book: Casebook
) -> None:
    with TestClient(app) as client:
        headers = {"x-csrf-token": _log_in(client, book, book.aftersale.email)}
        response = client.post(API, json=_open_body(book), headers=headers)
    assert response.status_code == 403  # the conversation is still 售前's


# --- pages -----------------------------------------------------------------------------------


def test_the_list_filters_by_status_and_kind_and_shows_order_buyer_and_age(
    app: FastAPI, book: Casebook, clock: FrozenClock
) -> None:
    refund = book.open(CaseKind.REFUND, OrderStatus.PAID)
    clock.advance(timedelta(hours=3))
    exchange = book.open(CaseKind.EXCHANGE, OrderStatus.SHIPPED, reason="<b>换大一号</b>")
    with TestClient(app) as client:
        _log_in(client, book, book.aftersale.email)
        page = client.get("/aftersales")
        assert page.status_code == 200
        html = page.text
        assert f'data-case="{refund.id}"' in html and f'data-case="{exchange.id}"' in html
        assert book.orders[OrderStatus.PAID].order_no in html and "王芳" in html
        assert "3 小时" in html and "0 分钟" in html
        assert "&lt;b&gt;换大一号&lt;/b&gt;" in html  # the buyer's words, escaped
        only = client.get("/aftersales", params={"kind": "exchange"}).text
        assert f'data-case="{exchange.id}"' in only and f'data-case="{refund.id}"' not in only
        none = client.get("/aftersales", params={"status": "completed"}).text
        assert 'data-case="' not in none
        client.cookies.set("kefu_lang", "en")
        assert "Exchange" in client.get("/aftersales").text


def test_the_case_page_decides_with_the_csrf_token_and_shows_the_steps_in_shop_time(
    app: FastAPI, book: Casebook, clock: FrozenClock
) -> None:
    case = book.open(CaseKind.RETURN, OrderStatus.DELIVERED, amount=Decimal("599"))
    with TestClient(app) as client:
        csrf = _log_in(client, book, book.aftersale.email)
        page = client.get(f"/aftersales/{case.id}").text
        assert 'data-testid="decision-form"' in page
        assert "10:00" in page  # 02:00 UTC is 10:00 in Shanghai
        assert book.orders[OrderStatus.DELIVERED].order_no in page
        forged = client.post(f"/aftersales/{case.id}/decision", data={"decision": "approve"})
        assert forged.status_code == 403
        no_note = client.post(
            f"/aftersales/{case.id}/decision", data={"decision": "reject", "csrf_token": csrf}
        )
        assert no_note.status_code == 422
        assert 'data-testid="case-error"' in no_note.text and "拒绝时请写明原因" in no_note.text
        approved = client.post(
            f"/aftersales/{case.id}/decision",
            data={"decision": "approve", "note": "", "csrf_token": csrf},
            follow_redirects=False,
        )
        assert approved.status_code == 303
        assert approved.headers["location"] == f"/aftersales/{case.id}?done=approved"
        after = client.get(approved.headers["location"]).text
        assert 'data-testid="case-notice"' in after and 'data-testid="returned-form"' in after
        assert 'data-testid="decision-form"' not in after
        client.post(
            f"/aftersales/{case.id}/returned", data={"tracking_no": "YT9", "csrf_token": csrf}
        )
        final = client.post(
            f"/aftersales/{case.id}/complete", data={"csrf_token": csrf}, follow_redirects=True
        ).text
        assert "YT9" in final and 'data-testid="case-actions"' not in final
    assert book.case(case.id).status is CaseStatus.COMPLETED


def test_a_supervisor_sets_the_return_address_that_approved_returns_quote(
    app: FastAPI, book: Casebook
) -> None:
    address = "杭州市余杭区仓前街道 售后组 0571-88880000"
    with TestClient(app) as client:
        csrf = _log_in(client, book, book.staff.agent.email)
        assert 'data-testid="return-address-input"' not in client.get("/aftersales").text
        refused = client.post(
            "/aftersales/return-address", data={"return_address": address, "csrf_token": csrf}
        )
        assert refused.status_code == 403
        csrf = _log_in(client, book, book.staff.owner.email)
        forged = client.post("/aftersales/return-address", data={"return_address": address})
        assert forged.status_code == 403
        saved = client.post(
            "/aftersales/return-address",
            data={"return_address": address, "csrf_token": csrf},
            follow_redirects=True,
        )
        assert saved.status_code == 200
        assert f'value="{address}"' in saved.text and "退货地址已保存" in saved.text
    case = book.open(CaseKind.RETURN, OrderStatus.DELIVERED, amount=Decimal("599"))
    with book.uow() as uow:
        sales.decide_case(
            uow, shop_id=book.shop_id, case_id=case.id, agent_id=book.aftersale.id, approve=True
        )
    assert f"请将商品寄回:{address}" in book.messages()[-1].body
