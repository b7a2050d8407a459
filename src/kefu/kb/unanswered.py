"""Questions the KB could not answer, recorded and grouped so the shop answers each once.

The bot records every question it found no answer for (seed 002). A question joins the open
group whose representative means the same (the matcher's similarity at or above
``GROUP_SIMILARITY``), or a group with exactly the same canonical text, which may be an
ignored one: ignoring "在吗" keeps its later copies out of the inbox. Otherwise it starts a
group of its own. The groups are read in :mod:`kefu.kb.unanswered_inbox`; a supervisor
resolves them (new entry, phrasings of an entry, or ignored) in
:mod:`kefu.kb.unanswered_resolution`.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kefu.conversations.models import Conversation
from kefu.crm.models import Customer
from kefu.errors import NotFound
from kefu.kb import catalogue
from kefu.kb.events import UnansweredQuestionRecorded
from kefu.kb.index import groups_matcher
from kefu.kb.models import UnansweredGroup, UnansweredQuestion, UnansweredStatus
from kefu.uow import UnitOfWork
from kefu.validation import clean_text

MAX_TEXT_LENGTH = 500
GROUP_SIMILARITY = 0.5  # on the matcher's calibrated scale: "more likely the same than not"


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
