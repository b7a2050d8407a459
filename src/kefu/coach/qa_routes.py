"""``/api/v1/coach/scores``, ``/conversations/{id}`` and ``/report``: quality inspection
over REST. Supervisors, owners and their API tokens read every score and the report and
review (a review needs a person: a token cannot); an agent reads their own scores."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query

from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.coach import service
from kefu.coach.qa_detail import HitView, ScoreView
from kefu.coach.qa_lists import ScoreRow
from kefu.coach.qa_reports import GroupRow, ProblemRow, TrendPoint
from kefu.coach.qa_schemas import (
    ConversationScoresOut,
    HitOut,
    ProblemOut,
    ReportOut,
    ReportRowOut,
    ReportSummaryOut,
    ReviewIn,
    ScoreListOut,
    ScoreOut,
    ScoreRowOut,
    TrendPointOut,
)
from kefu.db import MAX_ID
from kefu.uow import UnitOfWork
from kefu.web.deps import ResourceId, api_principal, get_uow, require

router = APIRouter(prefix="/api/v1/coach", tags=["coach quality"])
supervisor = require(Role.SUPERVISOR)


def hit_out(hit: HitView) -> HitOut:
    return HitOut(
        id=hit.id, rule_code=hit.rule_code, rule_name=hit.rule_name, severity=hit.severity,
        points=hit.points, excerpt=hit.excerpt, span_start=hit.span_start,
        span_end=hit.span_end, message_id=hit.message_id, message_seq=hit.message_seq,
        verdict=hit.verdict, comment=hit.comment, reviewed_at=hit.reviewed_at,
    )  # fmt: skip


def score_out(view: ScoreView) -> ScoreOut:
    fields = {name: getattr(view, name) for name in ScoreOut.model_fields if name != "hits"}
    return ScoreOut(**fields, hits=[hit_out(hit) for hit in view.hits])


def row_out(row: ScoreRow) -> ScoreRowOut:
    fields = {name: getattr(row, name) for name in ScoreRowOut.model_fields}
    return ScoreRowOut(**{**fields, "rules": list(row.rules)})


def _trend(points: tuple[TrendPoint, ...]) -> list[TrendPointOut]:
    return [TrendPointOut(start=p.start, count=p.count, average=p.average) for p in points]


def _problems(rows: tuple[ProblemRow, ...]) -> list[ProblemOut]:
    return [
        ProblemOut(rule_code=p.rule_code, rule_name=p.rule_name, count=p.count, agents=p.agents)
        for p in rows
    ]


def _report_row(row: GroupRow) -> ReportRowOut:
    return ReportRowOut(
        id=row.key, name=row.name, conversations=row.conversations, average=row.average,
        lowest=row.lowest, reviewed=row.reviewed, trend=_trend(row.trend),
        problems=_problems(row.problems),
    )  # fmt: skip


Since = Query(None, alias="from", description="first day, shop time (default: 30 days back)")
Until = Query(None, alias="to", description="last day, included (default: today)")
AgentFilter = Query(None, ge=1, le=MAX_ID)
TeamFilter = Query(None, ge=1, le=MAX_ID)


@router.get("/scores", response_model=ScoreListOut)
def list_scores(
    agent_id: int | None = AgentFilter,
    team_id: int | None = TeamFilter,
    since: date | None = Since,
    until: date | None = Until,
    min_score: int | None = Query(None, ge=0, le=100),
    max_score: int | None = Query(None, ge=0, le=100),
    status: str | None = Query(None, pattern="^(pending|reviewed)$"),
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=100_000),
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> ScoreListOut:
    """Scores newest first. An agent's own only (naming another agent finds none)."""
    if not principal.has_role(Role.SUPERVISOR):
        if principal.agent_id is None or agent_id not in (None, principal.agent_id):
            return ScoreListOut(scores=[])
        agent_id = principal.agent_id
    session = uow.session
    start, end = service.day_bounds(session, shop_id=principal.shop_id, since=since, until=until)
    rows = service.list_scores(
        session, shop_id=principal.shop_id, start=start, end=end, team_id=team_id,
        agent_id=agent_id,
        min_score=min_score, max_score=max_score, status=status, limit=limit, offset=offset,
    )  # fmt: skip
    return ScoreListOut(scores=[row_out(row) for row in rows])


@router.get("/scores/{score_id}", response_model=ScoreOut)
def get_score(
    score_id: ResourceId,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> ScoreOut:
    """One score with its hits (an agent: their own; another's is 403)."""
    view = service.get_score(
        uow.session, shop_id=principal.shop_id, score_id=score_id,
        viewer_id=principal.agent_id, viewer_role=principal.role,
    )  # fmt: skip
    return score_out(view)


@router.post("/scores/{score_id}/review", response_model=ScoreOut)
def review_score(
    score_id: ResourceId,
    body: ReviewIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> ScoreOut:
    """Confirm or overturn hits, comment for the agent (notified). Supervisors and owners."""
    service.review_score(
        uow, shop_id=principal.shop_id, score_id=score_id, reviewer_id=principal.agent_id,
        verdicts=[(v.hit_id, v.verdict, v.comment) for v in body.verdicts],
        comment=body.comment,
    )  # fmt: skip
    view = service.get_score(
        uow.session, shop_id=principal.shop_id, score_id=score_id,
        viewer_id=principal.agent_id, viewer_role=principal.role,
    )  # fmt: skip
    return score_out(view)


@router.get("/conversations/{conversation_id}", response_model=ConversationScoresOut)
def conversation_scores(
    conversation_id: ResourceId,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> ConversationScoresOut:
    """A conversation's scores and hits (an agent: their own; none there is 403)."""
    detail = service.get_score_detail(
        uow.session, shop_id=principal.shop_id, conversation_id=conversation_id,
        viewer_id=principal.agent_id, viewer_role=principal.role,
    )  # fmt: skip
    return ConversationScoresOut(
        conversation_id=detail.conversation_id,
        status=detail.status,
        closed_at=detail.closed_at,
        scores=[score_out(view) for view in detail.scores],
    )


@router.get("/report", response_model=ReportOut)
def report(
    by: str = Query("agent", pattern="^(agent|team)$"),
    since: date | None = Since,
    until: date | None = Until,
    period: str = Query("day", pattern="^(day|week)$"),
    team_id: int | None = TeamFilter,
    agent_id: int | None = AgentFilter,
    worst: int = Query(10, ge=1, le=100, description="how many of the worst scores"),
    principal: Principal = Depends(supervisor),
    uow: UnitOfWork = Depends(get_uow),
) -> ReportOut:
    """Average scores per agent or team with their trend (per day or week, shop time)
    and top problems; the shop's trend, frequent problems and worst conversations."""
    session, shop_id = uow.session, principal.shop_id
    span = service.qa_range(
        session, shop_id=shop_id, now=uow.clock.now(), since=since, until=until, period=period
    )
    overview = service.quality_overview(
        session, shop_id=shop_id, span=span, team_id=team_id, agent_id=agent_id
    )
    worst_rows = service.worst_conversations(
        session, shop_id=shop_id, span=span, team_id=team_id, agent_id=agent_id, limit=worst
    )
    rows = overview.agents if by == "agent" else overview.teams
    return ReportOut(
        by="team" if by == "team" else "agent",
        since=span.since,
        until=span.until,
        period=span.period,
        timezone=span.zone,
        rows=[_report_row(row) for row in rows],
        summary=ReportSummaryOut(
            scores=overview.scores,
            average=overview.average,
            lowest=overview.lowest,
            reviewed=overview.reviewed,
            pending=overview.pending,
            trend=_trend(overview.trend),
            problems=_problems(overview.problems),
            worst=[row_out(row) for row in worst_rows],
        ),
    )
