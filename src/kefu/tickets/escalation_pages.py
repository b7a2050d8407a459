"""The escalation forms (升级): 「升级给值班经理」 on the KB's unanswered inbox, and on an
escalation ticket's page the duty manager's answer and 「加入知识库」.

The ticket forms land back on the ticket with a notice, or show it again with the reason
next to the form (the ticket page's own :class:`kefu.tickets.ticket_forms.Page`).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.errors import DomainError
from kefu.tickets import escalation
from kefu.tickets.page_parts import acting_agent, back_to
from kefu.tickets.ticket_forms import Page
from kefu.uow import UnitOfWork
from kefu.web.deps import ResourceId, ensure_role, get_uow, page_locale, page_principal
from kefu.web.errors import error_page, localised, status_of
from kefu.web.security import check_csrf

router = APIRouter(include_in_schema=False, prefix="/tickets")


@router.post("/escalations/from-group/{group_id}")
def escalate_group(
    request: Request,
    group_id: ResourceId,
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    """「升级给值班经理」 from the KB's unanswered inbox (supervisors, like the inbox)."""
    check_csrf(request, csrf_token)
    ensure_role(principal, Role.SUPERVISOR)
    try:
        ticket = escalation.escalate_question(
            uow,
            shop_id=principal.shop_id,
            question="",
            unanswered_group_id=group_id,
            actor_agent_id=acting_agent(principal),
        )
    except DomainError as exc:
        uow.rollback()
        # Already escalated or resolved meanwhile: said on a page of its own, nothing done.
        return error_page(request, status_of(exc), localised(locale, exc))
    return back_to(f"/tickets/{ticket.id}", created=1)


@router.post("/{ticket_id}/escalation/answer")
def answer(answer: str = Form(default="", max_length=20_000), page: Page = Depends()) -> Response:
    """The duty manager's answer: to the buyer in the chat; the ticket solved."""

    def action() -> tuple[int, str]:
        escalation.answer_escalation(
            page.uow,
            shop_id=page.shop_id,
            ticket_id=page.ticket_id,
            answer=answer,
            actor_agent_id=page.agent_id,
        )
        return page.ticket_id, "answered"

    return page.act("escalation_answer", {"answer": answer}, action)


@router.post("/{ticket_id}/escalation/kb")
def to_kb(
    questions: str = Form(default="", max_length=5000),
    category: str = Form(default="", max_length=400),
    page: Page = Depends(),
) -> Response:
    """「加入知识库」: one phrasing per line; none given: the buyers' own wordings."""

    def action() -> tuple[int, str]:
        ensure_role(page.principal, Role.SUPERVISOR)
        lines = [line.strip() for line in questions.splitlines() if line.strip()]
        escalation.answer_to_kb(
            page.uow,
            shop_id=page.shop_id,
            ticket_id=page.ticket_id,
            actor_agent_id=page.agent_id,
            questions=lines or None,
            category=category,
        )
        return page.ticket_id, "kb"

    return page.act("escalation_kb", {"questions": questions, "category": category}, action)
