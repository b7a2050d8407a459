"""One conversation's quality inspection as people read it: its transcript with every hit
on the message it is about (the span to highlight), and the scores of the agents who
replied with the supervisor's verdicts and comments.

Supervisors and owners read every score; an agent reads only their own (another agent's
is PermissionDenied), another shop's conversation is NotFound. A handful of queries
whatever the conversation's length.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.accounts.models import Agent, Role
from kefu.coach.models import QaHit, QaScore, ReviewStatus, Verdict
from kefu.conversations import service as conversations
from kefu.conversations.models import Message
from kefu.crm.models import Customer
from kefu.errors import NotFound, PermissionDenied
from kefu.shops.models import Team

MAX_LINES: Final = 2000  # a transcript longer than this shows its beginning


@dataclass(frozen=True, slots=True)
class HitView:
    id: int
    score_id: int
    rule_code: str
    rule_name: str
    severity: str
    points: int
    excerpt: str
    span_start: int
    span_end: int
    message_id: int | None
    message_seq: int | None
    verdict: str
    comment: str
    reviewed_at: datetime | None


@dataclass(frozen=True, slots=True)
class ScoreView:
    id: int
    conversation_id: int
    agent_id: int
    agent_name: str
    team_id: int | None
    team_name: str
    score: int
    points_lost: int
    hit_count: int
    reply_count: int
    closed_at: datetime
    scored_at: datetime
    review_status: str
    reviewer_id: int | None
    reviewer_name: str
    reviewed_at: datetime | None
    comment: str
    agent_read_at: datetime | None
    hits: tuple[HitView, ...]

    @property
    def reviewed(self) -> bool:
        return self.review_status == ReviewStatus.REVIEWED.value


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of a message's text; ``hit_ids`` are the hits whose span it is (empty:
    plain text)."""

    text: str
    hit_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Line:
    message_id: int
    seq: int
    sender_type: str
    sender_name: str
    body: str
    created_at: datetime
    segments: tuple[Segment, ...]
    hits: tuple[HitView, ...]  # every hit on this message, spans or not


@dataclass(frozen=True, slots=True)
class ScoreDetail:
    conversation_id: int
    customer_name: str
    status: str
    closed_at: datetime | None
    scores: tuple[ScoreView, ...]
    lines: tuple[Line, ...]
    truncated: bool  # longer than MAX_LINES


def _may_read_all(role: Role) -> bool:
    return role.rank >= Role.SUPERVISOR.rank


def _not_yours() -> PermissionDenied:
    return PermissionDenied(
        "an agent reads only their own quality scores", key="coach.qa.error.not_yours"
    )


def score_views(session: Session, *, shop_id: int, scores: Sequence[QaScore]) -> list[ScoreView]:
    """The scores with their hits and the names they show (three queries)."""
    if not scores:
        return []
    hits: dict[int, list[HitView]] = defaultdict(list)
    for hit in session.scalars(
        select(QaHit)
        .where(QaHit.shop_id == shop_id, QaHit.score_id.in_([s.id for s in scores]))
        .order_by(QaHit.message_seq, QaHit.span_start, QaHit.id)
    ):
        hits[hit.score_id].append(_hit_view(hit))
    agents = names_of_agents(
        session,
        shop_id=shop_id,
        ids=[*(s.agent_id for s in scores), *(s.reviewer_id for s in scores)],
    )
    teams = names_of_teams(session, shop_id=shop_id, ids=[s.team_id for s in scores])
    return [
        ScoreView(
            id=s.id,
            conversation_id=s.conversation_id,
            agent_id=s.agent_id,
            agent_name=agents.get(s.agent_id, ""),
            team_id=s.team_id,
            team_name=teams.get(s.team_id, "") if s.team_id is not None else "",
            score=s.score,
            points_lost=s.points_lost,
            hit_count=s.hit_count,
            reply_count=s.reply_count,
            closed_at=s.closed_at,
            scored_at=s.scored_at,
            review_status=ReviewStatus(s.review_status).value,
            reviewer_id=s.reviewer_id,
            reviewer_name=agents.get(s.reviewer_id, "") if s.reviewer_id is not None else "",
            reviewed_at=s.reviewed_at,
            comment=s.comment,
            agent_read_at=s.agent_read_at,
            hits=tuple(hits.get(s.id, ())),
        )
        for s in scores
    ]


def _hit_view(hit: QaHit) -> HitView:
    return HitView(
        id=hit.id, score_id=hit.score_id, rule_code=hit.rule_code, rule_name=hit.rule_name,
        severity=str(getattr(hit.severity, "value", hit.severity)), points=hit.points,
        excerpt=hit.excerpt, span_start=hit.span_start, span_end=hit.span_end,
        message_id=hit.message_id, message_seq=hit.message_seq,
        verdict=Verdict(hit.verdict).value, comment=hit.comment, reviewed_at=hit.reviewed_at,
    )  # fmt: skip


def names_of_agents(session: Session, *, shop_id: int, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = session.execute(
        select(Agent.id, Agent.display_name).where(Agent.shop_id == shop_id, Agent.id.in_(wanted))
    )
    return {row[0]: row[1] for row in rows}


def names_of_teams(session: Session, *, shop_id: int, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = session.execute(
        select(Team.id, Team.name).where(Team.shop_id == shop_id, Team.id.in_(wanted))
    )
    return {row[0]: row[1] for row in rows}


def get_score(
    session: Session, *, shop_id: int, score_id: int, viewer_id: int | None, viewer_role: Role
) -> ScoreView:
    """One score with its hits: the shop's (NotFound), the viewer's own unless they are a
    supervisor or the owner (PermissionDenied)."""
    score = session.scalar(
        select(QaScore).where(QaScore.shop_id == shop_id, QaScore.id == score_id)
    )
    if score is None:
        raise NotFound(f"no quality score {score_id}", key="coach.qa.error.not_found")
    if not _may_read_all(viewer_role) and score.agent_id != viewer_id:
        raise _not_yours()
    return score_views(session, shop_id=shop_id, scores=[score])[0]


def get_score_detail(
    session: Session,
    *,
    shop_id: int,
    conversation_id: int,
    viewer_id: int | None,
    viewer_role: Role,
) -> ScoreDetail:
    """The conversation's transcript and the scores the viewer may read: all of them for
    a supervisor or the owner (none yet: an empty list), an agent's own (none:
    PermissionDenied — the page of a conversation they were not scored in is not theirs)."""
    conversation = conversations.get_conversation(
        session, shop_id=shop_id, conversation_id=conversation_id
    )
    query = select(QaScore).where(
        QaScore.shop_id == shop_id, QaScore.conversation_id == conversation.id
    )
    if not _may_read_all(viewer_role):
        if viewer_id is None:
            raise _not_yours()
        query = query.where(QaScore.agent_id == viewer_id)
    scores = list(session.scalars(query.order_by(QaScore.agent_id)))
    if not scores and not _may_read_all(viewer_role):
        raise _not_yours()
    views = score_views(session, shop_id=shop_id, scores=scores)
    customer = session.scalar(
        select(Customer).where(Customer.shop_id == shop_id, Customer.id == conversation.customer_id)
    )
    messages = list(
        session.scalars(
            select(Message)
            .where(
                Message.shop_id == shop_id,
                Message.conversation_id == conversation.id,
                Message.is_private.is_(False),
            )
            .order_by(Message.seq)
            .limit(MAX_LINES + 1)
        )
    )
    on_message: dict[int, list[HitView]] = defaultdict(list)
    for view in views:
        for hit in view.hits:
            if hit.message_id is not None:
                on_message[hit.message_id].append(hit)
    lines = tuple(_line(m, on_message.get(m.id, [])) for m in messages[:MAX_LINES])
    return ScoreDetail(
        conversation_id=conversation.id,
        customer_name=(customer.name or customer.nickname) if customer is not None else "",
        status=str(getattr(conversation.status, "value", conversation.status)),
        closed_at=conversation.closed_at,
        scores=tuple(views),
        lines=lines,
        truncated=len(messages) > MAX_LINES,
    )


def _line(message: Message, hits: list[HitView]) -> Line:
    body = message.body or ""
    return Line(
        message_id=message.id,
        seq=message.seq,
        sender_type=str(getattr(message.sender_type, "value", message.sender_type)),
        sender_name=message.sender_name,
        body=body,
        created_at=message.created_at,
        segments=segments(body, hits),
        hits=tuple(hits),
    )


def segments(body: str, hits: Sequence[HitView]) -> tuple[Segment, ...]:
    """The text cut at the hits' spans, so each span can be highlighted (as text, never
    markup). Overlapping spans are merged into one highlighted piece naming both hits."""
    spans = sorted(
        (max(0, h.span_start), min(len(body), h.span_end), h.id)
        for h in hits
        if h.span_end > h.span_start and h.span_start < len(body)
    )
    merged: list[tuple[int, int, list[int]]] = []
    for start, end, hit_id in spans:
        if merged and start < merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], end), [*last[2], hit_id])
        else:
            merged.append((start, end, [hit_id]))
    pieces: list[Segment] = []
    position = 0
    for start, end, ids in merged:
        if start > position:
            pieces.append(Segment(body[position:start]))
        pieces.append(Segment(body[start:end], tuple(ids)))
        position = end
    if position < len(body) or not pieces:
        pieces.append(Segment(body[position:]))
    return tuple(pieces)
