"""``/api/v1/coach/rules``: the shop's coach rules over REST. Everyone of the shop reads
them; supervisors and owners (and tokens with that role) change them. A refused edit
(a pattern that does not compile, 第 n 条, an unknown variable …) changes nothing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.coach import service
from kefu.coach.schemas import RuleCreateIn, RuleOut, RulePatchIn
from kefu.uow import UnitOfWork
from kefu.web.deps import api_principal, ensure_role, get_uow

router = APIRouter(prefix="/api/v1/coach/rules", tags=["coach rules"])
# A code that cannot be a rule's is a 404 like any unknown one (web.errors).
RuleCode = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]


def rule_out(rule: service.ShopRule) -> RuleOut:
    return RuleOut(
        code=rule.code, kind=rule.kind, name=rule.name, description=rule.description,
        severity=rule.severity, points=rule.points, enabled=rule.enabled,
        patterns=list(rule.patterns), scope=rule.scope, minutes=rule.minutes,
        suggestion=rule.suggestion, builtin=rule.builtin, changed=rule.changed,
        updated_at=rule.updated_at, updated_by_agent_id=rule.updated_by_agent_id,
    )  # fmt: skip


@router.get("", response_model=list[RuleOut])
def list_rules(
    principal: Principal = Depends(api_principal), uow: UnitOfWork = Depends(get_uow)
) -> list[RuleOut]:
    """Every rule, switched-off ones included: the built-in ones, then the shop's own."""
    return [rule_out(r) for r in service.list_rules(uow.session, shop_id=principal.shop_id)]


@router.post("", response_model=RuleOut, status_code=201)
def create_rule(
    body: RuleCreateIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> RuleOut:
    """A rule of the shop's own, ``custom_<n>``: a reply matching one of its patterns
    breaks it (always, or only answering an angry or complaining buyer)."""
    ensure_role(principal, Role.SUPERVISOR)
    rule = service.create_rule(
        uow, shop_id=principal.shop_id, agent_id=principal.agent_id, **body.model_dump()
    )
    return rule_out(rule)


@router.post("/reset", response_model=list[RuleOut])
def reset_rules(
    principal: Principal = Depends(api_principal), uow: UnitOfWork = Depends(get_uow)
) -> list[RuleOut]:
    """Back to the defaults: every edit undone, the shop's own rules deleted."""
    ensure_role(principal, Role.SUPERVISOR)
    rules = service.reset_rules(uow, shop_id=principal.shop_id, agent_id=principal.agent_id)
    return [rule_out(r) for r in rules]


@router.get("/{code}", response_model=RuleOut)
def get_rule(
    code: RuleCode,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> RuleOut:
    return rule_out(service.get_rule(uow.session, shop_id=principal.shop_id, code=code))


@router.patch("/{code}", response_model=RuleOut)
def update_rule(
    code: RuleCode,
    body: RulePatchIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> RuleOut:
    """Change what is sent. The first edit of a shop writes down all the defaults."""
    ensure_role(principal, Role.SUPERVISOR)
    rule = service.update_rule(
        uow, shop_id=principal.shop_id, code=code, agent_id=principal.agent_id,
        **body.model_dump(exclude_unset=True),
    )  # fmt: skip
    return rule_out(rule)


@router.delete("/{code}", status_code=204, response_class=Response)
def delete_rule(
    code: RuleCode,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> Response:
    """Delete a rule of the shop's own; a built-in one is switched off instead (409)."""
    ensure_role(principal, Role.SUPERVISOR)
    service.delete_rule(uow, shop_id=principal.shop_id, code=code, agent_id=principal.agent_id)
    return Response(status_code=204)
