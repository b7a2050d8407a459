"""The rules of a shift's fields (:mod:`kefu.tickets.shifts`): a name unique in its team,
times like 08:00 (an end at or before the start is the next day; 24:00 is midnight),
ISO weekdays, members who are active agents of the team, a duty manager who is a
supervisor or the owner."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.accounts.models import Agent, Role, TeamMembership
from kefu.errors import Conflict, Invalid
from kefu.shops.models import Team
from kefu.tickets import checks
from kefu.tickets.models import Shift
from kefu.validation import clean_text

MAX_NAME_LENGTH: Final = 40
MAX_MEMBERS: Final = 200
MAX_ACK_MINUTES: Final = 24 * 60
ALL_WEEKDAYS: Final = "1234567"
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def team(session: Session, *, shop_id: int, team_id: int) -> Team:
    return checks.team(session, shop_id=shop_id, team_id=team_id)


def name(value: str) -> str:
    name = clean_text(value, field="name", max_length=10 * MAX_NAME_LENGTH)
    if not name:
        raise Invalid(
            "the shift needs a name", field="name", key="errors.tickets.shift.name_required"
        )
    if len(name) > MAX_NAME_LENGTH:
        raise Invalid(
            f"the shift's name is {len(name)} characters; the limit is {MAX_NAME_LENGTH}",
            field="name",
            key="errors.tickets.shift.name_too_long",
            limit=MAX_NAME_LENGTH,
        )
    return name


def time(value: str, field: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if field == "end_time" and text == "24:00":
        text = "00:00"  # 「到 24:00」 is midnight, the next day's 00:00
    match = _TIME.match(text)
    if match is None:
        raise Invalid(
            f"{field.replace('_', ' ')} {str(value)[:10]!r} is not a time like 08:00",
            field=field,
            key="errors.tickets.shift.bad_time",
            value=str(value)[:10],
        )
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def times(start_time: str, end_time: str) -> tuple[str, str]:
    start, end = time(start_time, "start_time"), time(end_time, "end_time")
    if start == end:
        raise Invalid(
            f"the shift starts and ends at {start}: give different times "
            "(an end before the start is on the next day)",
            field="end_time",
            key="errors.tickets.shift.same_times",
            time=start,
        )
    return start, end


def weekdays(value: str) -> str:
    text = "".join(str(value).split()) if isinstance(value, str) else ""
    if not text or any(c not in ALL_WEEKDAYS for c in text):
        raise Invalid(
            f"weekdays {str(value)[:10]!r}: use the digits 1 (Monday) to 7 (Sunday), e.g. 12345",
            field="weekdays",
            key="errors.tickets.shift.bad_weekdays",
        )
    return "".join(sorted(set(text)))


def members(session: Session, *, shop_id: int, team: Team, member_ids: Sequence[int]) -> list[int]:
    if isinstance(member_ids, str):
        raise Invalid("member_ids must be a list", field="member_ids")
    wanted = list(dict.fromkeys(member_ids))
    if len(wanted) > MAX_MEMBERS:
        raise Invalid(f"a shift has at most {MAX_MEMBERS} members", field="member_ids")
    for agent_id in wanted:
        agent = checks.active_agent(session, shop_id=shop_id, agent_id=agent_id, field="member_ids")
        if not in_team(session, agent_id=agent.id, team=team):
            raise Invalid(
                f"{agent.display_name} is not a member of the team {team.name}: "
                "add them to the team first (staff page)",
                field="member_ids",
                key="errors.tickets.shift.member_not_in_team",
                name=agent.display_name,
                team=team.name,
            )
    return wanted


def in_team(session: Session, *, agent_id: int, team: Team) -> bool:
    return (
        session.scalar(
            select(TeamMembership.agent_id).where(
                TeamMembership.shop_id == team.shop_id,
                TeamMembership.team_id == team.id,
                TeamMembership.agent_id == agent_id,
            )
        )
        is not None
    )


def duty_manager(session: Session, *, shop_id: int, agent_id: int) -> Agent:
    agent = checks.active_agent(
        session, shop_id=shop_id, agent_id=agent_id, field="duty_manager_id"
    )
    if agent.role not in (Role.SUPERVISOR, Role.OWNER):
        raise Invalid(
            f"{agent.display_name} is an agent: the duty manager must be a supervisor or the owner",
            field="duty_manager_id",
            key="errors.tickets.shift.duty_manager_role",
            name=agent.display_name,
        )
    return agent


def ack_minutes(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ACK_MINUTES:
        raise Invalid(
            f"the acknowledgement window must be 1 to {MAX_ACK_MINUTES} minutes",
            field="ack_within_minutes",
            key="errors.tickets.shift.bad_ack_minutes",
            max=MAX_ACK_MINUTES,
        )
    return value


def name_free(
    session: Session, *, shop_id: int, team: Team, name: str, shift_id: int | None
) -> None:
    taken = session.scalar(
        select(Shift.id).where(
            Shift.shop_id == shop_id,
            Shift.team_id == team.id,
            Shift.name == name,
            *([Shift.id != shift_id] if shift_id is not None else []),
        )
    )
    if taken is not None:
        raise name_taken(name, team)


def name_taken(name: str, team: Team) -> Conflict:
    return Conflict(
        f"the team {team.name} already has a shift called {name}",
        key="errors.tickets.shift.name_taken",
        name=name,
        team=team.name,
    )
