"""Who is calling: login sessions for people, API tokens for the shop's systems.

Raw credentials are never stored: the cookie and the token are random strings handed to
the client once; the database keeps their SHA-256, which is enough for 256-bit secrets.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from kefu.accounts import service
from kefu.accounts.events import (
    AgentLoggedIn,
    AgentLoggedOut,
    ApiTokenCreated,
    ApiTokenRevoked,
    PasswordChanged,
)
from kefu.accounts.models import Agent, ApiToken, LoginAttempt, LoginSession, Role
from kefu.accounts.passwords import (
    MAX_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    verify_password,
)
from kefu.errors import (
    Invalid,
    InvalidCredentials,
    NotFound,
    PermissionDenied,
    RateLimited,
    SessionExpired,
    Unauthenticated,
)
from kefu.shops import service as shops
from kefu.uow import UnitOfWork
from kefu.validation import clean_text

TOKEN_PREFIX = "kefu_"  # noqa: S105 (a public marker, not a secret)
# A client address may fail this many times more than one account before it is throttled
# (a shared office NAT is many people).
ADDRESS_FAILURE_FACTOR = 10


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request."""

    shop_id: int
    role: Role
    agent_id: int | None  # None for an API token
    name: str
    via: str  # "session" or "token"
    credential_id: int

    def has_role(self, minimum: Role) -> bool:
        return self.role.rank >= minimum.rank


@dataclass(frozen=True)
class LoginResult:
    principal: Principal
    session_token: str  # the raw cookie value; shown to the client once


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int
    window: timedelta
    session_lifetime: timedelta


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _throttle(
    session: Session,
    *,
    policy: LoginPolicy,
    shop_slug: str,
    email: str,
    address: str,
    uow: UnitOfWork,
) -> None:
    since = uow.clock.now() - policy.window
    per_account = select(func.count(LoginAttempt.id), func.min(LoginAttempt.attempted_at)).where(
        LoginAttempt.shop_slug == shop_slug,
        LoginAttempt.email == email,
        LoginAttempt.attempted_at > since,
    )
    per_address = select(func.count(LoginAttempt.id), func.min(LoginAttempt.attempted_at)).where(
        LoginAttempt.client_address == address, LoginAttempt.attempted_at > since
    )
    for query, limit in (
        (per_account, policy.max_failures),
        (per_address, policy.max_failures * ADDRESS_FAILURE_FACTOR),
    ):
        count, oldest = session.execute(query).one()
        if count >= limit and oldest is not None:
            wait = (oldest + policy.window - uow.clock.now()).total_seconds()
            raise RateLimited(
                "too many failed logins; try again later",
                key="errors.rate_limited",
                retry_after_seconds=max(1, math.ceil(wait)),
            )


def login(
    uow: UnitOfWork,
    *,
    shop_slug: str,
    email: str,
    password: str,
    client_address: str,
    user_agent: str,
    policy: LoginPolicy,
) -> LoginResult:
    """Check a password and open a session. A failure is recorded (and committed) before raising."""
    session = uow.session
    shop_slug = clean_text(shop_slug, field="shop", max_length=40).lower()
    email = service.normalise_email(clean_text(email, field="email", max_length=254))
    if not shop_slug:
        raise Invalid("shop code is required", field="shop")
    if not email:
        raise Invalid("e-mail is required", field="email")
    if not password or len(password) > MAX_PASSWORD_LENGTH:
        raise Invalid("password is required", field="password")
    _throttle(
        session, policy=policy, shop_slug=shop_slug, email=email, address=client_address, uow=uow
    )
    try:
        shop = shops.get_shop_by_slug(session, slug=shop_slug)
    except NotFound:
        # Counted too, so guessing shop codes is throttled like guessing passwords.
        _record_failure(uow, shop_slug=shop_slug, email=email, address=client_address)
        raise

    agent = session.scalar(select(Agent).where(Agent.shop_id == shop.id, Agent.email == email))
    if not verify_password(agent.password_hash if agent else None, password) or agent is None:
        _record_failure(uow, shop_slug=shop_slug, email=email, address=client_address)
        raise InvalidCredentials("wrong e-mail or password", key="errors.invalid_credentials")
    if not agent.is_active:
        _record_failure(uow, shop_slug=shop_slug, email=email, address=client_address)
        raise InvalidCredentials(
            "this account is deactivated; ask the shop owner", key="errors.account_inactive"
        )

    now = uow.clock.now()
    if needs_rehash(agent.password_hash):
        agent.password_hash = hash_password(password)
    agent.last_login_at = now
    session.execute(
        delete(LoginAttempt).where(LoginAttempt.shop_slug == shop_slug, LoginAttempt.email == email)
    )
    raw = secrets.token_urlsafe(32)
    login_session = LoginSession(
        token_hash=_digest(raw),
        shop_id=shop.id,
        agent_id=agent.id,
        created_at=now,
        expires_at=now + policy.session_lifetime,
        user_agent=user_agent[:255],
    )
    session.add(login_session)
    session.flush()
    uow.collect(AgentLoggedIn(shop_id=shop.id, agent_id=agent.id))
    uow.commit()
    principal = Principal(
        shop_id=shop.id,
        role=agent.role,
        agent_id=agent.id,
        name=agent.display_name,
        via="session",
        credential_id=login_session.id,
    )
    return LoginResult(principal=principal, session_token=raw)


def _record_failure(uow: UnitOfWork, *, shop_slug: str, email: str, address: str) -> None:
    uow.session.add(
        LoginAttempt(
            shop_slug=shop_slug,
            email=email[:254],
            client_address=address[:64],
            attempted_at=uow.clock.now(),
        )
    )
    uow.commit()


def resolve_session(uow: UnitOfWork, *, raw_token: str) -> Principal:
    """The principal behind a session cookie; raises SessionExpired or Unauthenticated."""
    session = uow.session
    row = session.execute(
        select(LoginSession, Agent)
        .join(Agent, Agent.id == LoginSession.agent_id)
        .where(LoginSession.token_hash == _digest(raw_token))
    ).one_or_none()
    if row is None:
        raise Unauthenticated("please log in", key="errors.unauthenticated")
    login_session, agent = row
    # Deactivation first: it is the reason the agent needs to hear, not "session ended".
    if not agent.is_active:
        raise SessionExpired(
            "this account is deactivated; ask the shop owner", key="errors.account_inactive"
        )
    if login_session.revoked_at is not None:
        raise SessionExpired(
            "you have logged out; please log in again", key="errors.session_expired"
        )
    if login_session.expires_at <= uow.clock.now():
        raise SessionExpired(
            "your session has expired; please log in again", key="errors.session_expired"
        )
    return Principal(
        shop_id=agent.shop_id,
        role=agent.role,
        agent_id=agent.id,
        name=agent.display_name,
        via="session",
        credential_id=login_session.id,
    )


def change_password(
    uow: UnitOfWork,
    *,
    principal: Principal,
    current_password: str,
    new_password: str,
    client_address: str,
    policy: LoginPolicy,
) -> None:
    """An agent replaces their password. Ends their other sessions; this one stays. Commits.

    A wrong current password counts as a failed login, so a borrowed session cannot be
    used to guess it.
    """
    if principal.agent_id is None:
        raise PermissionDenied(
            "an API token has no password to change", key="errors.token_password"
        )
    session = uow.session
    agent = service.get_agent(session, shop_id=principal.shop_id, agent_id=principal.agent_id)
    shop = shops.get_shop(session, shop_id=principal.shop_id)
    _throttle(
        session,
        policy=policy,
        shop_slug=shop.slug,
        email=agent.email,
        address=client_address,
        uow=uow,
    )
    if not verify_password(agent.password_hash, current_password):
        _record_failure(uow, shop_slug=shop.slug, email=agent.email, address=client_address)
        raise Invalid(
            "the current password is wrong", field="current_password", key="errors.wrong_password"
        )
    service.check_new_password(new_password)
    if new_password == current_password:
        raise Invalid(
            "the new password is the same as the current one",
            field="new_password",
            key="errors.same_password",
        )
    agent.password_hash = hash_password(new_password)
    keep = principal.credential_id if principal.via == "session" else None
    service.revoke_sessions(uow, agent_id=agent.id, keep_session_id=keep)
    uow.collect(PasswordChanged(shop_id=principal.shop_id, agent_id=agent.id))
    uow.commit()


def logout(uow: UnitOfWork, *, raw_token: str) -> None:
    """End a session. Unknown or already ended sessions are fine: logging out twice is harmless."""
    login_session = uow.session.scalar(
        select(LoginSession).where(LoginSession.token_hash == _digest(raw_token))
    )
    if login_session is None or login_session.revoked_at is not None:
        return
    login_session.revoked_at = uow.clock.now()
    uow.collect(AgentLoggedOut(shop_id=login_session.shop_id, agent_id=login_session.agent_id))
    uow.commit()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    raw: str  # shown once, at creation


def create_api_token(
    uow: UnitOfWork, *, shop_id: int, name: str, role: Role, created_by: Principal
) -> IssuedToken:
    """Issue a token for the shop's own systems. A token never outranks the person creating it."""
    name = name.strip()
    if not 1 <= len(name) <= 80:
        raise Invalid("token name must be 1–80 characters", field="name")
    if role.rank > created_by.role.rank:
        raise PermissionDenied("a token cannot have a higher role than its creator")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        shop_id=shop_id,
        name=name,
        prefix=raw[: len(TOKEN_PREFIX) + 6],
        token_hash=_digest(raw),
        role=role,
        created_by_id=created_by.agent_id,
        created_at=uow.clock.now(),
    )
    uow.session.add(token)
    uow.session.flush()
    uow.collect(ApiTokenCreated(shop_id=shop_id, token_id=token.id))
    uow.commit()
    return IssuedToken(token=token, raw=raw)


def resolve_api_token(uow: UnitOfWork, *, raw_token: str) -> Principal:
    token = uow.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(raw_token)))
    if token is None:
        raise Unauthenticated("unknown API token")
    if token.revoked_at is not None:
        raise Unauthenticated("this API token has been revoked")
    now = uow.clock.now()
    # Written at most once a minute: a busy integration should not turn every read into a write.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
        uow.commit()
    return Principal(
        shop_id=token.shop_id,
        role=token.role,
        agent_id=None,
        name=token.name,
        via="token",
        credential_id=token.id,
    )


def list_api_tokens(session: Session, *, shop_id: int) -> list[ApiToken]:
    query = select(ApiToken).where(ApiToken.shop_id == shop_id).order_by(ApiToken.id)
    return list(session.scalars(query))


def revoke_api_token(uow: UnitOfWork, *, shop_id: int, token_id: int) -> ApiToken:
    token = uow.session.scalar(
        select(ApiToken).where(ApiToken.shop_id == shop_id, ApiToken.id == token_id)
    )
    if token is None:
        raise NotFound("API token not found")
    if token.revoked_at is None:
        token.revoked_at = uow.clock.now()
        uow.collect(ApiTokenRevoked(shop_id=shop_id, token_id=token.id))
    uow.commit()
    return token
