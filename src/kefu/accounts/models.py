"""Agents (the shop's staff), their login sessions, API tokens and login attempts."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db import Base, UTCDateTime, value_enum


class Role(enum.StrEnum):
    OWNER = "owner"  # 掌柜: configures the shop, manages staff and tokens
    SUPERVISOR = "supervisor"  # 客服主管: sees every queue and every agent's work
    AGENT = "agent"  # 客服: works conversations in their teams

    @property
    def rank(self) -> int:
        return {Role.AGENT: 1, Role.SUPERVISOR: 2, Role.OWNER: 3}[self]


class Presence(enum.StrEnum):
    """What an agent chose on the desk. Offline is also what an agent with no desk open is."""

    ONLINE = "online"  # takes new conversations
    AWAY = "away"  # keeps their conversations, takes no new ones
    OFFLINE = "offline"


DEFAULT_CAPACITY = 5


class Agent(Base):
    __tablename__ = "agents"
    __table_args__ = (UniqueConstraint("shop_id", "email"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    display_name: Mapped[str] = mapped_column(String(60))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(value_enum(Role))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(10), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Presence on the desk: the agent's choice, and when a desk of theirs last said it is
    # still connected (a stale or missing heartbeat means offline, whatever the choice).
    presence: Mapped[Presence] = mapped_column(
        value_enum(Presence, length=10),
        default=Presence.ONLINE,
        server_default=Presence.ONLINE.value,
    )
    presence_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # How many open conversations routing gives this agent at once.
    capacity: Mapped[int] = mapped_column(
        Integer, default=DEFAULT_CAPACITY, server_default=str(DEFAULT_CAPACITY)
    )
    # Round robin: the agent assigned least recently gets the next conversation.
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class TeamMembership(Base):
    __tablename__ = "team_memberships"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)


class LoginSession(Base):
    """A signed-in browser. Only a hash of the cookie value is stored."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    user_agent: Mapped[str] = mapped_column(String(255), default="")


class ApiToken(Base):
    """A credential for the shop's own systems (order sync, webhooks). Shown once, stored hashed."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    # First characters of the token, shown in lists so an owner can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[Role] = mapped_column(value_enum(Role))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class LoginAttempt(Base):
    """Failed logins, kept in the database so the limit holds across processes and restarts."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_account", "shop_slug", "email", "attempted_at"),
        Index("ix_login_attempts_address", "client_address", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_slug: Mapped[str] = mapped_column(String(40))
    email: Mapped[str] = mapped_column(String(254))
    client_address: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime())
