"""What the ticket pages share: the caller as the acting agent, the shop's time zone, the
staff and teams the forms offer, form values read strictly, and the redirect back with a
notice. Web layer only (pages.py, ticket_pages.py, ticket_forms.py, notification_pages.py).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlencode

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse

from kefu.accounts import service as accounts
from kefu.accounts.auth import Principal
from kefu.db import MAX_ID
from kefu.errors import Invalid, PermissionDenied
from kefu.shops import service as shops
from kefu.uow import UnitOfWork

E = TypeVar("E", bound=enum.Enum)


@dataclass(frozen=True)
class StaffOption:
    id: int
    name: str
    team_ids: tuple[int, ...]


@dataclass(frozen=True)
class TeamOption:
    id: int
    name: str
    member_ids: tuple[int, ...]


@dataclass(frozen=True)
class StaffChoices:
    """The teams and active staff of the shop, for the assign selects and @mentions."""

    teams: list[TeamOption]
    agents: list[StaffOption]

    def team_name(self, team_id: int | None) -> str:
        return next((t.name for t in self.teams if t.id == team_id), "")


def staff_choices(session: Session, *, shop_id: int) -> StaffChoices:
    roster = accounts.roster(session, shop_id=shop_id)
    members: dict[int, list[int]] = {}
    agents = []
    for entry in roster.entries:
        if not entry.agent.is_active:
            continue  # nobody assigns work to, or mentions, a deactivated colleague
        team_ids = tuple(team.id for team in entry.teams)
        agents.append(StaffOption(entry.agent.id, entry.agent.display_name, team_ids))
        for team_id in team_ids:
            members.setdefault(team_id, []).append(entry.agent.id)
    teams = [TeamOption(t.id, t.name, tuple(members.get(t.id, ()))) for t in roster.teams]
    return StaffChoices(teams=teams, agents=agents)


def zone_of(uow: UnitOfWork, principal: Principal) -> str:
    return shops.get_shop(uow.session, shop_id=principal.shop_id).timezone


def acting_agent(principal: Principal) -> int:
    """The agent a page's form acts as (a page's caller is always an agent's session)."""
    if principal.agent_id is None:
        raise PermissionDenied("only a member of staff changes tickets on these pages")
    return principal.agent_id


def form_id(value: str, *, field: str) -> int | None:
    """An id chosen in a select: empty is None; anything but an id is refused, named."""
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or not 1 <= int(value) <= MAX_ID:
        raise Invalid(f"{field} must be an id", field=field, key="errors.tickets.pick_one")
    return int(value)


def choice(kind: type[E], value: str, *, field: str) -> E:
    """A select's value as a member of the enum ``kind``, or refused naming the field."""
    try:
        return kind(value)
    except ValueError:
        raise Invalid(
            f"{field}: choose one of the listed values", field=field, key="errors.tickets.pick_one"
        ) from None


def ids_in(values: list[str], *, field: str) -> list[int]:
    """Ids a form sends in repeated fields (hidden inputs, checkboxes), in order, once."""
    ids = [form_id(value, field=field) for value in values]
    return list(dict.fromkeys(i for i in ids if i is not None))


def tags_in(text: str) -> list[str]:
    """「退货, 破损，加急」: comma separated (either comma), blanks dropped."""
    return [part.strip() for part in text.replace("，", ",").split(",") if part.strip()]


async def custom_values(request: Request) -> dict[str, str]:
    """The custom fields of a form, named ``field.<key>`` (their keys are the shop's own)."""
    form = await request.form()
    return {
        name.removeprefix(FIELD_PREFIX): value
        for name, value in form.multi_items()
        if name.startswith(FIELD_PREFIX) and isinstance(value, str)
    }


FIELD_PREFIX = "field."


def query_string(values: Mapping[str, str | int | None]) -> str:
    return urlencode({k: v for k, v in values.items() if v not in (None, "")})


def back_to(path: str, **params: str | int | None) -> RedirectResponse:
    """Post/redirect/get: the page again, with what happened in its query."""
    query = query_string(params)
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=303)
