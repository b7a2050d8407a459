"""The owner's settings and intent table, over the service, the API and the page."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from kefu.bot import service
from kefu.bot.schemas import BotSettingsIn
from kefu.errors import Invalid, NotFound
from kefu.nlp.intents import DEFAULT_ROUTES, LABELS
from kefu.shops import service as shops
from tests.factories import PASSWORD, ShopWithStaff, UowFactory, make_shop_with_staff


@pytest.fixture
def staff(uow_factory: UowFactory) -> ShopWithStaff:
    return make_shop_with_staff(uow_factory, "settings-shop")


def _login(client: TestClient, staff: ShopWithStaff, email: str) -> dict[str, str]:
    response = client.post(
        "/api/v1/auth/login",
        json={"shop": staff.shop.slug, "email": email, "password": PASSWORD},
    )
    assert response.status_code == 200, response.text
    return {"x-csrf-token": response.json()["csrf_token"]}


def test_a_new_shop_has_the_bot_off_with_sensible_defaults(
    uow_factory: UowFactory, staff: ShopWithStaff
) -> None:
    with uow_factory() as uow:
        assert not shops.get_shop(uow.session, shop_id=staff.shop.id).bot_enabled
        settings = service.settings_of(uow.session, shop_id=staff.shop.id)
    assert (settings.work_start, settings.work_end, settings.work_days) == (
        "09:00",
        "22:00",
        "1234567",
    )
    assert settings.threshold is None and "{shop_name}" in settings.greeting


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"work_start": "9点"}, "work_start"),
        ({"work_end": "24:00"}, "work_end"),
        ({"work_start": "09:00", "work_end": "09:00"}, "work_end"),
        ({"work_days": "089"}, "work_days"),
        ({"greeting": "   "}, "greeting"),
    ],
)
def test_bad_settings_are_refused_and_nothing_changes(
    uow_factory: UowFactory, staff: ShopWithStaff, changes: dict[str, str], field: str
) -> None:
    with uow_factory() as uow, pytest.raises(Invalid) as caught:
        service.update_settings(
            uow, shop_id=staff.shop.id, changes=BotSettingsIn(enabled=True, **changes)
        )
    assert caught.value.field == field
    with uow_factory() as uow:
        assert not shops.get_shop(uow.session, shop_id=staff.shop.id).bot_enabled


def test_a_shop_edits_one_intent_and_keeps_the_rest(
    uow_factory: UowFactory, staff: ShopWithStaff
) -> None:
    intent = "买家讨价还价"
    with uow_factory() as uow:
        row = service.set_intent_route(
            uow, shop_id=staff.shop.id, intent=intent, team_code="promotion", action=None
        )
    assert row.edited
    with uow_factory() as uow:
        assert (
            service.route_for(uow.session, shop_id=staff.shop.id, intent=intent).team == "promotion"
        )
        table = service.intent_table(uow.session, shop_id=staff.shop.id)
    assert len(table) == len(LABELS) == 118
    assert [r.intent for r in table if r.edited] == [intent]
    # Choosing the built-in route again removes the edit.
    default = DEFAULT_ROUTES[intent]
    with uow_factory() as uow:
        row = service.set_intent_route(
            uow, shop_id=staff.shop.id, intent=intent, team_code=default.team, action=default.action
        )
    assert not row.edited
    with uow_factory() as uow, pytest.raises(Invalid):
        service.set_intent_route(
            uow, shop_id=staff.shop.id, intent=intent, team_code="nosuchteam", action=None
        )
    with uow_factory() as uow, pytest.raises(NotFound):
        service.set_intent_route(
            uow, shop_id=staff.shop.id, intent="买家想要独角兽", team_code="presale", action=None
        )


def test_the_api_lets_owners_change_and_supervisors_read(
    client: TestClient, staff: ShopWithStaff
) -> None:
    headers = _login(client, staff, staff.agent.email)
    assert client.get("/api/v1/bot/settings", headers=headers).status_code == 403
    client.cookies.clear()
    headers = _login(client, staff, staff.supervisor.email)
    assert client.get("/api/v1/bot/settings", headers=headers).json()["enabled"] is False
    assert (
        client.patch("/api/v1/bot/settings", json={"enabled": True}, headers=headers).status_code
        == 403
    )
    client.cookies.clear()
    headers = _login(client, staff, staff.owner.email)
    answer = client.patch(
        "/api/v1/bot/settings", json={"enabled": True, "work_start": "08:30"}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["enabled"] is True and answer.json()["work_start"] == "08:30"
    bad = client.patch("/api/v1/bot/settings", json={"threshold": 3}, headers=headers)
    assert bad.status_code == 422 and "threshold" in bad.text
    intents = client.get("/api/v1/bot/intents", headers=headers).json()
    assert len(intents) == 118
    number = next(i for i, row in enumerate(intents, 1) if row["intent"] == "买家讨价还价")
    changed = client.put(
        f"/api/v1/bot/intents/{number}", json={"team_code": "promotion"}, headers=headers
    )
    assert changed.status_code == 200 and changed.json()["edited"] is True
    wrong_team = client.put(
        f"/api/v1/bot/intents/{number}", json={"team_code": "x"}, headers=headers
    )
    assert wrong_team.status_code == 422
    assert (
        client.put(
            "/api/v1/bot/intents/119", json={"team_code": "presale"}, headers=headers
        ).status_code
        == 404
    )


def test_the_settings_page_saves_and_shows_errors(client: TestClient, staff: ShopWithStaff) -> None:
    _login(client, staff, staff.owner.email)  # the API login sets the session cookie too
    page = client.get("/settings/bot")
    assert page.status_code == 200 and "智能机器人" in page.text
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    form = {
        "csrf_token": token, "enabled": "true", "bot_name": "小蜜", "threshold": "",
        "greeting": "您好,我是{bot_name}", "handoff_message": "正在为您转接{team_name}",
        "offline_message": "客服{back_at}回来", "work_start": "09:00", "work_end": "09:00",
        "work_days": ["1", "2"],
    }  # fmt: skip
    refused = client.post("/settings/bot", data=form)
    assert refused.status_code == 422 and 'data-testid="bot-error"' in refused.text
    form["work_end"] = "18:00"
    saved = client.post("/settings/bot", data=form, follow_redirects=True)
    assert saved.status_code == 200 and 'data-testid="bot-saved"' in saved.text
    assert 'value="小蜜"' in saved.text


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [("KF(\\d+", "not a valid regular expression"), ("(\\d+)+X", "slow"), ("\\d*", "empty")],
)
def test_a_bad_order_pattern_is_refused_with_the_reason(
    uow_factory: UowFactory, staff: ShopWithStaff, pattern: str, reason: str
) -> None:
    with uow_factory() as uow, pytest.raises(Invalid) as caught:
        service.update_settings(
            uow, shop_id=staff.shop.id, changes=BotSettingsIn(order_pattern=pattern)
        )
    assert caught.value.field == "order_pattern" and reason in str(caught.value)
    with uow_factory() as uow:
        assert service.settings_of(uow.session, shop_id=staff.shop.id).order_pattern == ""
