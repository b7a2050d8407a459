"""The default rules every shop starts with, drawn from the seeds (001: the complaint
playbook; 002: greetings and the phrases an agent must never say). STUB: H-engine fills."""

from __future__ import annotations

from kefu.coach.engine import RuleSpec

DEFAULT_RULES: tuple[RuleSpec, ...] = ()
