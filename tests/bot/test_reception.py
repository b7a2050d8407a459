"""The bot in a conversation: answers what the knowledge base knows, asks when unsure,
and hands the rest to the right team with a summary — as the buyer and the agent see it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from kefu.bot import reception, watchdog
from kefu.bot.events import BotAnswered, BotHandedOff
from kefu.conversations.models import ConversationStatus
from kefu.db import make_session_factory
from kefu.events import EventBus
from kefu.kb.models import FaqEntry, UnansweredGroup
from kefu.shops import service as shops
from tests.bot.conftest import BotShop


def _team(bot_shop: BotShop, team_id: int | None) -> str | None:
    if team_id is None:
        return None
    with bot_shop.uow() as uow:
        return shops.get_team(uow.session, shop_id=bot_shop.shop_id, team_id=team_id).code


def test_a_known_question_is_answered_at_once_and_the_agent_sees_which_entry(
    bot_shop: BotShop,
) -> None:
    buyer = bot_shop.buyer()
    conversation_id = bot_shop.say(buyer, "你们家发什么快递啊?")
    lines = bot_shop.messages(conversation_id)
    bot = [m for m in lines if m.sender_type.value == "bot"]
    assert bot[0].body.startswith("您好,欢迎光临")  # greeted once, first
    assert bot[1].body == "亲,默认发中通快递,需要顺丰请联系客服补差价哦。"
    assert f"#{bot_shop.entry_ids[0]}" in bot[1].agent_note
    assert bot[1].sender_name == "小客"
    conversation = bot_shop.conversation(conversation_id)
    assert conversation.with_bot and conversation.team_id is None  # nobody's queue
    with make_session_factory(bot_shop.db)() as session:
        assert session.get_one(FaqEntry, bot_shop.entry_ids[0]).hit_count == 1

    bot_shop.say(buyer, "多久能发货")
    assert bot_shop.bot_lines(conversation_id)[-1] == "王女士您好,付款后48小时内发货。"
    assert (
        sum(line.startswith("您好,欢迎光临") for line in bot_shop.bot_lines(conversation_id)) == 1
    )


def test_traditional_characters_find_the_simplified_entry(bot_shop: BotShop) -> None:
    conversation_id = bot_shop.say(bot_shop.buyer(), "怎麼還沒發貨")
    assert bot_shop.bot_lines(conversation_id)[-1].startswith("非常抱歉让您久等了")


@pytest.mark.parametrize("ask", ["转人工", "我要人工客服", "有人吗"])
def test_asking_for_a_person_hands_over_with_a_summary(bot_shop: BotShop, ask: str) -> None:
    bot_shop.agent_online()
    conversation_id = bot_shop.say(bot_shop.buyer(), ask)
    conversation = bot_shop.conversation(conversation_id)
    assert not conversation.with_bot
    assert _team(bot_shop, conversation.team_id) == "presale"
    assert conversation.assignee_id == bot_shop.staff.agent.id
    assert conversation.handoff_note.startswith("买家要求人工")
    assert "转接" in bot_shop.bot_lines(conversation_id)[-1]
    # From now on people answer: the bot stays silent.
    before = len(bot_shop.bot_lines(conversation_id))
    bot_shop.say(conversation.customer_id, "你们发什么快递")
    assert len(bot_shop.bot_lines(conversation_id)) == before


def test_an_angry_buyer_goes_to_complaints_first_in_the_queue(bot_shop: BotShop) -> None:
    calm = bot_shop.say(bot_shop.buyer("李雷", "M"), "转人工")
    angry = bot_shop.say(bot_shop.buyer(), "你们卖的什么垃圾东西!质量太差了,我要投诉!!!")
    conversation = bot_shop.conversation(angry)
    assert _team(bot_shop, conversation.team_id) == "complaints"
    assert conversation.priority == 1
    assert "情绪:生气" in conversation.handoff_note
    assert bot_shop.bot_lines(angry)[-1].startswith("非常抱歉给您带来了不好的体验")
    assert bot_shop.conversation(calm).priority == 0


def test_two_questions_it_cannot_answer_go_to_a_person_and_are_recorded(
    bot_shop: BotShop,
) -> None:
    buyer = bot_shop.buyer()
    first = bot_shop.say(buyer, "你们老板是哪里人")
    assert "换个说法" in bot_shop.bot_lines(first)[-1]
    assert bot_shop.conversation(first).with_bot
    bot_shop.say(buyer, "仓库在哪个城市")
    conversation = bot_shop.conversation(first)
    assert not conversation.with_bot and conversation.team_id is not None
    with make_session_factory(bot_shop.db)() as session:
        groups = session.scalars(select(UnansweredGroup)).all()
    assert sum(group.count for group in groups) == 2


def test_two_close_entries_make_it_ask_which_one_and_a_number_picks_it(
    bot_shop: BotShop,
) -> None:
    bot_shop.add_entry(["卫衣怎么洗"], "卫衣请冷水手洗,不要暴晒。")
    bot_shop.add_entry(["外套怎么洗"], "外套建议干洗,或翻面机洗轻柔档。")
    buyer = bot_shop.buyer()
    conversation_id = bot_shop.say(buyer, "怎么洗")
    question = bot_shop.bot_lines(conversation_id)[-1]
    assert question.startswith("您想问的是哪一个呢")
    options = dict(line.split(". ", 1) for line in question.splitlines()[1:])
    assert set(options.values()) == {"卫衣怎么洗", "外套怎么洗"}
    bot_shop.say(buyer, "2")
    expected = (
        "卫衣请冷水手洗,不要暴晒。"
        if options["2"] == "卫衣怎么洗"
        else "外套建议干洗,或翻面机洗轻柔档。"
    )
    assert bot_shop.bot_lines(conversation_id)[-1] == expected
    # The choice was used up: "2" again is just a question it does not know.
    bot_shop.say(buyer, "2", client_msg_id="again")
    assert "换个说法" in bot_shop.bot_lines(conversation_id)[-1]


def test_out_of_hours_the_buyer_is_told_when_people_are_back(bot_shop: BotShop) -> None:
    bot_shop.clock.set(datetime(2026, 11, 23, 15, 30, tzinfo=UTC))  # 23:30 in Shanghai
    conversation_id = bot_shop.say(bot_shop.buyer(), "转人工")
    last = bot_shop.bot_lines(conversation_id)[-1]
    assert "非工作时间" in last and "明天 09:00" in last and "每天 09:00–22:00" in last
    # It still waits in the team's queue for the morning.
    assert bot_shop.conversation(conversation_id).team_id is not None


def test_with_the_bot_off_conversations_go_straight_to_people(bot_shop: BotShop) -> None:
    bot_shop.set_bot(enabled=False)
    bot_shop.agent_online()
    conversation_id = bot_shop.say(bot_shop.buyer(), "你们发什么快递")
    assert bot_shop.bot_lines(conversation_id) == []
    conversation = bot_shop.conversation(conversation_id)
    assert conversation.assignee_id == bot_shop.staff.agent.id and not conversation.with_bot


def test_a_returning_buyer_is_received_by_the_bot_again(bot_shop: BotShop) -> None:
    buyer = bot_shop.buyer()
    conversation_id = bot_shop.say(buyer, "转人工")
    from kefu.conversations import service as conversations

    with bot_shop.uow() as uow:
        conversations.close_conversation(
            uow, shop_id=bot_shop.shop_id, conversation_id=conversation_id, closed_by_agent_id=None
        )
    bot_shop.say(buyer, "你们发什么快递")
    conversation = bot_shop.conversation(conversation_id)
    assert conversation.status is ConversationStatus.OPEN and conversation.with_bot
    assert bot_shop.bot_lines(conversation_id)[-1].startswith("亲,默认发中通快递")


def test_it_stops_when_it_seems_to_talk_to_another_bot(bot_shop: BotShop) -> None:
    buyer = bot_shop.buyer()
    conversation_id = 0
    for turn in range(12):
        conversation_id = bot_shop.say(buyer, "你们发什么快递", client_msg_id=f"loop-{turn}")
        if not bot_shop.conversation(conversation_id).with_bot:
            break
    assert not bot_shop.conversation(conversation_id).with_bot
    assert len(bot_shop.bot_lines(conversation_id)) <= reception.MAX_REPLIES_IN_ROW + 2


def test_a_failing_bot_hands_the_buyer_to_people(
    bot_shop: BotShop, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("model file damaged")

    monkeypatch.setattr(reception, "respond", broken)
    conversation_id = bot_shop.say(bot_shop.buyer(), "你们发什么快递")
    conversation = bot_shop.conversation(conversation_id)
    assert not conversation.with_bot and conversation.team_id is not None
    assert "出错" in conversation.handoff_note


def test_answers_and_hand_offs_are_announced(bot_shop: BotShop, bus: EventBus) -> None:
    with bus.capture() as seen:
        buyer = bot_shop.buyer()
        bot_shop.say(buyer, "你们发什么快递")
        bot_shop.say(buyer, "转人工")
    kinds = [type(event) for event in seen]
    assert BotAnswered in kinds and BotHandedOff in kinds
    handed = next(e for e in seen if isinstance(e, BotHandedOff))
    assert handed.reason == "asked_for_human" and handed.team_code == "presale"


def test_a_message_the_bot_never_answered_goes_to_people_after_a_minute(
    bot_shop: BotShop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As if the process stopped between storing the buyer's line and answering it."""
    monkeypatch.setattr(reception, "respond", lambda *_args, **_kwargs: None)
    conversation_id = bot_shop.say(bot_shop.buyer(), "你们发什么快递")
    bot_shop.clock.advance(timedelta(seconds=59))
    with bot_shop.uow() as uow:
        assert watchdog.rescue_stalled(uow) == 0
    assert bot_shop.conversation(conversation_id).with_bot
    bot_shop.clock.advance(timedelta(seconds=2))
    with bot_shop.uow() as uow:
        assert watchdog.rescue_stalled(uow) == 1
    conversation = bot_shop.conversation(conversation_id)
    assert not conversation.with_bot and conversation.team_id is not None
    assert conversation.handoff_note == watchdog.NOTE
    with bot_shop.uow() as uow:
        assert watchdog.rescue_stalled(uow) == 0  # once


def test_a_conversation_the_bot_answered_last_is_not_rescued(bot_shop: BotShop) -> None:
    conversation_id = bot_shop.say(bot_shop.buyer(), "你们发什么快递")
    bot_shop.clock.advance(timedelta(hours=1))
    with bot_shop.uow() as uow:
        assert watchdog.rescue_stalled(uow) == 0
    assert bot_shop.conversation(conversation_id).with_bot


def test_switching_the_bot_off_hands_its_buyers_to_people(bot_shop: BotShop) -> None:
    buyer = bot_shop.buyer()
    conversation_id = bot_shop.say(buyer, "你们发什么快递")
    bot_shop.set_bot(enabled=False)
    answered = len(bot_shop.bot_lines(conversation_id))
    bot_shop.say(buyer, "那顺丰呢")
    conversation = bot_shop.conversation(conversation_id)
    assert not conversation.with_bot and conversation.team_id is not None
    assert len(bot_shop.bot_lines(conversation_id)) == answered  # the bot said nothing more


def test_the_hand_off_summary_names_the_order_in_the_shops_own_format(
    bot_shop: BotShop,
) -> None:
    bot_shop.set_bot(order_pattern=r"\d{6}-\d{4}")
    conversation_id = bot_shop.say(bot_shop.buyer(), "订单202611-0042的XL码黑色还没到,转人工")
    note = bot_shop.conversation(conversation_id).handoff_note
    assert "202611-0042" in note and "XL" in note and "黑色" in note
