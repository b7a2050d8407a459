"""API shapes of the knowledge base."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kefu.db import MAX_ID


class EntryOut(BaseModel):
    id: int
    questions: list[str] = Field(description="the phrasings of the question, in order")
    answer: str = Field(description="may hold {customer_name}, {customer_surname}, {shop_name}")
    category: str
    product_id: int | None
    product_sku: str | None
    image_key: str | None = Field(description="the image sent with the answer: GET /uploads/{key}")
    enabled: bool
    hit_count: int
    created_at: datetime
    updated_at: datetime
    created_by_id: int | None
    updated_by_id: int | None


class EntryList(BaseModel):
    total: int
    entries: list[EntryOut]


class EntryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    questions: list[str] = Field(min_length=1, max_length=100)
    answer: str = Field(max_length=10_000)
    category: str = Field(default="", max_length=200)
    product_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    image_key: str | None = Field(
        default=None, max_length=64, description="key of an image uploaded with POST /uploads"
    )
    enabled: bool = True


class EntryUpdate(BaseModel):
    """Only the fields sent change; ``product_id``/``image_key`` sent as null clear them."""

    model_config = ConfigDict(extra="forbid")

    questions: list[str] | None = Field(default=None, min_length=1, max_length=100)
    answer: str | None = Field(default=None, max_length=10_000)
    category: str | None = Field(default=None, max_length=200)
    product_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    image_key: str | None = Field(default=None, max_length=64)
    enabled: bool | None = None


class SuggestionOut(BaseModel):
    entry_id: int
    question: str = Field(description="the phrasing that matched")
    answer: str
    score: float = Field(description="0–1")


class AnswerOut(SuggestionOut):
    category: str
    image_id: int | None


class DecisionOut(BaseModel):
    kind: Literal["answer", "ambiguous", "none"]
    answer: AnswerOut | None = Field(description="the entry that answers, when kind is 'answer'")
    choices: list[AnswerOut] = Field(description="the two closest, when kind is 'ambiguous'")
    ranked: list[AnswerOut] = Field(description="the best few, whatever the decision")


class NearestOut(BaseModel):
    entry_id: int
    question: str
    score: float


class GroupOut(BaseModel):
    id: int
    representative: str
    count: int = Field(description="how many times buyers asked it")
    status: Literal["open", "resolved", "ignored"]
    first_seen_at: datetime
    last_seen_at: datetime
    entry_id: int | None = Field(description="the entry it was added to, once resolved")
    examples: list[str]
    nearest: list[NearestOut] = Field(description="entries it resembles, best first")


class GroupList(BaseModel):
    total: int
    groups: list[GroupOut]


class GroupToEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: str = Field(max_length=10_000)
    questions: list[str] | None = Field(
        default=None, max_length=100, description="default: the group's questions"
    )
    category: str = Field(default="", max_length=200)


class GroupToPhrasing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entry_id: int = Field(ge=1, le=MAX_ID)


class PairOut(BaseModel):
    first_id: int
    first_question: str
    second_id: int
    second_question: str
    score: float
    detail: str


class MisplacedOut(BaseModel):
    entry_id: int
    question: str
    own_score: float
    other_id: int
    other_question: str
    other_score: float


class LintOut(BaseModel):
    entries: int
    duplicates: list[PairOut]
    contradictions: list[PairOut]
    misplaced: list[MisplacedOut]


class ImportOut(BaseModel):
    created: int
    updated: int
    unchanged: int
    dry_run: bool
