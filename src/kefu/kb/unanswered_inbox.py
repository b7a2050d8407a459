"""Reading the unanswered-question groups: the inbox, one group, and how many are open.

Each group comes with its distinct questions and the entries it most resembles (the likely
place to add it as a phrasing). Groups are recorded in :mod:`kefu.kb.unanswered`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.errors import NotFound
from kefu.kb.index import shop_index
from kefu.kb.models import UnansweredGroup, UnansweredQuestion, UnansweredStatus

NEAREST_MIN_SCORE = 0.15  # less alike than this is no suggestion
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class Nearest:
    """An entry a group's question resembles: the likely place to add it as a phrasing."""

    entry_id: int
    question: str
    score: float


@dataclass(frozen=True)
class GroupView:
    group: UnansweredGroup
    examples: list[str]  # distinct questions of the group, oldest first
    nearest: list[Nearest]

    @property
    def id(self) -> int:
        return self.group.id


@dataclass(frozen=True)
class GroupPage:
    items: list[GroupView]
    total: int


def examples_of(
    session: Session, *, shop_id: int, group_ids: Sequence[int]
) -> dict[int, list[str]]:
    """Each group's distinct questions, oldest first."""
    found: dict[int, list[str]] = {gid: [] for gid in group_ids}
    seen: dict[int, set[str]] = {gid: set() for gid in group_ids}
    if not group_ids:
        return found
    rows = session.execute(
        select(UnansweredQuestion.group_id, UnansweredQuestion.text, UnansweredQuestion.normalized)
        .where(
            UnansweredQuestion.shop_id == shop_id, UnansweredQuestion.group_id.in_(set(group_ids))
        )
        .order_by(UnansweredQuestion.id)
    )
    for group_id, text, canonical in rows:
        if canonical not in seen[group_id]:
            seen[group_id].add(canonical)
            found[group_id].append(text)
    return found


def _nearest(session: Session, *, shop_id: int, text: str, limit: int = 3) -> list[Nearest]:
    matcher = shop_index(session, shop_id=shop_id).matcher
    if not len(matcher):
        return []
    return [
        Nearest(entry_id=cast(int, hit.id), question=hit.question, score=round(hit.score, 4))
        for hit in matcher.rank(text, limit=limit)
        if hit.score >= NEAREST_MIN_SCORE
    ]


def list_groups(
    session: Session,
    *,
    shop_id: int,
    status: UnansweredStatus | None = UnansweredStatus.OPEN,
    limit: int = 50,
    offset: int = 0,
    with_nearest: bool = True,
) -> GroupPage:
    """Groups asked most often first, then most recently."""
    where = [UnansweredGroup.shop_id == shop_id]
    if status is not None:
        where.append(UnansweredGroup.status == status)
    total = session.scalar(select(func.count(UnansweredGroup.id)).where(*where)) or 0
    groups = list(
        session.scalars(
            select(UnansweredGroup)
            .where(*where)
            .order_by(
                UnansweredGroup.count.desc(),
                UnansweredGroup.last_seen_at.desc(),
                UnansweredGroup.id.desc(),
            )
            .limit(max(1, min(limit, MAX_PAGE_SIZE)))
            .offset(max(0, offset))
        )
    )
    return GroupPage(items=_views(session, shop_id, groups, with_nearest), total=total)


def _views(
    session: Session, shop_id: int, groups: list[UnansweredGroup], with_nearest: bool
) -> list[GroupView]:
    examples = examples_of(session, shop_id=shop_id, group_ids=[g.id for g in groups])
    return [
        GroupView(
            group=group,
            examples=examples[group.id],
            nearest=_nearest(session, shop_id=shop_id, text=group.representative)
            if with_nearest
            else [],
        )
        for group in groups
    ]


def get_group(session: Session, *, shop_id: int, group_id: int) -> GroupView:
    group = get_group_row(session, shop_id=shop_id, group_id=group_id)
    [found] = _views(session, shop_id, [group], True)
    return found


def count_open_groups(session: Session, *, shop_id: int) -> int:
    return (
        session.scalar(
            select(func.count(UnansweredGroup.id)).where(
                UnansweredGroup.shop_id == shop_id,
                UnansweredGroup.status == UnansweredStatus.OPEN,
            )
        )
        or 0
    )


def get_group_row(session: Session, *, shop_id: int, group_id: int) -> UnansweredGroup:
    group = session.scalar(
        select(UnansweredGroup).where(
            UnansweredGroup.shop_id == shop_id, UnansweredGroup.id == group_id
        )
    )
    if group is None:
        raise NotFound("unanswered question not found")
    return group
