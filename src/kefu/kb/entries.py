"""FAQ entries: create, change, enable and delete them, and the checks they pass first.

Every change raises the shop's KB revision in the same transaction (``touch``), so each
process notices its cached matcher is stale on the next question, whichever process made
the change. Reading entries is :mod:`kefu.kb.catalogue`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from enum import Enum
from typing import Any, Final, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.commerce.models import Product
from kefu.conversations.models import Attachment
from kefu.errors import Conflict, Invalid
from kefu.kb import index
from kefu.kb.catalogue import EntryView, get_entry, get_entry_row, normalized, view
from kefu.kb.events import FaqEntryCreated, FaqEntryDeleted, FaqEntryUpdated
from kefu.kb.models import FaqEntry, FaqQuestion, KbState
from kefu.uow import UnitOfWork
from kefu.validation import clean_text

MAX_QUESTION_LENGTH = 200
MAX_QUESTIONS = 30
MAX_ANSWER_LENGTH = 2000
MAX_CATEGORY_LENGTH = 40
# What an answer may say about the buyer and the shop; render_answer fills them in.
VARIABLES: Final = ("customer_name", "customer_surname", "shop_name")
VARIABLE = re.compile(r"\{([^{}\s]{1,40})\}")


class Unset(Enum):
    UNSET = "unset"


UNSET: Final = Unset.UNSET


# --- checks ------------------------------------------------------------------------------


def check_questions(questions: Sequence[str]) -> list[tuple[str, str]]:
    """(text, normalised) of each phrasing, blanks dropped and repeats merged; at least one."""
    cleaned: list[tuple[str, str]] = []
    seen: set[str] = set()
    for raw in questions:
        text = clean_text(raw, field="questions", max_length=max(len(raw), 1))
        if not text:
            continue
        if len(text) > MAX_QUESTION_LENGTH:
            raise Invalid(
                f"the phrasing {text[:20]!r}… is {len(text)} characters; the limit is "
                f"{MAX_QUESTION_LENGTH}",
                field="questions",
                key="errors.kb.question_too_long",
                question=text[:20],
                max=MAX_QUESTION_LENGTH,
            )
        key = normalized(text)
        if not key:
            raise Invalid(
                f"the phrasing {text!r} has no words in it",
                field="questions",
                key="errors.kb.question_empty",
                question=text,
            )
        if key in seen:
            continue
        seen.add(key)
        cleaned.append((text, key))
    if not cleaned:
        raise Invalid(
            "an entry needs at least one phrasing of its question",
            field="questions",
            key="errors.kb.no_question",
        )
    if len(cleaned) > MAX_QUESTIONS:
        raise Invalid(
            f"an entry has at most {MAX_QUESTIONS} phrasings (got {len(cleaned)})",
            field="questions",
            key="errors.kb.too_many_questions",
            max=MAX_QUESTIONS,
        )
    return cleaned


def check_answer(answer: str) -> str:
    answer = clean_text(answer, field="answer", max_length=max(len(answer), 1), multiline=True)
    if not answer:
        raise Invalid("the answer is empty", field="answer", key="errors.kb.no_answer")
    if len(answer) > MAX_ANSWER_LENGTH:
        raise Invalid(
            f"the answer is {len(answer)} characters; the limit is {MAX_ANSWER_LENGTH}",
            field="answer",
            key="errors.kb.answer_too_long",
            max=MAX_ANSWER_LENGTH,
            length=len(answer),
        )
    for match in VARIABLE.finditer(answer):
        if match.group(1) not in VARIABLES:
            raise Invalid(
                f"the answer uses {{{match.group(1)}}}, which is not a variable; use "
                + ", ".join(f"{{{name}}}" for name in VARIABLES),
                field="answer",
                key="errors.kb.unknown_variable",
                variable="{" + match.group(1) + "}",
                known=" ".join(f"{{{name}}}" for name in VARIABLES),
            )
    return answer


def check_category(category: str) -> str:
    category = clean_text(category, field="category", max_length=max(len(category), 1))
    if len(category) > MAX_CATEGORY_LENGTH:
        raise Invalid(
            f"the category is {len(category)} characters; the limit is {MAX_CATEGORY_LENGTH}",
            field="category",
            key="errors.kb.category_too_long",
            max=MAX_CATEGORY_LENGTH,
        )
    return category


def _check_product(session: Session, *, shop_id: int, product_id: int | None) -> int | None:
    if product_id is None:
        return None
    found = session.scalar(
        select(Product.id).where(Product.shop_id == shop_id, Product.id == product_id)
    )
    if found is None:
        raise Invalid(
            f"product {product_id} does not exist in this shop",
            field="product_id",
            key="errors.kb.unknown_product",
            product=product_id,
        )
    return product_id


def _check_image(session: Session, *, shop_id: int, image_id: int | None) -> int | None:
    if image_id is None:
        return None
    found = session.scalar(
        select(Attachment.id).where(Attachment.shop_id == shop_id, Attachment.id == image_id)
    )
    if found is None:
        raise Invalid(
            "the image does not exist in this shop", field="image", key="errors.kb.unknown_image"
        )
    return image_id


def _check_unique(
    session: Session, *, shop_id: int, keys: Iterable[str], entry_id: int | None
) -> None:
    """No phrasing may belong to two entries of a shop."""
    keys = list(keys)
    query = select(FaqQuestion.text, FaqQuestion.entry_id).where(
        FaqQuestion.shop_id == shop_id, FaqQuestion.normalized.in_(keys)
    )
    if entry_id is not None:
        query = query.where(FaqQuestion.entry_id != entry_id)
    clash = session.execute(query.limit(1)).first()
    if clash is not None:
        text, other = clash
        raise Conflict(
            f"the phrasing {text!r} already belongs to entry {other}",
            key="errors.kb.duplicate_question",
            question=text,
            entry_id=other,
        )


# --- the KB revision ---------------------------------------------------------------------


def touch(uow: UnitOfWork, *, shop_id: int) -> None:
    """Raise the shop's KB revision (does not commit). Serialises a shop's KB writes."""
    session = uow.session
    index.forget(session, shop_id=shop_id)
    bump = update(KbState).where(KbState.shop_id == shop_id).values(revision=KbState.revision + 1)
    result = cast(CursorResult[Any], session.execute(bump))
    if result.rowcount:
        return
    try:
        with session.begin_nested():
            session.add(KbState(shop_id=shop_id, revision=1))
    except IntegrityError:  # another transaction created it meanwhile
        session.execute(bump)


# --- writes ------------------------------------------------------------------------------


def create_entry(
    uow: UnitOfWork,
    *,
    shop_id: int,
    questions: Sequence[str],
    answer: str,
    category: str = "",
    product_id: int | None = None,
    image_id: int | None = None,
    enabled: bool = True,
    acting_agent_id: int | None = None,
    commit: bool = True,
) -> EntryView:
    """Add an FAQ entry. ``commit=False`` lets a bulk caller (import, demo) commit once."""
    session = uow.session
    phrasings = check_questions(questions)
    answer = check_answer(answer)
    category = check_category(category)
    product_id = _check_product(session, shop_id=shop_id, product_id=product_id)
    image_id = _check_image(session, shop_id=shop_id, image_id=image_id)
    _check_unique(session, shop_id=shop_id, keys=[k for _, k in phrasings], entry_id=None)
    now = uow.clock.now()
    entry = FaqEntry(
        shop_id=shop_id,
        answer=answer,
        category=category,
        product_id=product_id,
        image_id=image_id,
        enabled=enabled,
        hit_count=0,
        created_by_id=acting_agent_id,
        updated_by_id=acting_agent_id,
        created_at=now,
        updated_at=now,
    )
    session.add(entry)
    session.flush()
    for position, (text, key) in enumerate(phrasings):
        session.add(
            FaqQuestion(
                shop_id=shop_id, entry_id=entry.id, text=text, normalized=key, position=position
            )
        )
    session.flush()
    touch(uow, shop_id=shop_id)
    uow.collect(FaqEntryCreated(shop_id=shop_id, entry_id=entry.id))
    if commit:
        uow.commit()
    return view(session, entry, [text for text, _ in phrasings])


def update_entry(
    uow: UnitOfWork,
    *,
    shop_id: int,
    entry_id: int,
    acting_agent_id: int | None = None,
    questions: Sequence[str] | None = None,
    answer: str | None = None,
    category: str | None = None,
    product_id: int | Unset | None = UNSET,
    image_id: int | Unset | None = UNSET,
    enabled: bool | None = None,
    commit: bool = True,
) -> EntryView:
    """Change what is given (``None``/``UNSET``: leave as is; ``product_id=None`` clears it)."""
    session = uow.session
    entry = get_entry_row(session, shop_id=shop_id, entry_id=entry_id)
    changed: list[str] = []
    if questions is not None and _replace_questions(
        session, entry=entry, phrasings=check_questions(questions)
    ):
        changed.append("questions")
    if answer is not None:
        answer = check_answer(answer)
        if answer != entry.answer:
            entry.answer = answer
            changed.append("answer")
    if category is not None:
        category = check_category(category)
        if category != entry.category:
            entry.category = category
            changed.append("category")
    if not isinstance(product_id, Unset) and product_id != entry.product_id:
        entry.product_id = _check_product(session, shop_id=shop_id, product_id=product_id)
        changed.append("product_id")
    if not isinstance(image_id, Unset) and image_id != entry.image_id:
        entry.image_id = _check_image(session, shop_id=shop_id, image_id=image_id)
        changed.append("image_id")
    if enabled is not None and enabled != entry.enabled:
        entry.enabled = enabled
        changed.append("enabled")
    if changed:
        entry.updated_at = uow.clock.now()
        entry.updated_by_id = acting_agent_id
        session.flush()
        touch(uow, shop_id=shop_id)
        uow.collect(FaqEntryUpdated(shop_id=shop_id, entry_id=entry.id, changed=tuple(changed)))
    if commit:
        uow.commit()
    return get_entry(session, shop_id=shop_id, entry_id=entry.id)


def _replace_questions(
    session: Session, *, entry: FaqEntry, phrasings: list[tuple[str, str]]
) -> bool:
    """Make the entry's phrasings exactly these, in this order. True if anything changed."""
    rows = list(
        session.scalars(
            select(FaqQuestion)
            .where(FaqQuestion.entry_id == entry.id)
            .order_by(FaqQuestion.position, FaqQuestion.id)
        )
    )
    if [(r.text, r.normalized) for r in rows] == phrasings:
        return False
    _check_unique(session, shop_id=entry.shop_id, keys=[k for _, k in phrasings], entry_id=entry.id)
    by_key = {row.normalized: row for row in rows}
    wanted = {key for _, key in phrasings}
    gone = [row.id for row in rows if row.normalized not in wanted]
    if gone:
        # Deleted first, in their own statement: the unique (shop, phrasing) must never see
        # the old and the new row at once.
        session.execute(delete(FaqQuestion).where(FaqQuestion.id.in_(gone)))
        session.flush()
    for position, (text, key) in enumerate(phrasings):
        row = by_key.get(key)
        if row is None:
            session.add(
                FaqQuestion(
                    shop_id=entry.shop_id,
                    entry_id=entry.id,
                    text=text,
                    normalized=key,
                    position=position,
                )
            )
        else:
            row.text, row.position = text, position
    session.flush()
    return True


def add_questions(
    uow: UnitOfWork,
    *,
    shop_id: int,
    entry_id: int,
    questions: Sequence[str],
    acting_agent_id: int | None = None,
    commit: bool = True,
) -> EntryView:
    """Add phrasings to an entry; those it already has are skipped."""
    current = get_entry(uow.session, shop_id=shop_id, entry_id=entry_id)
    return update_entry(
        uow,
        shop_id=shop_id,
        entry_id=entry_id,
        acting_agent_id=acting_agent_id,
        questions=[*current.questions, *questions],
        commit=commit,
    )


def set_enabled(
    uow: UnitOfWork,
    *,
    shop_id: int,
    entry_id: int,
    enabled: bool,
    acting_agent_id: int | None = None,
) -> EntryView:
    return update_entry(
        uow, shop_id=shop_id, entry_id=entry_id, enabled=enabled, acting_agent_id=acting_agent_id
    )


def delete_entry(
    uow: UnitOfWork, *, shop_id: int, entry_id: int, acting_agent_id: int | None = None
) -> None:
    session = uow.session
    entry = get_entry_row(session, shop_id=shop_id, entry_id=entry_id)
    session.execute(delete(FaqQuestion).where(FaqQuestion.entry_id == entry.id))
    session.delete(entry)
    session.flush()
    touch(uow, shop_id=shop_id)
    uow.collect(FaqEntryDeleted(shop_id=shop_id, entry_id=entry_id))
    uow.commit()


def record_hit(uow: UnitOfWork, *, shop_id: int, entry_id: int, commit: bool = True) -> None:
    """Count one answer given with the entry (the bot calls this when it sends one)."""
    uow.session.execute(
        update(FaqEntry)
        .where(FaqEntry.shop_id == shop_id, FaqEntry.id == entry_id)
        .values(hit_count=FaqEntry.hit_count + 1)
    )
    if commit:
        uow.commit()
