"""Lists of quality scores: the worst conversations for a supervisor to review, an agent's
own scores (/quality/mine), and the filtered list of the API. Each is a few queries
whatever the number of scores: the rows with their names in one, the rules each row broke
in another.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from kefu.accounts.models import Agent
from kefu.coach.models import QaHit, QaScore, ReviewStatus, Verdict
from kefu.coach.qa_periods import QaRange
from kefu.coach.qa_reports import TrendPoint, agent_trend
from kefu.conversations.models import Conversation
from kefu.crm.models import Customer
from kefu.errors import Invalid
from kefu.shops.models import Team

MAX_LIST: Final = 200
STATUSES: Final = tuple(status.value for status in ReviewStatus)


@dataclass(frozen=True, slots=True)
class ScoreRow:
    """A score as lists show it."""

    id: int
    conversation_id: int
    customer_name: str
    agent_id: int
    agent_name: str
    team_id: int | None
    team_name: str
    score: int
    hit_count: int
    reply_count: int
    closed_at: datetime
    review_status: str
    comment: str
    reviewed_at: datetime | None
    agent_read_at: datetime | None
    rules: tuple[str, ...]  # the names of the rules broken (not overturned), by points

    @property
    def reviewed(self) -> bool:
        return self.review_status == ReviewStatus.REVIEWED.value

    @property
    def unread(self) -> bool:
        """Reviewed and the agent has not opened it since."""
        return self.reviewed and self.agent_read_at is None


@dataclass(frozen=True, slots=True)
class MyScores:
    rows: tuple[ScoreRow, ...]  # newest first
    count: int
    average: float | None
    unread: int  # reviews the agent has not opened
    trend: tuple[TrendPoint, ...]


def _rows(session: Session, shop_id: int, query: Any) -> list[ScoreRow]:
    """The rows of a query over QaScore (with the filters and order applied), names
    joined in, and the rule names of each in one more query."""
    query = (
        query.add_columns(
            func.coalesce(func.nullif(Customer.name, ""), Customer.nickname),
            Agent.display_name,
            Team.name,
        )
        .join(Conversation, Conversation.id == QaScore.conversation_id)
        .join(Customer, Customer.id == Conversation.customer_id)
        .join(Agent, Agent.id == QaScore.agent_id)
        .outerjoin(Team, Team.id == QaScore.team_id)
    )
    found = session.execute(query).all()
    rules = _rules_of(session, shop_id, [row[0].id for row in found])
    return [
        ScoreRow(
            id=s.id,
            conversation_id=s.conversation_id,
            customer_name=customer or "",
            agent_id=s.agent_id,
            agent_name=agent or "",
            team_id=s.team_id,
            team_name=team or "",
            score=s.score,
            hit_count=s.hit_count,
            reply_count=s.reply_count,
            closed_at=s.closed_at,
            review_status=ReviewStatus(s.review_status).value,
            comment=s.comment,
            reviewed_at=s.reviewed_at,
            agent_read_at=s.agent_read_at,
            rules=tuple(rules.get(s.id, ())),
        )
        for s, customer, agent, team in found
    ]


def _rules_of(session: Session, shop_id: int, score_ids: Sequence[int]) -> dict[int, list[str]]:
    if not score_ids:
        return {}
    names: dict[int, dict[str, int]] = defaultdict(dict)
    for score_id, name, points in session.execute(
        select(QaHit.score_id, QaHit.rule_name, QaHit.points).where(
            QaHit.shop_id == shop_id,
            QaHit.score_id.in_(score_ids),
            QaHit.verdict != Verdict.OVERTURNED,
        )
    ):
        names[score_id][name] = names[score_id].get(name, 0) + points
    return {
        score_id: [n for n, _ in sorted(by.items(), key=lambda item: (-item[1], item[0]))]
        for score_id, by in names.items()
    }


def _base(shop_id: int, span: QaRange | None, team_id: int | None, agent_id: int | None) -> Any:
    query = select(QaScore).where(QaScore.shop_id == shop_id)
    if span is not None:
        query = query.where(QaScore.closed_at >= span.start, QaScore.closed_at < span.end)
    if team_id is not None:
        query = query.where(QaScore.team_id == team_id)
    if agent_id is not None:
        query = query.where(QaScore.agent_id == agent_id)
    return query


def _limit(limit: int) -> int:
    return max(1, min(limit, MAX_LIST))


def worst_conversations(
    session: Session,
    *,
    shop_id: int,
    span: QaRange,
    team_id: int | None = None,
    agent_id: int | None = None,
    limit: int = 10,
) -> list[ScoreRow]:
    """The lowest scores of the range, those nobody reviewed yet first (two queries)."""
    reviewed_last = case((QaScore.review_status == ReviewStatus.REVIEWED, 1), else_=0)
    query = (
        _base(shop_id, span, team_id, agent_id)
        .order_by(reviewed_last, QaScore.score, QaScore.closed_at.desc(), QaScore.id)
        .limit(_limit(limit))
    )
    return _rows(session, shop_id, query)


def list_scores(
    session: Session,
    *,
    shop_id: int,
    span: QaRange | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    team_id: int | None = None,
    agent_id: int | None = None,
    min_score: int | None = None,
    max_score: int | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[ScoreRow]:
    """Scores newest first, filtered (two queries): closed in ``span``, or from ``start``
    and/or until before ``end``."""
    query = _base(shop_id, span, team_id, agent_id)
    if start is not None:
        query = query.where(QaScore.closed_at >= start)
    if end is not None:
        query = query.where(QaScore.closed_at < end)
    if min_score is not None:
        query = query.where(QaScore.score >= min_score)
    if max_score is not None:
        query = query.where(QaScore.score <= max_score)
    if status is not None:
        if status not in STATUSES:
            raise Invalid(
                f"the status is one of {', '.join(STATUSES)}",
                field="status",
                key="coach.qa.error.status",
            )
        query = query.where(QaScore.review_status == ReviewStatus(status))
    query = (
        query.order_by(QaScore.closed_at.desc(), QaScore.id.desc())
        .limit(_limit(limit))
        .offset(max(0, offset))
    )
    return _rows(session, shop_id, query)


def my_scores(
    session: Session, *, shop_id: int, agent_id: int, span: QaRange, limit: int = 50
) -> MyScores:
    """An agent's scores in the range, newest first, with their average, trend and the
    reviews they have not read, whenever those closed (four queries)."""
    rows = list_scores(session, shop_id=shop_id, span=span, agent_id=agent_id, limit=limit)
    within = (QaScore.closed_at >= span.start) & (QaScore.closed_at < span.end)
    # Unread reviews count whenever the conversation closed: a review is news until read.
    unread = (QaScore.review_status == ReviewStatus.REVIEWED) & QaScore.agent_read_at.is_(None)
    count, total, not_read = session.execute(
        select(
            func.sum(case((within, 1), else_=0)),
            func.sum(case((within, QaScore.score), else_=0)),
            func.sum(case((unread, 1), else_=0)),
        ).where(QaScore.shop_id == shop_id, QaScore.agent_id == agent_id)
    ).one()
    return MyScores(
        rows=tuple(rows),
        count=int(count or 0),
        average=round(int(total) / int(count), 1) if count else None,
        unread=int(not_read or 0),
        trend=agent_trend(session, shop_id=shop_id, agent_id=agent_id, span=span),
    )
