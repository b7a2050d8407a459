"""Questions the KB could not answer, grouped so the shop answers each once (seed 002).

The bot records every question it found no answer for. A question joins the open group
whose representative means the same (the matcher's similarity at or above
``GROUP_SIMILARITY``), or a group with exactly the same canonical text, which may be an
ignored one: ignoring "在吗" keeps its later copies out of the inbox. Otherwise it starts a
group of its own. A supervisor then turns a group into a new entry, adds its questions as
phrasings of an existing entry, or ignores it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kefu.conversations.models import Conversation
from kefu.crm.models import Customer
from kefu.errors import Conflict, Invalid, NotFound
from kefu.kb import catalogue, entries
from kefu.kb.catalogue import EntryView
from kefu.kb.entries import MAX_QUESTION_LENGTH, MAX_QUESTIONS
from kefu.kb.events import UnansweredGroupResolved, UnansweredQuestionRecorded
from kefu.kb.index import groups_matcher, shop_index
from kefu.kb.models import FaqQuestion, UnansweredGroup, UnansweredQuestion, UnansweredStatus
from kefu.uow import UnitOfWork
from kefu.validation import clean_text

MAX_TEXT_LENGTH = 500
GROUP_SIMILARITY = 0.5  # on the matcher's calibrated scale: "more likely the same than not"
MAX_EXAMPLES = 5
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


def _canonical(text: str) -> str:
    return catalogue.normalized(text, limit=600)


def record_unanswered(
    uow: UnitOfWork,
    *,
    shop_id: int,
    text: str,
    conversation_id: int | None = None,
    customer_id: int | None = None,
    commit: bool = True,
) -> UnansweredQuestion | None:
    """Keep a question the KB had no answer for; None when it has no words (only emoji)."""
    session = uow.session
    text = clean_text(text, field="text", max_length=max(len(text), 1), multiline=True)
    text = " ".join(text.split())[:MAX_TEXT_LENGTH]
    canonical = _canonical(text)
    if not canonical:
        return None
    if (
        conversation_id is not None
        and session.scalar(
            select(Conversation.id).where(
                Conversation.shop_id == shop_id, Conversation.id == conversation_id
            )
        )
        is None
    ):
        raise NotFound("conversation not found")
    if (
        customer_id is not None
        and session.scalar(
            select(Customer.id).where(Customer.shop_id == shop_id, Customer.id == customer_id)
        )
        is None
    ):
        raise NotFound("customer not found")
    now = uow.clock.now()
    group = _same_group(session, shop_id=shop_id, text=text, canonical=canonical)
    new_group = group is None
    if group is None:
        group = UnansweredGroup(
            shop_id=shop_id,
            representative=text,
            normalized=canonical,
            count=1,
            status=UnansweredStatus.OPEN,
            first_seen_at=now,
            last_seen_at=now,
        )
        session.add(group)
        session.flush()
    else:
        session.execute(
            update(UnansweredGroup)
            .where(UnansweredGroup.id == group.id)
            .values(count=UnansweredGroup.count + 1, last_seen_at=now)
        )
        session.refresh(group)
    question = UnansweredQuestion(
        shop_id=shop_id,
        group_id=group.id,
        text=text,
        normalized=canonical,
        conversation_id=conversation_id,
        customer_id=customer_id,
        status=group.status,
        created_at=now,
    )
    session.add(question)
    session.flush()
    uow.collect(
        UnansweredQuestionRecorded(
            shop_id=shop_id,
            question_id=question.id,
            group_id=group.id,
            new_group=new_group,
            conversation_id=conversation_id,
        )
    )
    if commit:
        uow.commit()
    return question


def _same_group(
    session: Session, *, shop_id: int, text: str, canonical: str
) -> UnansweredGroup | None:
    exact = session.scalar(
        select(UnansweredGroup)
        .where(
            UnansweredGroup.shop_id == shop_id,
            UnansweredGroup.normalized == canonical,
            UnansweredGroup.status.in_((UnansweredStatus.OPEN, UnansweredStatus.IGNORED)),
        )
        .order_by(UnansweredGroup.last_seen_at.desc())
        .limit(1)
    )
    if exact is not None:
        return exact
    matcher = groups_matcher(session, shop_id=shop_id)
    if not len(matcher):
        return None
    ranked = matcher.rank(text, limit=1)
    if not ranked or ranked[0].score < GROUP_SIMILARITY:
        return None
    best = ranked[0]
    return session.scalar(
        select(UnansweredGroup).where(
            UnansweredGroup.shop_id == shop_id,
            UnansweredGroup.id == cast(int, best.id),
            UnansweredGroup.status == UnansweredStatus.OPEN,
        )
    )


# --- reading -----------------------------------------------------------------------------


def _examples(session: Session, *, shop_id: int, group_ids: Sequence[int]) -> dict[int, list[str]]:
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
    examples = _examples(session, shop_id=shop_id, group_ids=[g.id for g in groups])
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
    [found] = _views(session, shop_id, [_group(session, shop_id, group_id)], True)
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


def _group(session: Session, shop_id: int, group_id: int) -> UnansweredGroup:
    group = session.scalar(
        select(UnansweredGroup).where(
            UnansweredGroup.shop_id == shop_id, UnansweredGroup.id == group_id
        )
    )
    if group is None:
        raise NotFound("unanswered question not found")
    return group


def _open_group(session: Session, shop_id: int, group_id: int) -> UnansweredGroup:
    group = _group(session, shop_id, group_id)
    if group.status is not UnansweredStatus.OPEN:
        raise Conflict(
            f"this question was already {group.status.value}",
            key="errors.kb.group_closed",
            status=group.status.value,
        )
    return group


# --- resolving ---------------------------------------------------------------------------


def group_questions(session: Session, *, shop_id: int, group_id: int) -> list[str]:
    """The group's distinct questions that are not yet phrasings in the KB (cut to length)."""
    examples = _examples(session, shop_id=shop_id, group_ids=[group_id])[group_id]
    taken = set(
        session.scalars(
            select(FaqQuestion.normalized).where(
                FaqQuestion.shop_id == shop_id,
                FaqQuestion.normalized.in_([catalogue.normalized(t) for t in examples]),
            )
        )
    )
    fresh: list[str] = []
    for text in examples:
        text = text[:MAX_QUESTION_LENGTH].strip()
        key = catalogue.normalized(text)
        if key not in taken:
            taken.add(key)
            fresh.append(text)
    return fresh[:MAX_QUESTIONS]


def _close(
    uow: UnitOfWork,
    group: UnansweredGroup,
    *,
    resolution: str,
    entry_id: int | None,
    acting_agent_id: int | None,
) -> None:
    status = UnansweredStatus.IGNORED if resolution == "ignored" else UnansweredStatus.RESOLVED
    group.status = status
    group.entry_id = entry_id
    group.resolved_by_id = acting_agent_id
    group.resolved_at = uow.clock.now()
    uow.session.execute(
        update(UnansweredQuestion)
        .where(UnansweredQuestion.group_id == group.id)
        .values(status=status)
    )
    uow.collect(
        UnansweredGroupResolved(
            shop_id=group.shop_id, group_id=group.id, resolution=resolution, entry_id=entry_id
        )
    )


def resolve_as_new_entry(
    uow: UnitOfWork,
    *,
    shop_id: int,
    group_id: int,
    answer: str,
    questions: Sequence[str] | None = None,
    category: str = "",
    acting_agent_id: int | None = None,
) -> EntryView:
    """「添加为新问答」: a new entry whose phrasings are the group's questions (or those given)."""
    session = uow.session
    group = _open_group(session, shop_id, group_id)
    if questions is None:
        questions = group_questions(session, shop_id=shop_id, group_id=group_id)
    created = entries.create_entry(
        uow,
        shop_id=shop_id,
        questions=questions,
        answer=answer,
        category=category,
        acting_agent_id=acting_agent_id,
        commit=False,
    )
    _close(uow, group, resolution="new_entry", entry_id=created.id, acting_agent_id=acting_agent_id)
    uow.commit()
    return created


def resolve_as_phrasing(
    uow: UnitOfWork,
    *,
    shop_id: int,
    group_id: int,
    entry_id: int,
    acting_agent_id: int | None = None,
) -> EntryView:
    """「添加为…的问法」: the group's questions become phrasings of an existing entry.

    Questions that already are a phrasing somewhere in the KB are skipped, and the entry
    keeps at most ``MAX_QUESTIONS`` phrasings.
    """
    session = uow.session
    group = _open_group(session, shop_id, group_id)
    try:
        current = catalogue.get_entry(session, shop_id=shop_id, entry_id=entry_id)
    except NotFound as exc:
        raise Invalid(
            f"there is no entry {entry_id} in this shop",
            field="entry_id",
            key="errors.kb.no_entry",
            entry_id=entry_id,
        ) from exc
    room = max(0, MAX_QUESTIONS - len(current.questions))
    fresh = group_questions(session, shop_id=shop_id, group_id=group_id)[:room]
    updated = current
    if fresh:
        updated = entries.update_entry(
            uow,
            shop_id=shop_id,
            entry_id=entry_id,
            questions=[*current.questions, *fresh],
            acting_agent_id=acting_agent_id,
            commit=False,
        )
    _close(uow, group, resolution="phrasing", entry_id=entry_id, acting_agent_id=acting_agent_id)
    uow.commit()
    return updated


def ignore_group(
    uow: UnitOfWork, *, shop_id: int, group_id: int, acting_agent_id: int | None = None
) -> UnansweredGroup:
    """「忽略」: not a question for the KB; its later copies join it without showing up."""
    group = _open_group(uow.session, shop_id, group_id)
    _close(uow, group, resolution="ignored", entry_id=None, acting_agent_id=acting_agent_id)
    uow.commit()
    return group
