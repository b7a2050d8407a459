"""Answering from the KB: what the bot decides, what the desk suggests, and answer variables."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, cast

from sqlalchemy.orm import Session

from kefu.crm import service as crm
from kefu.errors import NotFound
from kefu.kb.entries import VARIABLES
from kefu.kb.index import ShopIndex, shop_index
from kefu.nlp.matcher import Hit
from kefu.nlp.segment import Vocabulary
from kefu.shops import service as shops

MAX_TEXT_LENGTH = 2000  # of a question; the rest of a long message says nothing more
SUGGESTION_MIN_SCORE = 0.15  # below this a suggestion is noise, not help
# What a variable becomes when the caller does not know it: a polite form of address.
FALLBACKS: Mapping[str, str] = {"customer_name": "亲", "customer_surname": "", "shop_name": "本店"}
_VARIABLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]{0,39})\}")


@dataclass(frozen=True)
class Answer:
    """An entry that matched a question: its answer (variables not yet filled) and image."""

    entry_id: int
    question: str  # the phrasing that matched
    answer: str
    score: float  # 0–1, calibrated by the matcher
    category: str
    image_id: int | None


@dataclass(frozen=True)
class Decision:
    """What the KB says to a buyer's question.

    ``answer``: one entry answers it (score at or above the threshold). ``choices``: the top
    two are too close to pick between; ask the buyer which one they mean. Neither: the KB
    does not know (record it with ``record_unanswered`` and hand over to a person).
    """

    answer: Answer | None
    choices: tuple[Answer, ...]
    ranked: tuple[Answer, ...]  # the best few, for logs and the desk

    @property
    def kind(self) -> Literal["answer", "ambiguous", "none"]:
        if self.choices:
            return "ambiguous"
        return "answer" if self.answer is not None else "none"


@dataclass(frozen=True)
class Suggestion:
    entry_id: int
    question: str
    answer: str
    score: float


def _answers(index: ShopIndex, hits: list[Hit], product_id: int | None) -> list[Answer]:
    found = []
    for hit in hits:
        entry = index.entries.get(cast(int, hit.id))
        if entry is None:
            continue
        if product_id is not None and entry.product_id not in (None, product_id):
            continue  # about another product than the one the buyer is looking at
        found.append(
            Answer(
                entry_id=entry.id,
                question=hit.question,
                answer=entry.answer,
                score=round(float(hit.score), 4),
                category=entry.category,
                image_id=entry.image_id,
            )
        )
    return found


def find_answer(
    session: Session,
    *,
    shop_id: int,
    text: str,
    threshold: float | None = None,
    product_id: int | None = None,
) -> Decision:
    """The bot's question: does the KB answer ``text``? Disabled entries never answer.

    ``threshold`` overrides the matcher's calibrated default (0–1). With ``product_id`` (the
    product the buyer is asking about) entries about other products are left out.
    """
    index = shop_index(session, shop_id=shop_id)
    if not text.strip() or not len(index.matcher):
        return Decision(answer=None, choices=(), ranked=())
    hits = index.matcher.rank(text[:MAX_TEXT_LENGTH], limit=10)
    ranked = _answers(index, hits, product_id)
    kept = {a.entry_id for a in ranked}
    hits = [h for h in hits if cast(int, h.id) in kept]
    same = len(ranked) > 1 and ranked[0].answer == ranked[1].answer
    if index.matcher.ambiguous(hits, threshold=threshold) and not same:
        return Decision(answer=None, choices=tuple(ranked[:2]), ranked=tuple(ranked[:5]))
    top = index.matcher.confident(hits, threshold=threshold)
    return Decision(
        answer=ranked[0] if top is not None else None, choices=(), ranked=tuple(ranked[:5])
    )


def suggest(
    session: Session, *, shop_id: int, text: str, limit: int = 3, product_id: int | None = None
) -> list[Suggestion]:
    """Entries an agent might answer ``text`` with, best first (enabled entries only)."""
    index = shop_index(session, shop_id=shop_id)
    if not text.strip() or not len(index.matcher):
        return []
    limit = max(1, min(limit, 10))
    hits = index.matcher.rank(text[:MAX_TEXT_LENGTH], limit=limit + 5)
    return [
        Suggestion(entry_id=a.entry_id, question=a.question, answer=a.answer, score=a.score)
        for a in _answers(index, hits, product_id)
        if a.score >= SUGGESTION_MIN_SCORE
    ][:limit]


def shop_vocabulary(session: Session, *, shop_id: int) -> Vocabulary:
    """The shop's own words (SKUs, categories, product names), as its KB index has them:
    the bot segments buyers' messages with the same words the FAQ was indexed with."""
    return shop_index(session, shop_id=shop_id).vocabulary


def render_answer(answer: str, variables: Mapping[str, str]) -> str:
    """The answer with its variables filled in. Never fails.

    A variable the caller does not know becomes a polite stand-in ({customer_name} → 亲,
    {shop_name} → 本店); a name that is no variable at all (an answer saved before the
    check, or typed by hand) is dropped rather than shown to a buyer as "{xxx}".
    """

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        value = (variables.get(name) or "").strip()
        if value:
            return value
        return FALLBACKS.get(name, "")

    return _VARIABLE.sub(fill, answer)


def answer_variables(
    session: Session, *, shop_id: int, customer_id: int | None = None
) -> dict[str, str]:
    """The values of every variable for one buyer of the shop (unknown ones left out).

    {customer_name} is how an agent addresses the buyer (王女士, else the nickname);
    {customer_surname} the family name alone.
    """
    values = {"shop_name": shops.get_shop(session, shop_id=shop_id).name}
    if customer_id is not None:
        try:
            customer = crm.get_customer(session, shop_id=shop_id, customer_id=customer_id)
        except NotFound:
            customer = None
        if customer is not None:
            if customer.name or customer.nickname:
                values["customer_name"] = crm.salutation(customer)
            if customer.name:
                values["customer_surname"] = customer.name[0]
    return {name: value for name, value in values.items() if name in VARIABLES}
