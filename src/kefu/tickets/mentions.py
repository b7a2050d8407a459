"""@mentions in ticket notes: ``@王芳`` (an agent's display name) or ``@wang@shop.cn``
(their login email) call a colleague in, who is then notified.

Chinese has no spaces between words, so a name cannot end at a space: ``@王芳请看一下``
mentions 王芳. The longest display name of the shop that follows the ``@`` wins (so 王芳芳
beats 王芳 when both work here). A space right after the ``@`` makes it plain text, as does
an ``@`` inside a word (``buyer@example.com`` in a note is an address, not a mention).

A mention nobody answers to is refused, naming it, before anything is written: a note that
silently failed to call the person it names is worse than a note sent a minute later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.accounts.models import Agent
from kefu.errors import Invalid

# Characters of an email's local part: an "@" after one of them is inside an address.
_LOCAL_PART: Final = r"A-Za-z0-9._%+\-"
_MENTION_AT: Final = re.compile(rf"(?<![{_LOCAL_PART}@])@")
_EMAIL: Final = re.compile(rf"[{_LOCAL_PART}]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{{2,}}")
# What an unknown mention is called in the error: up to a space or punctuation.
_WORD: Final = re.compile(r"[^\s@,.;:!?，。；：！？、()（）\[\]【】<>《》\"'“”‘’]+")
_MAX_NAMED: Final = 20


@dataclass(frozen=True)
class _Person:
    id: int
    name: str  # casefolded display name
    email: str  # lower case
    active: bool


def parse_mentions(session: Session, *, shop_id: int, body: str) -> list[int]:
    """The ids of the active agents of the shop mentioned in ``body``, in order of first
    mention, each once. Raises :class:`Invalid` (``errors.tickets.unknown_mention``,
    ``mention_inactive`` or ``ambiguous_mention``) naming the first mention that is not one
    active colleague."""
    starts = [m.end() for m in _MENTION_AT.finditer(body)]
    if not starts:
        return []
    people = _people(session, shop_id=shop_id)
    found: list[int] = []
    for start in starts:
        agent_id = _resolve(body, start, people)
        if agent_id is not None and agent_id not in found:
            found.append(agent_id)
    return found


def _people(session: Session, *, shop_id: int) -> list[_Person]:
    rows = session.execute(
        select(Agent.id, Agent.display_name, Agent.email, Agent.is_active).where(
            Agent.shop_id == shop_id
        )
    ).all()
    return [
        _Person(id=i, name=name.casefold(), email=email.lower(), active=active)
        for i, name, email, active in rows
    ]


def _resolve(body: str, start: int, people: list[_Person]) -> int | None:
    """The agent mentioned by the text at ``start`` (just after an "@"), or None when it is
    not a mention at all (nothing, or a space, after the "@")."""
    rest = body[start:]
    if not rest or rest[0].isspace():
        return None
    email = _EMAIL.match(rest)
    if email is not None:
        address = email.group(0)
        matches = [p for p in people if p.email == address.lower()]
        return _one(matches, shown=address)
    folded = rest.casefold()
    best: list[_Person] = []
    for person in people:
        if not person.name or not folded.startswith(person.name):
            continue
        if _runs_on(person.name, folded):
            continue
        if not best or len(person.name) > len(best[0].name):
            best = [person]
        elif len(person.name) == len(best[0].name):
            best.append(person)
    word = _WORD.match(rest)
    if not best:
        if word is None:
            return None  # "@" before punctuation: plain text
        raise _unknown(word.group(0)[:_MAX_NAMED])
    return _one(best, shown=rest[: len(best[0].name)])


def _runs_on(name: str, text: str) -> bool:
    """A Latin name followed by more Latin letters (``@Amyx`` is not Amy): words in Latin
    script end at a boundary; CJK names never need one."""
    after = text[len(name) : len(name) + 1]
    return bool(after) and _is_latin(name[-1]) and (_is_latin(after) or after == "_")


def _is_latin(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _one(matches: list[_Person], *, shown: str) -> int:
    active = [p for p in matches if p.active]
    if len(active) == 1:
        return active[0].id
    if len(active) > 1:
        raise Invalid(
            f"@{shown} is the name of {len(active)} colleagues: mention them by email",
            field="body",
            key="errors.tickets.ambiguous_mention",
            name=shown,
            count=len(active),
        )
    if matches:
        raise Invalid(
            f"@{shown} is deactivated and cannot be mentioned",
            field="body",
            key="errors.tickets.mention_inactive",
            name=shown,
        )
    raise _unknown(shown)


def _unknown(shown: str) -> Invalid:
    return Invalid(
        f"nobody in this shop is called @{shown}: check the name or use their email",
        field="body",
        key="errors.tickets.unknown_mention",
        name=shown,
    )
