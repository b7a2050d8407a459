"""Reading the knowledge base: one entry or many with their phrasings, search, the
category filter, counts, the KB revision and the lookups of images and products by name.

:mod:`kefu.kb.entries` writes; everything here only reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from kefu.commerce.models import Product
from kefu.conversations.models import Attachment
from kefu.errors import Invalid, NotFound
from kefu.kb.models import FaqEntry, FaqQuestion, KbState
from kefu.nlp.text import normalize_text
from kefu.validation import clean_text

MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class EntryView:
    """An entry with its phrasings (in order) and what its ids point at."""

    entry: FaqEntry
    questions: list[str]
    image_key: str | None = None
    product_sku: str | None = None
    product_title: str | None = None

    @property
    def id(self) -> int:
        return self.entry.id


@dataclass(frozen=True)
class EntryPage:
    items: list[EntryView]
    total: int


def normalized(text: str, *, limit: int = 255) -> str:
    """The form questions are compared and kept unique in: the canonical text (simplified,
    half-width, lower case) without spaces, punctuation or emoji, so 「在吗?」 is 「在吗」."""
    return "".join(char for char in normalize_text(text) if char.isalnum())[:limit]


def revision(session: Session, *, shop_id: int) -> int:
    found = session.scalar(select(KbState.revision).where(KbState.shop_id == shop_id))
    return found or 0


# --- lookups -----------------------------------------------------------------------------


def image_by_key(session: Session, *, shop_id: int, key: str) -> int:
    """The id of one of the shop's uploaded images, named by its key (the API's image_key)."""
    found = session.scalar(
        select(Attachment.id).where(Attachment.shop_id == shop_id, Attachment.key == key)
    )
    if found is None:
        raise Invalid(
            "the image does not exist in this shop", field="image", key="errors.kb.unknown_image"
        )
    return found


def product_by_sku(session: Session, *, shop_id: int, sku: str) -> int:
    found = session.scalar(
        select(Product.id).where(Product.shop_id == shop_id, Product.sku == sku.strip())
    )
    if found is None:
        raise Invalid(
            f"no product with SKU {sku!r} in this shop",
            field="product_id",
            key="errors.kb.unknown_sku",
            sku=sku,
        )
    return found


# --- entries -----------------------------------------------------------------------------


def get_entry_row(session: Session, *, shop_id: int, entry_id: int) -> FaqEntry:
    entry = session.scalar(
        select(FaqEntry).where(FaqEntry.shop_id == shop_id, FaqEntry.id == entry_id)
    )
    if entry is None:
        raise NotFound("FAQ entry not found")
    return entry


def get_entry(session: Session, *, shop_id: int, entry_id: int) -> EntryView:
    [found] = views(session, [get_entry_row(session, shop_id=shop_id, entry_id=entry_id)])
    return found


def questions_of(
    session: Session, *, shop_id: int, entry_ids: Sequence[int]
) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {entry_id: [] for entry_id in entry_ids}
    if not entry_ids:
        return found
    rows = session.execute(
        select(FaqQuestion.entry_id, FaqQuestion.text)
        .where(FaqQuestion.shop_id == shop_id, FaqQuestion.entry_id.in_(set(entry_ids)))
        .order_by(FaqQuestion.entry_id, FaqQuestion.position, FaqQuestion.id)
    )
    for entry_id, text in rows:
        found[entry_id].append(text)
    return found


def view(session: Session, entry: FaqEntry, questions: list[str]) -> EntryView:
    image_key = product_sku = product_title = None
    if entry.image_id is not None:
        image_key = session.scalar(select(Attachment.key).where(Attachment.id == entry.image_id))
    if entry.product_id is not None:
        row = session.execute(
            select(Product.sku, Product.title).where(Product.id == entry.product_id)
        ).first()
        if row is not None:
            product_sku, product_title = row
    return EntryView(entry, questions, image_key, product_sku, product_title)


def views(session: Session, entries: Sequence[FaqEntry]) -> list[EntryView]:
    if not entries:
        return []
    shop_id = entries[0].shop_id
    questions = questions_of(session, shop_id=shop_id, entry_ids=[e.id for e in entries])
    image_ids = {e.image_id for e in entries if e.image_id is not None}
    product_ids = {e.product_id for e in entries if e.product_id is not None}
    keys: dict[int, str] = {}
    if image_ids:
        keys = {
            row.id: row.key
            for row in session.execute(
                select(Attachment.id, Attachment.key).where(Attachment.id.in_(image_ids))
            )
        }
    products: dict[int, tuple[str, str]] = {}
    if product_ids:
        products = {
            row.id: (row.sku, row.title)
            for row in session.execute(
                select(Product.id, Product.sku, Product.title).where(Product.id.in_(product_ids))
            )
        }
    result = []
    for entry in entries:
        sku: str | None = None
        title: str | None = None
        if entry.product_id is not None and entry.product_id in products:
            sku, title = products[entry.product_id]
        result.append(
            EntryView(
                entry,
                questions[entry.id],
                keys.get(entry.image_id) if entry.image_id else None,
                sku,
                title,
            )
        )
    return result


def search_entries(
    session: Session,
    *,
    shop_id: int,
    query: str = "",
    category: str | None = None,
    enabled: bool | None = None,
    product_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> EntryPage:
    """Entries whose phrasings, answer or category contain every word of ``query``.

    Words are compared in the canonical form as well, so 「運費」 finds 「运费」 and a
    full-width 「ＸＬ」 finds 「XL」. Newest first.
    """
    query = clean_text(query, field="q", max_length=max(len(query), 1))
    conditions = [FaqEntry.shop_id == shop_id]
    for word in query.split()[:10]:
        canonical = normalize_text(word) or word.lower()
        matches = [
            func.lower(FaqEntry.answer).contains(word.lower(), autoescape=True),
            func.lower(FaqEntry.answer).contains(canonical, autoescape=True),
            FaqEntry.category.contains(word, autoescape=True),
        ]
        key = normalized(word)
        if key:
            matches.append(
                exists().where(
                    FaqQuestion.entry_id == FaqEntry.id,
                    FaqQuestion.normalized.contains(key, autoescape=True),
                )
            )
        conditions.append(or_(*matches))
    if category is not None:
        conditions.append(FaqEntry.category == category)
    if enabled is not None:
        conditions.append(FaqEntry.enabled.is_(enabled))
    if product_id is not None:
        conditions.append(FaqEntry.product_id == product_id)
    where = and_(*conditions)
    total = session.scalar(select(func.count(FaqEntry.id)).where(where)) or 0
    rows = session.scalars(
        select(FaqEntry)
        .where(where)
        .order_by(FaqEntry.id.desc())
        .limit(max(1, min(limit, MAX_PAGE_SIZE)))
        .offset(max(0, offset))
    )
    return EntryPage(items=views(session, list(rows)), total=total)


def list_categories(session: Session, *, shop_id: int) -> list[tuple[str, int]]:
    """The shop's categories with how many entries each has (the list page's filter)."""
    rows = session.execute(
        select(FaqEntry.category, func.count(FaqEntry.id))
        .where(FaqEntry.shop_id == shop_id)
        .group_by(FaqEntry.category)
        .order_by(FaqEntry.category)
    )
    return [(category, count) for category, count in rows]


def count_entries(session: Session, *, shop_id: int) -> int:
    return session.scalar(select(func.count(FaqEntry.id)).where(FaqEntry.shop_id == shop_id)) or 0


def all_entries(session: Session, *, shop_id: int, enabled_only: bool = False) -> list[EntryView]:
    query = select(FaqEntry).where(FaqEntry.shop_id == shop_id)
    if enabled_only:
        query = query.where(FaqEntry.enabled.is_(True))
    return views(session, list(session.scalars(query.order_by(FaqEntry.id))))


def entry_for_question(session: Session, *, shop_id: int, question: str) -> int | None:
    """The entry that has this phrasing (compared in the canonical form), if any."""
    return session.scalar(
        select(FaqQuestion.entry_id).where(
            FaqQuestion.shop_id == shop_id, FaqQuestion.normalized == normalized(question)
        )
    )
