"""Quality reports (质检报表): averages per agent and per team with their trend, the rules
broken most often, for a range of the shop's days (:mod:`kefu.coach.qa_periods`).

A score counts on the day its conversation closed (shop time). Every report is a few
grouped queries whatever the number of scores: the overview reads one aggregate per
(agent, team, bucket) and one count per (agent, team, rule), and folds them in Python
into the agent rows, the team rows, the trends and the problems. Hits a supervisor
overturned are not problems.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from kefu.coach.models import QaHit, QaScore, ReviewStatus, Verdict
from kefu.coach.qa_detail import names_of_agents, names_of_teams
from kefu.coach.qa_periods import QaRange

TOP_PROBLEMS: Final = 3  # per agent / team row
MAX_PROBLEMS: Final = 50
SHOWN_PROBLEMS: Final = 10  # the overview's list of frequent problems


@dataclass(frozen=True, slots=True)
class TrendPoint:
    start: date  # the bucket's first local day
    count: int
    average: float | None  # None: no score in the bucket


@dataclass(frozen=True, slots=True)
class ProblemRow:
    rule_code: str
    rule_name: str
    count: int  # hits not overturned
    agents: int  # how many agents broke it (0 in a per-agent/team row's top problems)


@dataclass(frozen=True, slots=True)
class GroupRow:
    """An agent's or a team's line of the report (``key`` None: scores without a team)."""

    key: int | None
    name: str
    conversations: int  # scores: one per conversation the agent replied in
    average: float | None
    lowest: int | None
    reviewed: int
    trend: tuple[TrendPoint, ...]
    problems: tuple[ProblemRow, ...]  # the most frequent, at most TOP_PROBLEMS


@dataclass(frozen=True, slots=True)
class QualityOverview:
    range: QaRange
    scores: int
    average: float | None
    lowest: int | None
    reviewed: int
    pending: int
    trend: tuple[TrendPoint, ...]
    agents: tuple[GroupRow, ...]  # most conversations first
    teams: tuple[GroupRow, ...]
    problems: tuple[ProblemRow, ...]  # the rules broken most often (frequent_problems)


def _average(total: int, count: int) -> float | None:
    return round(total / count, 1) if count else None


def _scoped(
    query: Any, shop_id: int, span: QaRange, team_id: int | None, agent_id: int | None
) -> Any:
    query = query.where(
        QaScore.shop_id == shop_id, QaScore.closed_at >= span.start, QaScore.closed_at < span.end
    )
    if team_id is not None:
        query = query.where(QaScore.team_id == team_id)
    if agent_id is not None:
        query = query.where(QaScore.agent_id == agent_id)
    return query


class _Sums:
    """Count, sum, lowest and reviewed of some scores, overall and per bucket."""

    def __init__(self, buckets: int) -> None:
        self.count = self.total = self.reviewed = 0
        self.lowest: int | None = None
        self.per_bucket = [[0, 0] for _ in range(buckets)]

    def add(self, bucket: int, count: int, total: int, lowest: int, reviewed: int) -> None:
        self.count += count
        self.total += total
        self.reviewed += reviewed
        self.lowest = lowest if self.lowest is None else min(self.lowest, lowest)
        self.per_bucket[bucket][0] += count
        self.per_bucket[bucket][1] += total

    def trend(self, span: QaRange) -> tuple[TrendPoint, ...]:
        return tuple(
            TrendPoint(start=day, count=count, average=_average(total, count))
            for day, (count, total) in zip(span.buckets, self.per_bucket, strict=True)
        )


def _aggregates(
    session: Session, shop_id: int, span: QaRange, team_id: int | None, agent_id: int | None
) -> list[tuple[int, int | None, int, int, int, int, int]]:
    """(agent, team, bucket, count, sum, lowest, reviewed) — one grouped query."""
    bucket = span.bucket_of(QaScore.closed_at).label("bucket")
    reviewed = func.sum(case((QaScore.review_status == ReviewStatus.REVIEWED, 1), else_=0))
    query = _scoped(
        select(
            QaScore.agent_id,
            QaScore.team_id,
            bucket,
            func.count(QaScore.id),
            func.sum(QaScore.score),
            func.min(QaScore.score),
            reviewed,
        ),
        shop_id,
        span,
        team_id,
        agent_id,
    ).group_by(QaScore.agent_id, QaScore.team_id, bucket)
    return [
        (row[0], row[1], int(row[2]), int(row[3]), int(row[4] or 0), int(row[5]), int(row[6] or 0))
        for row in session.execute(query)
    ]


def _problem_counts(
    session: Session, shop_id: int, span: QaRange, team_id: int | None, agent_id: int | None
) -> list[tuple[int, int | None, str, tuple[str, int], int]]:
    """(agent, team, rule code, (rule name, points), hits) of hits not overturned — one
    query."""
    query = _scoped(
        select(
            QaScore.agent_id,
            QaScore.team_id,
            QaHit.rule_code,
            func.max(QaHit.rule_name),
            func.max(QaHit.points),
            func.count(QaHit.id),
        ).join(QaHit, QaHit.score_id == QaScore.id),
        shop_id,
        span,
        team_id,
        agent_id,
    )
    query = query.where(QaHit.shop_id == shop_id, QaHit.verdict != Verdict.OVERTURNED).group_by(
        QaScore.agent_id, QaScore.team_id, QaHit.rule_code
    )
    return [(r[0], r[1], r[2], (r[3], int(r[4] or 0)), int(r[5])) for r in session.execute(query)]


def _top(
    counts: dict[str, int],
    labels: dict[str, tuple[str, int]],
    agents: dict[str, set[int]],
    n: int,
) -> tuple[ProblemRow, ...]:
    """The ``n`` rules broken most often; among as frequent, the costlier first."""
    ranked = sorted(
        counts.items(), key=lambda item: (-item[1], -labels.get(item[0], ("", 0))[1], item[0])
    )[:n]
    return tuple(
        ProblemRow(
            rule_code=code,
            rule_name=labels.get(code, (code, 0))[0],
            count=count,
            agents=len(agents.get(code, ())),
        )
        for code, count in ranked
    )


def quality_overview(
    session: Session,
    *,
    shop_id: int,
    span: QaRange,
    team_id: int | None = None,
    agent_id: int | None = None,
) -> QualityOverview:
    """The shop's quality in the range (narrowed to a team and/or an agent): totals and
    trend, a row per agent and per team with their trend and top problems, and the
    shop's frequent problems. Four queries (aggregates, problem counts, agent names, team
    names) whatever the data."""
    n = len(span.buckets)
    shop = _Sums(n)
    by_agent: dict[int, _Sums] = defaultdict(lambda: _Sums(n))
    by_team: dict[int | None, _Sums] = defaultdict(lambda: _Sums(n))
    for agent, team, bucket, count, total, lowest, reviewed in _aggregates(
        session, shop_id, span, team_id, agent_id
    ):
        for sums in (shop, by_agent[agent], by_team[team]):
            sums.add(bucket, count, total, lowest, reviewed)
    names: dict[str, tuple[str, int]] = {}
    problems: dict[str, dict[Any, dict[str, int]]] = {
        "agent": defaultdict(lambda: defaultdict(int)),
        "team": defaultdict(lambda: defaultdict(int)),
    }
    everyone: dict[str, int] = defaultdict(int)
    breakers: dict[str, set[int]] = defaultdict(set)
    for agent, team, code, name, hits in _problem_counts(session, shop_id, span, team_id, agent_id):
        names[code] = name
        problems["agent"][agent][code] += hits
        problems["team"][team][code] += hits
        everyone[code] += hits
        breakers[code].add(agent)
    agent_names = names_of_agents(session, shop_id=shop_id, ids=by_agent)
    team_names = names_of_teams(session, shop_id=shop_id, ids=by_team)

    def rows(groups: dict[Any, _Sums], labels: dict[int, str], kind: str) -> tuple[GroupRow, ...]:
        built = [
            GroupRow(
                key=key,
                name=labels.get(key, "") if key is not None else "",
                conversations=sums.count,
                average=_average(sums.total, sums.count),
                lowest=sums.lowest,
                reviewed=sums.reviewed,
                trend=sums.trend(span),
                problems=_top(problems[kind].get(key, {}), names, {}, TOP_PROBLEMS),
            )
            for key, sums in groups.items()
        ]
        built.sort(key=lambda r: (-r.conversations, r.key is None, r.name, r.key or 0))
        return tuple(built)

    return QualityOverview(
        range=span,
        scores=shop.count,
        average=_average(shop.total, shop.count),
        lowest=shop.lowest,
        reviewed=shop.reviewed,
        pending=shop.count - shop.reviewed,
        trend=shop.trend(span),
        agents=rows(by_agent, agent_names, "agent"),
        teams=rows(by_team, team_names, "team"),
        problems=_top(everyone, names, breakers, SHOWN_PROBLEMS),
    )


def _trend(
    session: Session, shop_id: int, span: QaRange, team_id: int | None, agent_id: int | None
) -> tuple[TrendPoint, ...]:
    bucket = span.bucket_of(QaScore.closed_at).label("bucket")
    query = _scoped(
        select(bucket, func.count(QaScore.id), func.sum(QaScore.score)),
        shop_id,
        span,
        team_id,
        agent_id,
    ).group_by(bucket)
    sums = _Sums(len(span.buckets))
    for index, count, total in session.execute(query):
        sums.add(int(index), int(count), int(total or 0), 0, 0)
    return sums.trend(span)


def agent_trend(
    session: Session, *, shop_id: int, agent_id: int, span: QaRange
) -> tuple[TrendPoint, ...]:
    """The agent's average score per day or week of the range (one query)."""
    return _trend(session, shop_id, span, None, agent_id)


def team_trend(
    session: Session, *, shop_id: int, team_id: int, span: QaRange
) -> tuple[TrendPoint, ...]:
    """The team's average score per day or week of the range (one query)."""
    return _trend(session, shop_id, span, team_id, None)


def frequent_problems(
    session: Session,
    *,
    shop_id: int,
    span: QaRange,
    team_id: int | None = None,
    agent_id: int | None = None,
    limit: int = 10,
) -> tuple[ProblemRow, ...]:
    """The rules broken most often in the range (hits not overturned), with how many
    agents broke each (one query)."""
    counts: dict[str, int] = defaultdict(int)
    names: dict[str, tuple[str, int]] = {}
    breakers: dict[str, set[int]] = defaultdict(set)
    for agent, _team, code, name, hits in _problem_counts(
        session, shop_id, span, team_id, agent_id
    ):
        counts[code] += hits
        names[code] = name
        breakers[code].add(agent)
    return _top(counts, names, breakers, max(1, min(limit, MAX_PROBLEMS)))
