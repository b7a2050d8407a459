"""Live hints while an agent types: the engine's judgement of the draft as if it were sent
now, with the better phrasing filled in for this buyer.

The desk asks on every typing pause, so this only reads (a handful of queries whatever
the conversation's length, the buyer's lines read once and cached) and never writes: no
score, no row, no event. What the agent is warned of here is what the conversation would
be scored on, because both go through :mod:`kefu.coach.engine`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from time import perf_counter

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from kefu.accounts import service as accounts
from kefu.coach.engine import Hit, Turn, check_draft
from kefu.coach.episodes import BuyerLines
from kefu.coach.models import RuleKind
from kefu.coach.phrases import render, variables_for
from kefu.coach.readings import read_buyer
from kefu.coach.rules import rule_specs
from kefu.coach.text import MAX_CHARS
from kefu.coach.turns import LIVE_WINDOW, turns_of
from kefu.conversations import desk
from kefu.conversations.models import Message, SenderType
from kefu.errors import Invalid

# The composer accepts a draft this long (the desk's own limit on a message is lower); the
# engine reads its first MAX_CHARS and says it was cut.
MAX_DRAFT = 20_000
ANALYSED_CHARS = MAX_CHARS


@dataclass(frozen=True, slots=True)
class LiveHit:
    """A rule the draft breaks. ``start``/``end`` are offsets into the draft as sent (the
    same text the desk underlines); start == end when something is missing (a greeting,
    an apology) rather than said."""

    code: str
    name: str
    description: str
    severity: str
    points: int
    start: int
    end: int
    excerpt: str
    suggestion: str  # the rule's better phrasing, variables filled ("" when it has none)


@dataclass(frozen=True, slots=True)
class LiveCheck:
    hits: tuple[LiveHit, ...]
    buyer_angry: bool  # a buyer line the draft answers reads as angry
    complaint: bool  # … or complains (angry, a complaint intent or complaint words)
    # The apology-first opening to offer when the draft answers a complaint (the
    # suggestion of the shop's "no apology" rule), else None.
    apology_template: str | None
    truncated: bool  # longer than ANALYSED_CHARS: only the beginning was judged
    elapsed_ms: float  # server time of the check


def check_draft_for(
    session: Session,
    *,
    shop_id: int,
    agent_id: int | None,
    conversation_id: int,
    text: str,
    now: datetime,
    viewer: desk.Viewer | None = None,
) -> LiveCheck:
    """The hints for ``text`` as ``agent_id``'s next reply in the conversation.

    The conversation must be the shop's (NotFound) and one the caller may work by the
    desk's access rule (PermissionDenied): ``viewer`` when the caller is known (the route
    passes the principal's), else the agent's own. A blank draft has no hits, but still
    says whether the buyer is waiting on a complaint, so the apology opening can be
    offered before the agent types.
    """
    started = perf_counter()
    who = viewer if viewer is not None else _viewer_of_agent(session, shop_id, agent_id)
    conversation = desk.conversation_for(
        session, shop_id=shop_id, conversation_id=conversation_id, viewer=who
    )
    if len(text) > MAX_DRAFT:
        raise Invalid(
            f"the draft has {len(text)} characters, at most {MAX_DRAFT} are checked",
            field="text",
            key="errors.coach.live.too_long",
            length=len(text),
            limit=MAX_DRAFT,
        )
    turns = turns_of(session, shop_id=shop_id, conversation_id=conversation.id, newest=LIVE_WINDOW)
    rules = rule_specs(session, shop_id=shop_id)
    inspection = check_draft(turns, text, rules, agent_id=agent_id, now=now, read_buyer=read_buyer)
    complaint = bool(inspection.angry_turns)
    waiting = _unanswered(turns)
    lines = BuyerLines(turns, read_buyer)
    buyer_angry = any(lines.angry(index) for index in waiting)

    kinds = {rule.code: rule.kind for rule in rules}
    found = list(inspection.hits) if text.strip() else []
    if any(kinds.get(hit.rule) == RuleKind.GREETING.value for hit in found) and _greeted_before(
        session, shop_id, conversation.id, agent_id, turns
    ):
        found = [hit for hit in found if kinds.get(hit.rule) != RuleKind.GREETING.value]

    apology = next((r for r in rules if r.kind == RuleKind.NO_APOLOGY.value), None)
    wording = _Wording(session, shop_id, conversation.id)
    hits = tuple(_live_hit(hit, wording) for hit in found)
    template = wording(apology.suggestion) if complaint and apology is not None else ""
    return LiveCheck(
        hits=hits,
        buyer_angry=buyer_angry,
        complaint=complaint,
        apology_template=template or None,
        truncated=inspection.truncated,
        elapsed_ms=round((perf_counter() - started) * 1000, 2),
    )


def _viewer_of_agent(session: Session, shop_id: int, agent_id: int | None) -> desk.Viewer:
    """The desk's access rule for an agent named by id: supervisors and owners every team."""
    if agent_id is None:
        return desk.viewer_for(session, shop_id=shop_id, agent_id=None, shop_wide=True)
    agent = accounts.get_agent(session, shop_id=shop_id, agent_id=agent_id)
    return desk.viewer_of_agent(session, agent=agent)


def _unanswered(turns: Sequence[Turn]) -> list[int]:
    """The buyer's lines since the last agent reply: what the draft answers."""
    waiting: list[int] = []
    for index in range(len(turns) - 1, -1, -1):
        role = turns[index].role
        if role == "agent":
            break
        if role == "buyer":
            waiting.append(index)
    return waiting[::-1]


def _greeted_before(
    session: Session,
    shop_id: int,
    conversation_id: int,
    agent_id: int | None,
    turns: Sequence[Turn],
) -> bool:
    """Whether the agent replied before the live window began: the engine only sees the
    newest LIVE_WINDOW messages, and in a long chat the agent's first words (their
    greeting) may be older than that. One indexed EXISTS, asked only when the engine
    would otherwise ask this agent to greet."""
    if agent_id is None or not turns or turns[0].seq is None or turns[0].seq <= 1:
        return False  # the window starts at the conversation's first message
    if any(turn.role == "agent" and turn.agent_id == agent_id for turn in turns):
        return False  # the engine saw their earlier reply itself
    earlier = exists().where(
        Message.shop_id == shop_id,
        Message.conversation_id == conversation_id,
        Message.seq < turns[0].seq,
        Message.sender_type == SenderType.AGENT,
        Message.sender_agent_id == agent_id,
        Message.is_private.is_(False),
        Message.body != "",
        Message.card == "",
    )
    return bool(session.scalar(select(earlier)))


class _Wording:
    """Suggestions with the buyer's variables filled in; the variables are read once, and
    only when some suggestion has one (most checks have no hit at all)."""

    def __init__(self, session: Session, shop_id: int, conversation_id: int) -> None:
        self._session = session
        self._shop_id = shop_id
        self._conversation_id = conversation_id
        self._values: dict[str, str] | None = None

    def __call__(self, text: str) -> str:
        if "{" not in text:
            return text
        if self._values is None:
            self._values = variables_for(
                self._session, shop_id=self._shop_id, conversation_id=self._conversation_id
            )
        return render(text, self._values)


def _live_hit(hit: Hit, wording: _Wording) -> LiveHit:
    return LiveHit(
        code=hit.rule,
        name=hit.name,
        description=hit.description,
        severity=hit.severity,
        points=hit.points,
        start=hit.start,
        end=hit.end,
        excerpt=hit.excerpt,
        suggestion=wording(hit.suggestion),
    )
