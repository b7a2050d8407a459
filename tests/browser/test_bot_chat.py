"""The demo shop's bot, as a buyer meets it in the chat widget (a real browser): instant
answers from the knowledge base, traditional characters understood, and a hand-off to the
right team that an agent then sees."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select

from kefu.conversations.models import Conversation
from kefu.db import make_session_factory
from kefu.demo.seed import seed_demo_shop
from kefu.shops import service as shops
from kefu.uow import UnitOfWork
from tests.browser.conftest import LiveServer, screenshot

pytestmark = pytest.mark.browser

UowFactory = Callable[[], UnitOfWork]


def _ask(page: Page, text: str) -> None:
    box = page.get_by_test_id("chat-input")
    box.fill(text)
    box.press("Enter")


def test_the_demo_bot_answers_sizes_bargaining_and_traditional_questions(
    page: Page, live_server: LiveServer, uow_factory: UowFactory
) -> None:
    seed_demo_shop(uow_factory)
    page.goto(f"{live_server.url}/chat/demo")
    expect(page.get_by_test_id("chat-connection")).to_have_attribute("data-state", "online")
    bot = page.locator("[data-testid=chat-message][data-sender=bot]")

    _ask(page, "这件卫衣有XL吗")
    expect(bot.first).to_contain_text("欢迎光临棉里家居服饰旗舰店")  # greeted first
    expect(bot.last).to_contain_text("加绒卫衣有S到XXL五个码")
    answered = bot.count()

    _ask(page, "能便宜点吗")
    expect(bot).to_have_count(answered + 1)
    expect(bot.last).to_contain_text("满199减20")  # holds the price, points to promotions

    _ask(page, "怎麼還沒發貨")
    expect(bot).to_have_count(answered + 2)
    expect(bot.last).to_contain_text("48小时内一定发出")
    # The bot's lines never show the agents' note about which entry answered.
    expect(page.get_by_test_id("chat-messages")).not_to_contain_text("知识库 #")
    screenshot(page, "bot-chat-answers")


def test_asking_for_a_person_hands_over_to_presale(
    page: Page, live_server: LiveServer, uow_factory: UowFactory, db: Engine
) -> None:
    seed_demo_shop(uow_factory)
    page.goto(f"{live_server.url}/chat/demo")
    expect(page.get_by_test_id("chat-connection")).to_have_attribute("data-state", "online")
    bot = page.locator("[data-testid=chat-message][data-sender=bot]")
    _ask(page, "转人工")
    expect(bot.last).to_contain_text("转接")
    with make_session_factory(db)() as session:
        conversation = session.scalars(
            select(Conversation).order_by(Conversation.id.desc()).limit(1)
        ).one()
        assert not conversation.with_bot and conversation.handoff_note.startswith("买家要求人工")
        team = shops.get_team(
            session, shop_id=conversation.shop_id, team_id=conversation.team_id or 0
        )
    assert team.code == "presale"
