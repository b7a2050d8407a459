"""The shop's coach rules: the defaults (``defaults.DEFAULT_RULES``) until the shop edits
one, then its own rows.

A shop that never edited reads the defaults straight from the code, so a new version's
better defaults reach it. The first edit writes every default as a row (in the edit's
transaction, under the shop row's lock so two first edits cannot both write them), then
applies the edit; a default added by a later version and not yet in the rows is read from
the code until it is edited too. Built-in rules can be changed or switched off but not
deleted; a shop's own rules (``custom_<n>``, kind pattern) can be. Every change emits
``CoachRulesChanged`` after commit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.coach import defaults
from kefu.coach.engine import RuleSpec
from kefu.coach.events import CoachRulesChanged
from kefu.coach.models import CoachRule, PatternScope, RuleKind, Severity
from kefu.coach.rule_checks import (
    TIMED_KINDS,
    check_description,
    check_enabled,
    check_minutes,
    check_name,
    check_points,
    check_scope,
    check_severity,
    check_suggestion,
    validate_patterns,
)
from kefu.errors import Conflict, Invalid, NotFound
from kefu.shops.models import Shop
from kefu.uow import UnitOfWork

CUSTOM_PREFIX: Final = "custom_"
MAX_CUSTOM_RULES: Final = 50
RESET_CODE: Final = "*"  # CoachRulesChanged.rule_code of a reset: every rule


@dataclass(frozen=True, slots=True)
class ShopRule:
    """A rule as the shop has it: its row, or the default it has not edited."""

    code: str
    kind: RuleKind
    name: str
    description: str
    severity: Severity
    points: int
    enabled: bool
    patterns: tuple[str, ...]
    scope: PatternScope
    minutes: int | None
    suggestion: str
    builtin: bool
    updated_at: datetime | None = None  # None: the default, never edited
    updated_by_agent_id: int | None = None

    @property
    def custom(self) -> bool:
        return not self.builtin

    @property
    def timed(self) -> bool:
        """Whether ``minutes`` applies (a promised follow-up, a slow reply)."""
        return self.kind in TIMED_KINDS

    @property
    def changed(self) -> bool:
        """A built-in rule that differs from its default."""
        default = _defaults().get(self.code)
        return default is not None and _from_spec(default) != replace(
            self, updated_at=None, updated_by_agent_id=None
        )

    def spec(self) -> RuleSpec:
        return RuleSpec(
            code=self.code, kind=self.kind.value, name=self.name, description=self.description,
            severity=self.severity.value, points=self.points, patterns=self.patterns,
            scope=self.scope.value, minutes=self.minutes, suggestion=self.suggestion,
            enabled=self.enabled,
        )  # fmt: skip


def _defaults() -> dict[str, RuleSpec]:
    return {spec.code: spec for spec in defaults.DEFAULT_RULES}


def _from_spec(spec: RuleSpec) -> ShopRule:
    return ShopRule(
        code=spec.code, kind=RuleKind(spec.kind), name=spec.name,
        description=spec.description, severity=Severity(spec.severity), points=spec.points,
        enabled=spec.enabled, patterns=tuple(spec.patterns), scope=PatternScope(spec.scope),
        minutes=spec.minutes, suggestion=spec.suggestion, builtin=True,
    )  # fmt: skip


def _patterns_of(row: CoachRule) -> tuple[str, ...]:
    try:
        stored = json.loads(row.patterns or "[]")
    except ValueError:
        return ()
    return tuple(p for p in stored if isinstance(p, str)) if isinstance(stored, list) else ()


def _from_row(row: CoachRule) -> ShopRule:
    return ShopRule(
        code=row.code, kind=RuleKind(row.kind), name=row.name, description=row.description,
        severity=Severity(row.severity), points=row.points, enabled=row.enabled,
        patterns=_patterns_of(row), scope=PatternScope(row.scope), minutes=row.minutes,
        suggestion=row.suggestion, builtin=row.builtin, updated_at=row.updated_at,
        updated_by_agent_id=row.updated_by_agent_id,
    )  # fmt: skip


def _folded(patterns: tuple[str, ...]) -> tuple[str, ...] | None:
    try:
        return validate_patterns(patterns)
    except Invalid:
        return None


def _custom_number(code: str) -> int:
    suffix = code.removeprefix(CUSTOM_PREFIX)
    return int(suffix) if code.startswith(CUSTOM_PREFIX) and suffix.isdigit() else 0


def _rows(session: Session, shop_id: int) -> dict[str, CoachRule]:
    query = select(CoachRule).where(CoachRule.shop_id == shop_id).order_by(CoachRule.id)
    return {row.code: row for row in session.scalars(query)}


# --- reads ------------------------------------------------------------------------------------


def list_rules(session: Session, *, shop_id: int) -> list[ShopRule]:
    """Every rule of the shop, switched off ones included: the built-in ones in the
    defaults' order, then the shop's own by number."""
    rows = _rows(session, shop_id)
    listed = [
        _from_row(rows.pop(spec.code)) if spec.code in rows else _from_spec(spec)
        for spec in defaults.DEFAULT_RULES
    ]
    rest = sorted(rows.values(), key=lambda r: (not r.builtin, _custom_number(r.code), r.code))
    return listed + [_from_row(row) for row in rest]


def rule_specs(session: Session, *, shop_id: int) -> list[RuleSpec]:
    """The shop's enabled rules as the engine applies them (the defaults until it edits)."""
    return [rule.spec() for rule in list_rules(session, shop_id=shop_id) if rule.enabled]


def get_rule(session: Session, *, shop_id: int, code: str) -> ShopRule:
    row = session.scalar(
        select(CoachRule).where(CoachRule.shop_id == shop_id, CoachRule.code == code)
    )
    if row is not None:
        return _from_row(row)
    default = _defaults().get(code)
    if default is None:
        raise NotFound(f"no rule {code!r}", key="coach.rules.error.not_found", code=code)
    return _from_spec(default)


# --- writes -----------------------------------------------------------------------------------


def _lock_rules(session: Session, shop_id: int) -> None:
    """Serialise rule writes of one shop (the first edit's rows, a custom rule's number).
    A no-op UPDATE of the shop's row locks it on PostgreSQL and SQLite alike."""
    session.execute(
        update(Shop)
        .where(Shop.id == shop_id)
        .values(timezone=Shop.timezone)
        .execution_options(synchronize_session=False)
    )


def _materialise(uow: UnitOfWork, shop_id: int) -> dict[str, CoachRule]:
    """The shop's rows, every default written first if it has none yet (as defaults: by
    nobody, so the page can tell an edited rule from one that was only written down)."""
    session = uow.session
    _lock_rules(session, shop_id)
    rows = _rows(session, shop_id)
    now = uow.clock.now()
    for spec in defaults.DEFAULT_RULES:
        if spec.code in rows:
            continue
        row = CoachRule(
            shop_id=shop_id, code=spec.code, kind=RuleKind(spec.kind), name=spec.name,
            description=spec.description, severity=Severity(spec.severity), points=spec.points,
            enabled=spec.enabled, patterns=_dump(spec.patterns), scope=PatternScope(spec.scope),
            minutes=spec.minutes, suggestion=spec.suggestion, builtin=True, updated_at=now,
        )  # fmt: skip
        session.add(row)
        rows[spec.code] = row
    _flush(session)
    return rows


def _flush(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError:
        # Only reachable if a writer skipped the lock: say so rather than a 500.
        raise Conflict(
            "the rules were changed at the same time by someone else; try again",
            key="coach.rules.error.concurrent",
        ) from None


def _dump(patterns: tuple[str, ...] | list[str]) -> str:
    return json.dumps(list(patterns), ensure_ascii=False)


def _changed(uow: UnitOfWork, shop_id: int, code: str, action: str, agent_id: int | None) -> None:
    event = CoachRulesChanged(shop_id=shop_id, rule_code=code, action=action, agent_id=agent_id)
    uow.collect(event)


def create_rule(
    uow: UnitOfWork,
    *,
    shop_id: int,
    agent_id: int | None,
    name: str,
    patterns: list[str] | tuple[str, ...],
    description: str = "",
    severity: Severity | str = Severity.MINOR,
    points: int = 5,
    scope: PatternScope | str = PatternScope.ALWAYS,
    suggestion: str = "",
    enabled: bool = True,
    commit: bool = True,
) -> ShopRule:
    """A rule of the shop's own (``custom_<n>``): a reply saying one of ``patterns``
    breaks it — always, or only answering an angry or complaining buyer (``scope``)."""
    values: dict[str, Any] = {
        "name": check_name(name),
        "description": check_description(description),
        "severity": check_severity(severity),
        "points": check_points(points),
        "scope": check_scope(scope),
        "suggestion": check_suggestion(suggestion),
        "enabled": check_enabled(enabled),
    }
    kept = validate_patterns(patterns)
    if not kept:
        raise Invalid(
            "a rule of the shop's own needs at least one pattern",
            field="patterns", key="coach.rules.error.patterns_required",
        )  # fmt: skip
    session = uow.session
    rows = _materialise(uow, shop_id)
    customs = [r for r in rows.values() if not r.builtin]
    if len(customs) >= MAX_CUSTOM_RULES:
        raise Conflict(
            f"at most {MAX_CUSTOM_RULES} rules of the shop's own; delete one first",
            key="coach.rules.error.too_many_rules", max=MAX_CUSTOM_RULES,
        )  # fmt: skip
    number = max((_custom_number(code) for code in rows), default=0) + 1
    row = CoachRule(
        shop_id=shop_id, code=f"{CUSTOM_PREFIX}{number}", kind=RuleKind.PATTERN,
        patterns=_dump(kept), minutes=None, builtin=False, updated_at=uow.clock.now(),
        updated_by_agent_id=agent_id, **values,
    )  # fmt: skip
    session.add(row)
    _flush(session)
    _changed(uow, shop_id, row.code, "created", agent_id)
    if commit:
        uow.commit()
    return _from_row(row)


def update_rule(
    uow: UnitOfWork,
    *,
    shop_id: int,
    code: str,
    agent_id: int | None,
    name: str | None = None,
    description: str | None = None,
    severity: Severity | str | None = None,
    points: int | None = None,
    enabled: bool | None = None,
    patterns: list[str] | tuple[str, ...] | None = None,
    scope: PatternScope | str | None = None,
    minutes: int | None = None,
    suggestion: str | None = None,
    commit: bool = True,
) -> ShopRule:
    """Change what is given (None: unchanged). ``scope`` is for pattern rules only,
    ``minutes`` (1–1440) for the follow-up and slow-reply rules only. Every value is
    checked before anything is written; an edit that changes nothing writes nothing."""
    current = get_rule(uow.session, shop_id=shop_id, code=code)
    wanted: dict[str, Any] = {}
    if name is not None:
        wanted["name"] = check_name(name)
    if description is not None:
        wanted["description"] = check_description(description)
    if severity is not None:
        wanted["severity"] = check_severity(severity)
    if points is not None:
        wanted["points"] = check_points(points)
    if enabled is not None:
        wanted["enabled"] = check_enabled(enabled)
    if patterns is not None:
        wanted["patterns"] = validate_patterns(patterns)
        if not wanted["patterns"] and current.custom:
            raise Invalid(
                "a rule of the shop's own needs at least one pattern",
                field="patterns", key="coach.rules.error.patterns_required",
            )  # fmt: skip
        if wanted["patterns"] == _folded(current.patterns):
            # Saved unchanged from the form: keep them as they are (a default may hold
            # a form, e.g. a full-width comma, that saving would fold).
            del wanted["patterns"]
    if scope is not None:
        if current.kind is not RuleKind.PATTERN:
            raise Invalid(
                f"scope applies only to pattern rules, not to {code!r}",
                field="scope", key="coach.rules.error.scope_not_applicable", code=code,
            )  # fmt: skip
        wanted["scope"] = check_scope(scope)
    if minutes is not None:
        if not current.timed:
            raise Invalid(
                f"minutes apply only to the follow-up and slow-reply rules, not to {code!r}",
                field="minutes", key="coach.rules.error.minutes_not_applicable", code=code,
            )  # fmt: skip
        wanted["minutes"] = check_minutes(minutes)
    if suggestion is not None:
        wanted["suggestion"] = check_suggestion(suggestion)
    edited = replace(current, **wanted)
    if edited == current:
        return current
    rows = _materialise(uow, shop_id)
    row = rows.get(code)
    if row is None:  # deleted meanwhile (we waited on the lock)
        raise NotFound(f"no rule {code!r}", key="coach.rules.error.not_found", code=code)
    for field, value in wanted.items():
        setattr(row, field, _dump(value) if field == "patterns" else value)
    row.updated_at, row.updated_by_agent_id = uow.clock.now(), agent_id
    _flush(uow.session)
    _changed(uow, shop_id, code, "updated", agent_id)
    if commit:
        uow.commit()
    return _from_row(row)


def delete_rule(
    uow: UnitOfWork, *, shop_id: int, code: str, agent_id: int | None, commit: bool = True
) -> None:
    """Delete a rule of the shop's own. A built-in rule is switched off instead (its
    scores stay comparable over time, and it can be switched on again)."""
    session = uow.session
    current = get_rule(session, shop_id=shop_id, code=code)
    if current.builtin:
        raise Conflict(
            f"{current.name!r} is a built-in rule: switch it off instead of deleting it",
            key="coach.rules.error.builtin_kept", name=current.name,
        )  # fmt: skip
    _lock_rules(session, shop_id)
    deleted = session.execute(
        delete(CoachRule)
        .where(CoachRule.shop_id == shop_id, CoachRule.code == code)
        .execution_options(synchronize_session="fetch")
    )
    if getattr(deleted, "rowcount", 1) == 0:
        raise NotFound(f"no rule {code!r}", key="coach.rules.error.not_found", code=code)
    _changed(uow, shop_id, code, "deleted", agent_id)
    if commit:
        uow.commit()


def reset_rules(
    uow: UnitOfWork, *, shop_id: int, agent_id: int | None, commit: bool = True
) -> list[ShopRule]:
    """Back to the defaults: every edit undone and the shop's own rules deleted (scores
    already given keep the rule names and points they were given with)."""
    session = uow.session
    _lock_rules(session, shop_id)
    session.execute(
        delete(CoachRule)
        .where(CoachRule.shop_id == shop_id)
        .execution_options(synchronize_session="fetch")
    )
    _changed(uow, shop_id, RESET_CODE, "reset", agent_id)
    if commit:
        uow.commit()
    return list_rules(session, shop_id=shop_id)
