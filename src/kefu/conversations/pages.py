"""The agent workspace page (/desk). Everything on it is live: desk.js talks to the
websocket and the desk API; the page only hands it who the agent is and the shop's teams."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse

from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.conversations import desk
from kefu.shops import service as shops
from kefu.uow import UnitOfWork
from kefu.web.deps import get_uow, page_locale, page_principal
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/desk", response_class=HTMLResponse)
def desk_page(
    request: Request,
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    _: str = Depends(page_locale),
) -> HTMLResponse:
    session = uow.session
    supervisor = principal.has_role(Role.SUPERVISOR)
    viewer = desk.viewer_of(session, principal)
    overview = desk.overview(
        session,
        shop_id=principal.shop_id,
        agent_id=principal.agent_id,
        viewer=viewer,
        now=uow.clock.now(),
    )
    shop = shops.get_shop(session, shop_id=principal.shop_id)
    bootstrap = {
        "me": overview["me"],
        # Transfers may go to any team of the shop, not only the agent's own.
        "teams": [
            {"id": t.id, "code": t.code, "name": t.name}
            for t in shops.list_teams(session, shop_id=principal.shop_id)
        ],
        "my_team_ids": sorted(viewer.team_ids) if viewer.team_ids is not None else None,
        "agents": [
            {"id": a["id"], "name": a["name"], "team_ids": a["team_ids"], "presence": a["presence"]}
            for a in overview["agents"]
        ],
        "is_supervisor": supervisor,
        "timezone": shop.timezone,
    }
    return render(request, "desk.html", {"bootstrap": bootstrap, "shop": shop})
