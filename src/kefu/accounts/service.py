"""Agents: create, list, update. Login and credentials live in :mod:`kefu.accounts.auth`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from kefu.accounts.events import AgentCreated, AgentUpdated
from kefu.accounts.models import Agent, LoginSession, Role, TeamMembership
from kefu.accounts.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, hash_password
from kefu.db import MAX_ID
from kefu.errors import Conflict, Invalid, NotFound, PermissionDenied
from kefu.shops import service as shops
from kefu.shops.models import Team
from kefu.uow import UnitOfWork
from kefu.validation import clean_text

EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
LOCALES = ("zh-CN", "en")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _check_email(email: str) -> str:
    email = normalise_email(clean_text(email, field="email", max_length=254))
    if len(email) > 254 or not EMAIL_PATTERN.match(email):
        raise Invalid("not a valid e-mail address", field="email")
    return email


def _check_password(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise Invalid(
            f"password must be {MIN_PASSWORD_LENGTH}–{MAX_PASSWORD_LENGTH} characters",
            field="password",
        )


def _check_display_name(name: str) -> str:
    return clean_text(name, field="display_name", min_length=1, max_length=60)


def _check_teams(session: Session, *, shop_id: int, team_ids: Sequence[int]) -> list[int]:
    unique = list(dict.fromkeys(team_ids))
    for team_id in unique:
        if not 1 <= team_id <= MAX_ID:  # no such id can exist (and PostgreSQL would refuse it)
            raise Invalid(f"team {team_id} does not exist in this shop", field="team_ids")
        try:
            shops.get_team(session, shop_id=shop_id, team_id=team_id)
        except NotFound as exc:
            raise Invalid(f"team {team_id} does not exist in this shop", field="team_ids") from exc
    return unique


def create_agent(
    uow: UnitOfWork,
    *,
    shop_id: int,
    email: str,
    display_name: str,
    password: str,
    role: Role,
    team_ids: Sequence[int] = (),
    commit: bool = True,
) -> Agent:
    """Add a member of staff to the shop. ``commit=False`` lets a caller build more first."""
    session = uow.session
    email = _check_email(email)
    display_name = _check_display_name(display_name)
    _check_password(password)
    teams = _check_teams(session, shop_id=shop_id, team_ids=team_ids)
    exists = session.scalar(select(Agent.id).where(Agent.shop_id == shop_id, Agent.email == email))
    if exists is not None:
        raise Conflict(f"an agent with e-mail {email} already exists in this shop", email=email)
    agent = Agent(
        shop_id=shop_id,
        email=email,
        display_name=display_name,
        password_hash=hash_password(password),
        role=role,
        is_active=True,
        created_at=uow.clock.now(),
    )
    session.add(agent)
    session.flush()
    for team_id in teams:
        session.add(TeamMembership(team_id=team_id, agent_id=agent.id, shop_id=shop_id))
    uow.collect(AgentCreated(shop_id=shop_id, agent_id=agent.id, role=role.value))
    if commit:
        uow.commit()
    return agent


def update_agent(
    uow: UnitOfWork,
    *,
    shop_id: int,
    agent_id: int,
    acting_agent_id: int | None,
    display_name: str | None = None,
    role: Role | None = None,
    is_active: bool | None = None,
    locale: str | None = None,
    team_ids: Sequence[int] | None = None,
    password: str | None = None,
) -> Agent:
    """Change an agent (an owner's password reset included). Commits.

    Nobody can demote or deactivate themself: a shop must not lock its owner out.
    """
    session = uow.session
    agent = get_agent(session, shop_id=shop_id, agent_id=agent_id)
    changed: list[str] = []
    if display_name is not None:
        agent.display_name = _check_display_name(display_name)
        changed.append("display_name")
    if role is not None and role != agent.role:
        if agent_id == acting_agent_id and agent.role is Role.OWNER:
            raise PermissionDenied("an owner cannot change their own role")
        agent.role = role
        changed.append("role")
    if is_active is not None and is_active != agent.is_active:
        if agent_id == acting_agent_id and not is_active:
            raise PermissionDenied("you cannot deactivate your own account")
        agent.is_active = is_active
        if not is_active:
            # Revoked, not just refused while inactive: reactivating the account later
            # must not bring back a cookie from a lost laptop.
            revoke_sessions(uow, agent_id=agent.id)
        changed.append("is_active")
    if password is not None:
        if agent_id == acting_agent_id:
            raise PermissionDenied(
                "change your own password with your current one", key="errors.own_password"
            )
        _check_password(password)
        agent.password_hash = hash_password(password)
        # A reset is what an owner does when an account may be in the wrong hands.
        revoke_sessions(uow, agent_id=agent.id)
        changed.append("password")
    if locale is not None:
        if locale not in LOCALES:
            raise Invalid(f"language must be one of {', '.join(LOCALES)}", field="locale")
        agent.locale = locale
        changed.append("locale")
    if team_ids is not None:
        teams = _check_teams(session, shop_id=shop_id, team_ids=team_ids)
        session.execute(delete(TeamMembership).where(TeamMembership.agent_id == agent.id))
        for team_id in teams:
            session.add(TeamMembership(team_id=team_id, agent_id=agent.id, shop_id=shop_id))
        changed.append("team_ids")
    if changed:
        uow.collect(AgentUpdated(shop_id=shop_id, agent_id=agent.id, changed=tuple(changed)))
    uow.commit()
    return agent


def check_new_password(password: str) -> None:
    _check_password(password)


def revoke_sessions(uow: UnitOfWork, *, agent_id: int, keep_session_id: int | None = None) -> None:
    """End every login session of an agent (but the one given). Does not commit."""
    query = update(LoginSession).where(
        LoginSession.agent_id == agent_id, LoginSession.revoked_at.is_(None)
    )
    if keep_session_id is not None:
        query = query.where(LoginSession.id != keep_session_id)
    uow.session.execute(query.values(revoked_at=uow.clock.now()))


def get_agent(session: Session, *, shop_id: int, agent_id: int) -> Agent:
    agent = session.scalar(select(Agent).where(Agent.shop_id == shop_id, Agent.id == agent_id))
    if agent is None:
        raise NotFound("agent not found")
    return agent


def list_agents(session: Session, *, shop_id: int) -> list[Agent]:
    return list(session.scalars(select(Agent).where(Agent.shop_id == shop_id).order_by(Agent.id)))


def count_agents(session: Session, *, shop_id: int) -> int:
    query = select(func.count(Agent.id)).where(Agent.shop_id == shop_id, Agent.is_active.is_(True))
    return session.scalar(query) or 0


def team_ids_of(session: Session, *, shop_id: int, agent_id: int) -> list[int]:
    query = select(TeamMembership.team_id).where(
        TeamMembership.shop_id == shop_id, TeamMembership.agent_id == agent_id
    )
    return list(session.scalars(query.order_by(TeamMembership.team_id)))


def team_members(session: Session, *, shop_id: int) -> dict[int, list[int]]:
    """Agent ids per team id, in one query (the home page shows every team)."""
    members: dict[int, list[int]] = {}
    rows = session.execute(
        select(TeamMembership.team_id, TeamMembership.agent_id)
        .where(TeamMembership.shop_id == shop_id)
        .order_by(TeamMembership.agent_id)
    )
    for team_id, agent_id in rows:
        members.setdefault(team_id, []).append(agent_id)
    return members


@dataclass(frozen=True)
class RosterEntry:
    agent: Agent
    teams: list[Team]


@dataclass(frozen=True)
class Roster:
    """The shop's staff with their teams, and every team (for the staff page's forms)."""

    entries: list[RosterEntry]
    teams: list[Team]


def roster(session: Session, *, shop_id: int) -> Roster:
    teams = shops.list_teams(session, shop_id=shop_id)
    by_id = {team.id: team for team in teams}
    teams_of: dict[int, list[Team]] = {}
    for team_id, agent_ids in team_members(session, shop_id=shop_id).items():
        for agent_id in agent_ids:
            teams_of.setdefault(agent_id, []).append(by_id[team_id])
    entries = [
        RosterEntry(
            agent=agent, teams=sorted(teams_of.get(agent.id, []), key=lambda t: t.sort_order)
        )
        for agent in list_agents(session, shop_id=shop_id)
    ]
    return Roster(entries=entries, teams=teams)
