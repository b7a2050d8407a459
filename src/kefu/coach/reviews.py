"""A supervisor's review of an agent's quality score: each hit confirmed or overturned
(the coach was wrong: no points lost) with a comment, and a comment on the whole score
for the agent, who is notified and sees it on /quality/mine.

Only supervisors and owners review, never their own score; a review may be changed
(verdicts given again). The agent opening the reviewed score marks it read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from sqlalchemy import select

from kefu.accounts import service as accounts
from kefu.accounts.models import Role
from kefu.coach.events import QaReviewed
from kefu.coach.models import QaHit, QaScore, ReviewStatus, Verdict
from kefu.coach.scoring import apply_points
from kefu.errors import Invalid, NotFound, PermissionDenied
from kefu.tickets import service as tickets
from kefu.tickets.models import NotificationKind
from kefu.uow import UnitOfWork

MAX_COMMENT: Final = 1000  # the score's comment, for the agent
MAX_HIT_COMMENT: Final = 300
MAX_VERDICTS: Final = 200
REVIEW_VERDICTS: Final = (Verdict.CONFIRMED.value, Verdict.OVERTURNED.value)
_QUOTE: Final = 60  # characters of the comment the notification quotes

VerdictIn = tuple[int, str, str]  # (hit id, "confirmed" | "overturned", comment)


def conversation_link(conversation_id: int) -> str:
    """Where a score is read and reviewed."""
    return f"/quality/conversations/{conversation_id}"


def lock_score(uow: UnitOfWork, *, shop_id: int, score_id: int) -> QaScore:
    """The shop's score by id, locked for this transaction (NotFound for another shop's)."""
    score = uow.session.scalar(
        select(QaScore).where(QaScore.shop_id == shop_id, QaScore.id == score_id).with_for_update()
    )
    if score is None:
        raise NotFound(f"no quality score {score_id}", key="coach.qa.error.not_found")
    return score


def _text(value: str, *, field: str, limit: int) -> str:
    if not isinstance(value, str):
        raise Invalid(f"{field} must be text", field=field, key="coach.error.text")
    value = value.strip()
    if len(value) > limit:
        raise Invalid(
            f"{field} has {len(value)} characters, at most {limit}",
            field=field, key="coach.qa.error.comment_length", limit=limit,
        )  # fmt: skip
    return value


def _checked(
    verdicts: Sequence[VerdictIn], hits: dict[int, QaHit]
) -> list[tuple[QaHit, Verdict, str]]:
    """Every verdict names a hit of this score once, with a verdict the review gives."""
    if len(verdicts) > MAX_VERDICTS:
        raise Invalid(
            f"at most {MAX_VERDICTS} verdicts at once", field="verdicts",
            key="coach.qa.error.too_many", limit=MAX_VERDICTS,
        )  # fmt: skip
    seen: set[int] = set()
    checked = []
    for index, (hit_id, verdict, comment) in enumerate(verdicts):
        field = f"verdicts[{index}]"
        hit = hits.get(hit_id) if isinstance(hit_id, int) else None
        if hit is None:
            raise Invalid(
                f"hit {hit_id} is not one of this score's", field=f"{field}.hit_id",
                key="coach.qa.error.hit_not_in_score", hit_id=hit_id,
            )  # fmt: skip
        if hit_id in seen:
            raise Invalid(
                f"hit {hit_id} is given two verdicts", field=f"{field}.hit_id",
                key="coach.qa.error.hit_twice", hit_id=hit_id,
            )  # fmt: skip
        seen.add(hit_id)
        if verdict not in REVIEW_VERDICTS:
            raise Invalid(
                f"a verdict is confirmed or overturned, not {verdict!r}",
                field=f"{field}.verdict", key="coach.qa.error.verdict",
            )  # fmt: skip
        text = _text(comment, field=f"{field}.comment", limit=MAX_HIT_COMMENT)
        checked.append((hit, Verdict(verdict), text))
    return checked


def review_score(
    uow: UnitOfWork,
    *,
    shop_id: int,
    score_id: int,
    reviewer_id: int | None,
    verdicts: Sequence[VerdictIn],
    comment: str,
    commit: bool = True,
) -> QaScore:
    """Record a supervisor's verdicts on hits of the score (the hits not named keep
    theirs) and their comment, recompute the score (overturned hits cost nothing), mark
    it reviewed and notify the agent. Supervisors and owners only (PermissionDenied,
    also for a token without a person behind it), never on their own score."""
    session = uow.session
    score = lock_score(uow, shop_id=shop_id, score_id=score_id)
    reviewer = None
    if reviewer_id is not None:
        reviewer = accounts.get_agent(session, shop_id=shop_id, agent_id=reviewer_id)
    if reviewer is None or not reviewer.is_active or reviewer.role.rank < Role.SUPERVISOR.rank:
        raise PermissionDenied(
            "only a supervisor or the owner reviews quality scores",
            key="coach.qa.error.reviewer_role",
        )
    if reviewer.id == score.agent_id:
        raise PermissionDenied(
            "nobody reviews their own quality score", key="coach.qa.error.own_score"
        )
    hits = {
        hit.id: hit
        for hit in session.scalars(
            select(QaHit).where(QaHit.shop_id == shop_id, QaHit.score_id == score.id)
        )
    }
    checked = _checked(verdicts, hits)
    overall = _text(comment, field="comment", limit=MAX_COMMENT)
    now = uow.clock.now()
    for hit, verdict, text in checked:
        hit.verdict, hit.comment = verdict, text
        hit.reviewer_id, hit.reviewed_at = reviewer.id, now
    apply_points(score, list(hits.values()))
    score.review_status = ReviewStatus.REVIEWED
    score.reviewer_id, score.reviewed_at = reviewer.id, now
    score.comment = overall
    score.agent_read_at = None  # something new for the agent to read
    session.flush()
    _tell_agent(uow, score, reviewer.display_name)
    uow.collect(
        QaReviewed(
            shop_id=shop_id,
            score_id=score.id,
            conversation_id=score.conversation_id,
            agent_id=score.agent_id,
            reviewer_id=reviewer.id,
            score=score.score,
        )
    )
    if commit:
        uow.commit()
    return score


def _tell_agent(uow: UnitOfWork, score: QaScore, reviewer: str) -> None:
    quote = score.comment if len(score.comment) <= _QUOTE else score.comment[: _QUOTE - 1] + "…"
    zh = f"{reviewer} 复核了您在会话 #{score.conversation_id} 的质检：{score.score} 分"
    en = (
        f"{reviewer} reviewed your quality score in conversation "
        f"#{score.conversation_id}: {score.score}"
    )
    if quote:
        zh, en = f"{zh}。“{quote}”", f'{en}. "{quote}"'
    tickets.notify(
        uow,
        shop_id=score.shop_id,
        agent_ids=[score.agent_id],
        kind=NotificationKind.QA_REVIEW,
        text={"zh-CN": zh, "en": en},
        link=conversation_link(score.conversation_id),
    )


def mark_read(
    uow: UnitOfWork, *, shop_id: int, score_id: int, agent_id: int | None, commit: bool = True
) -> bool:
    """The agent opened their reviewed score: it is read (True when that changed it).
    Anyone else opening it changes nothing."""
    score = uow.session.scalar(
        select(QaScore).where(QaScore.shop_id == shop_id, QaScore.id == score_id)
    )
    if score is None:
        raise NotFound(f"no quality score {score_id}", key="coach.qa.error.not_found")
    if (
        agent_id is None
        or score.agent_id != agent_id
        or score.review_status is not ReviewStatus.REVIEWED
        or score.agent_read_at is not None
    ):
        return False
    score.agent_read_at = uow.clock.now()
    if commit:
        uow.commit()
    return True
