"""Canned phrases (快捷短语): what an agent types after "/" in the composer.

A phrase is shared with the shop (``owner_agent_id`` None: supervisors and owners write
them) or an agent's own (only that agent sees or changes it; another agent's id is
``NotFound``, like another shop's). An agent's own shortcuts and the shared ones are one
namespace for that agent — "/退货" must mean one phrase — so a clash is refused with the
phrase it clashes with named. Bodies may hold the buyer's variables (``phrase_values``),
filled in for the conversation the phrase is used in.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from kefu.accounts.models import Agent, Role
from kefu.coach.models import CannedPhrase
from kefu.coach.phrase_values import VARIABLES as VARIABLES
from kefu.coach.phrase_values import check_variables
from kefu.coach.phrase_values import example_values as example_values
from kefu.coach.phrase_values import render as render
from kefu.coach.phrase_values import variables_for as variables_for
from kefu.coach.rule_checks import text_field
from kefu.conversations import desk
from kefu.errors import Conflict, Invalid, NotFound, PermissionDenied
from kefu.nlp.text import normalize_text
from kefu.uow import UnitOfWork

MAX_SHORTCUT: Final = 30
MAX_TITLE: Final = 60
MAX_BODY: Final = 1000
MAX_OWN: Final = 200  # per agent
MAX_SHARED: Final = 500  # per shop
MAX_SEARCH: Final = 50
_SPACE = re.compile(r"\s")


def is_shared(phrase: CannedPhrase) -> bool:
    return phrase.owner_agent_id is None


def _visible(agent_id: int | None) -> ColumnElement[bool]:
    owner = CannedPhrase.owner_agent_id
    return owner.is_(None) if agent_id is None else or_(owner.is_(None), owner == agent_id)


def list_phrases(session: Session, *, shop_id: int, agent_id: int | None) -> list[CannedPhrase]:
    """The agent's own phrases, then the shop's shared ones, each by shortcut. An API
    token (``agent_id`` None) sees the shared ones."""
    query = (
        select(CannedPhrase)
        .where(CannedPhrase.shop_id == shop_id, _visible(agent_id))
        .order_by(CannedPhrase.owner_agent_id.is_(None), CannedPhrase.shortcut, CannedPhrase.id)
    )
    return list(session.scalars(query))


def get_phrase(
    session: Session, *, shop_id: int, agent_id: int | None, phrase_id: int
) -> CannedPhrase:
    """A phrase the agent may see: shared, or their own."""
    phrase = session.scalar(
        select(CannedPhrase).where(CannedPhrase.shop_id == shop_id, CannedPhrase.id == phrase_id)
    )
    if phrase is None or not (is_shared(phrase) or phrase.owner_agent_id == agent_id):
        raise NotFound("phrase not found", key="coach.phrases.error.not_found")
    return phrase


@lru_cache(maxsize=8192)
def _folded(text: str) -> str:
    """Simplified, half-width, lower-case: "/退貨" finds "退货" (phrases are searched on
    every keystroke, and their texts rarely change)."""
    return normalize_text(text)


def search_phrases(
    session: Session, *, shop_id: int, agent_id: int | None, query: str, limit: int = 10
) -> list[CannedPhrase]:
    """Phrases for what the agent typed ("/退货" or "退货"): shortcuts starting with it
    first (exact, then shorter), then titles or bodies containing it, each group most
    used first. Traditional characters and full-width letters find their plain forms."""
    limit = max(1, min(limit, MAX_SEARCH))
    wanted = _folded(query.strip().removeprefix("/").removeprefix("／"))
    phrases = list_phrases(session, shop_id=shop_id, agent_id=agent_id)
    ranked: list[tuple[tuple[int, int, int, str, int], CannedPhrase]] = []
    for phrase in phrases:
        shortcut = _folded(phrase.shortcut)
        if shortcut.startswith(wanted):
            # The exact shortcut, then the closest (shortest) completions of it.
            key = (0 if shortcut == wanted else 1, len(shortcut), -phrase.use_count)
        elif wanted in _folded(phrase.title) or wanted in _folded(phrase.body):
            key = (2, 0, -phrase.use_count)
        else:
            continue
        ranked.append(((*key, shortcut, phrase.id), phrase))
    ranked.sort(key=lambda pair: pair[0])
    return [phrase for _, phrase in ranked[:limit]]


# --- writes -----------------------------------------------------------------------------------


def _check_shortcut(value: object) -> str:
    shortcut = text_field(value, field="shortcut", max_length=MAX_SHORTCUT + 1, min_length=1)
    shortcut = shortcut.removeprefix("/").removeprefix("／")  # what the composer types first
    if not 1 <= len(shortcut) <= MAX_SHORTCUT or _SPACE.search(shortcut):
        raise Invalid(
            f"the shortcut must be 1–{MAX_SHORTCUT} characters without spaces",
            field="shortcut", key="coach.phrases.error.shortcut", max=MAX_SHORTCUT,
        )  # fmt: skip
    return shortcut


def _check_body(value: object) -> str:
    body = text_field(value, field="body", max_length=MAX_BODY, min_length=1, multiline=True)
    return check_variables(body, field="body")


def _check_title(value: object, body: str) -> str:
    title = text_field(value, field="title", max_length=MAX_TITLE)
    # A phrase without a title is listed by its opening words.
    return title or body.replace("\n", " ")[:MAX_TITLE].strip()


def _may_write(phrase_owner: int | None, *, agent_id: int | None, role: Role) -> None:
    if phrase_owner is None and not role.rank >= Role.SUPERVISOR.rank:
        raise PermissionDenied(
            "only a supervisor or the owner may add, change or delete shared phrases",
            key="coach.phrases.error.shared_role",
        )
    if phrase_owner is not None and phrase_owner != agent_id:
        raise NotFound("phrase not found", key="coach.phrases.error.not_found")


def _person(session: Session, *, shop_id: int, agent_id: int | None) -> int:
    if agent_id is None:
        raise PermissionDenied(
            "personal phrases belong to a member of staff (not an API token)",
            key="coach.phrases.error.needs_person",
        )
    found = session.scalar(select(Agent.id).where(Agent.shop_id == shop_id, Agent.id == agent_id))
    if found is None:
        raise NotFound("agent not found")
    return found


def _clash(
    session: Session, *, shop_id: int, owner_id: int | None, shortcut: str, phrase_id: int | None
) -> None:
    """Refuse a shortcut that an agent would see twice: a personal one clashes with the
    shared ones and the owner's others; a shared one with every phrase of the shop."""
    owner = CannedPhrase.owner_agent_id
    query = select(CannedPhrase).where(
        CannedPhrase.shop_id == shop_id,
        func.lower(CannedPhrase.shortcut) == shortcut.lower(),
        CannedPhrase.id != (phrase_id or 0),
    )
    if owner_id is not None:
        query = query.where(or_(owner.is_(None), owner == owner_id))
    clash = session.scalar(query.order_by(owner.is_not(None), CannedPhrase.id).limit(1))
    if clash is None:
        return
    if is_shared(clash) or clash.owner_agent_id == owner_id:
        whose = "shared" if is_shared(clash) else "own"
        raise Conflict(
            f"the shortcut /{shortcut} is already used by the {whose} phrase {clash.title!r}",
            key=f"coach.phrases.error.shortcut_taken_{whose}", shortcut=shortcut,
            title=clash.title,
        )  # fmt: skip
    name = session.scalar(select(Agent.display_name).where(Agent.id == clash.owner_agent_id))
    raise Conflict(
        f"the shortcut /{shortcut} is already used by {name}'s own phrase {clash.title!r}",
        key="coach.phrases.error.shortcut_taken_by", shortcut=shortcut, title=clash.title,
        owner=name or "",
    )  # fmt: skip


def _count(session: Session, *, shop_id: int, owner_id: int | None) -> int:
    owner = CannedPhrase.owner_agent_id
    mine = owner.is_(None) if owner_id is None else owner == owner_id
    return (
        session.scalar(
            select(func.count(CannedPhrase.id)).where(CannedPhrase.shop_id == shop_id, mine)
        )
        or 0
    )


def create_phrase(
    uow: UnitOfWork,
    *,
    shop_id: int,
    agent_id: int | None,
    role: Role,
    shortcut: str,
    body: str,
    title: str = "",
    shared: bool = False,
    commit: bool = True,
) -> CannedPhrase:
    """A phrase of the agent's own, or (``shared``, supervisors and owners) the shop's."""
    session = uow.session
    owner_id = None if shared else _person(session, shop_id=shop_id, agent_id=agent_id)
    _may_write(owner_id, agent_id=agent_id, role=role)
    shortcut = _check_shortcut(shortcut)
    body = _check_body(body)
    title = _check_title(title, body)
    _clash(session, shop_id=shop_id, owner_id=owner_id, shortcut=shortcut, phrase_id=None)
    limit = MAX_SHARED if owner_id is None else MAX_OWN
    if _count(session, shop_id=shop_id, owner_id=owner_id) >= limit:
        raise Conflict(
            f"at most {limit} phrases here; delete one first",
            key="coach.phrases.error.too_many", max=limit,
        )  # fmt: skip
    now = uow.clock.now()
    phrase = CannedPhrase(
        shop_id=shop_id, owner_agent_id=owner_id, shortcut=shortcut, title=title, body=body,
        use_count=0, created_by_agent_id=agent_id, created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(phrase)
    session.flush()
    if commit:
        uow.commit()
    return phrase


def update_phrase(
    uow: UnitOfWork,
    *,
    shop_id: int,
    agent_id: int | None,
    role: Role,
    phrase_id: int,
    shortcut: str | None = None,
    title: str | None = None,
    body: str | None = None,
    commit: bool = True,
) -> CannedPhrase:
    """Change what is given (None: unchanged); a shared phrase needs a supervisor or the
    owner, a personal one its owner."""
    session = uow.session
    phrase = get_phrase(session, shop_id=shop_id, agent_id=agent_id, phrase_id=phrase_id)
    _may_write(phrase.owner_agent_id, agent_id=agent_id, role=role)
    new_body = _check_body(body) if body is not None else phrase.body
    new_title = _check_title(title, new_body) if title is not None else phrase.title
    new_shortcut = _check_shortcut(shortcut) if shortcut is not None else phrase.shortcut
    if new_shortcut != phrase.shortcut:
        _clash(
            session, shop_id=shop_id, owner_id=phrase.owner_agent_id, shortcut=new_shortcut,
            phrase_id=phrase.id,
        )  # fmt: skip
    phrase.shortcut, phrase.title, phrase.body = new_shortcut, new_title, new_body
    phrase.updated_at = uow.clock.now()
    session.flush()
    if commit:
        uow.commit()
    return phrase


def delete_phrase(
    uow: UnitOfWork,
    *,
    shop_id: int,
    agent_id: int | None,
    role: Role,
    phrase_id: int,
    commit: bool = True,
) -> None:
    session = uow.session
    phrase = get_phrase(session, shop_id=shop_id, agent_id=agent_id, phrase_id=phrase_id)
    _may_write(phrase.owner_agent_id, agent_id=agent_id, role=role)
    session.delete(phrase)
    session.flush()
    if commit:
        uow.commit()


def values_seen_by(
    session: Session, *, shop_id: int, agent_id: int | None, role: Role,
    conversation_id: int | None,
) -> dict[str, str]:  # fmt: skip
    """The variables for a conversation the caller may work (404 for another shop's,
    403 for another team's, as in the desk); the shop's name alone without one."""
    if conversation_id is not None:
        viewer = desk.viewer_for(
            session, shop_id=shop_id, agent_id=agent_id,
            shop_wide=role.rank >= Role.SUPERVISOR.rank,
        )  # fmt: skip
        desk.conversation_for(
            session, shop_id=shop_id, conversation_id=conversation_id, viewer=viewer
        )
    return variables_for(session, shop_id=shop_id, conversation_id=conversation_id)


def use_phrase(
    uow: UnitOfWork,
    *,
    shop_id: int,
    agent_id: int | None,
    role: Role,
    phrase_id: int,
    conversation_id: int | None = None,
    commit: bool = True,
) -> str:
    """The phrase's body filled in for the conversation (which the agent must be able to
    see); counts the use, so the most used phrases come first."""
    session = uow.session
    phrase = get_phrase(session, shop_id=shop_id, agent_id=agent_id, phrase_id=phrase_id)
    values = values_seen_by(
        session, shop_id=shop_id, agent_id=agent_id, role=role, conversation_id=conversation_id
    )
    session.execute(
        update(CannedPhrase)
        .where(CannedPhrase.shop_id == shop_id, CannedPhrase.id == phrase.id)
        .values(use_count=CannedPhrase.use_count + 1)
        .execution_options(synchronize_session=False)
    )
    session.refresh(phrase, ["use_count"])  # the count as the database has it now
    text = render(phrase.body, values)
    if commit:
        uow.commit()
    return text
