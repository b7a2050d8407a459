"""API shapes of the coach (/api/v1/coach), one section per concept.

Inputs forbid unknown fields, so a misspelt field is a 422 naming it rather than silently
ignored. Lengths and business rules are the services' (their messages are precise and
translated); here only the types and the sizes that bound a request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from kefu.coach.models import PatternScope, RuleKind, Severity


class StrictIn(BaseModel):
    """An input: unknown fields are refused (a typo is an error, not silently ignored)."""

    model_config = ConfigDict(extra="forbid")


# --- rules ------------------------------------------------------------------------------------

Pattern = Annotated[str, Field(max_length=2000)]


class RuleCreateIn(StrictIn):
    """A rule of the shop's own (code ``custom_<n>``, kind pattern): a reply saying one of
    the patterns breaks it."""

    name: str = Field(max_length=600, description="1–60 characters")
    description: str = Field(default="", max_length=3000, description="up to 300 characters")
    severity: Severity = Severity.MINOR
    points: int = Field(default=5, description="0–100, taken off the agent's score per hit")
    patterns: list[Pattern] = Field(
        max_length=100,
        description="1–30 Python regular expressions (≤ 200 characters each), matched "
        "against the reply folded to simplified, half-width, lower-case text",
    )
    scope: PatternScope = Field(
        default=PatternScope.ALWAYS,
        description="always | angry | complaint (only replies to an angry or complaining buyer)",
    )
    suggestion: str = Field(
        default="", max_length=10_000, description="a better phrasing; may hold the variables"
    )
    enabled: bool = True


class RulePatchIn(StrictIn):
    """Leave a field out to keep it. ``scope`` is for pattern rules only, ``minutes``
    (1–1440) for the follow-up and slow-reply rules only."""

    name: str | None = Field(default=None, max_length=600)
    description: str | None = Field(default=None, max_length=3000)
    severity: Severity | None = None
    points: int | None = None
    enabled: bool | None = None
    patterns: list[Pattern] | None = Field(default=None, max_length=100)
    scope: PatternScope | None = None
    minutes: int | None = None
    suggestion: str | None = Field(default=None, max_length=10_000)


class RuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    kind: RuleKind
    name: str
    description: str
    severity: Severity
    points: int
    enabled: bool
    patterns: list[str]
    scope: PatternScope
    minutes: int | None
    suggestion: str
    builtin: bool = Field(description="a built-in rule: it can be switched off, not deleted")
    changed: bool = Field(description="a built-in rule that differs from its default")
    updated_at: datetime | None = Field(description="null: the default, never edited")
    updated_by_agent_id: int | None


# --- canned phrases ---------------------------------------------------------------------------


class PhraseIn(StrictIn):
    shortcut: str = Field(
        max_length=300, description="1–30 characters, no spaces; typed after / in the composer"
    )
    title: str = Field(default="", max_length=600, description="≤ 60; empty: the body's start")
    body: str = Field(max_length=10_000, description="1–1000 characters; may hold the variables")
    shared: bool = Field(default=False, description="every agent's (supervisor+ only)")


class PhrasePatchIn(StrictIn):
    shortcut: str | None = Field(default=None, max_length=300)
    title: str | None = Field(default=None, max_length=600)
    body: str | None = Field(default=None, max_length=10_000)


class PhraseOut(BaseModel):
    id: int
    shortcut: str
    title: str
    body: str
    shared: bool
    owner_agent_id: int | None
    use_count: int
    created_at: datetime
    updated_at: datetime
    rendered: str | None = Field(
        default=None, description="the body filled in for ?conversation_id (when given)"
    )


class PhraseListOut(BaseModel):
    phrases: list[PhraseOut]
    variables: dict[str, str] | None = Field(
        default=None, description="the values used for ?conversation_id (when given)"
    )


class RenderedOut(BaseModel):
    id: int
    text: str = Field(description="the body filled in for the conversation")
    use_count: int
