"""Quality inspection pages (质检):

- ``/quality`` (supervisors and owners): the range's scores per agent and per team with
  their trend and top problems, the frequent problems, and the worst conversations to
  review; filtered by dates (shop time), team and agent.
- ``/quality/conversations/{id}``: the transcript with every hit on its message (the span
  highlighted), the scores, and for a supervisor the review form (confirm or overturn each
  hit, a comment for the agent). An agent sees their own score there with the verdicts
  and the comment; opening it marks the review read.
- ``/quality/mine``: the agent's own scores, trend and the supervisors' comments.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from kefu.accounts import service as accounts
from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.coach import service
from kefu.coach.qa_charts import sparkline
from kefu.coach.qa_periods import QaRange
from kefu.db import MAX_ID
from kefu.errors import DomainError, Invalid, NotFound, PermissionDenied
from kefu.shops import service as shops
from kefu.uow import UnitOfWork
from kefu.web.deps import ResourceId, ensure_role, get_uow, page_locale, page_principal
from kefu.web.errors import localised, status_of
from kefu.web.security import check_csrf
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)
QUALITY: Final = "/quality"
WORST_SHOWN: Final = 15
MINE_SHOWN: Final = 100


def _date(value: str, *, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(
            f"{field} must be a date such as 2026-11-23",
            field=field,
            key="coach.qa.error.date",
        ) from None


def _id(value: str, *, field: str) -> int | None:
    """An optional id filter from a form ("" = all); a bad one is Invalid."""
    if not value:
        return None
    if not value.isdigit() or not 1 <= int(value) <= MAX_ID:
        raise Invalid(f"{field} is not an id", field=field, key="coach.qa.error.filter")
    return int(value)


def _range(uow: UnitOfWork, principal: Principal, since: str, until: str, period: str) -> QaRange:
    return service.qa_range(
        uow.session,
        shop_id=principal.shop_id,
        now=uow.clock.now(),
        since=_date(since, field="from"),
        until=_date(until, field="to"),
        period=period or "day",
    )


# --- /quality ------------------------------------------------------------------------------


@router.get(QUALITY, response_class=HTMLResponse)
def quality_page(
    request: Request,
    since: str = Query(default="", alias="from", max_length=10),
    until: str = Query(default="", alias="to", max_length=10),
    period: str = Query(default="day", max_length=4),
    team: str = Query(default="", max_length=12),
    agent: str = Query(default="", max_length=12),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> HTMLResponse:
    ensure_role(principal, Role.SUPERVISOR)
    session, shop_id = uow.session, principal.shop_id
    error = None
    try:
        span = _range(uow, principal, since, until, period)
        team_id, agent_id = _id(team, field="team"), _id(agent, field="agent")
    except Invalid as exc:
        error = localised(locale, exc)
        span = _range(uow, principal, "", "", "day")
        team_id = agent_id = None
    overview = service.quality_overview(
        session, shop_id=shop_id, span=span, team_id=team_id, agent_id=agent_id
    )
    worst = service.worst_conversations(
        session, shop_id=shop_id, span=span, team_id=team_id, agent_id=agent_id, limit=WORST_SHOWN
    )
    sparks = {
        f"{kind}:{row.key}": sparkline(row.trend)
        for kind, rows in (("agent", overview.agents), ("team", overview.teams))
        for row in rows
    }
    return render(
        request,
        "quality.html",
        {
            "overview": overview,
            "span": span,
            "shop_spark": sparkline(overview.trend, width=240, height=40),
            "sparks": sparks,
            "worst": worst,
            "teams": shops.list_teams(session, shop_id=shop_id),
            "agents": accounts.list_agents(session, shop_id=shop_id),
            "team_id": team_id,
            "agent_id": agent_id,
            "error": error,
        },
        status_code=422 if error else 200,
    )


# --- /quality/mine --------------------------------------------------------------------------


@router.get(QUALITY + "/mine", response_class=HTMLResponse)
def my_quality_page(
    request: Request,
    since: str = Query(default="", alias="from", max_length=10),
    until: str = Query(default="", alias="to", max_length=10),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> HTMLResponse:
    error = None
    try:
        span = _range(uow, principal, since, until, "day")
    except Invalid as exc:
        error = localised(locale, exc)
        span = _range(uow, principal, "", "", "day")
    mine = service.my_scores(
        uow.session,
        shop_id=principal.shop_id,
        agent_id=principal.agent_id or 0,
        span=span,
        limit=MINE_SHOWN,
    )
    return render(
        request,
        "quality_mine.html",
        {
            "mine": mine,
            "span": span,
            "spark": sparkline(mine.trend, width=240, height=40),
            "error": error,
        },
        status_code=422 if error else 200,
    )


# --- /quality/conversations/{id} ------------------------------------------------------------


def _conversation_page(
    request: Request,
    uow: UnitOfWork,
    principal: Principal,
    conversation_id: int,
    *,
    done: str | None = None,
    error: str | None = None,
    failed: int | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    detail = service.get_score_detail(
        uow.session,
        shop_id=principal.shop_id,
        conversation_id=conversation_id,
        viewer_id=principal.agent_id,
        viewer_role=principal.role,
    )
    # The agent reading their reviewed score: it is read now (on the next page too).
    opened = False
    for view in detail.scores:
        if view.agent_id == principal.agent_id and view.reviewed and view.agent_read_at is None:
            opened |= service.mark_read(
                uow, shop_id=principal.shop_id, score_id=view.id, agent_id=principal.agent_id,
                commit=False,
            )  # fmt: skip
    if opened:
        uow.commit()
    may_review = principal.has_role(Role.SUPERVISOR) and principal.agent_id is not None
    return render(
        request,
        "quality_conversation.html",
        {
            "detail": detail,
            "scores_by_id": {view.id: view for view in detail.scores},
            "may_review": may_review,
            "zone": shops.get_shop(uow.session, shop_id=principal.shop_id).timezone,
            "done": done if done == "reviewed" else None,
            "error": error,
            "failed": failed,
        },
        status_code=status_code,
    )


@router.get(QUALITY + "/conversations/{conversation_id}", response_class=HTMLResponse)
def conversation_page(
    request: Request,
    conversation_id: ResourceId,
    done: str = Query(default="", max_length=20),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    _: str = Depends(page_locale),
) -> HTMLResponse:
    return _conversation_page(request, uow, principal, conversation_id, done=done)


@router.post(QUALITY + "/scores/{score_id}/review", response_class=HTMLResponse)
def review_form(
    request: Request,
    score_id: ResourceId,
    hit_id: list[str] = Form(default=[], max_length=200),
    verdict: list[str] = Form(default=[], max_length=200),
    hit_comment: list[str] = Form(default=[], max_length=200),
    comment: str = Form(default="", max_length=10_000),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    """One row per hit (its id, the verdict chosen — "" leaves it as it is — and a
    comment), in the order of the form, and the comment for the agent."""
    check_csrf(request, csrf_token)
    try:
        verdicts = _verdicts(hit_id, verdict, hit_comment)
        score = service.review_score(
            uow, shop_id=principal.shop_id, score_id=score_id, reviewer_id=principal.agent_id,
            verdicts=verdicts, comment=comment,
        )  # fmt: skip
    except (NotFound, PermissionDenied):
        raise  # another shop's score, or not theirs to review: the error page
    except DomainError as exc:
        uow.rollback()
        view = service.get_score(
            uow.session, shop_id=principal.shop_id, score_id=score_id,
            viewer_id=principal.agent_id, viewer_role=principal.role,
        )  # fmt: skip
        return _conversation_page(
            request, uow, principal, view.conversation_id, error=localised(locale, exc),
            failed=score_id, status_code=status_of(exc),
        )  # fmt: skip
    return RedirectResponse(
        f"{service.conversation_link(score.conversation_id)}?done=reviewed#score-{score.id}",
        status_code=303,
    )


def _verdicts(ids: list[str], verdicts: list[str], comments: list[str]) -> list[Any]:
    if not len(ids) == len(verdicts) == len(comments) or len(ids) > 200:
        raise Invalid("the review form is incomplete", field="verdicts", key="coach.qa.error.form")
    chosen = []
    for raw, verdict, text in zip(ids, verdicts, comments, strict=True):
        hit = _id(raw, field="hit_id")
        if hit is None or not verdict:
            continue  # no verdict chosen: the hit keeps its own
        chosen.append((hit, verdict, text))
    return chosen
