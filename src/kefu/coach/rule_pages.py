"""The page ``/settings/coach``: the shop's quality-inspection rules (质检规则).

Everyone may look (agents should know what their replies are judged on); supervisors and
owners edit a rule, add one of the shop's own, delete their own or go back to the
defaults. Each form posts back and lands on the page with a notice, or on the page again
with the reason it was refused (nothing changed) beside that form, still holding what was
typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.coach import service
from kefu.coach.models import PatternScope, RuleKind, Severity
from kefu.coach.rule_checks import MAX_MINUTES, MAX_POINTS
from kefu.errors import DomainError, Invalid
from kefu.uow import UnitOfWork
from kefu.web.deps import ensure_role, get_uow, page_locale, page_principal
from kefu.web.errors import localised, status_of
from kefu.web.forms import redirect_done, typed_fields
from kefu.web.security import check_csrf
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)
SETTINGS: Final = "/settings/coach"
NOTICES: Final = {"rule_created", "rule_saved", "rule_deleted", "rules_reset"}
# What a rule's patterns are, by kind: what breaks it, what satisfies it, or (a promised
# follow-up) the promise to watch.
_BREAKS: Final = ("pattern", "blame", "quality_denial", "refund_first", "rude_tone")
_SATISFIES: Final = ("no_apology", "greeting", "closing", "rating_invite", "reply_gap")
MEANINGS: Final = {
    **dict.fromkeys(_BREAKS, "breaks"),
    **dict.fromkeys(_SATISFIES, "satisfies"),
    "follow_up": "promise",
}
RuleCode = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]


def _form_of(rule: service.ShopRule) -> dict[str, str]:
    return {
        "name": rule.name,
        "description": rule.description,
        "severity": rule.severity.value,
        "points": str(rule.points),
        "enabled": "true" if rule.enabled else "",
        "patterns": "\n".join(rule.patterns),
        "scope": rule.scope.value,
        "minutes": "" if rule.minutes is None else str(rule.minutes),
        "suggestion": rule.suggestion,
    }


def _page(
    request: Request,
    uow: UnitOfWork,
    principal: Principal,
    *,
    done: str | None = None,
    error: str | None = None,
    failed: str = "",
    typed: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rules = service.list_rules(uow.session, shop_id=principal.shop_id)
    forms = {rule.code: _form_of(rule) for rule in rules}
    forms["new"] = {
        "name": "", "description": "", "severity": Severity.MINOR.value, "points": "5",
        "enabled": "true", "patterns": "", "scope": PatternScope.ALWAYS.value, "minutes": "",
        "suggestion": "",
    }  # fmt: skip
    if typed is not None and failed in forms:
        forms[failed] = {**forms[failed], **typed}
    return render(
        request,
        "coach_rules.html",
        {
            "rules": rules,
            "forms": forms,
            "severities": list(Severity),
            "scopes": list(PatternScope),
            "pattern_kind": RuleKind.PATTERN,
            "variables": " ".join("{" + name + "}" for name in service.VARIABLES),
            "meanings": MEANINGS,
            "can_edit": principal.has_role(Role.SUPERVISOR),
            "done": done if done in NOTICES else None,
            "error": error,
            "failed": failed,
        },
        status_code=status_code,
    )


@router.get(SETTINGS, response_class=HTMLResponse)
def rules_page(
    request: Request,
    done: str = Query(default="", max_length=20),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    _: str = Depends(page_locale),
) -> HTMLResponse:
    return _page(request, uow, principal, done=done)


def _refused(
    request: Request,
    uow: UnitOfWork,
    principal: Principal,
    locale: str,
    exc: DomainError,
    *,
    failed: str,
    typed: Mapping[str, str] | None,
) -> HTMLResponse:
    uow.rollback()
    return _page(
        request, uow, principal, error=localised(locale, exc), failed=failed, typed=typed,
        status_code=status_of(exc),
    )  # fmt: skip


def _done(notice: str, anchor: str) -> RedirectResponse:
    return redirect_done(SETTINGS, notice, anchor)


def _whole(value: str, *, field: str, most: int) -> int:
    value = value.strip()
    if not value.isdigit() or len(value) > 7:
        raise Invalid(
            f"{field} must be a whole number", field=field, key=f"coach.rules.error.{field}",
            max=most,
        )  # fmt: skip
    return int(value)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _values(typed: Mapping[str, str], rule: service.ShopRule | None) -> dict[str, Any]:
    """The service's arguments from a posted form: every field the form shows for the
    rule (scope for pattern rules, minutes for the timed ones)."""
    values: dict[str, Any] = {
        "name": typed.get("name", ""),
        "description": typed.get("description", ""),
        "severity": typed.get("severity", ""),
        "points": _whole(typed.get("points", ""), field="points", most=MAX_POINTS),
        "enabled": typed.get("enabled") == "true",
        "patterns": _lines(typed.get("patterns", "")),
        "suggestion": typed.get("suggestion", ""),
    }
    if rule is None or rule.kind is RuleKind.PATTERN:
        values["scope"] = typed.get("scope", "")
    if rule is not None and rule.timed:
        values["minutes"] = _whole(typed.get("minutes", ""), field="minutes", most=MAX_MINUTES)
    return values


@router.post(f"{SETTINGS}/rules", response_class=HTMLResponse)
def create_rule(
    request: Request,
    csrf_token: str = Form(default=""),
    typed: dict[str, str] = Depends(typed_fields),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    check_csrf(request, csrf_token)
    ensure_role(principal, Role.SUPERVISOR)
    try:
        rule = service.create_rule(
            uow, shop_id=principal.shop_id, agent_id=principal.agent_id, **_values(typed, None)
        )
    except DomainError as exc:
        return _refused(request, uow, principal, locale, exc, failed="new", typed=typed)
    return _done("rule_created", f"rule-{rule.code}")


@router.post(SETTINGS + "/rules/{code}", response_class=HTMLResponse)
def update_rule(
    request: Request,
    code: RuleCode,
    csrf_token: str = Form(default=""),
    typed: dict[str, str] = Depends(typed_fields),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    check_csrf(request, csrf_token)
    ensure_role(principal, Role.SUPERVISOR)
    try:
        rule = service.get_rule(uow.session, shop_id=principal.shop_id, code=code)
        service.update_rule(
            uow, shop_id=principal.shop_id, code=code, agent_id=principal.agent_id,
            **_values(typed, rule),
        )  # fmt: skip
    except DomainError as exc:
        return _refused(request, uow, principal, locale, exc, failed=code, typed=typed)
    return _done("rule_saved", f"rule-{code}")


@router.post(SETTINGS + "/rules/{code}/delete", response_class=HTMLResponse)
def delete_rule(
    request: Request,
    code: RuleCode,
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    check_csrf(request, csrf_token)
    ensure_role(principal, Role.SUPERVISOR)
    try:
        service.delete_rule(uow, shop_id=principal.shop_id, code=code, agent_id=principal.agent_id)
    except DomainError as exc:
        return _refused(request, uow, principal, locale, exc, failed=code, typed=None)
    return _done("rule_deleted", "rules")


@router.post(f"{SETTINGS}/reset", response_class=HTMLResponse)
def reset_rules(
    request: Request,
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> Response:
    check_csrf(request, csrf_token)
    ensure_role(principal, Role.SUPERVISOR)
    service.reset_rules(uow, shop_id=principal.shop_id, agent_id=principal.agent_id)
    return _done("rules_reset", "rules")
