"""JSON shapes of the live check, ``POST /api/v1/coach/check`` (kept apart from
``schemas.py`` so the rules and phrases API can change without touching these)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from kefu.coach.live import ANALYSED_CHARS, LiveCheck, LiveHit
from kefu.db import MAX_ID


class CheckIn(BaseModel):
    """A draft as the composer holds it. Its length is checked by the service (20,000
    characters at most), which says so in the agent's language rather than pydantic's."""

    model_config = ConfigDict(extra="forbid")

    conversation_id: int = Field(ge=1, le=MAX_ID)
    text: str


class HitOut(BaseModel):
    code: str
    name: str
    description: str
    severity: str
    points: int
    start: int  # offsets into ``text`` as sent (code points); start == end: about the whole
    end: int
    excerpt: str
    suggestion: str


class CheckOut(BaseModel):
    hits: list[HitOut]
    buyer_angry: bool
    complaint: bool
    apology_template: str | None
    truncated: bool
    analysed_chars: int  # the engine reads this many characters of a longer draft
    elapsed_ms: float


def hit_out(hit: LiveHit) -> HitOut:
    return HitOut(
        code=hit.code,
        name=hit.name,
        description=hit.description,
        severity=hit.severity,
        points=hit.points,
        start=hit.start,
        end=hit.end,
        excerpt=hit.excerpt,
        suggestion=hit.suggestion,
    )


def check_out(check: LiveCheck) -> CheckOut:
    return CheckOut(
        hits=[hit_out(hit) for hit in check.hits],
        buyer_angry=check.buyer_angry,
        complaint=check.complaint,
        apology_template=check.apology_template,
        truncated=check.truncated,
        analysed_chars=ANALYSED_CHARS,
        elapsed_ms=check.elapsed_ms,
    )
