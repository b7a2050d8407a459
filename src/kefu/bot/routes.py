"""``/api/v1/bot``: the bot's settings and the intent → team table, over REST."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.bot import service
from kefu.bot.schemas import BotSettingsIn, BotSettingsOut, IntentRouteIn, IntentRouteOut
from kefu.bot.suggestions import Suggestions, suggestions_for
from kefu.conversations import desk
from kefu.nlp.intents import LABELS
from kefu.uow import UnitOfWork
from kefu.web.deps import ResourceId, api_principal, ensure_role, get_uow

router = APIRouter(prefix="/api/v1/bot", tags=["bot"])
IntentNumber = Annotated[int, Path(ge=1, le=len(LABELS))]


@router.get("/settings", response_model=BotSettingsOut)
def get_settings(
    principal: Principal = Depends(api_principal), uow: UnitOfWork = Depends(get_uow)
) -> BotSettingsOut:
    """The bot's settings (supervisors and owners)."""
    ensure_role(principal, Role.SUPERVISOR)
    return service.describe_settings(uow.session, shop_id=principal.shop_id)


@router.patch("/settings", response_model=BotSettingsOut)
def update_settings(
    body: BotSettingsIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> BotSettingsOut:
    """Change some settings (owner): only the fields given change."""
    ensure_role(principal, Role.OWNER)
    return service.update_settings(uow, shop_id=principal.shop_id, changes=body)


@router.get("/intents", response_model=list[IntentRouteOut])
def list_intents(
    principal: Principal = Depends(api_principal), uow: UnitOfWork = Depends(get_uow)
) -> list[IntentRouteOut]:
    """Every built-in intent, numbered from 1 in this order, with its team and action."""
    ensure_role(principal, Role.SUPERVISOR)
    return [
        IntentRouteOut(
            intent=row.intent, team_code=row.team_code, action=row.action, edited=row.edited
        )
        for row in service.intent_table(uow.session, shop_id=principal.shop_id)
    ]


@router.put("/intents/{number}", response_model=IntentRouteOut)
def set_intent(
    number: IntentNumber,
    body: IntentRouteIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> IntentRouteOut:
    """Send intent ``number`` (1–118, the order of GET /intents) to another team (owner)."""
    ensure_role(principal, Role.OWNER)
    row = service.set_intent_route(
        uow,
        shop_id=principal.shop_id,
        intent=LABELS[number - 1],
        team_code=body.team_code,
        action=body.action,
    )
    return IntentRouteOut(
        intent=row.intent, team_code=row.team_code, action=row.action, edited=row.edited
    )


@router.get("/conversations/{conversation_id}/suggestions", response_model=Suggestions)
def conversation_suggestions(
    conversation_id: ResourceId,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> Suggestions:
    """The top three knowledge-base answers to the buyer's latest question, ready to send."""
    viewer = desk.viewer_of(uow.session, principal)
    return suggestions_for(
        uow.session, shop_id=principal.shop_id, conversation_id=conversation_id, viewer=viewer
    )
