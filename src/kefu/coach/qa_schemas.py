"""API shapes of quality inspection (/api/v1/coach/scores, /conversations, /report).

Inputs forbid unknown fields, so a misspelt field is a 422 naming it. Lengths and business
rules are the services' (precise, translated messages); here only types and the sizes
that bound a request.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kefu.coach.models import ReviewStatus, Severity, Verdict


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VerdictIn(_In):
    hit_id: int = Field(ge=1, le=2**31 - 1)
    verdict: Literal["confirmed", "overturned"]
    comment: str = Field(default="", max_length=3000, description="up to 300 characters")


class ReviewIn(_In):
    """Verdicts on hits of the score (hits not named keep theirs) and a comment for the
    agent (up to 1000 characters). Supervisors and owners, not on their own score."""

    verdicts: list[VerdictIn] = Field(default_factory=list, max_length=200)
    comment: str = Field(default="", max_length=10_000)


class HitOut(BaseModel):
    id: int
    rule_code: str
    rule_name: str
    severity: Severity
    points: int
    excerpt: str
    span_start: int = Field(description="offsets into the message's text; equal: none")
    span_end: int
    message_id: int | None
    message_seq: int | None
    verdict: Verdict
    comment: str
    reviewed_at: datetime | None


class ScoreOut(BaseModel):
    id: int
    conversation_id: int
    agent_id: int
    agent_name: str
    team_id: int | None
    team_name: str
    score: int = Field(description="100 minus the points of the hits not overturned, ≥ 0")
    points_lost: int
    hit_count: int = Field(description="hits not overturned")
    reply_count: int
    closed_at: datetime
    scored_at: datetime
    review_status: ReviewStatus
    reviewer_id: int | None
    reviewer_name: str
    reviewed_at: datetime | None
    comment: str
    agent_read_at: datetime | None
    hits: list[HitOut]


class ScoreRowOut(BaseModel):
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
    review_status: ReviewStatus
    comment: str
    reviewed_at: datetime | None
    agent_read_at: datetime | None
    rules: list[str] = Field(description="names of the rules broken, most points first")


class ScoreListOut(BaseModel):
    scores: list[ScoreRowOut]


class ConversationScoresOut(BaseModel):
    conversation_id: int
    status: str
    closed_at: datetime | None
    scores: list[ScoreOut]


class TrendPointOut(BaseModel):
    start: date = Field(description="the bucket's first day (shop time)")
    count: int
    average: float | None


class ProblemOut(BaseModel):
    rule_code: str
    rule_name: str
    count: int = Field(description="hits not overturned")
    agents: int = Field(description="agents who broke it (0 in a row's top problems)")


class ReportRowOut(BaseModel):
    id: int | None = Field(description="the agent's or team's id; null: scores with no team")
    name: str
    conversations: int
    average: float | None
    lowest: int | None
    reviewed: int
    trend: list[TrendPointOut]
    problems: list[ProblemOut] = Field(description="its three most frequent problems")


class ReportSummaryOut(BaseModel):
    scores: int
    average: float | None
    lowest: int | None
    reviewed: int
    pending: int
    trend: list[TrendPointOut]
    problems: list[ProblemOut]
    worst: list[ScoreRowOut] = Field(description="the lowest scores, unreviewed first")


class ReportOut(BaseModel):
    by: Literal["agent", "team"]
    since: date = Field(description="first day (shop time)")
    until: date = Field(description="last day, included")
    period: Literal["day", "week"]
    timezone: str
    rows: list[ReportRowOut]
    summary: ReportSummaryOut
