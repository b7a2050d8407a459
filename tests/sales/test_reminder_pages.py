"""The 催付 page and API as people use them: the figures, the list, the settings form
(supervisors and owners change it, agents look), refusals and escaping."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kefu.clock import FrozenClock
from kefu.events import EventBus
from kefu.sales import service as sales
from tests.factories import PASSWORD, UowFactory
from tests.sales.reminder_shop import ReminderShop, make_reminder_shop

HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture
def shop(
    app: FastAPI, uow_factory: UowFactory, bus: EventBus, db: Engine, clock: FrozenClock
) -> ReminderShop:
    # The app installs the sales subscribers on the bus already.
    shop = make_reminder_shop(uow_factory, EventBus(), db, clock)
    shop.bus = bus
    return shop


def _log_in(client: TestClient, email: str) -> str:
    response = client.post(
        "/api/v1/auth/login", json={"shop": "mianli", "email": email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])


def _form(csrf: str, **changes: str) -> dict[str, str]:
    form = {
        "reminders_enabled": "true",
        "reminder_delay_minutes": "30",
        "quiet_start": "22:00",
        "quiet_end": "08:00",
        "reminder_template": "亲,您拍下的「{product}」还没有付款哦~{coupon_hint}",
        "coupon_hint": "付款后可领 5 元券。",
        "conversion_window_days": "3",
        "csrf_token": csrf,
    }
    form.update(changes)
    return form


def _reminded_order(shop: ReminderShop, clock: FrozenClock) -> None:
    """An order reminded and paid, one waiting: something for the figures and the list."""
    shop.order("P0001", name=HOSTILE)
    shop.chat(shop.buyer_id())
    clock.advance(timedelta(minutes=30))
    assert shop.tick() == 1
    clock.advance(timedelta(minutes=10))
    shop.pay("P0001")
    shop.order("P0002", buyer="buyer-2", name="李雷")


def test_the_owner_sees_figures_list_and_changes_the_delay(
    app: FastAPI, shop: ReminderShop, clock: FrozenClock, uow_factory: UowFactory
) -> None:
    _reminded_order(shop, clock)
    with TestClient(app) as client:
        csrf = _log_in(client, shop.staff.owner.email)
        page = client.get("/sales/reminders")
        assert page.status_code == 200
        assert 'data-testid="nav-reminders"' in page.text
        assert 'data-testid="sent-7">1<' in page.text and 'data-testid="paid-7">1<' in page.text
        assert 'data-testid="rate-30">100.0%<' in page.text
        assert 'data-testid="recovered-7">¥148.90<' in page.text
        assert "当前等待发送:1 条" in page.text
        assert 'data-order="P0001" data-status="sent"' in page.text
        assert HOSTILE not in page.text and "&lt;img src=x" in page.text
        saved = client.post(
            "/sales/reminders",
            data=_form(csrf, reminder_delay_minutes="45", quiet_start="23:00"),
            follow_redirects=False,
        )
        assert saved.status_code == 303
        landed = client.get(saved.headers["location"])
        assert 'data-testid="reminders-saved"' in landed.text
        assert 'value="45"' in landed.text
    with uow_factory() as uow:
        settings = sales.settings_of(uow.session, shop_id=shop.shop_id)
    assert (settings.reminder_delay_minutes, settings.quiet_start) == (45, "23:00")
    assert settings.coupon_hint == "付款后可领 5 元券。"


def test_an_agent_sees_the_page_but_cannot_change_the_settings(
    app: FastAPI, shop: ReminderShop, uow_factory: UowFactory
) -> None:
    with TestClient(app) as client:
        csrf = _log_in(client, shop.staff.agent.email)
        page = client.get("/sales/reminders")
        assert page.status_code == 200
        assert 'data-testid="reminders-save"' not in page.text
        assert "只有主管和店主可以修改设置" in page.text
        refused = client.post(
            "/sales/reminders", data=_form(csrf, reminder_delay_minutes="5"), follow_redirects=False
        )
        assert refused.status_code == 403
        api = client.patch(
            "/api/v1/sales/settings",
            json={"reminder_delay_minutes": 5},
            headers={"x-csrf-token": csrf},
        )
        assert api.status_code == 403
    with uow_factory() as uow:
        assert sales.settings_of(uow.session, shop_id=shop.shop_id).reminder_delay_minutes == 30


def test_a_form_without_its_csrf_token_changes_nothing(
    app: FastAPI, shop: ReminderShop, uow_factory: UowFactory
) -> None:
    with TestClient(app) as client:
        _log_in(client, shop.staff.owner.email)
        for token in ("", "forged"):
            refused = client.post(
                "/sales/reminders",
                data=_form(token, reminder_delay_minutes="5"),
                follow_redirects=False,
            )
            assert refused.status_code == 403
    with uow_factory() as uow:
        assert sales.settings_of(uow.session, shop_id=shop.shop_id).reminder_delay_minutes == 30


def test_a_bad_template_comes_back_with_the_variable_named_and_the_text_kept(
    app: FastAPI, shop: ReminderShop, uow_factory: UowFactory
) -> None:
    with TestClient(app) as client:
        csrf = _log_in(client, shop.staff.supervisor.email)
        typed = "亲,{discount} 元优惠马上到期"
        refused = client.post("/sales/reminders", data=_form(csrf, reminder_template=typed))
        assert refused.status_code == 422
        assert "{discount}" in refused.text and "不是可用变量" in refused.text
        assert typed in refused.text  # what was typed stays in the form
        wrong = client.post("/sales/reminders", data=_form(csrf, reminder_delay_minutes="三十"))
        assert wrong.status_code == 422 and "请输入整数" in wrong.text
    with uow_factory() as uow:
        assert (
            "{discount}"
            not in sales.settings_of(uow.session, shop_id=shop.shop_id).reminder_template
        )


def test_the_api_lists_reminders_reports_and_changes_settings(
    app: FastAPI, shop: ReminderShop, clock: FrozenClock
) -> None:
    _reminded_order(shop, clock)
    with TestClient(app) as client:
        csrf = _log_in(client, shop.staff.supervisor.email)
        listed = client.get("/api/v1/sales/reminders").json()
        assert [(r["order_no"], r["status"]) for r in listed] == [
            ("P0002", "pending"),
            ("P0001", "sent"),
        ]
        assert listed[1]["paid_amount"] == "148.90"
        assert [
            r["order_no"] for r in client.get("/api/v1/sales/reminders?status=sent").json()
        ] == ["P0001"]
        report = client.get("/api/v1/sales/reminders/report").json()
        assert (report["sent"], report["paid_after_reminder"], report["paid_rate"]) == (1, 1, 1.0)
        assert (report["recovered_revenue"], report["pending"]) == ("148.90", 1)
        changed = client.patch(
            "/api/v1/sales/settings",
            json={"quiet_start": "21:30", "coupon_hint": "会员付款享 95 折。"},
            headers={"x-csrf-token": csrf},
        )
        assert changed.status_code == 200
        assert changed.json()["quiet_start"] == "21:30"
        assert changed.json()["reminder_delay_minutes"] == 30  # not given: kept
        bad = client.patch(
            "/api/v1/sales/settings",
            json={"reminder_template": "{coupon}"},
            headers={"x-csrf-token": csrf},
        )
        assert bad.status_code == 422
        assert bad.json()["error"]["field"] == "reminder_template"
        assert "{coupon}" in bad.json()["error"]["message"]
        assert client.get("/api/v1/sales/settings").json()["quiet_start"] == "21:30"
