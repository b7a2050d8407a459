"""The demo's coach (质检): the 快捷短语 the owner finds, the shop's rules, weeks of scored
conversations for /quality, the issue's "done when" story scored on the right message, the
supervisor's review the agent reads, the angry buyer waiting in the owner's desk — and the
same seed giving the same scores."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.accounts import service as accounts
from kefu.clock import FrozenClock
from kefu.coach import engine
from kefu.coach import service as coach
from kefu.coach.models import QaHit, QaScore, ReviewStatus, Verdict
from kefu.coach.readings import read_buyer
from kefu.coach.turns import turns_of
from kefu.conversations.models import Conversation, ConversationStatus, Message, SenderType
from kefu.demo import DEMO_PASSWORD, DEMO_SHOP_SLUG, DemoSummary, seed_demo_shop
from kefu.demo import coach as demo_coach
from kefu.demo.coach_stories import DONE_WHEN_SUBJECT, OPEN_SUBJECT, REVIEWED_SUBJECT
from kefu.tickets.models import Notification, NotificationKind
from tests.demo.ticketkit import UowFactory

# What a reply that follows the seeds' advice never says, whatever it answers.
SAYS = {"forbidden_phrases", "blame_shifting", "quality_denial", "refund_first", "rude_tone"}


@pytest.fixture
def demo(uow_factory: UowFactory) -> DemoSummary:
    return seed_demo_shop(uow_factory)


def _people(uow_factory: UowFactory, shop_id: int) -> dict[str, int]:
    with uow_factory() as uow:
        return {a.email: a.id for a in accounts.list_agents(uow.session, shop_id=shop_id)}


def _conversation(uow_factory: UowFactory, shop_id: int, subject: str, **where: Any) -> int:
    with uow_factory() as uow:
        query = select(Conversation.id).where(
            Conversation.shop_id == shop_id, Conversation.subject == subject
        )
        for name, value in where.items():
            query = query.where(getattr(Conversation, name) == value)
        found = list(uow.session.scalars(query))
    assert len(found) == 1, (subject, found)
    return found[0]


def _scores(
    uow_factory: UowFactory, conversation_id: int
) -> dict[int, tuple[QaScore, list[QaHit]]]:
    """The conversation's scores by agent, each with its hits."""
    with uow_factory() as uow:
        scores = uow.session.scalars(
            select(QaScore).where(QaScore.conversation_id == conversation_id)
        ).all()
        return {
            score.agent_id: (
                score,
                list(
                    uow.session.scalars(
                        select(QaHit).where(QaHit.score_id == score.id).order_by(QaHit.id)
                    )
                ),
            )
            for score in scores
        }


def test_the_phrase_set_is_there_and_fills_in_the_buyer(
    uow_factory: UowFactory, clock: FrozenClock, demo: DemoSummary
) -> None:
    people = _people(uow_factory, demo.shop_id)
    done_when = _conversation(uow_factory, demo.shop_id, DONE_WHEN_SUBJECT)
    data = demo_coach.phrase_set()
    with uow_factory() as uow:
        session = uow.session
        owners = coach.list_phrases(
            session, shop_id=demo.shop_id, agent_id=people["owner@demo.kefu"]
        )
        complaints = coach.list_phrases(
            session, shop_id=demo.shop_id, agent_id=people["complaints@demo.kefu"]
        )
        values = coach.variables_for(session, shop_id=demo.shop_id, conversation_id=done_when)
        turns = turns_of(session, shop_id=demo.shop_id, conversation_id=done_when)
        rules = coach.rule_specs(session, shop_id=demo.shop_id)
    shared = {p.shortcut: p for p in owners}
    assert len(shared) == len(data["shared"]) >= 15
    assert {"问候", "道歉", "订单号", "质量", "退货", "换货", "物流", "稍等", "催付", "优惠",
            "收藏", "好评", "结束", "发货", "普通话"} <= set(shared)  # fmt: skip
    assert all(p.owner_agent_id is None for p in owners)
    own = [p for p in complaints if p.owner_agent_id == people["complaints@demo.kefu"]]
    assert 2 <= len(own) <= 3 and len(complaints) == len(owners) + len(own)
    # The stories used some of them, as the composer does.
    assert shared["道歉"].use_count >= 1 and shared["质量"].use_count >= 1

    assert values["customer_title"] == "女士" and len(values["customer_surname"]) == 1
    assert re.fullmatch(r"\d{19}", values["order_no"]) and values["product"]
    greeting = coach.render(shared["问候"].body, values)
    assert greeting == f"{values['customer_surname']}女士您好，很高兴为您服务，请问有什么可以帮您？"
    shipped = coach.render(shared["发货"].body, values)
    assert values["order_no"] in shipped and values["product"] in shipped
    for phrase in complaints:
        text = coach.render(phrase.body, values)
        assert "{" not in text, phrase.shortcut
        # Said to the angry buyer's first line, no phrase breaks a rule of what not to say.
        hints = engine.check_draft(
            turns[:1], text, rules, agent_id=people["complaints@demo.kefu"],
            now=turns[0].at, read_buyer=read_buyer,
        )  # fmt: skip
        broken = {hit.rule for hit in hints.hits}
        assert not broken & SAYS, (phrase.shortcut, hints.hits)
        if phrase.shortcut in ("道歉", "质量", "退货", "物流"):  # apology first (seed 001)
            assert "no_apology_angry" not in broken, phrase.shortcut


def test_the_shop_has_its_rules_written_down_and_one_of_its_own(
    uow_factory: UowFactory, demo: DemoSummary
) -> None:
    people = _people(uow_factory, demo.shop_id)
    with uow_factory() as uow:
        rules = {r.code: r for r in coach.list_rules(uow.session, shop_id=demo.shop_id)}
    assert {"refund_first", "no_apology_angry", "blame_shifting", "no_greeting"} <= set(rules)
    assert all(rule.updated_at is not None for rule in rules.values())  # rows, not defaults
    assert rules["no_rating_invite"].updated_by_agent_id == people["lead@demo.kefu"]
    assert rules["no_rating_invite"].suggestion == demo_coach.RATING_SUGGESTION
    custom = [r for r in rules.values() if not r.builtin]
    assert len(custom) == 1
    assert custom[0].name == "不得承诺具体到货日期"
    assert custom[0].patterns == tuple(demo_coach.CUSTOM_RULE["patterns"])


def test_done_when_the_refund_pushed_at_an_angry_buyer_is_scored_on_its_message(
    uow_factory: UowFactory, clock: FrozenClock, demo: DemoSummary
) -> None:
    people = _people(uow_factory, demo.shop_id)
    conversation_id = _conversation(uow_factory, demo.shop_id, DONE_WHEN_SUBJECT)
    with uow_factory() as uow:
        messages = uow.session.scalars(
            select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq)
        ).all()
        span = coach.qa_range(uow.session, shop_id=demo.shop_id, now=clock.now())
        worst = coach.worst_conversations(uow.session, shop_id=demo.shop_id, span=span, limit=5)
    assert messages[0].body == "你们的东西质量太差了，我要退款"
    reply = messages[1]
    assert (reply.sender_type, reply.body) == (SenderType.AGENT, "那你退款好了")

    scores = _scores(uow_factory, conversation_id)
    score, hits = scores[people["aftersale@demo.kefu"]]
    on_reply = {hit.rule_code: hit for hit in hits if hit.message_id == reply.id}
    assert {"refund_first", "no_apology_angry"} <= set(on_reply)
    assert on_reply["refund_first"].message_seq == reply.seq
    refund = on_reply["refund_first"]
    assert "退款" in reply.body[refund.span_start : refund.span_end]
    assert score.score <= 100 - refund.points - on_reply["no_apology_angry"].points
    # The supervisor who stepped in answered the way seed 001 says.
    lead_score, lead_hits = scores[people["lead@demo.kefu"]]
    assert lead_score.score >= 95 and not {h.rule_code for h in lead_hits} & SAYS
    # At the top of the supervisor's list of conversations to look at.
    assert worst[0].conversation_id == conversation_id
    assert worst[0].agent_id == people["aftersale@demo.kefu"]


def test_quality_has_weeks_of_scores_trends_and_typical_problems(
    uow_factory: UowFactory, clock: FrozenClock, demo: DemoSummary
) -> None:
    with uow_factory() as uow:
        span = coach.qa_range(uow.session, shop_id=demo.shop_id, now=clock.now())
        overview = coach.quality_overview(uow.session, shop_id=demo.shop_id, span=span)
        codes = set(
            uow.session.scalars(select(QaHit.rule_code).where(QaHit.shop_id == demo.shop_id))
        )
        closed = uow.session.scalars(
            select(Conversation).where(
                Conversation.shop_id == demo.shop_id,
                Conversation.status == ConversationStatus.CLOSED,
            )
        ).all()
        scored = set(
            uow.session.scalars(
                select(QaScore.conversation_id).where(QaScore.shop_id == demo.shop_id)
            )
        )
    assert 20 <= overview.scores <= 40
    with_trend = [row for row in overview.agents if sum(p.count > 0 for p in row.trend) >= 3]
    assert len(with_trend) >= 3
    assert len(overview.teams) >= 4
    assert overview.reviewed == 1 and overview.average is not None and overview.average >= 85
    assert len(overview.problems) >= 5
    # Most conversations went well; some show the problems the coach is for.
    with uow_factory() as uow:
        all_scores = uow.session.scalars(
            select(QaScore.score).where(QaScore.shop_id == demo.shop_id)
        ).all()
    assert sum(s >= 90 for s in all_scores) > len(all_scores) / 2
    custom = next(c for c in codes if c.startswith("custom_"))
    assert {
        "no_greeting", "no_rating_invite", "slow_reply_no_apology", "forbidden_phrases",
        "blame_shifting", "missed_follow_up", "refund_first", "no_apology_angry", custom,
    } <= codes  # fmt: skip
    # Every closed conversation an agent answered was scored when it closed.
    answered = {c.id for c in closed if _agent_replied(uow_factory, c.id)}
    assert scored == answered
    with uow_factory() as uow:
        for score in uow.session.scalars(select(QaScore).where(QaScore.shop_id == demo.shop_id)):
            assert score.scored_at == score.closed_at <= clock.now()


def _agent_replied(uow_factory: UowFactory, conversation_id: int) -> bool:
    with uow_factory() as uow:
        return (
            uow.session.scalar(
                select(Message.id)
                .where(
                    Message.conversation_id == conversation_id,
                    Message.sender_type == SenderType.AGENT,
                    Message.is_private.is_(False),
                )
                .limit(1)
            )
            is not None
        )


def test_the_reviewed_conversation_has_its_verdicts_and_a_word_for_the_agent(
    uow_factory: UowFactory, clock: FrozenClock, demo: DemoSummary
) -> None:
    people = _people(uow_factory, demo.shop_id)
    conversation_id = _conversation(uow_factory, demo.shop_id, REVIEWED_SUBJECT)
    shipping = people["shipping@demo.kefu"]
    score, hits = _scores(uow_factory, conversation_id)[shipping]
    assert score.review_status is ReviewStatus.REVIEWED
    assert score.reviewer_id == people["lead@demo.kefu"]
    assert score.comment == demo_coach.REVIEW_COMMENT
    assert score.agent_read_at is None  # news for the agent
    verdicts = {hit.rule_code: hit for hit in hits}
    overturned = [h for h in hits if h.verdict is Verdict.OVERTURNED]
    confirmed = [h for h in hits if h.verdict is Verdict.CONFIRMED]
    assert len(overturned) == 1 and overturned[0].rule_code.startswith("custom_")
    assert overturned[0].comment == demo_coach.OVERTURNED["custom"]
    assert verdicts["blame_shifting"].verdict is Verdict.CONFIRMED
    assert all(h.comment for h in confirmed)
    assert score.score == 100 - sum(h.points for h in confirmed)
    assert score.closed_at < score.reviewed_at < clock.now()  # type: ignore[operator]

    with uow_factory() as uow:
        span = coach.qa_range(uow.session, shop_id=demo.shop_id, now=clock.now())
        mine = coach.my_scores(uow.session, shop_id=demo.shop_id, agent_id=shipping, span=span)
        told = uow.session.scalars(
            select(Notification).where(
                Notification.shop_id == demo.shop_id,
                Notification.agent_id == shipping,
                Notification.kind == NotificationKind.QA_REVIEW,
            )
        ).all()
    row = next(r for r in mine.rows if r.conversation_id == conversation_id)
    assert row.unread and row.comment == demo_coach.REVIEW_COMMENT
    assert len(told) == 1 and told[0].link == f"/quality/conversations/{conversation_id}"


def test_an_angry_buyer_waits_in_the_owners_desk_for_the_live_coach(
    uow_factory: UowFactory, clock: FrozenClock, demo: DemoSummary
) -> None:
    people = _people(uow_factory, demo.shop_id)
    owner = people["owner@demo.kefu"]
    conversation_id = _conversation(
        uow_factory, demo.shop_id, OPEN_SUBJECT, status=ConversationStatus.OPEN, assignee_id=owner
    )
    with uow_factory() as uow:
        messages = uow.session.scalars(
            select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq)
        ).all()
        bad = coach.check_draft_for(
            uow.session, shop_id=demo.shop_id, agent_id=owner, conversation_id=conversation_id,
            text="那你退款好了", now=clock.now(),
        )  # fmt: skip
        good = coach.check_draft_for(
            uow.session, shop_id=demo.shop_id, agent_id=owner, conversation_id=conversation_id,
            text=bad.apology_template or "", now=clock.now(),
        )  # fmt: skip
    assert messages and all(m.sender_type is SenderType.CUSTOMER for m in messages)
    assert "质量太差" in messages[0].body
    assert bad.complaint and bad.apology_template
    assert {"refund_first", "no_apology_angry"} <= {hit.code for hit in bad.hits}
    assert not {hit.code for hit in good.hits} & (SAYS | {"no_apology_angry"})


def _scored(uow_factory: UowFactory, shop_id: int, now: datetime) -> list[Any]:
    with uow_factory() as uow:
        emails = {a.id: a.email for a in accounts.list_agents(uow.session, shop_id=shop_id)}
        rows = uow.session.execute(
            select(QaScore, Conversation.subject)
            .join(Conversation, Conversation.id == QaScore.conversation_id)
            .where(QaScore.shop_id == shop_id)
            .order_by(QaScore.closed_at, QaScore.agent_id)
        ).all()
        story = []
        for score, subject in rows:
            hits = uow.session.execute(
                select(QaHit.rule_code, QaHit.message_seq, QaHit.verdict, QaHit.excerpt)
                .where(QaHit.score_id == score.id)
                .order_by(QaHit.message_seq, QaHit.rule_code)
            ).all()
            story.append(
                (subject, emails[score.agent_id], score.score, score.closed_at,
                 score.review_status, score.comment, [tuple(h) for h in hits])
            )  # fmt: skip
    return story


def test_the_same_seed_gives_the_same_scores_and_another_seed_its_own(
    uow_factory: UowFactory, clock: FrozenClock
) -> None:
    shops = [seed_demo_shop(uow_factory, slug=slug) for slug in ("demo", "demo-two")]
    other = seed_demo_shop(uow_factory, slug="demo-three", seed=7)
    first, second = (_scored(uow_factory, s.shop_id, clock.now()) for s in shops)
    assert first == second and len(first) >= 20
    third = _scored(uow_factory, other.shop_id, clock.now())
    assert third != first
    # The stories are told on any seed.
    assert {DONE_WHEN_SUBJECT, REVIEWED_SUBJECT} <= {row[0] for row in third}


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 10, 3, 3, 0, tzinfo=UTC),  # 11:00 on National Day (国庆)
        datetime(2026, 11, 28, 15, 30, tzinfo=UTC),  # 23:30 on a Saturday night
        datetime(2027, 1, 16, 22, 5, tzinfo=UTC),  # 06:05 on a Sunday morning
    ],
)
def test_whatever_the_moment_every_story_is_told(
    uow_factory: UowFactory, clock: FrozenClock, moment: datetime
) -> None:
    clock.set(moment)
    summary = seed_demo_shop(uow_factory)
    with uow_factory() as uow:
        subjects = set(
            uow.session.scalars(
                select(Conversation.subject).where(Conversation.shop_id == summary.shop_id)
            )
        )
        reviewed = uow.session.scalars(
            select(QaScore).where(
                QaScore.shop_id == summary.shop_id,
                QaScore.review_status == ReviewStatus.REVIEWED,
            )
        ).all()
    assert {DONE_WHEN_SUBJECT, REVIEWED_SUBJECT, OPEN_SUBJECT, "满减叠加"} <= subjects
    assert len(reviewed) == 1
    assert reviewed[0].closed_at < reviewed[0].reviewed_at <= moment  # type: ignore[operator]


# --- the pages ---------------------------------------------------------------------------------


def _login(app: FastAPI, email: str) -> TestClient:
    """A demo login (the demo seeded before the app started listening)."""
    client = TestClient(app)
    response = client.post(
        "/api/v1/auth/login",
        json={"shop": DEMO_SHOP_SLUG, "email": email, "password": DEMO_PASSWORD},
    )
    assert response.status_code == 200, response.text
    return client


def _page(client: TestClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    main = response.text[response.text.find("<main") :]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


def test_the_demo_logins_find_the_quality_pages_filled(
    demo: DemoSummary, app: FastAPI, uow_factory: UowFactory
) -> None:
    done_when = _conversation(uow_factory, demo.shop_id, DONE_WHEN_SUBJECT)
    reviewed = _conversation(uow_factory, demo.shop_id, REVIEWED_SUBJECT)
    owner = _login(app, "owner@demo.kefu")
    quality = _page(owner, "/quality")
    for name in ("售后阿敏", "发货客服阿强", "客服小美", "首句推退款", "未邀请评价"):
        assert name in quality, name
    assert f"/quality/conversations/{done_when}" in owner.get("/quality").text
    transcript = _page(owner, f"/quality/conversations/{done_when}")
    assert "那你退款" in transcript and "首句推退款" in transcript  # the span is highlighted
    assert "未先安抚致歉" in transcript
    assert "不得承诺具体到货日期" in _page(owner, "/settings/coach")
    assert "很高兴为您服务" in _page(owner, "/phrases")

    agent = _login(app, "shipping@demo.kefu")
    mine = _page(agent, "/quality/mine")
    assert demo_coach.REVIEW_COMMENT[:20] in mine
    detail = _page(agent, f"/quality/conversations/{reviewed}")
    assert demo_coach.OVERTURNED["custom"] in detail
