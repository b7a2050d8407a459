"""Login, sessions, rate limits and API tokens at the service level (kefu.accounts.auth)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select, text

from kefu.accounts import auth
from kefu.accounts import service as accounts
from kefu.accounts.auth import LoginPolicy, LoginResult, Principal
from kefu.accounts.events import AgentLoggedIn, AgentLoggedOut, ApiTokenCreated, ApiTokenRevoked
from kefu.accounts.models import ApiToken, LoginAttempt, LoginSession, Role
from kefu.clock import FrozenClock
from kefu.errors import (
    InvalidCredentials,
    PermissionDenied,
    RateLimited,
    SessionExpired,
    Unauthenticated,
)
from kefu.events import Event, EventBus
from kefu.uow import UnitOfWork
from tests.factories import PASSWORD, ShopWithStaff, make_shop_with_staff

UowFactory = Callable[[], UnitOfWork]

POLICY = LoginPolicy(
    max_failures=3, window=timedelta(minutes=15), session_lifetime=timedelta(hours=12)
)
OFFICE = "203.0.113.7"
# One client address may fail ten times as often as one account (a shop's office shares a NAT).
ADDRESS_LIMIT = 10 * POLICY.max_failures


@pytest.fixture
def alpha(uow_factory: UowFactory) -> ShopWithStaff:
    return make_shop_with_staff(uow_factory, "alpha")


def _login(
    uow_factory: UowFactory,
    email: str,
    password: str = PASSWORD,
    *,
    shop: str = "alpha",
    address: str = OFFICE,
    policy: LoginPolicy = POLICY,
) -> LoginResult:
    with uow_factory() as uow:
        return auth.login(
            uow,
            shop_slug=shop,
            email=email,
            password=password,
            client_address=address,
            user_agent="pytest",
            policy=policy,
        )


def _fail(uow_factory: UowFactory, email: str, *, address: str = OFFICE) -> None:
    with pytest.raises(InvalidCredentials):
        _login(uow_factory, email, "wrong password!", address=address)


def _resolve(uow_factory: UowFactory, raw: str) -> Principal:
    with uow_factory() as uow:
        return auth.resolve_session(uow, raw_token=raw)


def _attempts(uow_factory: UowFactory) -> list[tuple[str, str, str]]:
    with uow_factory() as uow:
        rows = uow.session.execute(
            select(LoginAttempt.shop_slug, LoginAttempt.email, LoginAttempt.client_address)
        )
        return [(slug, email, address) for slug, email, address in rows]


def _owner_principal(uow_factory: UowFactory, staff: ShopWithStaff) -> Principal:
    return _login(uow_factory, staff.owner.email).principal


# --- login -----------------------------------------------------------------------------


def test_login_returns_principal_and_a_session_token_that_resolves(
    uow_factory: UowFactory, alpha: ShopWithStaff
) -> None:
    # E-mail is matched case- and space-insensitively, as people type it.
    result = _login(uow_factory, "  Agent@ALPHA.test ")

    assert result.principal.agent_id == alpha.agent.id
    assert result.principal.shop_id == alpha.shop.id
    assert result.principal.role is Role.AGENT
    assert result.principal.via == "session"
    assert len(result.session_token) >= 32
    resolved = _resolve(uow_factory, result.session_token)
    assert resolved == result.principal
    # Only a hash of the cookie value is kept.
    with uow_factory() as uow:
        hashes = list(uow.session.scalars(select(LoginSession.token_hash)))
    assert len(hashes) == 1
    assert result.session_token not in hashes[0]


def test_wrong_password_raises_and_commits_a_login_attempt(
    uow_factory: UowFactory, alpha: ShopWithStaff
) -> None:
    _fail(uow_factory, alpha.owner.email)

    # Committed despite the exception (a fresh unit of work sees it).
    assert _attempts(uow_factory) == [("alpha", "owner@alpha.test", OFFICE)]
    with uow_factory() as uow:
        assert uow.session.scalar(select(func.count(LoginSession.id))) == 0


def test_unknown_email_is_indistinguishable_from_wrong_password(
    uow_factory: UowFactory, alpha: ShopWithStaff
) -> None:
    with pytest.raises(InvalidCredentials) as wrong:
        _login(uow_factory, alpha.owner.email, "wrong password!")
    with pytest.raises(InvalidCredentials) as unknown:
        _login(uow_factory, "nobody@alpha.test", PASSWORD)

    assert (unknown.value.code, unknown.value.key, unknown.value.message) == (
        wrong.value.code,
        wrong.value.key,
        wrong.value.message,
    )
    assert [email for _, email, _ in _attempts(uow_factory)] == [
        "owner@alpha.test",
        "nobody@alpha.test",
    ]


# --- rate limiting ---------------------------------------------------------------------


def test_account_is_throttled_after_max_failures_even_with_the_right_password(
    uow_factory: UowFactory, alpha: ShopWithStaff, clock: FrozenClock
) -> None:
    for _ in range(POLICY.max_failures):
        _fail(uow_factory, alpha.agent.email)
        clock.advance(timedelta(minutes=1))

    with pytest.raises(RateLimited) as limited:
        _login(uow_factory, alpha.agent.email, PASSWORD)
    # The oldest failure was 3 minutes ago; it leaves the 15-minute window in 12 minutes.
    assert limited.value.retry_after_seconds == 12 * 60
    # A refused attempt is not itself counted as a failure.
    assert len(_attempts(uow_factory)) == POLICY.max_failures
    # Other accounts of the shop are not affected.
    assert _login(uow_factory, alpha.owner.email).principal.agent_id == alpha.owner.id

    clock.advance(POLICY.window)
    assert _login(uow_factory, alpha.agent.email).principal.agent_id == alpha.agent.id


def test_one_failure_short_of_the_limit_still_lets_the_right_password_in(
    uow_factory: UowFactory, alpha: ShopWithStaff
) -> None:
    for _ in range(POLICY.max_failures - 1):
        _fail(uow_factory, alpha.agent.email)

    assert _login(uow_factory, alpha.agent.email).principal.agent_id == alpha.agent.id


def test_a_successful_login_clears_the_accounts_failures(
    uow_factory: UowFactory, alpha: ShopWithStaff
) -> None:
    for _ in range(POLICY.max_failures - 1):
        _fail(uow_factory, alpha.agent.email)
    _fail(uow_factory, alpha.owner.email)  # another account's failure is kept
    _login(uow_factory, alpha.agent.email)

    assert _attempts(uow_factory) == [("alpha", "owner@alpha.test", OFFICE)]
    for _ in range(POLICY.max_failures - 1):
        _fail(uow_factory, alpha.agent.email)
    # 2 + 2 failures would be over the limit of 3 had the success not cleared the first two.
    assert _login(uow_factory, alpha.agent.email).principal.agent_id == alpha.agent.id


def test_one_address_failing_across_many_emails_is_throttled(
    uow_factory: UowFactory, alpha: ShopWithStaff, clock: FrozenClock
) -> None:
    for n in range(ADDRESS_LIMIT):
        _fail(uow_factory, f"guess{n}@alpha.test")  # one failure per e-mail: no account limit

    with pytest.raises(RateLimited) as limited:
        _login(uow_factory, alpha.owner.email)
    assert limited.value.retry_after_seconds == POLICY.window.total_seconds()
    # Another address is not affected.
    other = _login(uow_factory, alpha.owner.email, address="198.51.100.9")
    assert other.principal.agent_id == alpha.owner.id

    clock.advance(POLICY.window)
    assert _login(uow_factory, alpha.agent.email).principal.agent_id == alpha.agent.id


def test_the_address_limit_is_not_reached_one_failure_early(
    uow_factory: UowFactory, alpha: ShopWithStaff
) -> None:
    for n in range(ADDRESS_LIMIT - 1):
        _fail(uow_factory, f"guess{n}@alpha.test")

    assert _login(uow_factory, alpha.owner.email).principal.agent_id == alpha.owner.id


# --- inactive agents, expiry, logout ----------------------------------------------------


def _deactivate(uow_factory: UowFactory, staff: ShopWithStaff) -> None:
    with uow_factory() as uow:
        accounts.update_agent(
            uow,
            shop_id=staff.shop.id,
            agent_id=staff.agent.id,
            acting_agent_id=staff.owner.id,
            is_active=False,
        )


def test_an_inactive_agent_cannot_log_in(uow_factory: UowFactory, alpha: ShopWithStaff) -> None:
    _deactivate(uow_factory, alpha)

    with pytest.raises(InvalidCredentials) as refused:
        _login(uow_factory, alpha.agent.email)
    assert refused.value.key == "errors.account_inactive"
    with uow_factory() as uow:
        assert uow.session.scalar(select(func.count(LoginSession.id))) == 0


def test_a_deactivated_agents_existing_session_stops_resolving(
    uow_factory: UowFactory, alpha: ShopWithStaff
) -> None:
    raw = _login(uow_factory, alpha.agent.email).session_token
    _deactivate(uow_factory, alpha)

    with pytest.raises(Unauthenticated):
        _resolve(uow_factory, raw)


def test_a_session_expires_after_its_lifetime(
    uow_factory: UowFactory, alpha: ShopWithStaff, clock: FrozenClock
) -> None:
    raw = _login(uow_factory, alpha.agent.email).session_token

    clock.advance(POLICY.session_lifetime - timedelta(seconds=1))
    assert _resolve(uow_factory, raw).agent_id == alpha.agent.id
    clock.advance(timedelta(seconds=1))
    with pytest.raises(SessionExpired):
        _resolve(uow_factory, raw)


def test_an_unknown_session_token_is_unauthenticated(
    uow_factory: UowFactory, alpha: ShopWithStaff
) -> None:
    with pytest.raises(Unauthenticated) as unknown:
        _resolve(uow_factory, "not-a-session")
    assert not isinstance(unknown.value, SessionExpired)


def test_logout_revokes_the_session_and_is_harmless_twice(
    uow_factory: UowFactory, alpha: ShopWithStaff, bus: EventBus
) -> None:
    raw = _login(uow_factory, alpha.agent.email).session_token
    other = _login(uow_factory, alpha.agent.email).session_token  # a second browser

    with bus.capture() as events:
        for _ in range(2):
            with uow_factory() as uow:
                auth.logout(uow, raw_token=raw)
        with uow_factory() as uow:
            auth.logout(uow, raw_token="never-issued")

    with pytest.raises(SessionExpired):
        _resolve(uow_factory, raw)
    assert _resolve(uow_factory, other).agent_id == alpha.agent.id
    assert [type(e) for e in events] == [AgentLoggedOut]


# --- API tokens ------------------------------------------------------------------------


def test_api_token_is_shown_once_and_stored_only_as_a_hash(
    uow_factory: UowFactory, alpha: ShopWithStaff, db: Engine
) -> None:
    creator = _owner_principal(uow_factory, alpha)
    with uow_factory() as uow:
        issued = auth.create_api_token(
            uow, shop_id=alpha.shop.id, name="订单同步", role=Role.SUPERVISOR, created_by=creator
        )

    assert issued.raw.startswith("kefu_")
    assert len(issued.raw) > 40
    with db.connect() as connection:
        rows = connection.execute(text("SELECT * FROM api_tokens")).all()
    assert len(rows) == 1
    stored = " ".join(str(value) for value in rows[0])
    assert issued.raw not in stored
    assert issued.raw.removeprefix("kefu_") not in stored

    with uow_factory() as uow:
        principal = auth.resolve_api_token(uow, raw_token=issued.raw)
    assert principal.role is Role.SUPERVISOR
    assert principal.agent_id is None
    assert principal.shop_id == alpha.shop.id
    assert principal.via == "token"
    assert principal.credential_id == issued.token.id


def test_a_revoked_or_unknown_api_token_is_refused(
    uow_factory: UowFactory, alpha: ShopWithStaff
) -> None:
    creator = _owner_principal(uow_factory, alpha)
    with uow_factory() as uow:
        issued = auth.create_api_token(
            uow, shop_id=alpha.shop.id, name="ERP", role=Role.AGENT, created_by=creator
        )
    with uow_factory() as uow:
        auth.revoke_api_token(uow, shop_id=alpha.shop.id, token_id=issued.token.id)

    for raw in (issued.raw, issued.raw[:-1], "kefu_unknown"):
        with uow_factory() as uow, pytest.raises(Unauthenticated):
            auth.resolve_api_token(uow, raw_token=raw)


def test_a_token_cannot_outrank_its_creator(
    uow_factory: UowFactory, alpha: ShopWithStaff, db: Engine
) -> None:
    agent = _login(uow_factory, alpha.agent.email).principal
    supervisor = _login(uow_factory, alpha.supervisor.email).principal

    for creator, role in ((agent, Role.OWNER), (agent, Role.SUPERVISOR), (supervisor, Role.OWNER)):
        with uow_factory() as uow, pytest.raises(PermissionDenied):
            auth.create_api_token(
                uow, shop_id=alpha.shop.id, name="提权", role=role, created_by=creator
            )
    with uow_factory() as uow:
        assert uow.session.scalar(select(func.count(ApiToken.id))) == 0
        # An equal role is fine.
        auth.create_api_token(
            uow, shop_id=alpha.shop.id, name="同级", role=Role.AGENT, created_by=agent
        )


# --- events ----------------------------------------------------------------------------


def test_auth_events_are_dispatched_only_after_their_rows_are_committed(
    uow_factory: UowFactory, alpha: ShopWithStaff, bus: EventBus
) -> None:
    """Each subscriber looks in a separate unit of work: the row it reacts to must be there."""
    seen: list[tuple[str, bool]] = []

    def committed(event: Event) -> None:
        with uow_factory() as uow:
            s = uow.session
            if isinstance(event, AgentLoggedIn):
                ok = s.scalar(
                    select(func.count(LoginSession.id)).where(
                        LoginSession.agent_id == event.agent_id
                    )
                )
            elif isinstance(event, AgentLoggedOut):
                ok = s.scalar(
                    select(func.count(LoginSession.id)).where(LoginSession.revoked_at.is_not(None))
                )
            elif isinstance(event, ApiTokenCreated):
                ok = s.get(ApiToken, event.token_id) is not None
            else:
                assert isinstance(event, ApiTokenRevoked)
                token = s.get(ApiToken, event.token_id)
                ok = token is not None and token.revoked_at is not None
        seen.append((type(event).__name__, bool(ok)))

    for event_type in (AgentLoggedIn, AgentLoggedOut, ApiTokenCreated, ApiTokenRevoked):
        bus.subscribe(event_type, committed)

    with bus.capture() as events:
        _fail(uow_factory, alpha.owner.email)  # a failure emits nothing
        assert events == []
        result = _login(uow_factory, alpha.owner.email)
        with uow_factory() as uow:
            issued = auth.create_api_token(
                uow, shop_id=alpha.shop.id, name="ERP", role=Role.AGENT, created_by=result.principal
            )
        with uow_factory() as uow:
            auth.revoke_api_token(uow, shop_id=alpha.shop.id, token_id=issued.token.id)
        with uow_factory() as uow:
            auth.revoke_api_token(uow, shop_id=alpha.shop.id, token_id=issued.token.id)  # again
        with uow_factory() as uow:
            auth.logout(uow, raw_token=result.session_token)

    assert events == [
        AgentLoggedIn(shop_id=alpha.shop.id, agent_id=alpha.owner.id),
        ApiTokenCreated(shop_id=alpha.shop.id, token_id=issued.token.id),
        ApiTokenRevoked(shop_id=alpha.shop.id, token_id=issued.token.id),
        AgentLoggedOut(shop_id=alpha.shop.id, agent_id=alpha.owner.id),
    ]
    assert seen == [
        ("AgentLoggedIn", True),
        ("ApiTokenCreated", True),
        ("ApiTokenRevoked", True),
        ("AgentLoggedOut", True),
    ]
