"""Quality inspection (质检) of closed conversations: the engine's judgement of every
agent reply, written down as one score per agent who replied, with each hit linked to
the message (id and seq) and the span of its text that shows it.

A conversation is scored when it closes (the subscriber) or, if that was missed, by the
sweep (:func:`score_unscored`, every 10 minutes). Reopened and closed again, it is scored
again: the hits are replaced, but a supervisor's verdict on a hit that is still there
(same rule, same message) is kept, and so is their comment on the score — a review is
never lost to a re-run.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import and_, delete, exists, or_, select
from sqlalchemy.orm import Session

from kefu.accounts.models import TeamMembership
from kefu.coach import engine
from kefu.coach.events import ConversationScored
from kefu.coach.models import QaHit, QaScore, ReviewStatus, Verdict
from kefu.coach.readings import read_buyer
from kefu.coach.rules import rule_specs
from kefu.coach.turns import turns_of
from kefu.conversations import service as conversations
from kefu.conversations.models import Conversation, ConversationStatus, Message, SenderType
from kefu.errors import Invalid
from kefu.uow import UnitOfWork

log = logging.getLogger(__name__)

FULL_MARKS: Final = 100
# The sweep looks this far back: older conversations the subscriber missed stay unscored
# rather than make every sweep read the whole history.
SWEEP_DAYS: Final = 7
SWEEP_LIMIT: Final = 200
_NAME_CHARS: Final = 60  # QaHit.rule_name
_EXCERPT_CHARS: Final = 200  # QaHit.excerpt


def points_of(hits: Sequence[QaHit]) -> int:
    """The points an agent loses for these hits: every one not overturned."""
    return sum(hit.points for hit in hits if hit.verdict is not Verdict.OVERTURNED)


def apply_points(score: QaScore, hits: Sequence[QaHit]) -> None:
    """Score = 100 minus the points of the hits not overturned, never below 0; the hit
    count is of those hits too (what the agent is held to)."""
    lost = points_of(hits)
    score.points_lost = lost
    score.score = max(0, FULL_MARKS - lost)
    score.hit_count = sum(1 for hit in hits if hit.verdict is not Verdict.OVERTURNED)


@dataclass(frozen=True, slots=True)
class _Kept:
    """A supervisor's verdict on a hit, carried over to the same hit after a re-run."""

    verdict: Verdict
    reviewer_id: int | None
    reviewed_at: datetime | None
    comment: str


def score_conversation(
    uow: UnitOfWork, *, shop_id: int, conversation_id: int, commit: bool = True
) -> list[QaScore]:
    """Score a closed conversation: one :class:`QaScore` per agent who replied (none when
    no agent did), replacing the hits of an earlier scoring. Invalid when it is open.

    The rules run before the conversation is locked (reading the buyer's lines is the slow
    part); under the lock the conversation must still be closed as it was, else nothing is
    written and the next close scores it (Invalid again: it is open).
    """
    session = uow.session
    conversation = conversations.get_conversation(
        session, shop_id=shop_id, conversation_id=conversation_id
    )
    _check_closed(conversation)
    closed_at = conversation.closed_at
    turns = turns_of(session, shop_id=shop_id, conversation_id=conversation_id)
    now = uow.clock.now()
    inspection = engine.inspect(
        turns, rule_specs(session, shop_id=shop_id), closed=True, now=now, read_buyer=read_buyer
    )
    replies: dict[int, int] = defaultdict(int)
    for turn in turns:
        if turn.role == "agent" and turn.agent_id is not None:
            replies[turn.agent_id] += 1
    hits_of: dict[int, list[engine.Hit]] = defaultdict(list)
    for hit in inspection.hits:
        author = turns[hit.turn].agent_id
        if author is not None:
            hits_of[author].append(hit)

    conversation = conversations.lock_conversation(
        session, shop_id=shop_id, conversation_id=conversation_id
    )
    _check_closed(conversation)
    if conversation.closed_at != closed_at:
        raise Invalid(
            "the conversation was reopened while it was being scored",
            key="coach.qa.error.not_closed",
        )
    assert closed_at is not None  # closed
    existing = {
        score.agent_id: score
        for score in session.scalars(
            select(QaScore)
            .where(QaScore.shop_id == shop_id, QaScore.conversation_id == conversation_id)
            .execution_options(populate_existing=True)  # read again under the lock
        )
    }
    kept = _verdicts(session, shop_id, [s.id for s in existing.values()])
    stale = [s.id for agent_id, s in existing.items() if agent_id not in replies]
    if stale:  # cannot happen while messages are never deleted; kept consistent anyway
        session.execute(delete(QaScore).where(QaScore.shop_id == shop_id, QaScore.id.in_(stale)))
    if existing:
        session.execute(
            delete(QaHit)
            .where(QaHit.shop_id == shop_id, QaHit.score_id.in_([s.id for s in existing.values()]))
            .execution_options(synchronize_session=False)
        )
    teams = _teams(session, shop_id, list(replies), conversation.team_id)
    scores: list[QaScore] = []
    for agent_id in sorted(replies):
        score = existing.get(agent_id)
        if score is None:
            score = QaScore(
                shop_id=shop_id, conversation_id=conversation_id, agent_id=agent_id,
                score=FULL_MARKS, review_status=ReviewStatus.PENDING, comment="",
            )  # fmt: skip
            session.add(score)
        score.team_id = teams.get(agent_id)
        score.reply_count = replies[agent_id]
        score.closed_at = closed_at
        score.scored_at = now
        scores.append(score)
    session.flush()
    for score in scores:
        rows = [
            _hit_row(shop_id, score, turns[hit.turn], hit, kept.get(score.id))
            for hit in hits_of.get(score.agent_id, [])
        ]
        session.add_all(rows)
        apply_points(score, rows)
        # A review stands unless a hit appeared that the reviewer never saw.
        before = kept.get(score.id, {})
        if score.review_status is ReviewStatus.REVIEWED and any(
            (row.rule_code, row.message_id) not in before for row in rows
        ):
            score.review_status = ReviewStatus.PENDING
    session.flush()
    if scores:
        uow.collect(
            ConversationScored(
                shop_id=shop_id,
                conversation_id=conversation_id,
                score_ids=tuple(s.id for s in scores),
                agent_ids=tuple(s.agent_id for s in scores),
                lowest_score=min(s.score for s in scores),
            )
        )
    if commit:
        uow.commit()
    return scores


def _check_closed(conversation: Conversation) -> None:
    if conversation.status is not ConversationStatus.CLOSED or conversation.closed_at is None:
        raise Invalid("only a closed conversation is scored", key="coach.qa.error.not_closed")


def _verdicts(
    session: Session, shop_id: int, score_ids: list[int]
) -> dict[int, dict[tuple[str, int | None], _Kept]]:
    """The scores' hits by score and (rule, message), with their verdicts (pending too:
    a hit that was there before is not new)."""
    if not score_ids:
        return {}
    found: dict[int, dict[tuple[str, int | None], _Kept]] = defaultdict(dict)
    rows = session.scalars(
        select(QaHit).where(QaHit.shop_id == shop_id, QaHit.score_id.in_(score_ids))
    )
    for hit in rows:
        found[hit.score_id][(hit.rule_code, hit.message_id)] = _Kept(
            hit.verdict, hit.reviewer_id, hit.reviewed_at, hit.comment
        )
    return found


def _teams(
    session: Session, shop_id: int, agent_ids: list[int], conversation_team: int | None
) -> dict[int, int | None]:
    """The team each agent's score counts for: the conversation's team at close when the
    agent is one of its members (or the agent has no team), else the agent's own first
    team — a 售前 agent who answered before a transfer to 售后 counts for 售前."""
    if not agent_ids:
        return {}
    memberships: dict[int, list[int]] = defaultdict(list)
    for agent_id, team_id in session.execute(
        select(TeamMembership.agent_id, TeamMembership.team_id)
        .where(TeamMembership.shop_id == shop_id, TeamMembership.agent_id.in_(agent_ids))
        .order_by(TeamMembership.team_id)
    ):
        memberships[agent_id].append(team_id)
    teams: dict[int, int | None] = {}
    for agent_id in agent_ids:
        own = memberships.get(agent_id, [])
        if conversation_team is not None and (conversation_team in own or not own):
            teams[agent_id] = conversation_team
        else:
            teams[agent_id] = own[0] if own else None
    return teams


def _hit_row(
    shop_id: int,
    score: QaScore,
    turn: engine.Turn,
    hit: engine.Hit,
    kept: dict[tuple[str, int | None], _Kept] | None,
) -> QaHit:
    row = QaHit(
        shop_id=shop_id, score_id=score.id, conversation_id=score.conversation_id,
        message_id=turn.message_id, message_seq=turn.seq, rule_code=hit.rule,
        rule_name=(hit.name or hit.rule)[:_NAME_CHARS], severity=hit.severity,
        points=hit.points, excerpt=hit.excerpt[:_EXCERPT_CHARS], span_start=hit.start,
        span_end=hit.end, verdict=Verdict.PENDING, comment="",
    )  # fmt: skip
    old = (kept or {}).get((hit.rule, turn.message_id))
    if old is not None:
        row.verdict, row.reviewer_id = old.verdict, old.reviewer_id
        row.reviewed_at, row.comment = old.reviewed_at, old.comment
    return row


# --- the sweep ----------------------------------------------------------------------------


def unscored(
    session: Session, *, now: datetime, limit: int = SWEEP_LIMIT, shop_id: int | None = None
) -> list[tuple[int, int]]:
    """(shop id, conversation id) of conversations closed in the last SWEEP_DAYS that an
    agent answered and that have no score, or were closed again after their score: one
    query, oldest close first."""
    answered = exists().where(
        Message.conversation_id == Conversation.id,
        Message.shop_id == Conversation.shop_id,
        Message.sender_type == SenderType.AGENT,
        Message.sender_agent_id.is_not(None),
        Message.is_private.is_(False),
        Message.body != "",
        Message.card == "",
    )
    scored = exists().where(
        QaScore.conversation_id == Conversation.id, QaScore.shop_id == Conversation.shop_id
    )
    outdated = exists().where(
        QaScore.conversation_id == Conversation.id,
        QaScore.shop_id == Conversation.shop_id,
        QaScore.scored_at < Conversation.closed_at,
    )
    query = (
        select(Conversation.shop_id, Conversation.id)
        .where(
            Conversation.status == ConversationStatus.CLOSED,
            Conversation.closed_at >= now - timedelta(days=SWEEP_DAYS),
            or_(and_(~scored, answered), outdated),
        )
        .order_by(Conversation.closed_at, Conversation.id)
        .limit(max(1, limit))
    )
    if shop_id is not None:
        query = query.where(Conversation.shop_id == shop_id)
    return [(row[0], row[1]) for row in session.execute(query)]


def score_unscored(
    uow: UnitOfWork, *, now: datetime, limit: int = SWEEP_LIMIT, shop_id: int | None = None
) -> int:
    """Score what the subscriber missed (see :func:`unscored`), each conversation in its
    own transaction and under its own shop; one that fails is logged and skipped, so it
    cannot hold the others back. Returns how many were scored."""
    done = 0
    for shop, conversation_id in unscored(uow.session, now=now, limit=limit, shop_id=shop_id):
        try:
            score_conversation(uow, shop_id=shop, conversation_id=conversation_id)
        except Invalid:
            uow.rollback()  # reopened meanwhile: its next close scores it
            continue
        except Exception:
            uow.rollback()
            log.exception(
                "scoring a conversation failed",
                extra={"shop_id": shop, "conversation_id": conversation_id},
            )
            continue
        done += 1
    return done
