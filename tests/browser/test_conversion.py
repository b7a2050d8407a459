"""A supervisor opens 询单转化 from the navigation and reads the rates of their team."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from kefu.clock import FrozenClock
from kefu.events import EventBus
from tests.browser.conftest import LiveServer, screenshot
from tests.factories import PASSWORD, UowFactory
from tests.sales.conversion_floor import make_floor


@pytest.mark.usefixtures("no_script_errors")
def test_a_supervisor_reads_the_conversion_rates(
    page: Page,
    live_server: LiveServer,
    uow_factory: UowFactory,
    bus: EventBus,
    clock: FrozenClock,
    db: Engine,
) -> None:
    floor = make_floor(uow_factory, bus, clock, db)  # the app's subscribers record it all
    floor.online(floor.staff.agent)
    buyers = [floor.buyer(f"买家{n}") for n in range(4)]
    for buyer in buyers:
        floor.chat(buyer)
    clock.advance(timedelta(hours=20))
    floor.pay(buyers[0])
    floor.pay(buyers[1], quantity=2)

    page.goto(live_server.url + "/")
    page.get_by_label("店铺代码").fill("conv")
    page.get_by_label("邮箱").fill(floor.staff.supervisor.email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_test_id("nav-group-sales").click()  # the 销售与售后 menu opens
    page.get_by_test_id("nav-conversion").click()
    expect(page).to_have_url(live_server.url + "/sales/conversion")
    agents = page.get_by_test_id("conversion-agent")
    row = agents.locator(f'tr[data-key="{floor.staff.agent.id}"]')
    expect(row).to_contain_text("小美")
    expect(row).to_contain_text("50.0%")
    expect(row).to_contain_text("¥597.00")
    expect(page.get_by_test_id("conversion-team")).to_contain_text("售前")
    screenshot(page, "sales-conversion")
    page.get_by_role("link", name="近 30 天").click()
    expect(page).to_have_url(live_server.url + "/sales/conversion?days=30")
    expect(page.get_by_role("link", name="近 30 天")).to_have_attribute("aria-current", "page")
