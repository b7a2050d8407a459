"""The service bot as the agent sees it on the live desk (/desk), in a real browser: the
answers the knowledge base suggests beside the composer, the bot's own lines with the FAQ
entry that answered, and the summary it hands over with a conversation."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Dialog, Page, Route, expect

from kefu.bot import service as bot
from kefu.bot.schemas import BotSettingsIn
from kefu.channels.visitors import issue_visitor_token
from kefu.clock import FrozenClock
from kefu.conversations import service as conversations
from kefu.conversations.models import Channel, Message, SenderType
from kefu.crm import service as crm
from kefu.kb import service as kb
from kefu.uow import UnitOfWork
from tests.browser.conftest import LiveServer, log_in_to_desk, screenshot
from tests.conftest import TEST_SECRET
from tests.factories import ShopWithStaff, make_shop_with_staff

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_script_errors")]

UowFactory = Callable[[], UnitOfWork]
HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script>"
# The bot loads its language models on its first message: allow for that.
BOT_WAIT = 30_000

SHIPPING = "{customer_name}您好,我们默认发中通快递,偏远地区发邮政,下单后 48 小时内发货。"
RETURNS = "支持七天无理由退货,请在订单页点「申请售后」,寄回时请附上订单号。"
INVOICE = "可以开电子发票,下单时填写抬头和税号即可,发货后 3 天内发到您的邮箱。"


# --- helpers ---------------------------------------------------------------------------


def _faq(uow_factory: UowFactory, staff: ShopWithStaff) -> dict[str, int]:
    """Three entries of the shop's knowledge base; their ids by topic."""
    ids = {}
    with uow_factory() as uow:
        for topic, questions, answer in (
            ("shipping", ["你们发什么快递", "发什么快递", "用的哪家快递"], SHIPPING),
            ("returns", ["怎么退货", "可以退货吗", "七天无理由退货吗"], RETURNS),
            ("invoice", ["可以开发票吗", "怎么开发票"], INVOICE),
        ):
            view = kb.create_entry(
                uow, shop_id=staff.shop.id, questions=questions, answer=answer, category="售前"
            )
            ids[topic] = view.id
    return ids


def _buyer(uow_factory: UowFactory, staff: ShopWithStaff, *, name: str = "王芳") -> int:
    with uow_factory() as uow:
        return crm.create_customer(
            uow, shop_id=staff.shop.id, name=name, gender="F", city="杭州"
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


# --- tests -----------------------------------------------------------------------------


def test_suggested_answers_fill_the_composer_and_follow_the_buyer(
    live_server: LiveServer, page: Page, uow_factory: UowFactory
) -> None:
    staff = make_shop_with_staff(uow_factory, "mianli")
    faq = _faq(uow_factory, staff)
    buyer = _buyer(uow_factory, staff)
    # The bot is off: the conversation goes straight to the agent's team.
    first = _buyer_writes(uow_factory, staff, buyer, "在吗", "b1")
    _buyer_writes(uow_factory, staff, buyer, "你们发什么快递", "b2")
    conversation_id = first.conversation_id

    log_in_to_desk(page, live_server, shop="mianli", email=staff.agent.email)
    row = page.locator(f'[data-testid=desk-conversation][data-id="{conversation_id}"]')
    expect(row.get_by_test_id("desk-with-bot")).to_have_count(0)
    expect(row.get_by_test_id("desk-urgent")).to_have_count(0)
    row.click()

    panel = page.get_by_test_id("desk-suggestions")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("推荐回答")
    expect(panel).to_contain_text("你们发什么快递")  # the buyer's line they answer
    chips = panel.get_by_test_id("desk-suggestion")
    expect(chips.first).to_have_attribute("data-entry", str(faq["shipping"]))
    assert 1 <= chips.count() <= 3
    best = chips.first
    expect(best).to_contain_text("发什么快递")
    expect(best).to_contain_text(re.compile(r"\d{1,3}%"))
    # Variables are filled for this buyer before the agent ever sees the answer.
    filled = SHIPPING.replace("{customer_name}", "王女士")
    expect(best).to_contain_text("王女士您好,我们默认发中通快递")
    assert best.evaluate("b => b.tagName") == "BUTTON"
    screenshot(page, "desk-suggestions")

    # A click puts the answer in the empty composer and focuses it; nothing is sent.
    composer = page.get_by_test_id("desk-composer")
    best.click()
    expect(composer).to_have_value(filled)
    expect(composer).to_be_focused()
    expect(page.get_by_test_id("desk-send")).to_be_enabled()
    history = page.get_by_test_id("desk-messages")
    expect(history.locator("[data-testid=desk-message]")).to_have_count(2)

    # The buyer asks something else: the suggestions follow their latest line.
    _buyer_writes(uow_factory, staff, buyer, "怎么退货", "b3")
    expect(history.locator("[data-testid=desk-message][data-seq='3']")).to_contain_text("怎么退货")
    expect(chips.first).to_have_attribute("data-entry", str(faq["returns"]))
    expect(panel).to_contain_text("针对:怎么退货")

    # With a draft already there, a suggestion is added after it (from the keyboard too).
    chips.first.focus()
    page.keyboard.press("Enter")
    expect(composer).to_have_value(filled + "\n" + RETURNS)
    expect(composer).to_be_focused()
    composer.press("Enter")
    reply = history.locator("[data-testid=desk-message][data-sender=agent]").last
    expect(reply).to_have_attribute("data-seq", "4")
    expect(reply).to_contain_text("七天无理由退货")

    # Nothing fits: no panel at all.
    _buyer_writes(uow_factory, staff, buyer, "嗯嗯好的", "b4")
    expect(history.locator("[data-testid=desk-message][data-seq='5']")).to_contain_text("嗯嗯好的")
    expect(panel).to_be_hidden()


def test_a_switch_of_conversation_never_shows_the_other_ones_suggestions(
    live_server: LiveServer, page: Page, uow_factory: UowFactory
) -> None:
    staff = make_shop_with_staff(uow_factory, "mianli")
    faq = _faq(uow_factory, staff)
    wang = _buyer(uow_factory, staff, name="王芳")
    li = _buyer(uow_factory, staff, name="李娜")
    shipping = _buyer_writes(uow_factory, staff, wang, "你们发什么快递", "w1")
    invoice = _buyer_writes(uow_factory, staff, li, "可以开发票吗", "l1")
    # The first conversation's answer is held back until the agent has moved on.
    slow = re.compile(rf"/api/v1/bot/conversations/{shipping.conversation_id}/suggestions$")
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    page.route(slow, hold)
    log_in_to_desk(page, live_server, shop="mianli", email=staff.agent.email)
    expect(page.get_by_test_id("desk-conversation")).to_have_count(2)
    page.locator(f'[data-testid=desk-conversation][data-id="{shipping.conversation_id}"]').click()
    page.locator(f'[data-testid=desk-conversation][data-id="{invoice.conversation_id}"]').click()
    chips = page.get_by_test_id("desk-suggestion")
    expect(chips.first).to_have_attribute("data-entry", str(faq["invoice"]))
    assert len(held) == 1
    with page.expect_response(slow):
        held[0].continue_()
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => setTimeout(r, 50)))")
    expect(chips.first).to_have_attribute("data-entry", str(faq["invoice"]))
    expect(page.locator("#desk-suggest-for")).to_have_text("针对:可以开发票吗")


def test_urgent_handed_over_conversation_stands_out_with_the_bots_summary(
    live_server: LiveServer, page: Page, uow_factory: UowFactory
) -> None:
    staff = make_shop_with_staff(uow_factory, "mianli")
    calm = _buyer(uow_factory, staff, name="李娜")
    angry = _buyer(uow_factory, staff, name="王芳")
    _buyer_writes(uow_factory, staff, calm, "这件有 M 码吗", "c1")
    message = _buyer_writes(uow_factory, staff, angry, "三天了还没发货!!", "a1")
    with uow_factory() as uow:
        conversations.hand_off(
            uow,
            shop_id=staff.shop.id,
            conversation_id=message.conversation_id,
            team_code="presale",
            note="意图:催发货(91%) · 情绪:生气(-0.8) " + HOSTILE,
            priority=1,
        )
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    log_in_to_desk(page, live_server, shop="mianli", email=staff.agent.email)
    row = page.locator(f'[data-testid=desk-conversation][data-id="{message.conversation_id}"]')
    expect(row.get_by_test_id("desk-urgent")).to_have_text("优先")
    expect(row).to_have_class(re.compile(r"\burgent\b"))
    others = page.locator("[data-testid=desk-conversation]:not(.urgent)")
    expect(others).to_have_count(1)
    expect(others.get_by_test_id("desk-urgent")).to_have_count(0)
    color = row.get_by_test_id("desk-urgent").evaluate("b => getComputedStyle(b).backgroundColor")
    red, green, blue = (int(v) for v in re.findall(r"\d+", color)[:3])
    assert red > 180 and green < 100 and blue < 100, color

    row.click()
    banner = page.get_by_test_id("desk-handoff")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("机器人摘要:意图:催发货(91%) · 情绪:生气(-0.8)")
    expect(banner).to_contain_text(HOSTILE)  # shown as text, never as markup
    assert page.locator("#desk img, #desk script").count() == 0
    screenshot(page, "desk-urgent-handoff")

    # A conversation without a summary has no banner.
    page.locator("[data-testid=desk-conversation]:not(.urgent)").click()
    expect(banner).to_be_hidden()

    page.get_by_role("button", name="English").click()
    expect(row.get_by_test_id("desk-urgent")).to_have_text("Urgent")
    row.click()
    expect(banner).to_contain_text("Bot summary:")
    assert dialogs == []


def test_bot_lines_say_which_faq_entry_answered_on_load_and_live(
    live_server: LiveServer, page: Page, uow_factory: UowFactory
) -> None:
    """The bot's lines as the desk shows them, whatever produced them: labelled as the bot's,
    with the staff-only note under them, from the history and from live frames alike."""
    staff = make_shop_with_staff(uow_factory, "mianli")
    buyer = _buyer(uow_factory, staff)
    message = _buyer_writes(uow_factory, staff, buyer, "你们发什么快递", "b1")
    conversation_id = message.conversation_id

    def bot_says(body: str, note: str, msg_id: str) -> None:
        with uow_factory() as uow:
            conversations.send_reply(
                uow,
                shop_id=staff.shop.id,
                conversation_id=conversation_id,
                client_msg_id=msg_id,
                body=body,
                sender_type=SenderType.BOT,
                sender_agent_id=None,
                sender_name="小客",
                agent_note=note,
            )

    bot_says("王女士您好,我们默认发中通快递。", "知识库 #12「发什么快递」 把握度 92%", "bot-1")
    log_in_to_desk(page, live_server, shop="mianli", email=staff.agent.email)
    page.locator(f'[data-testid=desk-conversation][data-id="{conversation_id}"]').click()
    history = page.get_by_test_id("desk-messages")
    first = history.locator("[data-testid=desk-message][data-seq='2']")
    expect(first).to_have_attribute("data-sender", "bot")
    expect(first.get_by_test_id("desk-bot-tag")).to_have_text("机器人")
    expect(first.locator(".msg-name")).to_have_text("小客")
    expect(first.get_by_test_id("desk-agent-note")).to_have_text(
        "知识库 #12「发什么快递」 把握度 92%"
    )
    buyer_line = history.locator("[data-testid=desk-message][data-seq='1']")
    expect(buyer_line.get_by_test_id("desk-agent-note")).to_have_count(0)
    expect(buyer_line.get_by_test_id("desk-bot-tag")).to_have_count(0)

    # Live: a frame carries the note too; a bot line without one has no empty note line.
    bot_says("还有其他问题吗?", "", "bot-2")
    bot_says(HOSTILE, "最接近:#3「" + HOSTILE + "」 40%", "bot-3")
    second = history.locator("[data-testid=desk-message][data-seq='3']")
    expect(second).to_contain_text("还有其他问题吗?")
    expect(second.get_by_test_id("desk-agent-note")).to_have_count(0)
    third = history.locator("[data-testid=desk-message][data-seq='4']")
    expect(third.get_by_test_id("desk-agent-note")).to_have_text("最接近:#3「" + HOSTILE + "」 40%")
    assert page.locator("#desk img, #desk script").count() == 0
    screenshot(page, "desk-bot-lines")


def test_the_bot_answers_then_hands_over_with_its_summary(
    live_server: LiveServer, page: Page, uow_factory: UowFactory, clock: FrozenClock
) -> None:
    """The bot receives the buyer first (the supervisor sees that), answers from the FAQ
    (the agent sees which entry), and hands over on "转人工" with a one-line summary."""
    staff = make_shop_with_staff(uow_factory, "mianli")
    faq = _faq(uow_factory, staff)
    with uow_factory() as uow:
        bot.update_settings(uow, shop_id=staff.shop.id, changes=BotSettingsIn(enabled=True))
    buyer = _buyer(uow_factory, staff)
    log_in_to_desk(page, live_server, shop="mianli", email=staff.supervisor.email)
    page.get_by_test_id("desk-tab-all").click()

    message = _buyer_writes(uow_factory, staff, buyer, "你们发什么快递", "b1")
    conversation_id = message.conversation_id
    row = page.locator(f'[data-testid=desk-conversation][data-id="{conversation_id}"]')
    expect(row.get_by_test_id("desk-with-bot")).to_have_text("机器人接待中", timeout=BOT_WAIT)
    row.click()
    history = page.get_by_test_id("desk-messages")
    bot_lines = history.locator("[data-testid=desk-message][data-sender=bot]")
    answer = bot_lines.filter(has_text="我们默认发中通快递")
    expect(answer).to_have_count(1, timeout=BOT_WAIT)
    expect(answer.get_by_test_id("desk-bot-tag")).to_have_text("机器人")
    note = answer.get_by_test_id("desk-agent-note")
    expect(note).to_contain_text(re.compile(rf"知识库 #{faq['shipping']}「.+」 把握度 \d+%"))
    expect(page.get_by_test_id("desk-handoff")).to_be_hidden()
    screenshot(page, "desk-bot-answered")

    # The buyer asks for a person: the bot hands over, with its summary for the agent.
    _buyer_writes(uow_factory, staff, buyer, "转人工", "b2")
    banner = page.get_by_test_id("desk-handoff")
    expect(banner).to_be_visible(timeout=BOT_WAIT)
    expect(banner).to_contain_text(re.compile(r"机器人摘要:.*买家要求人工.*情绪:"))
    expect(row.get_by_test_id("desk-with-bot")).to_have_count(0)
    expect(note).to_be_visible()  # the earlier answer still says where it came from
    # The suggestions follow the buyer's new line: none are about shipping any more.
    stale = page.get_by_test_id("desk-suggestions").filter(has_text="你们发什么快递")
    expect(stale).to_have_count(0)
    screenshot(page, "desk-bot-handed-off")

    # The buyer's side never carries the agents' note.
    token = issue_visitor_token(
        secret=TEST_SECRET, shop_id=staff.shop.id, customer_id=buyer, now=clock.now()
    )
    widget = page.request.get(
        live_server.url + "/api/v1/widget/messages", headers={"X-Visitor-Token": token}
    )
    assert widget.status == 200
    lines = widget.json()["messages"]
    assert any("我们默认发中通快递" in m["body"] for m in lines)
    assert all("agent_note" not in m and "知识库" not in m["body"] for m in lines)
