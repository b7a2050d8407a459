"""The whole conversation in real browsers: a buyer on the chat page, agents on the desk.

Greeting, reply, typing indicator, a dropped buyer connection in the middle (nothing lost,
nothing doubled), transfer to 售后, close — each side seeing the other live.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Page, expect

from kefu.conversations.models import Conversation, ConversationStatus, Message
from kefu.realtime.hub import Hub
from kefu.uow import UnitOfWork
from tests.browser.conftest import LiveServer, screenshot
from tests.factories import PASSWORD, make_agent, make_shop_with_staff

pytestmark = pytest.mark.browser

UowFactory = Callable[[], UnitOfWork]


@pytest.fixture
def contexts(browser: Browser) -> Iterator[Callable[..., Page]]:
    """New browser contexts (separate cookies and storage): one per person."""
    opened: list[BrowserContext] = []

    def new_page(**options: object) -> Page:
        context = browser.new_context(locale="zh-CN", **options)  # type: ignore[arg-type]
        opened.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield new_page
    for context in opened:
        context.close()


def _desk(page: Page, server: LiveServer, email: str) -> None:
    page.goto(f"{server.url}/login?next=%2Fdesk")
    page.get_by_label("店铺代码").fill("mianli")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(server.url + "/desk")
    expect(page.get_by_test_id("desk-connection")).to_have_attribute("data-state", "open")


def _drop_buyer_sockets(app: FastAPI) -> int:
    """Kill the buyers' websockets from the server side, as a flaky mobile network would."""
    hub: Hub = app.state.kefu.realtime.hub
    loop = hub._loop
    assert loop is not None
    killed = [
        connection
        for channel in list(hub._by_channel)
        if channel.startswith("buyer:")
        for connection in hub.connections(channel)
    ]
    for connection in killed:
        asyncio.run_coroutine_threadsafe(_close(connection), loop).result(5)
    return len(killed)


async def _close(connection: object) -> None:
    connection.close()  # type: ignore[attr-defined]


def test_a_whole_conversation_between_a_buyer_and_the_desk(
    app: FastAPI, live_server: LiveServer, contexts: Callable[..., Page], uow_factory: UowFactory
) -> None:
    staff = make_shop_with_staff(uow_factory, "mianli")
    aftersale = make_agent(
        uow_factory,
        staff.shop,
        email="aftersale@mianli.test",
        name="阿杰",
        team_codes=["aftersale"],
    )
    alerts: list[str] = []

    agent = contexts(viewport={"width": 1280, "height": 820})
    _desk(agent, live_server, staff.agent.email)
    buyer = contexts(viewport={"width": 390, "height": 760}, is_mobile=True, has_touch=True)
    buyer.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
    buyer.goto(f"{live_server.url}/chat/mianli")
    expect(buyer.get_by_test_id("chat-shop")).to_contain_text("mianli 旗舰店")

    # The buyer greets; the conversation is routed to the online 售前 agent, live.
    buyer.get_by_test_id("chat-input").fill("你好,在吗?这件毛衣有M码吗")
    buyer.get_by_test_id("chat-input").press("Enter")
    mine = buyer.locator("[data-testid=chat-message][data-sender=customer]")
    # Stored (已发送); the agent's desk may already have received it (已送达).
    expect(mine.first.get_by_test_id("chat-status")).to_have_text(re.compile("已发送|已送达"))
    row = agent.get_by_test_id("desk-conversation").first
    expect(row).to_contain_text("这件毛衣有M码吗")
    row.click()
    history = agent.get_by_test_id("desk-messages")
    expect(history).to_contain_text("你好,在吗?这件毛衣有M码吗")
    # The agent opened it: the buyer sees her message was read.
    expect(mine.first.get_by_test_id("chat-status")).to_have_text("已读")

    # Typing shows on the buyer's side; the reply arrives live.
    composer = agent.get_by_test_id("desk-composer")
    composer.press_sequentially("亲,有的哦", delay=30)
    expect(buyer.get_by_test_id("chat-typing")).to_be_visible()
    composer.press("Enter")
    replies = buyer.locator("[data-testid=chat-message][data-sender=agent]")
    expect(replies).to_have_count(1)
    expect(replies.first).to_contain_text("亲,有的哦")
    expect(buyer.get_by_test_id("chat-typing")).to_be_hidden()
    screenshot(buyer, "live-chat-buyer-reply")

    # The buyer's connection dies; the agent keeps writing; the buyer writes while offline.
    assert _drop_buyer_sockets(app) >= 1
    composer.fill("M码今天下单明天发货")
    composer.press("Enter")
    composer.fill("需要帮您备注尺码吗?")
    composer.press("Enter")
    expect(history.locator("[data-testid=desk-message][data-sender=agent]")).to_have_count(3)
    buyer.get_by_test_id("chat-input").fill("好的,帮我备注一下")
    buyer.get_by_test_id("chat-input").press("Enter")
    # Reconnected by itself: every message exactly once, in order.
    expect(buyer.get_by_test_id("chat-connection")).to_have_attribute("data-state", "online")
    expect(replies).to_have_count(3)
    expect(replies.nth(1)).to_contain_text("M码今天下单明天发货")
    expect(replies.nth(2)).to_contain_text("需要帮您备注尺码吗?")
    expect(mine).to_have_count(2)
    expect(history).to_contain_text("好的,帮我备注一下")
    seqs = buyer.locator("[data-testid=chat-message][data-seq]").evaluate_all(
        "rows => rows.map(r => Number(r.dataset.seq))"
    )
    assert seqs == sorted(set(seqs)) == list(range(1, 6))

    # Transfer to 售后: the buyer is told, the 售后 agent gets it live.
    after = contexts(viewport={"width": 1280, "height": 820})
    _desk(after, live_server, aftersale.email)
    agent.get_by_test_id("desk-transfer").click()
    agent.get_by_test_id("desk-transfer-team").select_option(label="售后")
    agent.get_by_test_id("desk-transfer-confirm").click()
    expect(buyer.locator("[data-testid=chat-message][data-sender=system]")).to_contain_text("售后")
    after_row = after.get_by_test_id("desk-conversation").first
    expect(after_row).to_contain_text("已为您转接至售后")
    after_row.click()
    expect(after.get_by_test_id("desk-messages")).to_contain_text("亲,有的哦")

    # 售后 closes it; the buyer sees the conversation has ended.
    after.get_by_test_id("desk-close").click()
    expect(buyer.get_by_test_id("chat-closed")).to_be_visible()
    screenshot(buyer, "live-chat-buyer-closed")
    screenshot(after, "live-chat-desk-closed")

    with uow_factory() as uow:
        conversation = uow.session.query(Conversation).one()
        assert conversation.status is ConversationStatus.CLOSED
        assert conversation.assignee_id == aftersale.id
        bodies = [
            (m.sender_type.value, m.body) for m in uow.session.query(Message).order_by(Message.seq)
        ]
    assert bodies[:5] == [
        ("customer", "你好,在吗?这件毛衣有M码吗"),
        ("agent", "亲,有的哦"),
        ("agent", "M码今天下单明天发货"),
        ("agent", "需要帮您备注尺码吗?"),
        ("customer", "好的,帮我备注一下"),
    ]
    assert bodies[5][0] == "system" and "售后" in bodies[5][1]
    assert alerts == []
