"""Helpers of the quality-inspection tests: conversations written, closed and scored."""

from __future__ import annotations

from sqlalchemy import select

from kefu.accounts.models import Agent
from kefu.coach import service as coach
from kefu.coach.models import QaHit, QaScore
from tests.coach.conftest import Chat, ChatFactory
from tests.factories import UowFactory

ANGRY = "你们的东西质量太差了，我要退款"
REFUND = "那你退款好了"
GOOD_OPENING = "亲，您好，很高兴为您服务，请问有什么可以帮您？"
GOOD_ANSWER = "非常抱歉给您带来了不好的体验，请您先消消气。麻烦您把订单号发给我，我马上为您处理。"
GOOD_CLOSING = "感谢您的耐心，麻烦给个五星评价哦，祝您生活愉快！"


def score_of(uow_factory: UowFactory, c: Chat) -> list[QaScore]:
    with uow_factory() as uow:
        return coach.score_conversation(uow, shop_id=c.shop_id, conversation_id=c.conversation_id)


def bad_chat(
    uow_factory: UowFactory, chat: ChatFactory, agent: Agent, **options: object
) -> QaScore:
    """The seed's wrong answer: a refund pushed at an angry buyer, closed and scored."""
    c = chat(agent=agent, **options).buyer(ANGRY).after(1).reply(REFUND).close()
    [score] = score_of(uow_factory, c)
    return score


def good_chat(
    uow_factory: UowFactory, chat: ChatFactory, agent: Agent, **options: object
) -> QaScore:
    """A model conversation: greeted, soothed, thanked and invited to rate (100)."""
    c = chat(agent=agent, **options).buyer("在吗").after(1).reply(GOOD_OPENING)
    c.buyer(ANGRY).after(1).reply(GOOD_ANSWER).after(1).reply(GOOD_CLOSING).close()
    [score] = score_of(uow_factory, c)
    return score


def hits_of(uow_factory: UowFactory, score_id: int) -> dict[str, QaHit]:
    with uow_factory() as uow:
        return {
            hit.rule_code: hit
            for hit in uow.session.scalars(select(QaHit).where(QaHit.score_id == score_id))
        }


def reload(uow_factory: UowFactory, score_id: int) -> QaScore:
    with uow_factory() as uow:
        found = uow.session.get(QaScore, score_id)
        assert found is not None
        return found
