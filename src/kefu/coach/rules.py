"""The shop's coach rules. STUB: H-rules fills."""

from __future__ import annotations

from sqlalchemy.orm import Session

from kefu.coach.defaults import DEFAULT_RULES
from kefu.coach.engine import RuleSpec


def rule_specs(session: Session, *, shop_id: int) -> list[RuleSpec]:
    """The shop's enabled rules as the engine applies them (the defaults until it edits)."""
    return [rule for rule in DEFAULT_RULES if rule.enabled]
