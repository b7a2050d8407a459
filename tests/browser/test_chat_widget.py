"""A buyer uses the chat widget (/chat/<shop>, and widget.js on a shop's own site) in a real
browser: sending, acks and receipts, what survives a reload or a dropped connection, hostile
text, limits, pictures, phones."""

from __future__ import annotations

import re
import struct
import time
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Dialog,
    FilePayload,
    Page,
    WebSocketRoute,
    expect,
)
from sqlalchemy import select

from kefu.channels.visitors import encode_identity, sign_identity, widget_secret
from kefu.conversations import service as conversations
from kefu.conversations.models import Conversation, Message, SenderType
from kefu.crm.models import Customer
from kefu.demo.seed import seed_demo_shop
from kefu.realtime.hub import buyer_channel
from kefu.realtime.ratelimit import Limits
from kefu.uow import UnitOfWork
from kefu.web.context import AppContext
from tests.browser.conftest import LiveServer, screenshot
from tests.conftest import START, TEST_SECRET
from tests.factories import ShopWithStaff, make_shop_with_staff

pytestmark = pytest.mark.browser

UowFactory = Callable[[], UnitOfWork]
HOSTILE = "<img src=x onerror=alert(1)>"
WS = re.compile(r"/ws/widget")


@pytest.fixture
def staff(uow_factory: UowFactory) -> ShopWithStaff:
    return make_shop_with_staff(uow_factory, "demo")


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        locale="zh-CN",
        viewport={"width": 375, "height": 700},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


# --- helpers ---------------------------------------------------------------------------


def _open_chat(page: Page, server: LiveServer, query: str = "") -> None:
    page.goto(f"{server.url}/chat/demo{query}")
    expect(page.get_by_test_id("chat-connection")).to_have_attribute("data-state", "online")


def _send(page: Page, text: str) -> None:
    box = page.get_by_test_id("chat-input")
    box.fill(text)
    box.press("Enter")


def _own(page: Page, text: str | None = None) -> Any:
    rows = page.locator("[data-testid=chat-message][data-sender=customer]")
    return rows.filter(has_text=text) if text is not None else rows


def _conversation(uow_factory: UowFactory, staff: ShopWithStaff) -> Conversation:
    with uow_factory() as uow:
        found = uow.session.scalars(
            select(Conversation).where(Conversation.shop_id == staff.shop.id)
        ).one()
        uow.session.expunge(found)
        return found


def _messages(uow_factory: UowFactory, staff: ShopWithStaff) -> list[Message]:
    conversation = _conversation(uow_factory, staff)
    with uow_factory() as uow:
        rows = conversations.list_messages(
            uow.session, shop_id=staff.shop.id, conversation_id=conversation.id, after_seq=0
        )
        for row in rows:
            uow.session.expunge(row)
        return list(rows)


def _reply(uow_factory: UowFactory, staff: ShopWithStaff, body: str, client_id: str) -> None:
    conversation = _conversation(uow_factory, staff)
    with uow_factory() as uow:
        conversations.send_reply(
            uow,
            shop_id=staff.shop.id,
            conversation_id=conversation.id,
            client_msg_id=client_id,
            body=body,
            sender_type=SenderType.AGENT,
            sender_agent_id=staff.agent.id,
        )


def _eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail("the condition did not become true in time")
        time.sleep(0.05)


def _png() -> bytes:
    """A real 2×2 PNG, built here so the test needs no file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    pixels = b"".join(b"\x00" + b"\x2f\x6f\x62" * 2 for _ in range(2))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )


def _no_horizontal_scroll(page: Page) -> None:
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


# --- tests -----------------------------------------------------------------------------


def test_buyer_sends_sees_acks_receipts_typing_and_the_agents_reply(
    page: Page, live_server: LiveServer, uow_factory: UowFactory, staff: ShopWithStaff, app: FastAPI
) -> None:
    _open_chat(page, live_server)
    expect(page.get_by_test_id("chat-shop")).to_have_text("demo 旗舰店")
    expect(page.get_by_test_id("chat-send")).to_be_disabled()
    token = page.evaluate("() => localStorage.getItem('kefu.visitor.demo')")
    assert token and token.startswith("v1.")

    _send(page, "你好,这件睡衣有 XL 码吗?")
    mine = _own(page, "这件睡衣有 XL 码吗")
    expect(mine).to_have_count(1)
    expect(mine.get_by_test_id("chat-status")).to_have_text("已发送")
    expect(mine).to_have_attribute("data-seq", "1")
    expect(page.get_by_test_id("chat-input")).to_have_value("")
    stored = _messages(uow_factory, staff)
    assert [(m.body, m.sender_type) for m in stored] == [
        ("你好,这件睡衣有 XL 码吗?", SenderType.CUSTOMER)
    ]
    assert stored[0].client_msg_id.startswith("c-")
    expect(mine).to_have_attribute("data-id", str(stored[0].id))
    assert page.evaluate("() => localStorage.getItem('kefu.outbox.demo')") is None

    # The agent types: the buyer sees it, until the reply itself arrives.
    context: AppContext = app.state.kefu
    conversation = _conversation(uow_factory, staff)
    context.realtime.hub.publish(
        buyer_channel(staff.shop.id, conversation.customer_id),
        {
            "type": "typing",
            "conversation_id": conversation.id,
            "sender_type": "agent",
            "name": "小美",
        },
    )
    expect(page.get_by_test_id("chat-typing")).to_have_text("对方正在输入…")
    _reply(uow_factory, staff, "您好,XL 有货的,详情见 https://shop.example/p/1", "a-1")
    reply = page.locator("[data-testid=chat-message][data-sender=agent]")
    expect(reply).to_have_count(1)
    expect(reply).to_contain_text("小美")
    expect(reply).to_contain_text("XL 有货的")
    expect(page.get_by_test_id("chat-typing")).to_be_hidden()

    # The buyer has the page in front of them: the shop learns they read the reply.
    _eventually(lambda: _conversation(uow_factory, staff).buyer_read_seq == 2)

    # The desk received, then read, the buyer's message.
    with uow_factory() as uow:
        conversations.update_receipts(
            uow, shop_id=staff.shop.id, conversation_id=conversation.id, shop_delivered_seq=1
        )
    expect(mine.get_by_test_id("chat-status")).to_have_text("已送达")
    with uow_factory() as uow:
        conversations.update_receipts(
            uow, shop_id=staff.shop.id, conversation_id=conversation.id, shop_read_seq=1
        )
    expect(mine.get_by_test_id("chat-status")).to_have_text("已读")

    # Layout: the buyer on the right, the agent on the left.
    mine_box = mine.locator(".msg-bubble").bounding_box()
    reply_box = reply.locator(".msg-bubble").bounding_box()
    assert mine_box and reply_box
    assert mine_box["x"] > reply_box["x"] + reply_box["width"] / 2
    assert mine_box["x"] + mine_box["width"] > reply_box["x"] + reply_box["width"]
    screenshot(page, "chat-desktop")

    # Closed by the shop: the buyer is told, and may simply write again.
    with uow_factory() as uow:
        conversations.close_conversation(
            uow,
            shop_id=staff.shop.id,
            conversation_id=conversation.id,
            closed_by_agent_id=staff.agent.id,
        )
    expect(page.get_by_test_id("chat-closed")).to_have_text("本次会话已结束,发送消息可继续咨询")
    screenshot(page, "chat-closed")
    _send(page, "还有一个问题")
    expect(_own(page, "还有一个问题").get_by_test_id("chat-status")).to_have_text("已发送")
    expect(page.get_by_test_id("chat-closed")).to_be_hidden()


def test_history_and_unsent_messages_survive_a_reload(
    page: Page, live_server: LiveServer, uow_factory: UowFactory, staff: ShopWithStaff
) -> None:
    _open_chat(page, live_server)
    _send(page, "第一条消息")
    expect(_own(page, "第一条消息").get_by_test_id("chat-status")).to_have_text("已发送")
    _reply(uow_factory, staff, "收到,请稍等", "a-1")
    expect(page.locator("[data-sender=agent]")).to_have_count(1)

    page.reload()
    expect(page.get_by_test_id("chat-connection")).to_have_attribute("data-state", "online")
    expect(_own(page, "第一条消息")).to_have_count(1)
    expect(_own(page, "第一条消息").get_by_test_id("chat-status")).to_have_text("已发送")
    expect(page.locator("[data-sender=agent]")).to_contain_text("收到,请稍等")

    # The server is unreachable (the socket opens but nothing answers): the message waits.
    reachable = {"yes": False}

    def route(ws: WebSocketRoute) -> None:
        if reachable["yes"]:
            ws.connect_to_server()

    page.route_web_socket(WS, route)
    page.reload()
    expect(page.get_by_test_id("chat-connection")).not_to_have_attribute("data-state", "online")
    _send(page, "断网时写的消息")
    waiting = _own(page, "断网时写的消息")
    expect(waiting.get_by_test_id("chat-status")).to_have_text("发送中…")
    outbox = page.evaluate("() => JSON.parse(localStorage.getItem('kefu.outbox.demo'))")
    assert [entry["b"] for entry in outbox] == ["断网时写的消息"]
    client_id = outbox[0]["c"]
    screenshot(page, "chat-pending")

    # After a reload, with the server back, it is sent once, under the id it was given.
    reachable["yes"] = True
    page.reload()
    expect(page.get_by_test_id("chat-connection")).to_have_attribute("data-state", "online")
    expect(_own(page, "断网时写的消息").get_by_test_id("chat-status")).to_have_text("已发送")
    expect(_own(page, "断网时写的消息")).to_have_count(1)
    stored = [m for m in _messages(uow_factory, staff) if m.body == "断网时写的消息"]
    assert len(stored) == 1
    assert stored[0].client_msg_id == client_id
    assert page.evaluate("() => localStorage.getItem('kefu.outbox.demo')") is None


def test_a_dropped_connection_reconnects_fills_the_gap_and_resends(
    page: Page, live_server: LiveServer, uow_factory: UowFactory, staff: ShopWithStaff
) -> None:
    state: dict[str, Any] = {"reachable": True, "sockets": []}

    def route(ws: WebSocketRoute) -> None:
        state["sockets"].append(ws)
        if state["reachable"]:
            ws.connect_to_server()

    page.route_web_socket(WS, route)
    _open_chat(page, live_server)
    _send(page, "在吗")
    expect(_own(page, "在吗").get_by_test_id("chat-status")).to_have_text("已发送")

    # The line drops, and the next attempts reach nobody.
    state["reachable"] = False
    state["sockets"][-1].close(code=1011, reason="gone")
    banner = page.get_by_test_id("chat-connection")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("连接中断,正在重连…")
    screenshot(page, "chat-reconnecting")
    # Meanwhile the agent answers (the buyer cannot hear it live) and the buyer writes.
    _reply(uow_factory, staff, "在的,请问有什么可以帮您?", "a-1")
    _send(page, "我想改地址")
    expect(_own(page, "我想改地址").get_by_test_id("chat-status")).to_have_text("发送中…")

    # Back: the reply is fetched by sync, and the waiting message is sent once.
    state["reachable"] = True
    state["sockets"][-1].close(code=1011, reason="try again")
    expect(banner).to_be_hidden()
    expect(page.locator("[data-sender=agent]")).to_contain_text("在的,请问有什么可以帮您?")
    expect(_own(page, "我想改地址").get_by_test_id("chat-status")).to_have_text("已发送")
    expect(_own(page, "我想改地址")).to_have_attribute("data-seq", "3")
    bodies = [m.body for m in _messages(uow_factory, staff)]
    assert bodies == ["在吗", "在的,请问有什么可以帮您?", "我想改地址"]


def test_a_refused_visitor_token_starts_a_new_session(
    page: Page, live_server: LiveServer, uow_factory: UowFactory, staff: ShopWithStaff
) -> None:
    # A tampered token: the session call refuses it, the page starts again without it.
    page.goto(live_server.url + "/static/favicon.svg")
    page.evaluate("() => localStorage.setItem('kefu.visitor.demo', 'v1.1.1.1.forged')")
    _open_chat(page, live_server)
    first = page.evaluate("() => localStorage.getItem('kefu.visitor.demo')")
    assert first != "v1.1.1.1.forged"
    assert first.startswith("v1.")

    # The websocket refuses the token (close code 4401): a new session, never the same token.
    refused = {"once": False}

    def route(ws: WebSocketRoute) -> None:
        if not refused["once"]:
            refused["once"] = True
            ws.send('{"type":"error","code":"invalid_visitor_token","message":"expired"}')
            ws.close(code=4401, reason="unauthorised")
            return
        ws.connect_to_server()

    page.route_web_socket(WS, route)
    page.reload()
    expect(page.get_by_test_id("chat-connection")).to_have_attribute("data-state", "online")
    second = page.evaluate("() => localStorage.getItem('kefu.visitor.demo')")
    assert second != first
    _send(page, "新的会话")
    expect(_own(page, "新的会话").get_by_test_id("chat-status")).to_have_text("已发送")


def test_shift_enter_starts_a_new_line_and_enter_sends(
    page: Page, live_server: LiveServer, uow_factory: UowFactory, staff: ShopWithStaff
) -> None:
    _open_chat(page, live_server)
    box = page.get_by_test_id("chat-input")
    expect(page.get_by_test_id("chat-send")).to_be_disabled()
    box.fill("   ")
    expect(page.get_by_test_id("chat-send")).to_be_disabled()
    box.fill("第一行")
    box.press("Shift+Enter")
    box.press_sequentially("第二行")
    expect(_own(page)).to_have_count(0)
    box.press("Enter")
    expect(_own(page).get_by_test_id("chat-status")).to_have_text("已发送")
    assert _messages(uow_factory, staff)[0].body == "第一行\n第二行"
    page.get_by_test_id("chat-input").fill("点按钮发送")
    page.get_by_test_id("chat-send").click()
    expect(_own(page, "点按钮发送").get_by_test_id("chat-status")).to_have_text("已发送")


def test_hostile_text_is_shown_as_text_and_links_are_safe(
    page: Page, live_server: LiveServer, uow_factory: UowFactory, staff: ShopWithStaff
) -> None:
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    _open_chat(page, live_server)
    _send(page, HOSTILE)
    mine = _own(page, HOSTILE)
    expect(mine.get_by_test_id("chat-status")).to_have_text("已发送")
    expect(mine.locator(".msg-bubble")).to_have_text(HOSTILE)
    assert page.locator("[data-testid=chat-messages] img").count() == 0

    _reply(
        uow_factory,
        staff,
        "<script>alert(2)</script> 订单页:https://shop.example/orders?id=1&from=chat。"
        " 别点 javascript:alert(3)",
        "a-1",
    )
    reply = page.locator("[data-sender=agent]")
    expect(reply).to_contain_text("<script>alert(2)</script>")
    assert page.locator("[data-testid=chat-messages] script").count() == 0
    links = reply.locator("a")
    expect(links).to_have_count(1)
    link = links.first
    expect(link).to_have_attribute("href", "https://shop.example/orders?id=1&from=chat")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(link).to_have_attribute("target", "_blank")
    # Clickable: it opens the shop's page in a new tab (answered here without the network).
    page.context.route(
        "https://shop.example/**", lambda route: route.fulfill(body="ok", content_type="text/plain")
    )
    with page.context.expect_page() as opened:
        link.click()
    assert opened.value.url.startswith("https://shop.example/orders")
    opened.value.close()

    _send(page, "https://buyer.example/a 和 www.not-a-link.example")
    own_links = _own(page, "buyer.example").locator("a")
    expect(own_links).to_have_count(1)
    expect(own_links).to_have_attribute("href", "https://buyer.example/a")
    page.wait_for_timeout(300)
    assert dialogs == []


def test_an_over_long_message_is_refused_with_a_clear_error(
    page: Page, live_server: LiveServer, uow_factory: UowFactory, staff: ShopWithStaff
) -> None:
    _open_chat(page, live_server)
    box = page.get_by_test_id("chat-input")
    box.fill("好" * 5001)
    error = page.get_by_test_id("chat-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("消息过长")
    expect(error).to_contain_text("5,000")
    expect(page.get_by_test_id("chat-counter")).to_have_text("5,001 / 5,000")
    expect(page.get_by_test_id("chat-send")).to_be_disabled()
    box.press("Enter")
    expect(_own(page)).to_have_count(0)
    screenshot(page, "chat-too-long")

    box.press("Backspace")
    expect(error).to_be_hidden()
    expect(page.get_by_test_id("chat-send")).to_be_enabled()
    box.press("Enter")
    expect(_own(page).get_by_test_id("chat-status")).to_have_text("已发送")
    assert len(_messages(uow_factory, staff)[0].body) == 5000


def test_too_many_messages_are_marked_failed_and_can_be_retried(
    page: Page, live_server: LiveServer, staff: ShopWithStaff, app: FastAPI
) -> None:
    context: AppContext = app.state.kefu
    context.realtime.buyer_limits = Limits(capacity=1, per_second=0.05)
    _open_chat(page, live_server)
    _send(page, "第一条")
    expect(_own(page, "第一条").get_by_test_id("chat-status")).to_have_text("已发送")
    _send(page, "第二条")
    second = _own(page, "第二条")
    expect(second.get_by_test_id("chat-status")).to_have_text("发送失败")
    expect(page.get_by_test_id("chat-error")).to_contain_text(
        re.compile(r"发送太频繁了,请 \d+ 秒后再试")
    )
    screenshot(page, "chat-rate-limited")

    context.realtime.buyer_limits = Limits(capacity=10, per_second=1)
    second.get_by_test_id("chat-retry").click()
    expect(second.get_by_test_id("chat-status")).to_have_text("已发送")
    expect(page.get_by_test_id("chat-error")).to_be_hidden()


def test_buyer_sends_a_picture(
    page: Page, live_server: LiveServer, uow_factory: UowFactory, staff: ShopWithStaff
) -> None:
    _open_chat(page, live_server)
    picker = page.get_by_test_id("chat-image-input")
    picker.set_input_files(
        files=FilePayload(name="notes.txt", mimeType="text/plain", buffer=b"not a picture")
    )
    expect(page.get_by_test_id("chat-error")).to_contain_text(
        "只能发送 PNG、JPEG、GIF 或 WebP 图片"
    )
    expect(_own(page)).to_have_count(0)

    # Named and typed as a PNG, but it is not one: the server checks the bytes.
    picker.set_input_files(
        files=FilePayload(name="fake.png", mimeType="image/png", buffer=b"<script>x</script>")
    )
    fake = _own(page)
    expect(fake.get_by_test_id("chat-status")).to_have_text("发送失败")
    expect(fake.get_by_test_id("chat-retry")).to_be_visible()
    expect(page.get_by_test_id("chat-error")).to_be_visible()
    fake.evaluate("row => row.remove()")

    picker.set_input_files(files=FilePayload(name="尺码.png", mimeType="image/png", buffer=_png()))
    mine = _own(page)
    expect(mine.get_by_test_id("chat-status")).to_have_text("已发送")
    image = mine.locator("img")
    expect(image).to_have_attribute("src", re.compile(r"^/uploads/[0-9a-f]+\.png$"))
    _eventually(lambda: image.evaluate("img => img.complete && img.naturalWidth === 2"))
    stored = _messages(uow_factory, staff)
    assert len(stored) == 1
    assert stored[0].attachment_id is not None
    assert stored[0].body == ""


def test_signed_identity_links_the_buyer_to_the_shops_customer(
    page: Page, live_server: LiveServer, uow_factory: UowFactory, staff: ShopWithStaff
) -> None:
    identity = encode_identity(external_id="u-1001", name="王芳", ts=int(START.timestamp()))
    signature = sign_identity(
        key=widget_secret(secret=TEST_SECRET, shop_id=staff.shop.id), identity=identity
    )
    _open_chat(page, live_server, f"?identity={identity}&signature={signature}")
    _send(page, "我的订单到哪了?")
    expect(_own(page).get_by_test_id("chat-status")).to_have_text("已发送")
    conversation = _conversation(uow_factory, staff)
    with uow_factory() as uow:
        customer = uow.session.get(Customer, conversation.customer_id)
        assert customer is not None
        assert customer.external_id == "u-1001"

    # A forged signature is not trusted: the buyer chats as a guest instead.
    page.evaluate("() => localStorage.clear()")
    _open_chat(page, live_server, f"?identity={identity}&signature={'0' * 64}")
    expect(_own(page)).to_have_count(0)


def test_on_a_phone_the_chat_fits_the_screen(
    phone: Page, live_server: LiveServer, uow_factory: UowFactory, staff: ShopWithStaff
) -> None:
    _open_chat(phone, live_server)
    _send(phone, "手机上看得清楚吗?" + "很长的一段话" * 30)
    _send(phone, "https://shop.example/" + "a" * 120)
    expect(_own(phone)).to_have_count(2)
    expect(_own(phone).last.get_by_test_id("chat-status")).to_have_text("已发送")
    _reply(uow_factory, staff, "看得清楚,谢谢您的耐心", "a-1")
    expect(phone.locator("[data-sender=agent]")).to_have_count(1)
    _no_horizontal_scroll(phone)
    send = phone.get_by_test_id("chat-send").bounding_box()
    assert send and send["x"] + send["width"] <= 375
    screenshot(phone, "chat-mobile")


def test_the_seeded_demo_shops_chat_page(
    page: Page, live_server: LiveServer, uow_factory: UowFactory
) -> None:
    seed_demo_shop(uow_factory)
    _open_chat(page, live_server)
    expect(page).to_have_title("在线客服 · 棉里家居服饰旗舰店")
    expect(page.get_by_test_id("chat-shop")).to_have_text("棉里家居服饰旗舰店")
    # A new visitor: no history, just the welcome.
    expect(_own(page)).to_have_count(0)
    expect(page.get_by_test_id("chat-messages")).to_be_empty()
    _send(page, "你好")
    expect(_own(page).get_by_test_id("chat-status")).to_have_text("已发送")


def test_the_chat_in_english(
    page: Page, live_server: LiveServer, uow_factory: UowFactory, staff: ShopWithStaff
) -> None:
    _open_chat(page, live_server, "?lang=en")
    expect(page.get_by_test_id("chat-send")).to_have_text("Send")
    _send(page, "Hello")
    expect(_own(page).get_by_test_id("chat-status")).to_have_text("Sent")


# The shop's site is another origin. It is served by Playwright at http://localhost:9 (a
# secure context, like a real shop's https site); Chromium asks before a page loads from
# the loopback address Kefu listens on here, so the test grants that permission. A real
# shop's site and Kefu are both public: no permission is involved there.
SHOP_SITE = "http://localhost:9/"


def _host_page(context: BrowserContext, server: LiveServer, attrs: str) -> Page:
    """A shop's own page carrying the widget's script tag, with CSS that would spoil it."""
    html = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<style>body{font:16px serif;margin:0;padding:2rem;background:#fafafa}"
        "button{background:red!important;font-size:40px!important}"
        "iframe{border:10px solid red}div{padding:30px}</style></head>"
        "<body><h1>棉里家居 · 官网</h1><p>A shop's page with hostile CSS.</p>"
        f"<script src='{server.url}/widget.js' {attrs}></script></body></html>"
    )
    context.grant_permissions(["local-network-access"])
    context.route(
        SHOP_SITE + "**",
        lambda route: route.fulfill(body=html, content_type="text/html; charset=utf-8"),
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(SHOP_SITE)
    return page


def test_the_widget_on_a_shops_own_site(
    browser: Browser, live_server: LiveServer, uow_factory: UowFactory, staff: ShopWithStaff
) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    try:
        page = _host_page(context, live_server, "data-shop='demo'")
        launcher = page.locator("[data-kefu-widget] >> [data-kefu=launcher]")
        expect(launcher).to_have_text("联系客服")
        # Nothing is loaded until the buyer asks: no iframe, no visitor created.
        assert page.locator("iframe").count() == 0
        assert page.evaluate("() => Object.keys(window.KefuWidget).sort()") == [
            "close",
            "open",
            "toggle",
        ]
        launcher.click()
        frame_el = page.locator("[data-kefu-widget] >> iframe")
        expect(frame_el).to_have_attribute("src", f"{live_server.url}/chat/demo?embed=1&lang=zh-CN")
        box = frame_el.bounding_box()
        assert box and round(box["width"]) == 380 and round(box["height"]) == 600
        chat = page.frame_locator("[data-kefu-widget] >> iframe")
        expect(chat.get_by_test_id("chat-connection")).to_have_attribute("data-state", "online")
        chat.get_by_test_id("chat-input").fill("从官网来的咨询")
        chat.get_by_test_id("chat-input").press("Enter")
        sent = chat.locator("[data-testid=chat-message][data-sender=customer]")
        expect(sent.get_by_test_id("chat-status")).to_have_text("已发送")
        screenshot(page, "widget-open")

        # Closed with the chat's own button, reopened through the API.
        chat.get_by_test_id("chat-close").click()
        expect(frame_el).to_be_hidden()
        # A reply while closed puts a dot on the launcher.
        _reply(uow_factory, staff, "您好,欢迎咨询", "a-1")
        expect(launcher.locator("span[aria-label]")).to_be_visible()
        page.evaluate("() => window.KefuWidget.open()")
        expect(frame_el).to_be_visible()
        expect(chat.locator("[data-sender=agent]")).to_contain_text("欢迎咨询")
        bodies = [m.body for m in _messages(uow_factory, staff)]
        assert bodies == ["从官网来的咨询", "您好,欢迎咨询"]
        _eventually(lambda: _conversation(uow_factory, staff).buyer_read_seq == 2)
    finally:
        context.close()


def test_the_widget_fills_a_phone_screen(
    browser: Browser, live_server: LiveServer, staff: ShopWithStaff
) -> None:
    context = browser.new_context(
        locale="en-US", viewport={"width": 375, "height": 700}, is_mobile=True, has_touch=True
    )
    try:
        page = _host_page(context, live_server, "data-shop='demo' data-lang='en'")
        launcher = page.locator("[data-kefu-widget] >> [data-kefu=launcher]")
        expect(launcher).to_have_text("Chat with us")
        launcher.click()
        frame_el = page.locator("[data-kefu-widget] >> iframe")
        expect(frame_el).to_have_attribute("src", f"{live_server.url}/chat/demo?embed=1&lang=en")
        box = frame_el.bounding_box()
        assert box
        assert [round(box[k]) for k in ("x", "y", "width", "height")] == [0, 0, 375, 700]
        expect(launcher).to_be_hidden()
        chat = page.frame_locator("[data-kefu-widget] >> iframe")
        expect(chat.get_by_test_id("chat-send")).to_have_text("Send")
        expect(chat.get_by_test_id("chat-connection")).to_have_attribute("data-state", "online")
        _no_horizontal_scroll(page)
        screenshot(page, "widget-mobile")
        chat.get_by_test_id("chat-close").click()
        expect(launcher).to_be_visible()
    finally:
        context.close()
