from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from kefu.accounts.models import Role


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shop: str = Field(min_length=1, max_length=40, description="the shop's code, e.g. 'demo'")
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=256)


class AgentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    display_name: str
    role: Role
    is_active: bool
    locale: str | None
    created_at: datetime
    last_login_at: datetime | None
    team_ids: list[int] = []


class AgentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=254)
    display_name: str = Field(min_length=1, max_length=60)
    password: str = Field(min_length=8, max_length=256)
    role: Role = Role.AGENT
    team_ids: list[int] = []


class AgentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(default=None, min_length=1, max_length=60)
    role: Role | None = None
    is_active: bool | None = None
    locale: str | None = None
    team_ids: list[int] | None = None
    password: str | None = Field(
        default=None, min_length=8, max_length=256, description="reset: ends the agent's sessions"
    )


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=8, max_length=256)


class MeOut(BaseModel):
    shop_id: int
    shop_slug: str
    shop_name: str
    timezone: str
    role: Role
    name: str
    via: str
    agent: AgentOut | None


class LoginOut(BaseModel):
    me: MeOut
    csrf_token: str = Field(description="send as X-CSRF-Token with cookie-authenticated writes")
    expires_at: datetime


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=80)
    role: Role = Role.AGENT


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    role: Role
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="the secret; shown only now")
