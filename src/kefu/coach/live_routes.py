"""Live hints over REST: ``POST /api/v1/coach/check`` {conversation_id, text}.

The desk calls it on every typing pause in reply mode (desk_coach.js), so it only reads:
nothing is written, whatever the draft says. The conversation must be one the caller may
work in the desk (another shop's: 404; another team's, for an agent: 403, as the desk).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from kefu.accounts.auth import Principal
from kefu.coach import service
from kefu.coach.live_schemas import CheckIn, CheckOut, check_out
from kefu.conversations import desk
from kefu.uow import UnitOfWork
from kefu.web.deps import api_principal, get_uow

router = APIRouter(prefix="/api/v1/coach", tags=["coach 质检"])


@router.post("/check", response_model=CheckOut)
def check_draft(
    body: CheckIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> CheckOut:
    """The rules the draft would break if sent now, each with its span in ``text`` and a
    better phrasing for this buyer; an apology-first opening when the buyer complains."""
    result = service.check_draft_for(
        uow.session,
        shop_id=principal.shop_id,
        agent_id=principal.agent_id,
        conversation_id=body.conversation_id,
        text=body.text,
        now=uow.clock.now(),
        viewer=desk.viewer_of(uow.session, principal),
    )
    return check_out(result)
