"""The coach's subscribers: closing a conversation through the real service scores it,
after the close committed and in a transaction of its own."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kefu.coach import subscribers
from kefu.coach.models import QaHit, QaScore
from kefu.conversations import service as conversations
from kefu.events import EventBus
from tests.coach.conftest import ChatFactory, CoachStaff
from tests.factories import UowFactory

ANGRY = "你们的东西质量太差了，我要退款"
REFUND = "那你退款好了"


@pytest.fixture
def installed(bus: EventBus, uow_factory: UowFactory) -> EventBus:
    subscribers.install(bus, uow_factory)
    return bus


def scores(uow_factory: UowFactory, conversation_id: int) -> list[QaScore]:
    with uow_factory() as uow:
        return list(
            uow.session.scalars(select(QaScore).where(QaScore.conversation_id == conversation_id))
        )


def test_closing_a_conversation_scores_it(
    installed: EventBus, uow_factory: UowFactory, chat: ChatFactory, staff: CoachStaff
) -> None:
    c = chat(agent=staff.aftersale).buyer(ANGRY).after(1).reply(REFUND)
    assert scores(uow_factory, c.conversation_id) == []  # open: nothing yet
    with uow_factory() as uow:
        conversations.close_conversation(
            uow, shop_id=staff.shop_id, conversation_id=c.conversation_id,
            closed_by_agent_id=staff.aftersale.id,
        )  # fmt: skip
    [score] = scores(uow_factory, c.conversation_id)
    assert score.agent_id == staff.aftersale.id
    with uow_factory() as uow:
        codes = set(uow.session.scalars(select(QaHit.rule_code).where(QaHit.score_id == score.id)))
    assert {"refund_first", "no_apology_angry"} <= codes
    assert score.score < 100


def test_closing_again_after_a_reopen_scores_it_again(
    installed: EventBus, uow_factory: UowFactory, chat: ChatFactory, staff: CoachStaff
) -> None:
    c = chat(agent=staff.aftersale).buyer(ANGRY).after(1).reply(REFUND).close()
    [first] = scores(uow_factory, c.conversation_id)
    c.after(10).buyer("还在吗？").after(1).reply(
        "在的，非常抱歉，感谢您的耐心，请给个五星评价"
    ).close()
    [again] = scores(uow_factory, c.conversation_id)
    assert again.id == first.id
    assert again.reply_count == 2
    assert again.scored_at > first.scored_at


def test_a_conversation_nobody_answered_is_closed_without_a_score(
    installed: EventBus, uow_factory: UowFactory, chat: ChatFactory, staff: CoachStaff
) -> None:
    c = chat(agent=staff.aftersale).buyer(ANGRY).close()
    assert scores(uow_factory, c.conversation_id) == []
    with uow_factory() as uow:  # and the close itself stood
        found = conversations.get_conversation(
            uow.session, shop_id=staff.shop_id, conversation_id=c.conversation_id
        )
        assert found.closed_at is not None
