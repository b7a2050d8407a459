"""The page ``/phrases``: canned phrases (快捷短语) — the agent's own and the shop's shared
ones, each with a preview filled in with an example buyer's details.

Every agent adds, edits and deletes their own; supervisors and owners also the shared
ones (an agent sees those read-only). A refused form comes back beside that form with the
reason, still holding what was typed, and nothing changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.coach import service
from kefu.errors import DomainError
from kefu.shops import service as shops
from kefu.uow import UnitOfWork
from kefu.web.deps import ResourceId, get_uow, page_locale, page_principal
from kefu.web.errors import localised, status_of
from kefu.web.forms import redirect_done
from kefu.web.security import check_csrf
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)
PHRASES: Final = "/phrases"
NOTICES: Final = {"phrase_created", "phrase_saved", "phrase_deleted"}


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
    session, shop_id = uow.session, principal.shop_id
    phrases = service.list_phrases(session, shop_id=shop_id, agent_id=principal.agent_id)
    example = service.example_values(shops.get_shop(session, shop_id=shop_id).name)
    forms = {str(p.id): {"shortcut": p.shortcut, "title": p.title, "body": p.body} for p in phrases}
    forms["new"] = {"shortcut": "", "title": "", "body": "", "shared": ""}
    if typed is not None and failed in forms:
        forms[failed] = {**forms[failed], **typed}
    return render(
        request,
        "coach_phrases.html",
        {
            "mine": [p for p in phrases if p.owner_agent_id is not None],
            "shared": [p for p in phrases if p.owner_agent_id is None],
            "previews": {p.id: service.render(p.body, example) for p in phrases},
            "example": example,
            "forms": forms,
            "can_share": principal.has_role(Role.SUPERVISOR),
            "done": done if done in NOTICES else None,
            "error": error,
            "failed": failed,
        },
        status_code=status_code,
    )


@router.get(PHRASES, response_class=HTMLResponse)
def phrases_page(
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
    return redirect_done(PHRASES, notice, anchor)


@router.post(PHRASES, response_class=HTMLResponse)
def create_phrase(
    request: Request,
    shortcut: str = Form(default="", max_length=300),
    title: str = Form(default="", max_length=600),
    body: str = Form(default="", max_length=10_000),
    shared: str = Form(default="", max_length=10),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    check_csrf(request, csrf_token)
    typed = {"shortcut": shortcut, "title": title, "body": body, "shared": shared}
    try:
        phrase = service.create_phrase(
            uow, shop_id=principal.shop_id, agent_id=principal.agent_id, role=principal.role,
            shortcut=shortcut, title=title, body=body, shared=shared == "true",
        )  # fmt: skip
    except DomainError as exc:
        return _refused(request, uow, principal, locale, exc, failed="new", typed=typed)
    return _done("phrase_created", f"phrase-{phrase.id}")


@router.post(PHRASES + "/{phrase_id}", response_class=HTMLResponse)
def update_phrase(
    request: Request,
    phrase_id: ResourceId,
    shortcut: str = Form(default="", max_length=300),
    title: str = Form(default="", max_length=600),
    body: str = Form(default="", max_length=10_000),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    check_csrf(request, csrf_token)
    typed = {"shortcut": shortcut, "title": title, "body": body}
    try:
        service.update_phrase(
            uow, shop_id=principal.shop_id, agent_id=principal.agent_id, role=principal.role,
            phrase_id=phrase_id, shortcut=shortcut, title=title, body=body,
        )  # fmt: skip
    except DomainError as exc:
        return _refused(request, uow, principal, locale, exc, failed=str(phrase_id), typed=typed)
    return _done("phrase_saved", f"phrase-{phrase_id}")


@router.post(PHRASES + "/{phrase_id}/delete", response_class=HTMLResponse)
def delete_phrase(
    request: Request,
    phrase_id: ResourceId,
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    check_csrf(request, csrf_token)
    try:
        service.delete_phrase(
            uow, shop_id=principal.shop_id, agent_id=principal.agent_id, role=principal.role,
            phrase_id=phrase_id,
        )  # fmt: skip
    except DomainError as exc:
        return _refused(request, uow, principal, locale, exc, failed=str(phrase_id), typed=None)
    return _done("phrase_deleted", "mine")
