"""``/api/v1/coach/phrases``: canned phrases (快捷短语) over REST. An agent sees the shop's
shared phrases and their own; supervisors and owners write the shared ones. With
``?conversation_id`` the bodies come filled in for that conversation's buyer (one the
caller may work: another team's is 403, another shop's 404)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response

from kefu.accounts.auth import Principal
from kefu.coach import service
from kefu.coach.models import CannedPhrase
from kefu.coach.schemas import PhraseIn, PhraseListOut, PhraseOut, PhrasePatchIn, RenderedOut
from kefu.db import MAX_ID
from kefu.uow import UnitOfWork
from kefu.web.deps import ResourceId, api_principal, get_uow

router = APIRouter(prefix="/api/v1/coach/phrases", tags=["coach phrases"])


def phrase_out(phrase: CannedPhrase, rendered: str | None = None) -> PhraseOut:
    return PhraseOut(
        id=phrase.id, shortcut=phrase.shortcut, title=phrase.title, body=phrase.body,
        shared=phrase.owner_agent_id is None, owner_agent_id=phrase.owner_agent_id,
        use_count=phrase.use_count, created_at=phrase.created_at, updated_at=phrase.updated_at,
        rendered=rendered,
    )  # fmt: skip


@router.get("", response_model=PhraseListOut)
def list_phrases(
    q: str = Query(default="", max_length=100, description='what was typed: "/退货" or "退货"'),
    conversation_id: int | None = Query(
        default=None, ge=1, le=MAX_ID, description="fill the bodies in for this conversation"
    ),
    limit: int = Query(default=10, ge=1, le=50, description="with q: at most this many"),
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> PhraseListOut:
    """The caller's own phrases then the shared ones; with ``q``, the best matches
    (shortcuts starting with it first, then titles and bodies containing it)."""
    session, shop_id, agent_id = uow.session, principal.shop_id, principal.agent_id
    values = None
    if conversation_id is not None:
        values = service.values_seen_by(
            session, shop_id=shop_id, agent_id=agent_id, role=principal.role,
            conversation_id=conversation_id,
        )  # fmt: skip
    if q.strip():
        phrases = service.search_phrases(
            session, shop_id=shop_id, agent_id=agent_id, query=q, limit=limit
        )
    else:
        phrases = service.list_phrases(session, shop_id=shop_id, agent_id=agent_id)
    return PhraseListOut(
        phrases=[
            phrase_out(p, None if values is None else service.render(p.body, values))
            for p in phrases
        ],
        variables=values,
    )


@router.post("", response_model=PhraseOut, status_code=201)
def create_phrase(
    body: PhraseIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> PhraseOut:
    """The caller's own phrase, or a shared one (``shared``: supervisors and owners)."""
    phrase = service.create_phrase(
        uow, shop_id=principal.shop_id, agent_id=principal.agent_id, role=principal.role,
        **body.model_dump(),
    )  # fmt: skip
    return phrase_out(phrase)


@router.patch("/{phrase_id}", response_model=PhraseOut)
def update_phrase(
    phrase_id: ResourceId,
    body: PhrasePatchIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> PhraseOut:
    phrase = service.update_phrase(
        uow, shop_id=principal.shop_id, agent_id=principal.agent_id, role=principal.role,
        phrase_id=phrase_id, **body.model_dump(exclude_unset=True),
    )  # fmt: skip
    return phrase_out(phrase)


@router.delete("/{phrase_id}", status_code=204, response_class=Response)
def delete_phrase(
    phrase_id: ResourceId,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> Response:
    service.delete_phrase(
        uow, shop_id=principal.shop_id, agent_id=principal.agent_id, role=principal.role,
        phrase_id=phrase_id,
    )  # fmt: skip
    return Response(status_code=204)


@router.post("/{phrase_id}/use", response_model=RenderedOut)
def use_phrase(
    phrase_id: ResourceId,
    conversation_id: int | None = Query(default=None, ge=1, le=MAX_ID),
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> RenderedOut:
    """The body filled in for the conversation, counted as one use."""
    text = service.use_phrase(
        uow, shop_id=principal.shop_id, agent_id=principal.agent_id, role=principal.role,
        phrase_id=phrase_id, conversation_id=conversation_id,
    )  # fmt: skip
    phrase = service.get_phrase(
        uow.session, shop_id=principal.shop_id, agent_id=principal.agent_id, phrase_id=phrase_id
    )
    return RenderedOut(id=phrase.id, text=text, use_count=phrase.use_count)
