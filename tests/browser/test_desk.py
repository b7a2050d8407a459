"""An agent works the live desk (/desk) in a real browser: the list, the chat, the customer
panel, and what arrives over the websocket while they look at it."""

from __future__ import annotations

import re
import struct
import time
import zlib
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from playwright.sync_api import Dialog, FilePayload, Page, WebSocketRoute, expect

from kefu.accounts.models import Agent, Presence
from kefu.channels.visitors import issue_visitor_token
from kefu.clock import FrozenClock
from kefu.commerce import service as commerce
from kefu.commerce.models import OrderStatus
from kefu.commerce.service import OrderLineSpec
from kefu.conversations import service as conversations
from kefu.conversations.models import Channel, Conversation, Message, SenderType
from kefu.crm import service as crm
from kefu.realtime.hub import shop_channel
from kefu.shops import service as shops
from kefu.uow import UnitOfWork
from tests.browser.conftest import LiveServer, log_in_to_desk, screenshot
from tests.conftest import TEST_SECRET
from tests.factories import ShopWithStaff, make_shop_with_staff

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_script_errors")]

UowFactory = Callable[[], UnitOfWork]
HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script>"


# --- helpers ---------------------------------------------------------------------------


def _buyer(
    uow_factory: UowFactory, staff: ShopWithStaff, *, name: str = "王芳", gender: str = "F"
) -> int:
    with uow_factory() as uow:
        return crm.create_customer(
            uow, shop_id=staff.shop.id, name=name, gender=gender, city="杭州", vip_level=3
        ).id


def _buyer_writes(
    uow_factory: UowFactory, staff: ShopWithStaff, customer_id: int, body: str, msg_id: str
) -> Message:
    """What the widget does when the buyer sends a message (commits, then publishes)."""
    with uow_factory() as uow:
        return conversations.receive_customer_message(
            uow,
            shop_id=staff.shop.id,
            customer_id=customer_id,
            channel=Channel.WIDGET,
            client_msg_id=msg_id,
            body=body,
        )


def _conversation(uow_factory: UowFactory, conversation_id: int) -> Conversation:
    with uow_factory() as uow:
        conversation = uow.session.get(Conversation, conversation_id)
        assert conversation is not None
        return conversation


def _messages(uow_factory: UowFactory, staff: ShopWithStaff, conversation_id: int) -> list[Message]:
    with uow_factory() as uow:
        return conversations.list_messages(
            uow.session, shop_id=staff.shop.id, conversation_id=conversation_id
        )


def _presence(uow_factory: UowFactory, agent_id: int) -> Presence:
    with uow_factory() as uow:
        agent = uow.session.get(Agent, agent_id)
        assert agent is not None
        return agent.presence


def _eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """For what the browser writes through the server: wait until the database shows it."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail("the database never showed the expected state")
        time.sleep(0.05)


def _png() -> bytes:
    """A real 24×16 PNG (teal), made here so the test needs no files."""
    width, height = 24, 16

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + bytes((47, 111, 98)) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


# --- tests -----------------------------------------------------------------------------


def test_agent_replies_adds_a_note_and_sees_the_customer_panel(
    live_server: LiveServer, page: Page, uow_factory: UowFactory, clock: FrozenClock
) -> None:
    staff = make_shop_with_staff(uow_factory, "mianli")
    buyer = _buyer(uow_factory, staff)
    with uow_factory() as uow:
        commerce.create_product(
            uow,
            shop_id=staff.shop.id,
            sku="SOCK-1",
            title="精梳棉中筒袜",
            category="袜子",
            price=Decimal("9.90"),
            variants=[],
        )
        commerce.create_order(
            uow,
            shop_id=staff.shop.id,
            order_no="3587412598630781234",
            customer_id=buyer,
            lines=[OrderLineSpec(sku="SOCK-1", quantity=2)],
            status=OrderStatus.SHIPPED,
            created_at=clock.now() - timedelta(days=2),
            paid_at=clock.now() - timedelta(days=2),
            shipped_at=clock.now() - timedelta(days=1),
            courier="顺丰速运",
            tracking_no="SF1234567890123",
            ship_to_name="王芳",
            ship_to_phone="13812345678",
            ship_to_address="浙江省杭州市西湖区文三路 90 号",
        )
    first = _buyer_writes(uow_factory, staff, buyer, "在吗?袜子什么时候到", "b1")
    _buyer_writes(uow_factory, staff, buyer, "物流查询 https://example.com/track?no=SF1", "b2")
    conversation_id = first.conversation_id

    # Nobody was online: it waited in 售前's queue; the agent's desk connecting takes it.
    log_in_to_desk(page, live_server, shop="mianli", email=staff.agent.email)
    row = page.locator(f'[data-testid=desk-conversation][data-id="{conversation_id}"]')
    expect(row).to_contain_text("王女士")
    expect(row).to_contain_text("售前")
    expect(row.get_by_test_id("desk-unread")).to_have_text("2")
    expect(page).to_have_title("(2) 客服工作台")
    expect(page.get_by_test_id("desk-load")).to_have_text("1/5")

    row.click()
    expect(row).to_have_attribute("aria-selected", "true")
    expect(page.get_by_test_id("desk-composer")).to_be_focused()
    history = page.get_by_test_id("desk-messages")
    buyer_lines = history.locator("[data-testid=desk-message][data-sender=customer]")
    expect(buyer_lines).to_have_count(2)
    expect(buyer_lines.first).to_contain_text("在吗?袜子什么时候到")
    # Times in the shop's zone: 02:00 UTC on the test clock is 10:00 in Shanghai.
    expect(buyer_lines.first).to_contain_text("10:00")
    link = buyer_lines.nth(1).locator("a")
    expect(link).to_have_attribute("href", "https://example.com/track?no=SF1")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(link).to_have_attribute("target", "_blank")
    # Opened and visible: read, badge gone, title back, and the shop's read receipt stored.
    expect(row.get_by_test_id("desk-unread")).to_have_count(0)
    expect(page).to_have_title("客服工作台")
    _eventually(lambda: _conversation(uow_factory, conversation_id).shop_read_seq == 2)

    customer = page.get_by_test_id("desk-customer")
    expect(customer).to_contain_text("王芳")
    expect(customer).to_contain_text("杭州")
    expect(customer).to_contain_text("VIP 3")
    orders = page.get_by_test_id("desk-orders")
    expect(orders).to_contain_text("3587412598630781234")
    expect(orders).to_contain_text("已发货")
    expect(orders).to_contain_text("精梳棉中筒袜")
    expect(orders).to_contain_text("×2")
    expect(orders).to_contain_text("¥19.80")
    expect(orders).to_contain_text("顺丰速运")
    expect(orders).to_contain_text("SF1234567890123")

    # A reply: Enter sends, Shift+Enter is a new line.
    composer = page.get_by_test_id("desk-composer")
    composer.fill("您好,已经发货了")
    composer.press("Shift+Enter")
    composer.type("明天就到")
    expect(page.locator("#desk-counter")).to_have_text("13/5000")
    composer.press("Enter")
    expect(composer).to_have_value("")
    reply = history.locator("[data-testid=desk-message][data-sender=agent]").last
    expect(reply).to_have_attribute("data-seq", "3")
    expect(reply).to_contain_text("您好,已经发货了\n明天就到")
    expect(reply).to_contain_text("未读")
    stored = _messages(uow_factory, staff, conversation_id)
    assert [(m.seq, m.sender_type, m.body, m.is_private) for m in stored][-1] == (
        3,
        SenderType.AGENT,
        "您好,已经发货了\n明天就到",
        False,
    )
    assert stored[-1].sender_agent_id == staff.agent.id

    # The buyer reads it: the receipt arrives live.
    with uow_factory() as uow:
        conversations.update_receipts(
            uow, shop_id=staff.shop.id, conversation_id=conversation_id, buyer_read_seq=3
        )
    expect(reply).to_contain_text("已读")

    # A private note: marked as such, and never shown to the buyer.
    page.get_by_test_id("desk-note-toggle").click()
    expect(page.get_by_test_id("desk-note-toggle")).to_have_attribute("aria-pressed", "true")
    composer.fill("客户要求周五前到货,已催仓库")
    page.get_by_test_id("desk-send").click()
    note = history.locator("[data-testid=desk-message][data-private=true]")
    expect(note).to_have_count(1)
    expect(note).to_have_attribute("data-seq", "4")
    expect(note).to_contain_text("内部备注")
    expect(note).to_contain_text("客户要求周五前到货,已催仓库")
    stored = _messages(uow_factory, staff, conversation_id)
    assert (stored[-1].body, stored[-1].is_private) == ("客户要求周五前到货,已催仓库", True)

    token = issue_visitor_token(
        secret=TEST_SECRET, shop_id=staff.shop.id, customer_id=buyer, now=clock.now()
    )
    widget = page.request.get(
        live_server.url + "/api/v1/widget/messages", headers={"X-Visitor-Token": token}
    )
    assert widget.status == 200
    bodies = [m["body"] for m in widget.json()["messages"]]
    assert "您好,已经发货了\n明天就到" in bodies
    assert all("催仓库" not in body for body in bodies)
    assert all(not m["is_private"] for m in widget.json()["messages"])

    # An image: uploaded, then sent as a message of its own.
    page.get_by_test_id("desk-note-toggle").click()  # back to replying
    photo: FilePayload = {"name": "photo.png", "mimeType": "image/png", "buffer": _png()}
    page.set_input_files("#desk-file", files=[photo])
    image = history.locator("[data-testid=desk-message][data-seq='5'] img.msg-image")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.naturalWidth") == 24
    stored = _messages(uow_factory, staff, conversation_id)
    assert stored[-1].attachment_id is not None and stored[-1].body == ""
    screenshot(page, "desk-conversation")

    # Own presence: away keeps the conversations and takes no new ones.
    page.get_by_test_id("desk-presence").select_option("away")
    expect(page.locator("#desk-presence-dot")).to_have_attribute("data-presence", "away")
    _eventually(lambda: _presence(uow_factory, staff.agent.id) is Presence.AWAY)


def test_buyer_messages_arrive_live_with_badges_title_and_typing(
    live_server: LiveServer, page: Page, uow_factory: UowFactory, app: FastAPI
) -> None:
    staff = make_shop_with_staff(uow_factory, "mianli")
    wang = _buyer(uow_factory, staff, name="王芳", gender="F")
    li = _buyer(uow_factory, staff, name="李强", gender="M")
    first = _buyer_writes(uow_factory, staff, wang, "这件有 M 码吗", "w1")
    second = _buyer_writes(uow_factory, staff, li, "发票怎么开", "l1")
    log_in_to_desk(page, live_server, shop="mianli", email=staff.agent.email)
    wang_row = page.locator(f'[data-testid=desk-conversation][data-id="{first.conversation_id}"]')
    li_row = page.locator(f'[data-testid=desk-conversation][data-id="{second.conversation_id}"]')
    expect(li_row).to_contain_text("李先生")
    wang_row.click()
    expect(page).to_have_title("(1) 客服工作台")  # 李先生's message, not yet read

    # 李先生 writes again while 王女士's conversation is open.
    _buyer_writes(uow_factory, staff, li, "要开公司抬头的", "l2")
    expect(li_row.get_by_test_id("desk-unread")).to_have_text("2")
    expect(li_row).to_contain_text("要开公司抬头的")
    expect(page).to_have_title("(2) 客服工作台")
    expect(page.get_by_test_id("desk-conversation").first).to_have_attribute(
        "data-id", str(second.conversation_id)
    )
    expect(page.get_by_test_id("desk")).to_have_attribute("data-notified", re.compile(r"[1-9]"))
    screenshot(page, "desk-unread")

    # 王女士 is typing (as her widget would announce), then her message replaces the hint.
    app.state.kefu.realtime.hub.publish(
        shop_channel(staff.shop.id),
        {"type": "typing", "conversation_id": first.conversation_id, "sender_type": "customer"},
    )
    expect(page.get_by_test_id("desk-typing")).to_be_visible()
    expect(page.get_by_test_id("desk-typing")).to_have_text("对方正在输入")
    _buyer_writes(uow_factory, staff, wang, "我平时穿 S", "w2")
    history = page.get_by_test_id("desk-messages")
    expect(history.locator("[data-testid=desk-message][data-seq='2']")).to_contain_text(
        "我平时穿 S"
    )
    expect(page.get_by_test_id("desk-typing")).to_be_hidden()
    # The open one stays read; only the other counts.
    expect(wang_row.get_by_test_id("desk-unread")).to_have_count(0)
    expect(page).to_have_title("(2) 客服工作台")

    # Alt+↓ / Alt+↑ move between conversations; opening reads it.
    page.get_by_test_id("desk-composer").press("Alt+ArrowUp")
    expect(li_row).to_have_attribute("aria-selected", "true")
    expect(history).to_contain_text("要开公司抬头的")
    expect(li_row.get_by_test_id("desk-unread")).to_have_count(0)
    expect(page).to_have_title("客服工作台")
    page.get_by_test_id("desk-composer").press("Alt+ArrowDown")
    expect(wang_row).to_have_attribute("aria-selected", "true")


def test_close_reopen_and_transfer_to_another_team(
    live_server: LiveServer, page: Page, uow_factory: UowFactory
) -> None:
    staff = make_shop_with_staff(uow_factory, "mianli")
    buyer = _buyer(uow_factory, staff)
    message = _buyer_writes(uow_factory, staff, buyer, "收到的衣服有线头,想退货", "b1")
    conversation_id = message.conversation_id
    log_in_to_desk(page, live_server, shop="mianli", email=staff.agent.email)
    row = page.locator(f'[data-testid=desk-conversation][data-id="{conversation_id}"]')
    row.click()

    page.get_by_test_id("desk-close").click()
    expect(page.get_by_test_id("desk-reopen")).to_be_visible()
    expect(page.get_by_test_id("desk-composer")).to_be_disabled()
    expect(row).to_have_count(0)  # not in 我的 any more
    assert _conversation(uow_factory, conversation_id).status.value == "closed"
    page.get_by_test_id("desk-tab-closed").click()
    expect(row).to_be_visible()
    expect(row).to_have_attribute("aria-selected", "true")

    page.get_by_test_id("desk-reopen").click()
    expect(page.get_by_test_id("desk-close")).to_be_visible()
    expect(page.get_by_test_id("desk-composer")).to_be_enabled()
    expect(row).to_have_count(0)  # not closed any more
    page.get_by_test_id("desk-tab-mine").click()
    expect(row).to_be_visible()
    reopened = _conversation(uow_factory, conversation_id)
    assert (reopened.status.value, reopened.assignee_id) == ("open", staff.agent.id)

    page.get_by_test_id("desk-transfer").click()
    page.get_by_test_id("desk-transfer-team").select_option(label="售后")
    screenshot(page, "desk-transfer-dialog")
    page.get_by_test_id("desk-transfer-confirm").click()
    # Out of 售前 and so out of this agent's sight: gone from the list and the chat.
    expect(row).to_have_count(0)
    expect(page.get_by_test_id("desk-error")).to_contain_text("会话已转至「售后」")
    expect(page.locator("#desk-placeholder")).to_be_visible()
    expect(page.get_by_test_id("desk-messages")).to_be_hidden()
    with uow_factory() as uow:
        moved = uow.session.get(Conversation, conversation_id)
        aftersale = shops.get_team_by_code(uow.session, shop_id=staff.shop.id, code="aftersale")
        assert moved is not None
        assert (moved.team_id, moved.assignee_id) == (aftersale.id, None)
    # The buyer is told where they went.
    last = _messages(uow_factory, staff, conversation_id)[-1]
    assert (last.sender_type, last.body) == (SenderType.SYSTEM, "已为您转接至售后,请稍候。")
    screenshot(page, "desk-transferred")


def test_supervisor_sees_every_queue_and_takes_a_conversation(
    live_server: LiveServer, page: Page, uow_factory: UowFactory
) -> None:
    staff = make_shop_with_staff(uow_factory, "mianli")
    buyer = _buyer(uow_factory, staff, name="赵敏", gender="F")
    with uow_factory() as uow:
        conversation = conversations.start_conversation(
            uow,
            shop_id=staff.shop.id,
            customer_id=buyer,
            channel=Channel.WIDGET,
            team_code="aftersale",
        )
        conversations.receive_message(
            uow,
            shop_id=staff.shop.id,
            conversation_id=conversation.id,
            client_msg_id="z1",
            body="退款什么时候到账",
        )
    log_in_to_desk(page, live_server, shop="mianli", email=staff.supervisor.email)
    page.get_by_test_id("desk-tab-queue").click()
    row = page.locator(f'[data-testid=desk-conversation][data-id="{conversation.id}"]')
    expect(row).to_contain_text("赵女士")
    expect(row).to_contain_text("售后")
    expect(row).to_contain_text("已等待")
    expect(page.locator("#desk-teamfilter")).to_contain_text("售后1")
    screenshot(page, "desk-queue")
    row.click()
    page.get_by_test_id("desk-take").click()
    expect(page.get_by_test_id("desk-tab-mine")).to_have_attribute("aria-selected", "true")
    expect(row).to_be_visible()
    expect(page.get_by_test_id("desk-take")).to_be_hidden()
    taken = _conversation(uow_factory, conversation.id)
    assert taken.assignee_id == staff.supervisor.id

    # A supervisor may also hand it to an agent.
    page.get_by_test_id("desk-assign").click()
    page.get_by_test_id("desk-transfer-agent").select_option(str(staff.agent.id))
    page.get_by_test_id("desk-transfer-confirm").click()
    expect(row).to_have_count(0)  # no longer the supervisor's
    assert _conversation(uow_factory, conversation.id).assignee_id == (staff.agent.id)


def test_hostile_buyer_text_is_shown_as_text_and_never_runs(
    live_server: LiveServer, page: Page, uow_factory: UowFactory
) -> None:
    staff = make_shop_with_staff(uow_factory, "mianli")
    with uow_factory() as uow:
        buyer = crm.create_customer(uow, shop_id=staff.shop.id, nickname=HOSTILE).id
    message = _buyer_writes(uow_factory, staff, buyer, HOSTILE, "x1")
    _buyer_writes(uow_factory, staff, buyer, "javascript:alert(3) 点这里", "x2")
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    log_in_to_desk(page, live_server, shop="mianli", email=staff.agent.email)
    row = page.locator(f'[data-testid=desk-conversation][data-id="{message.conversation_id}"]')
    expect(row).to_contain_text(HOSTILE)
    row.click()
    history = page.get_by_test_id("desk-messages")
    expect(history.locator("[data-testid=desk-message][data-seq='1']")).to_contain_text(HOSTILE)
    expect(history.locator("[data-testid=desk-message][data-seq='2']")).to_contain_text(
        "javascript:alert(3)"
    )
    # Live too: a frame with the same text.
    _buyer_writes(uow_factory, staff, buyer, HOSTILE + " again", "x3")
    expect(history.locator("[data-testid=desk-message][data-seq='3']")).to_contain_text("again")
    expect(page.get_by_test_id("desk-customer")).to_contain_text(HOSTILE)
    assert page.locator("#desk img, #desk script").count() == 0
    assert history.locator("a").count() == 0
    assert dialogs == []


def test_the_desk_in_english(live_server: LiveServer, page: Page, uow_factory: UowFactory) -> None:
    staff = make_shop_with_staff(uow_factory, "mianli")
    buyer = _buyer(uow_factory, staff)
    message = _buyer_writes(uow_factory, staff, buyer, "Hello?", "e1")
    log_in_to_desk(page, live_server, shop="mianli", email=staff.agent.email)
    page.get_by_role("button", name="English").click()
    expect(page).to_have_url(live_server.url + "/desk")
    expect(page.get_by_test_id("desk-tab-queue")).to_contain_text("Queue")
    expect(page.get_by_test_id("desk-tab-mine")).to_contain_text("Mine")
    expect(page.get_by_test_id("desk-tab-closed")).to_contain_text("Closed")
    expect(page).to_have_title("(1) Agent desk")
    page.locator(f'[data-testid=desk-conversation][data-id="{message.conversation_id}"]').click()
    expect(page.get_by_test_id("desk-transfer")).to_have_text("Transfer")
    expect(page.get_by_test_id("desk-orders")).to_have_text("No orders yet")
    expect(page.get_by_test_id("desk-composer")).to_have_attribute("placeholder", "Type a reply…")
    expect(page.locator("#desk-composer-form")).to_contain_text("Enter sends")
    screenshot(page, "desk-en")


def test_small_window_keeps_the_chat_usable(
    live_server: LiveServer, page: Page, uow_factory: UowFactory
) -> None:
    staff = make_shop_with_staff(uow_factory, "mianli")
    buyer = _buyer(uow_factory, staff)
    message = _buyer_writes(uow_factory, staff, buyer, "在吗", "s1")
    page.set_viewport_size({"width": 1024, "height": 700})
    log_in_to_desk(page, live_server, shop="mianli", email=staff.agent.email)
    page.locator(f'[data-testid=desk-conversation][data-id="{message.conversation_id}"]').click()
    expect(page.get_by_test_id("desk-send")).to_be_visible()
    expect(page.get_by_test_id("desk-customer")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1024
    screenshot(page, "desk-1024")


def test_a_dropped_connection_loses_nothing(
    live_server: LiveServer, page: Page, uow_factory: UowFactory
) -> None:
    """Frames lost both ways, then the socket dies: the desk reconnects, resends its reply
    with the same client id (stored once) and syncs the buyer's message it never got."""
    staff = make_shop_with_staff(uow_factory, "mianli")
    buyer = _buyer(uow_factory, staff)
    message = _buyer_writes(uow_factory, staff, buyer, "在吗", "r1")
    conversation_id = message.conversation_id
    net: dict[str, Any] = {"drop": False, "refuse": False, "sockets": []}

    def route(ws: WebSocketRoute) -> None:
        if net["refuse"]:
            ws.close(code=1011, reason="down")
            return
        server = ws.connect_to_server()
        ws.on_message(lambda frame: None if net["drop"] else server.send(frame))
        server.on_message(lambda frame: None if net["drop"] else ws.send(frame))
        net["sockets"].append((ws, server))

    page.route_web_socket(re.compile(r"/ws/desk$"), route)
    log_in_to_desk(page, live_server, shop="mianli", email=staff.agent.email)
    page.locator(f'[data-testid=desk-conversation][data-id="{conversation_id}"]').click()
    history = page.get_by_test_id("desk-messages")
    expect(history.locator("[data-testid=desk-message]")).to_have_count(1)

    net["drop"] = True
    page.get_by_test_id("desk-composer").fill("断线时发的回复")
    page.get_by_test_id("desk-composer").press("Enter")
    pending = history.locator("[data-testid=desk-message].msg-pending")
    expect(pending).to_contain_text("发送中")
    _buyer_writes(uow_factory, staff, buyer, "你们几点下班", "r2")  # its frame is lost too

    net["refuse"] = True
    for ws, server in net["sockets"]:
        server.close()
        ws.close(code=4000, reason="network gone")
    expect(page.get_by_test_id("desk-connection")).to_have_attribute("data-state", "lost")
    expect(page.locator("#desk-banner")).to_contain_text("连接已断开")
    expect(pending).to_contain_text("发送中")
    screenshot(page, "desk-disconnected")

    net["drop"] = False
    net["refuse"] = False
    page.locator("#desk-banner").get_by_role("button", name="立即重连").click()
    expect(page.get_by_test_id("desk-connection")).to_have_attribute("data-state", "open")
    expect(page.locator("#desk-banner")).to_be_hidden()
    expect(history.locator("[data-testid=desk-message]")).to_have_count(3)
    expect(history.locator("[data-testid=desk-message].msg-pending")).to_have_count(0)
    # The buyer's message was stored first; the reply only when it was resent.
    expect(history.locator("[data-seq='2']")).to_contain_text("你们几点下班")
    expect(history.locator("[data-seq='3']")).to_contain_text("断线时发的回复")
    expect(history.locator("[data-testid=desk-message]").last).to_have_attribute("data-seq", "3")
    stored = [m.body for m in _messages(uow_factory, staff, conversation_id)]
    assert stored == ["在吗", "你们几点下班", "断线时发的回复"]
