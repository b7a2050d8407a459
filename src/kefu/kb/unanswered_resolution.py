"""Resolving a group of unanswered questions: a new entry, phrasings of an entry, or ignored.

Each resolution closes the group (and its questions) and says so with
``UnansweredGroupResolved``. Groups are recorded in :mod:`kefu.kb.unanswered` and read in
:mod:`kefu.kb.unanswered_inbox`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kefu.errors import Conflict, Invalid, NotFound
from kefu.kb import catalogue, entries
from kefu.kb.catalogue import EntryView
from kefu.kb.entries import MAX_QUESTION_LENGTH, MAX_QUESTIONS
from kefu.kb.events import UnansweredGroupResolved
from kefu.kb.models import FaqQuestion, UnansweredGroup, UnansweredQuestion, UnansweredStatus
from kefu.kb.unanswered_inbox import examples_of, get_group_row
from kefu.uow import UnitOfWork


def _open_group(session: Session, shop_id: int, group_id: int) -> UnansweredGroup:
    group = get_group_row(session, shop_id=shop_id, group_id=group_id)
    if group.status is not UnansweredStatus.OPEN:
        raise Conflict(
            f"this question was already {group.status.value}",
            key="errors.kb.group_closed",
            status=group.status.value,
        )
    return group


def group_questions(session: Session, *, shop_id: int, group_id: int) -> list[str]:
    """The group's distinct questions that are not yet phrasings in the KB (cut to length)."""
    examples = examples_of(session, shop_id=shop_id, group_ids=[group_id])[group_id]
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
    commit: bool = True,
) -> EntryView:
    """「添加为新问答」: a new entry whose phrasings are the group's questions (or those given).

    ``commit=False`` lets a caller write more in the same transaction (an escalation ticket
    records the entry its answer became: both or neither)."""
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
    if commit:
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
