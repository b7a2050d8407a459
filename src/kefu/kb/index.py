"""Each shop's FAQ matcher, built once per KB revision and shared by the threads of a process.

Building a matcher reads every enabled phrasing of the shop and indexes it (tens of
milliseconds for a few hundred). It is kept per shop under a key read from the database on
every use: the shop's KB revision (raised by every change to its entries, from any process)
and a fingerprint of its catalogue (whose product words the segmenter keeps whole). A stale
key means a rebuild; two threads needing the same rebuild wait for one.

Open unanswered-question groups get the same treatment (``groups_matcher``), keyed by how
many groups are open and the newest one's id.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.commerce.models import Product
from kefu.kb.models import FaqEntry, FaqQuestion, KbState, UnansweredGroup, UnansweredStatus
from kefu.nlp.matcher import FaqMatcher
from kefu.nlp.segment import Vocabulary

MAX_SHOPS = 256  # matchers kept per process; the least recently used go first
MAX_OPEN_GROUPS = 1000  # a question is compared with this many recent open groups
MAX_WORD_LENGTH = 12  # longer title parts are descriptions, not words a buyer types


@dataclass(frozen=True)
class IndexedEntry:
    id: int
    answer: str
    category: str
    product_id: int | None
    image_id: int | None


@dataclass(frozen=True)
class ShopIndex:
    key: Hashable
    matcher: FaqMatcher  # enabled entries only
    entries: Mapping[int, IndexedEntry]
    vocabulary: Vocabulary


T = TypeVar("T")


class _Cache(Generic[T]):
    """Per-shop values under a key; thread-safe, least recently used evicted."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._values: OrderedDict[int, tuple[Hashable, T]] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[int, threading.Lock] = {}

    def get(self, shop_id: int, key: Hashable, build: Callable[[], T]) -> T:
        found = self._lookup(shop_id, key)
        if found is not None:
            return found
        with self._lock:
            building = self._building.setdefault(shop_id, threading.Lock())
        with building:
            found = self._lookup(shop_id, key)  # another thread may have built it meanwhile
            if found is not None:
                return found
            value = build()
            with self._lock:
                self._values[shop_id] = (key, value)
                self._values.move_to_end(shop_id)
                while len(self._values) > self._size:
                    self._values.popitem(last=False)
            return value

    def _lookup(self, shop_id: int, key: Hashable) -> T | None:
        with self._lock:
            cached = self._values.get(shop_id)
            if cached is None or cached[0] != key:
                return None
            self._values.move_to_end(shop_id)
            return cached[1]

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


_entries: _Cache[ShopIndex] = _Cache(MAX_SHOPS)
_groups: _Cache[FaqMatcher] = _Cache(MAX_SHOPS)


def clear() -> None:
    """Forget every cached matcher (tests; a process never needs to)."""
    _entries.clear()
    _groups.clear()


def _catalogue_key(session: Session, *, shop_id: int) -> tuple[int, int]:
    row = session.execute(
        select(func.count(Product.id), func.max(Product.id)).where(Product.shop_id == shop_id)
    ).one()
    return int(row[0] or 0), int(row[1] or 0)


def vocabulary(session: Session, *, shop_id: int) -> Vocabulary:
    """The shop's own words: SKUs, categories and the short parts of product titles."""
    words: set[str] = set()
    rows = session.execute(
        select(Product.sku, Product.title, Product.category).where(Product.shop_id == shop_id)
    )
    for sku, title, category in rows:
        words.add(sku)
        if category:
            words.add(category)
        words.update(part for part in title.split() if 2 <= len(part) <= MAX_WORD_LENGTH)
    return Vocabulary(sorted(words))


# Per session (one unit of work): the index key already read, so a bot turn that segments
# with the shop's words and then matches its FAQ asks the database once. A KB write in the
# same session forgets it (``forget``).
_SESSION_KEYS = "kefu.kb.index_keys"


def shop_index(session: Session, *, shop_id: int) -> ShopIndex:
    known: dict[int, Hashable] = session.info.setdefault(_SESSION_KEYS, {})
    key = known.get(shop_id)
    if key is None:
        revision = session.scalar(select(KbState.revision).where(KbState.shop_id == shop_id))
        key = known[shop_id] = (revision or 0, _catalogue_key(session, shop_id=shop_id))
    return _entries.get(shop_id, key, lambda: _build(session, shop_id, key))


def forget(session: Session, *, shop_id: int) -> None:
    """The shop's KB changed in this session: the next lookup reads the revision again."""
    session.info.get(_SESSION_KEYS, {}).pop(shop_id, None)


def _build(session: Session, shop_id: int, key: Hashable) -> ShopIndex:
    entries = {
        row.id: IndexedEntry(row.id, row.answer, row.category, row.product_id, row.image_id)
        for row in session.execute(
            select(
                FaqEntry.id,
                FaqEntry.answer,
                FaqEntry.category,
                FaqEntry.product_id,
                FaqEntry.image_id,
            ).where(FaqEntry.shop_id == shop_id, FaqEntry.enabled.is_(True))
        )
    }
    phrasings: dict[int, list[str]] = {entry_id: [] for entry_id in entries}
    rows = session.execute(
        select(FaqQuestion.entry_id, FaqQuestion.text)
        .where(FaqQuestion.shop_id == shop_id)
        .order_by(FaqQuestion.entry_id, FaqQuestion.position, FaqQuestion.id)
    )
    for entry_id, text in rows:
        if entry_id in phrasings:
            phrasings[entry_id].append(text)
    words = vocabulary(session, shop_id=shop_id)
    matcher = FaqMatcher.build(
        ((entry_id, texts) for entry_id, texts in phrasings.items() if texts), vocabulary=words
    )
    return ShopIndex(key=key, matcher=matcher, entries=entries, vocabulary=words)


def groups_matcher(session: Session, *, shop_id: int) -> FaqMatcher:
    """A matcher over the shop's open unanswered groups (their representative question)."""
    is_open = (UnansweredGroup.shop_id == shop_id) & (
        UnansweredGroup.status == UnansweredStatus.OPEN
    )
    count, newest = session.execute(
        select(func.count(UnansweredGroup.id), func.max(UnansweredGroup.id)).where(is_open)
    ).one()
    index = shop_index(session, shop_id=shop_id)
    words = index.vocabulary

    def build() -> FaqMatcher:
        rows = session.execute(
            select(UnansweredGroup.id, UnansweredGroup.representative)
            .where(is_open)
            .order_by(UnansweredGroup.last_seen_at.desc())
            .limit(MAX_OPEN_GROUPS)
        )
        return FaqMatcher.build(((gid, [text]) for gid, text in rows), vocabulary=words)

    return _groups.get(shop_id, (count, newest or 0, index.key), build)
