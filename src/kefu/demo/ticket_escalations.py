"""升级 (escalation) in the demo: questions the bot could not answer (the unanswered inbox)
escalated to the duty manager; one answered, and one still waiting for the answer.

The answered one is left for whoever tries the demo to make a KB entry of in one click
(「加入知识库」 on the ticket), so the bot answers it next time; the demo's knowledge base
stays the shop's FAQ as written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Final

from sqlalchemy import select

from kefu.commerce.models import Order, OrderLine
from kefu.demo.ticket_plot import LEAD, MINUTE, PRESALE, Plot, Ref
from kefu.kb import service as kb
from kefu.kb.models import UnansweredQuestion
from kefu.tickets import service as tickets

DAY: Final = timedelta(days=1)
ANSWERED_WITHIN: Final = 80  # working minutes


def escalations(plot: Plot) -> None:
    """升级: a question three buyers asked and the bot could not answer, escalated and
    answered by the duty manager within the working day; another one still waiting."""
    answered = Ref()
    asked = plot.now - 5 * DAY
    buyers = _bedding_buyers(plot)
    for index, question in enumerate(
        ("四件套能定做2.2米床的吗", "有没有2米2床用的床单被套", "床品可以按尺寸定制吗")
    ):
        customer = buyers[index] if index < len(buyers) else None
        plot.at(asked + index * DAY, _unanswered(plot, question, customer))
    raised = asked + 2 * DAY + 40 * MINUTE
    plot.at(raised, _escalate(plot, answered, "四件套能定做2.2米床的吗"))
    reply = plot.working(raised, ANSWERED_WITHIN)
    plot.at(reply, _answer(plot, answered, (
        "亲，四件套目前有1.5m、1.8m和2.0m床三种尺寸，暂时不接受定做哦。2.2m的床建议选2.0m床的"
        "款式（被套220×240cm），再搭配我们家的加大床笠，很多买家都是这样配的~"
    )))  # fmt: skip

    waiting = Ref()
    plot.at(plot.now - 26 * timedelta(hours=1), _unanswered(plot, "家居服可以绣名字吗", None))
    plot.at(plot.now - 130 * MINUTE, _unanswered(plot, "能不能在睡衣上绣字母", None))
    plot.at(plot.now - 25 * MINUTE, _escalate(plot, waiting, "家居服可以绣名字吗"))


def _bedding_buyers(plot: Plot) -> list[int]:
    rows = plot.uow.session.execute(
        select(Order.customer_id, Order.created_at)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(Order.shop_id == plot.shop_id, OrderLine.title.contains("四件套"))
        .order_by(Order.created_at.desc(), Order.id.desc())
    ).all()
    return list(dict.fromkeys(row[0] for row in rows))[:3]


def _unanswered(plot: Plot, question: str, customer_id: int | None) -> Callable[[], None]:
    def run() -> None:
        kb.record_unanswered(
            plot.uow, shop_id=plot.shop_id, text=question, customer_id=customer_id, commit=False
        )

    return run


def _escalate(plot: Plot, ref: Ref, question: str) -> Callable[[], None]:
    """小美 escalates the question's group from the unanswered inbox to the duty manager."""

    def run() -> None:
        group_id = _group_of(plot, question)
        ticket = tickets.escalate_question(
            plot.uow, shop_id=plot.shop_id, question="", unanswered_group_id=group_id,
            actor_agent_id=plot.people[PRESALE], commit=False,
        )  # fmt: skip
        ref.set(ticket)

    return run


def _group_of(plot: Plot, question: str) -> int:
    group_id = plot.uow.session.scalar(
        select(UnansweredQuestion.group_id)
        .where(
            UnansweredQuestion.shop_id == plot.shop_id,
            UnansweredQuestion.text == question,
        )
        .limit(1)
    )
    if group_id is None:  # pragma: no cover - the story recorded it just before
        raise LookupError(f"the demo never recorded {question!r}")
    return group_id


def _answer(plot: Plot, ref: Ref, answer: str) -> Callable[[], None]:
    def run() -> None:
        ticket = tickets.get_ticket(plot.uow.session, shop_id=plot.shop_id, ticket_id=ref.id)
        tickets.answer_escalation(
            plot.uow, shop_id=plot.shop_id, ticket_id=ref.id, answer=answer,
            actor_agent_id=ticket.assignee_id or plot.people[LEAD], commit=False,
        )  # fmt: skip

    return run
