"""The demo shop's coach (质检): its 快捷短语, its rules, and the quality inspection of its
closed conversations — with a few stories told for the coach to catch
(:mod:`kefu.demo.coach_stories`) and the supervisor's review of one of them.

Written in the seeder's transaction after the tickets (which add to the scripted chats), and
through the coach's own services, each step on the unit of work's clock set to its moment:
the shop set up its phrases and rules before the demo's first chat, every closed conversation
was scored when it closed, as the app's subscriber does, and the supervisor reviewed the
next morning. So /quality opens with weeks of scores per agent and team, its frequent
problems, and the refund pushed at an angry buyer at the bottom of the list.
"""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import select

from kefu.accounts import service as accounts
from kefu.accounts.models import Role
from kefu.coach import service as coach
from kefu.coach.models import QaHit, QaScore, Verdict
from kefu.conversations.models import Conversation, ConversationStatus
from kefu.demo.coach_stories import (
    LEAD,
    REVIEWED_SUBJECT,
    SHIPPING,
    STORIES,
    Stage,
    clock_at,
)
from kefu.shops import service as shops
from kefu.uow import UnitOfWork

PHRASES_FILE: Final = Path(__file__).with_name("phrases.json")
# The shop set its coach up before the first of the demo's chats (within 90 days).
SET_UP_AGO: Final = timedelta(days=90)
# The supervisor reviews the morning after (shop time).
REVIEWED_AT: Final = time(9, 40)

# The shop's own rule (seed 001: promise what you can keep).
CUSTOM_RULE: Final[dict[str, Any]] = {
    "name": "不得承诺具体到货日期",
    "description": "到货时间由快递决定，不说“保证明天到”；说预计时间，并主动帮买家跟进物流。",
    "patterns": [r"保证.{0,6}(到|送达)"],
    "severity": "minor",
    "points": 5,
    "suggestion": "{customer_surname}{customer_title}，预计两三天内送达，我会帮您盯着物流，"
    "有变化第一时间告诉您。",
}
# The shop's wording of the rating invitation the coach suggests.
RATING_SUGGESTION: Final = (
    "如果对我的服务还满意，欢迎{customer_surname}{customer_title}在会话结束后给个评价，谢谢您！"
)
# The supervisor's review of the 物流催件 conversation: the verdict on each hit by rule, and
# what she tells the agent.
REVIEW_COMMENT: Final = (
    "催件及时、结束时有致谢和评价邀请，很好。两点注意：物流慢先向买家致歉，不要说是快递的问题，"
    "买家只关心什么时候到；到货时间说“预计”，不说“保证”。"
)
OVERTURNED: Final = {
    "custom": "这单已经和快递确认过加急时效，承诺有依据，这次不扣分。",
}
CONFIRMED: Final = {
    "blame_shifting": "“是快递那边的问题”是推卸责任，先道歉，再说我们怎么帮买家解决。",
    "no_apology_angry": "买家着急时第一句先致歉安抚。",
}


@cache
def phrase_set() -> dict[str, Any]:
    """The demo's 快捷短语: shared ones, and one agent's own."""
    data: dict[str, Any] = json.loads(PHRASES_FILE.read_text(encoding="utf-8"))
    return data


def write_coach(uow: UnitOfWork, *, shop_id: int) -> int:
    """Phrases, rules, the coach's stories, every closed conversation scored, and one
    review. Does not commit. Returns how many conversations the stories added."""
    session = uow.session
    now = uow.clock.now()
    people = {agent.email: agent.id for agent in accounts.list_agents(session, shop_id=shop_id)}
    with clock_at(uow, now - SET_UP_AGO):
        phrases = _write_phrases(uow, shop_id=shop_id, people=people)
        custom_code = _write_rules(uow, shop_id=shop_id, people=people)
    stage = Stage(
        uow=uow,
        shop_id=shop_id,
        now=now,
        zone=ZoneInfo(shops.get_shop(session, shop_id=shop_id).timezone),
        people=people,
        phrases=phrases,
    )
    for story in STORIES:
        story(stage)
    _score_closed(uow, shop_id=shop_id)
    _review(uow, stage=stage, custom_code=custom_code)
    session.flush()
    return len(stage.told)


def _write_phrases(uow: UnitOfWork, *, shop_id: int, people: dict[str, int]) -> dict[str, int]:
    """The shared phrases (written by the supervisor) and an agent's own. Returns the
    shared ones' ids by shortcut."""
    data = phrase_set()
    ids = {}
    for item in data["shared"]:
        phrase = coach.create_phrase(
            uow, shop_id=shop_id, agent_id=people[LEAD], role=Role.SUPERVISOR,
            shortcut=item["shortcut"], title=item["title"], body=item["body"], shared=True,
            commit=False,
        )  # fmt: skip
        ids[phrase.shortcut] = phrase.id
    personal = data["personal"]
    for item in personal["phrases"]:
        coach.create_phrase(
            uow, shop_id=shop_id, agent_id=people[personal["owner"]], role=Role.AGENT,
            shortcut=item["shortcut"], title=item["title"], body=item["body"], commit=False,
        )  # fmt: skip
    return ids


def _write_rules(uow: UnitOfWork, *, shop_id: int, people: dict[str, int]) -> str:
    """The defaults, written down by the supervisor's first edit (the shop's wording of
    the rating invitation), and a rule of the shop's own. Returns the latter's code."""
    coach.update_rule(
        uow, shop_id=shop_id, code="no_rating_invite", agent_id=people[LEAD],
        suggestion=RATING_SUGGESTION, commit=False,
    )  # fmt: skip
    rule = coach.create_rule(
        uow, shop_id=shop_id, agent_id=people[LEAD], commit=False, **CUSTOM_RULE
    )
    return rule.code


def _score_closed(uow: UnitOfWork, *, shop_id: int) -> None:
    """Every closed conversation scored at the moment it closed, as the app's subscriber
    does (those nobody but the bot answered get no score)."""
    session = uow.session
    session.flush()
    closed = session.execute(
        select(Conversation.id, Conversation.closed_at)
        .where(
            Conversation.shop_id == shop_id,
            Conversation.status == ConversationStatus.CLOSED,
        )
        .order_by(Conversation.closed_at, Conversation.id)
    ).all()
    for conversation_id, closed_at in closed:
        if closed_at is None:  # a closed conversation has its time; the column allows none
            continue
        with clock_at(uow, closed_at):
            coach.score_conversation(
                uow, shop_id=shop_id, conversation_id=conversation_id, commit=False
            )


def _review(uow: UnitOfWork, *, stage: Stage, custom_code: str) -> None:
    """The supervisor's review of the 物流催件 conversation, the morning after it closed:
    the promised delivery day let pass, the blame confirmed, and a word for the agent."""
    session = uow.session
    score = session.scalar(
        select(QaScore)
        .join(Conversation, Conversation.id == QaScore.conversation_id)
        .where(
            QaScore.shop_id == stage.shop_id,
            Conversation.subject == REVIEWED_SUBJECT,
            QaScore.agent_id == stage.people[SHIPPING],
        )
        .limit(1)
    )
    if score is None:
        return
    hits = session.scalars(select(QaHit).where(QaHit.score_id == score.id).order_by(QaHit.id)).all()
    verdicts = []
    for hit in hits:
        code = "custom" if hit.rule_code == custom_code else hit.rule_code
        if code in OVERTURNED:
            verdicts.append((hit.id, Verdict.OVERTURNED.value, OVERTURNED[code]))
        else:
            verdicts.append((hit.id, Verdict.CONFIRMED.value, CONFIRMED.get(code, "")))
    with clock_at(uow, _morning_after(stage, score.closed_at)):
        coach.review_score(
            uow, shop_id=stage.shop_id, score_id=score.id, reviewer_id=stage.people[LEAD],
            verdicts=verdicts, comment=REVIEW_COMMENT, commit=False,
        )  # fmt: skip


def _morning_after(stage: Stage, moment: datetime) -> datetime:
    day = moment.astimezone(stage.zone).date() + timedelta(days=1)
    morning = datetime.combine(day, REVIEWED_AT, tzinfo=stage.zone).astimezone(moment.tzinfo)
    return min(morning, stage.now - timedelta(minutes=5))
