"""The reply coach in the live desk (/desk), in a real browser: the buyer complains, the
agent starts to push a refund, and the composer underlines it, explains the rule, offers a
better phrasing and an apology-first opening, without ever standing in the way of
sending; "/退" opens the canned phrases and Enter inserts one instead of sending."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from kefu.accounts.models import Role
from kefu.coach import service as coach
from kefu.conversations import service as conversations
from kefu.conversations.models import Channel, Message
from kefu.crm import service as crm
from kefu.uow import UnitOfWork
from tests.browser.conftest import LiveServer, log_in_to_desk, screenshot
from tests.factories import ShopWithStaff, make_shop_with_staff

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_script_errors")]

UowFactory = Callable[[], UnitOfWork]
COMPLAINT = "你们的东西质量太差了，我要退款"
REFUND = "那你退款好了"
RETURNS = "{customer_surname}{customer_title}您好，退货请在订单页点「申请售后」，寄回时附上订单号。"


def _complaint(uow_factory: UowFactory, staff: ShopWithStaff) -> Message:
    """王芳 writes to the shop (the bot is off: straight to the agent's team)."""
    with uow_factory() as uow:
        buyer = crm.create_customer(uow, shop_id=staff.shop.id, name="王芳", gender="F").id
    with uow_factory() as uow:
        return conversations.receive_customer_message(
            uow, shop_id=staff.shop.id, customer_id=buyer, channel=Channel.WIDGET,
            client_msg_id="b1", body=COMPLAINT,
        )  # fmt: skip


def _phrase(uow_factory: UowFactory, staff: ShopWithStaff) -> int:
    with uow_factory() as uow:
        return coach.create_phrase(
            uow, shop_id=staff.shop.id, agent_id=staff.supervisor.id, role=Role.SUPERVISOR,
            shortcut="退货", title="退货流程", body=RETURNS, shared=True,
        ).id  # fmt: skip


def test_the_coach_hints_while_the_agent_types_and_never_blocks_sending(
    live_server: LiveServer, page: Page, uow_factory: UowFactory
) -> None:
    staff = make_shop_with_staff(uow_factory, "coachdesk")
    message = _complaint(uow_factory, staff)
    phrase_id = _phrase(uow_factory, staff)
    log_in_to_desk(page, live_server, shop="coachdesk", email=staff.agent.email)
    page.locator(f'[data-testid=desk-conversation][data-id="{message.conversation_id}"]').click()
    history = page.get_by_test_id("desk-messages")
    expect(history.locator("[data-testid=desk-message]")).to_have_count(1)

    composer = page.get_by_test_id("desk-composer")
    hints = page.get_by_test_id("coach-hints")
    apology = page.get_by_test_id("coach-apology")
    underline = page.get_by_test_id("coach-underline")
    # Before a word is typed, the buyer's complaint already calls for an apology first.
    expect(apology).to_be_visible()
    expect(apology).to_contain_text("王女士")
    expect(hints).to_be_hidden()

    composer.fill(REFUND)
    refund = hints.locator("[data-testid=coach-hint][data-rule=refund_first]")
    expect(refund).to_be_visible()
    expect(refund).to_contain_text("首句推退款")
    expect(refund).to_contain_text("严重")
    expect(refund.get_by_test_id("coach-suggestion")).to_contain_text(re.compile(r"^王女士"))
    expect(hints.locator("[data-rule=no_apology_angry]")).to_be_visible()
    # The underline is under the words that break the rule, inside the composer's box.
    expect(underline.first).to_contain_text("退款")
    mark, box = underline.first.bounding_box(), composer.bounding_box()
    assert mark and box and mark["width"] > 0
    assert box["x"] <= mark["x"] and mark["x"] + mark["width"] <= box["x"] + box["width"]
    assert box["y"] <= mark["y"] and mark["y"] + mark["height"] <= box["y"] + box["height"]
    style = underline.first.evaluate(
        "m => [getComputedStyle(m).textDecorationStyle, getComputedStyle(m).color]"
    )
    assert style[0] == "wavy" and style[1] == "rgba(0, 0, 0, 0)", style
    screenshot(page, "desk-coach-hints")

    # A long draft that wraps and scrolls: the backdrop wraps and scrolls with the textarea.
    composer.fill("亲，" + "这件大衣是羊毛双面呢的，" * 40 + "\n\n" + REFUND)
    expect(underline.first).to_contain_text("退款")
    composer.evaluate("c => { c.scrollTop = c.scrollHeight; c.dispatchEvent(new Event('scroll')) }")
    layers = page.evaluate(
        """() => { const c = document.getElementById('desk-composer');
                   const b = document.querySelector('[data-testid=coach-backdrop]');
                   return [c.scrollHeight, b.scrollHeight, c.scrollTop, b.scrollTop]; }"""
    )
    assert layers[0] == layers[1] and layers[2] == layers[3] > 0, layers
    mark, box = underline.first.bounding_box(), composer.bounding_box()
    assert mark and box and box["y"] <= mark["y"] <= box["y"] + box["height"]

    # 「道歉开头」 puts the apology-first opening before the draft.
    apology.get_by_role("button", name="道歉开头").click()
    value = composer.input_value()
    assert value.startswith("王女士") and value.endswith(REFUND) and "抱歉" in value
    expect(apology).to_be_hidden()  # the draft opens with it now

    # 「使用建议」 replaces the draft with the better phrasing, to edit before sending.
    composer.fill(REFUND)
    suggestion = refund.get_by_test_id("coach-suggestion").inner_text()
    refund.get_by_test_id("coach-use-suggestion").click()
    expect(composer).to_have_value(suggestion)
    expect(composer).to_be_focused()
    expect(hints.locator("[data-rule=refund_first]")).to_have_count(0)

    # With the hint showing, the agent may still send what they wrote.
    composer.fill(REFUND)
    expect(refund).to_be_visible()
    expect(page.get_by_test_id("desk-send")).to_be_enabled()
    composer.press("Enter")
    sent = history.locator("[data-testid=desk-message][data-sender=agent]")
    expect(sent).to_have_count(1)
    expect(sent.last).to_contain_text(REFUND)
    expect(composer).to_have_value("")
    expect(hints).to_be_hidden()
    expect(underline).to_have_count(0)

    # "/退" opens the canned phrases; Enter inserts the phrase, filled in, and sends nothing.
    composer.press_sequentially("/退")
    picker = page.get_by_test_id("coach-phrases")
    expect(picker).to_be_visible()
    option = picker.locator(f"[data-testid=coach-phrase][data-id='{phrase_id}']")
    expect(option).to_contain_text("/退货")
    expect(option).to_contain_text("王女士您好，退货请在订单页")
    expect(option).to_have_attribute("aria-selected", "true")
    screenshot(page, "desk-coach-phrases")
    with page.expect_response(re.compile(rf"/api/v1/coach/phrases/{phrase_id}/use")) as used:
        composer.press("Enter")
    assert used.value.ok
    filled = RETURNS.replace("{customer_surname}{customer_title}", "王女士")
    expect(composer).to_have_value(filled)
    expect(picker).to_be_hidden()
    expect(sent).to_have_count(1)  # Enter inserted, it did not send

    # Esc closes the picker and leaves what was typed; a phrase mid-draft, on a new line.
    composer.fill("")
    composer.press_sequentially("/退")
    expect(picker).to_be_visible()
    composer.press("Escape")
    expect(picker).to_be_hidden()
    expect(composer).to_have_value("/退")
    expect(sent).to_have_count(1)


def test_notes_are_not_checked(
    live_server: LiveServer, page: Page, uow_factory: UowFactory
) -> None:
    staff = make_shop_with_staff(uow_factory, "coachnote")
    message = _complaint(uow_factory, staff)
    log_in_to_desk(page, live_server, shop="coachnote", email=staff.agent.email)
    page.locator(f'[data-testid=desk-conversation][data-id="{message.conversation_id}"]').click()
    composer = page.get_by_test_id("desk-composer")
    hints = page.get_by_test_id("coach-hints")
    composer.fill(REFUND)
    expect(hints.locator("[data-rule=refund_first]")).to_be_visible()
    # A private note to colleagues is not a reply: no hint, no underline, no apology bar.
    page.get_by_test_id("desk-note-toggle").click()
    expect(hints).to_be_hidden()
    expect(page.get_by_test_id("coach-underline")).to_have_count(0)
    expect(page.get_by_test_id("coach-apology")).to_be_hidden()
    composer.fill(REFUND + "，买家情绪激动")
    composer.press("Enter")
    note = page.get_by_test_id("desk-messages").locator("[data-testid=desk-message]").last
    expect(note).to_contain_text("买家情绪激动")
    expect(hints).to_be_hidden()
    # Back to replying: the hints come back for the draft.
    page.locator(".mode-toggle .mode[data-mode=reply]").click()
    composer.fill(REFUND)
    expect(hints.locator("[data-rule=refund_first]")).to_be_visible()
