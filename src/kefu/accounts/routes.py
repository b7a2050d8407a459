"""Auth, agents and API tokens over REST (/api/v1)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from kefu.accounts import auth, service
from kefu.accounts.auth import Principal
from kefu.accounts.models import Agent, Role
from kefu.accounts.schemas import (
    AgentCreate,
    AgentOut,
    AgentUpdate,
    LoginIn,
    LoginOut,
    MeOut,
    PasswordChange,
    TokenCreate,
    TokenCreated,
    TokenOut,
)
from kefu.shops import service as shops
from kefu.uow import UnitOfWork
from kefu.web.context import AppContext
from kefu.web.deps import ResourceId, api_principal, client_address, get_context, get_uow, require
from kefu.web.security import SESSION_COOKIE, new_csrf_cookie, set_session_cookie

router = APIRouter(prefix="/api/v1", tags=["auth & agents"])
owner_only = require(Role.OWNER)


def _agent_out(uow: UnitOfWork, agent: Agent, team_ids: list[int] | None = None) -> AgentOut:
    out = AgentOut.model_validate(agent)
    if team_ids is None:
        team_ids = service.team_ids_of(uow.session, shop_id=agent.shop_id, agent_id=agent.id)
    out.team_ids = team_ids
    return out


def _me(uow: UnitOfWork, principal: Principal) -> MeOut:
    shop = shops.get_shop(uow.session, shop_id=principal.shop_id)
    agent = None
    if principal.agent_id is not None:
        agent = _agent_out(
            uow, service.get_agent(uow.session, shop_id=shop.id, agent_id=principal.agent_id)
        )
    return MeOut(
        shop_id=shop.id,
        shop_slug=shop.slug,
        shop_name=shop.name,
        timezone=shop.timezone,
        role=principal.role,
        name=principal.name,
        via=principal.via,
        agent=agent,
    )


@router.post("/auth/login", response_model=LoginOut)
def login(
    body: LoginIn,
    request: Request,
    response: Response,
    uow: UnitOfWork = Depends(get_uow),
    context: AppContext = Depends(get_context),
) -> LoginOut:
    policy = context.login_policy
    result = auth.login(
        uow,
        shop_slug=body.shop,
        email=body.email,
        password=body.password,
        client_address=client_address(request),
        user_agent=request.headers.get("user-agent", ""),
        policy=policy,
    )
    secure = context.settings.secure_cookies
    set_session_cookie(
        response,
        result.session_token,
        max_age=int(policy.session_lifetime.total_seconds()),
        secure=secure,
    )
    csrf = new_csrf_cookie(response, secure=secure)
    return LoginOut(
        me=_me(uow, result.principal),
        csrf_token=csrf,
        expires_at=context.clock.now() + policy.session_lifetime,
    )


@router.post("/auth/logout", status_code=204)
def logout(
    request: Request,
    response: Response,
    _: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> None:
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        auth.logout(uow, raw_token=raw)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.post("/auth/password", status_code=204)
def change_password(
    body: PasswordChange,
    request: Request,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
    context: AppContext = Depends(get_context),
) -> None:
    """Change your own password; your other sessions end, this one stays."""
    auth.change_password(
        uow,
        principal=principal,
        current_password=body.current_password,
        new_password=body.new_password,
        client_address=client_address(request),
        policy=context.login_policy,
    )


@router.get("/auth/me", response_model=MeOut)
def me(principal: Principal = Depends(api_principal), uow: UnitOfWork = Depends(get_uow)) -> MeOut:
    return _me(uow, principal)


@router.get("/agents", response_model=list[AgentOut])
def list_agents(
    principal: Principal = Depends(api_principal), uow: UnitOfWork = Depends(get_uow)
) -> list[AgentOut]:
    roster = service.roster(uow.session, shop_id=principal.shop_id)
    return [_agent_out(uow, e.agent, sorted(t.id for t in e.teams)) for e in roster.entries]


@router.get("/agents/{agent_id}", response_model=AgentOut)
def get_agent(
    agent_id: ResourceId,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> AgentOut:
    return _agent_out(
        uow, service.get_agent(uow.session, shop_id=principal.shop_id, agent_id=agent_id)
    )


@router.post("/agents", response_model=AgentOut, status_code=201)
def create_agent(
    body: AgentCreate,
    principal: Principal = Depends(owner_only),
    uow: UnitOfWork = Depends(get_uow),
) -> AgentOut:
    agent = service.create_agent(
        uow,
        shop_id=principal.shop_id,
        email=body.email,
        display_name=body.display_name,
        password=body.password,
        role=body.role,
        team_ids=body.team_ids,
    )
    return _agent_out(uow, agent)


@router.patch("/agents/{agent_id}", response_model=AgentOut)
def update_agent(
    agent_id: ResourceId,
    body: AgentUpdate,
    principal: Principal = Depends(owner_only),
    uow: UnitOfWork = Depends(get_uow),
) -> AgentOut:
    agent = service.update_agent(
        uow,
        shop_id=principal.shop_id,
        agent_id=agent_id,
        acting_agent_id=principal.agent_id,
        display_name=body.display_name,
        role=body.role,
        is_active=body.is_active,
        locale=body.locale,
        team_ids=body.team_ids,
        password=body.password,
    )
    return _agent_out(uow, agent)


@router.get("/api-tokens", response_model=list[TokenOut])
def list_tokens(
    principal: Principal = Depends(owner_only), uow: UnitOfWork = Depends(get_uow)
) -> list[TokenOut]:
    return [
        TokenOut.model_validate(t)
        for t in auth.list_api_tokens(uow.session, shop_id=principal.shop_id)
    ]


@router.post("/api-tokens", response_model=TokenCreated, status_code=201)
def create_token(
    body: TokenCreate,
    principal: Principal = Depends(owner_only),
    uow: UnitOfWork = Depends(get_uow),
) -> TokenCreated:
    issued = auth.create_api_token(
        uow, shop_id=principal.shop_id, name=body.name, role=body.role, created_by=principal
    )
    return TokenCreated(**TokenOut.model_validate(issued.token).model_dump(), token=issued.raw)


@router.delete("/api-tokens/{token_id}", response_model=TokenOut)
def revoke_token(
    token_id: ResourceId,
    principal: Principal = Depends(owner_only),
    uow: UnitOfWork = Depends(get_uow),
) -> TokenOut:
    return TokenOut.model_validate(
        auth.revoke_api_token(uow, shop_id=principal.shop_id, token_id=token_id)
    )
