"""Reading handover reports (交班): the list with its counts, and one report with its items,
names instead of ids and who may acknowledge. Written in :mod:`kefu.tickets.handover`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from kefu.accounts.models import Agent
from kefu.errors import NotFound
from kefu.shops import service as shops
from kefu.tickets import checks
from kefu.tickets.handover import may_acknowledge
from kefu.tickets.models import Handover, HandoverItem, HandoverItemKind, Shift
from kefu.tickets.shifts import members_of


@dataclass(frozen=True)
class HandoverRow:
    """A line of the list: 「售后 · 早班 · 11/23 08:00–16:00 · 已确认 3/5 · 1 项超时未确认」."""

    handover: Handover
    team_name: str
    shift_name: str
    next_shift_name: str
    author_name: str  # "" when the app wrote it at the shift's end
    items: int
    acknowledged: int
    flagged: int


@dataclass(frozen=True)
class ItemView:
    item: HandoverItem
    link: str  # /tickets/<id> or /desk?conversation=<id>
    outgoing_name: str
    acknowledged_by_name: str

    @property
    def unacknowledged_flagged(self) -> bool:
        return self.item.flagged_at is not None and self.item.acknowledged_at is None


@dataclass(frozen=True)
class HandoverDetail:
    row: HandoverRow
    items: list[ItemView]
    incoming_member_ids: list[int]
    incoming_duty_manager_id: int | None

    @property
    def handover(self) -> Handover:
        return self.row.handover

    def can_acknowledge(self, session: Session, *, agent_id: int | None) -> bool:
        if agent_id is None:
            return False
        agent = session.get(Agent, agent_id)
        if agent is None or agent.shop_id != self.handover.shop_id or not agent.is_active:
            return False
        return may_acknowledge(session, handover=self.handover, agent=agent)


def get_handover(session: Session, *, shop_id: int, handover_id: int) -> Handover:
    handover = (
        session.scalar(
            select(Handover).where(Handover.shop_id == shop_id, Handover.id == handover_id)
        )
        if checks._is_id(handover_id)
        else None
    )
    if handover is None:
        raise NotFound("handover report not found", key="errors.tickets.handover.not_found")
    return handover


def list_handovers(
    session: Session,
    *,
    shop_id: int,
    team_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
    since: datetime | None = None,
) -> list[Handover]:
    """Newest shift end first."""
    query = select(Handover).where(Handover.shop_id == shop_id)
    if team_id is not None:
        query = query.where(Handover.team_id == team_id)
    if since is not None:
        query = query.where(Handover.period_end >= since)
    query = query.order_by(Handover.period_end.desc(), Handover.id.desc())
    return list(session.scalars(query.limit(limit).offset(offset)))


def count_handovers(session: Session, *, shop_id: int, team_id: int | None = None) -> int:
    query = select(func.count(Handover.id)).where(Handover.shop_id == shop_id)
    if team_id is not None:
        query = query.where(Handover.team_id == team_id)
    return int(session.scalar(query) or 0)


def handover_rows(
    session: Session, *, shop_id: int, handovers: Sequence[Handover]
) -> list[HandoverRow]:
    ids = [h.id for h in handovers]
    counts: dict[int, tuple[int, int, int]] = {}
    if ids:
        for handover_id, total, acked, flagged in session.execute(
            select(
                HandoverItem.handover_id,
                func.count(HandoverItem.id),
                func.sum(case((HandoverItem.acknowledged_at.is_not(None), 1), else_=0)),
                func.sum(
                    case(
                        (
                            HandoverItem.flagged_at.is_not(None)
                            & HandoverItem.acknowledged_at.is_(None),
                            1,
                        ),
                        else_=0,
                    )
                ),
            )
            .where(HandoverItem.shop_id == shop_id, HandoverItem.handover_id.in_(ids))
            .group_by(HandoverItem.handover_id)
        ):
            counts[handover_id] = (int(total), int(acked or 0), int(flagged or 0))
    teams = {t.id: t.name for t in shops.list_teams(session, shop_id=shop_id)}
    shift_ids = {h.shift_id for h in handovers} | {
        h.next_shift_id for h in handovers if h.next_shift_id is not None
    }
    shift_names = {
        row[0]: row[1]
        for row in session.execute(
            select(Shift.id, Shift.name).where(Shift.shop_id == shop_id, Shift.id.in_(shift_ids))
        )
    }
    authors = _names(session, shop_id, {h.created_by_agent_id for h in handovers})
    rows = []
    for h in handovers:
        total, acked, flagged = counts.get(h.id, (0, 0, 0))
        rows.append(
            HandoverRow(
                handover=h,
                team_name=teams.get(h.team_id, ""),
                shift_name=shift_names.get(h.shift_id, ""),
                next_shift_name=shift_names.get(h.next_shift_id, "") if h.next_shift_id else "",
                author_name=authors.get(h.created_by_agent_id, "") if h.created_by_agent_id else "",
                items=total,
                acknowledged=acked,
                flagged=flagged,
            )
        )
    return rows


def handover_detail(session: Session, *, shop_id: int, handover_id: int) -> HandoverDetail:
    handover = get_handover(session, shop_id=shop_id, handover_id=handover_id)
    [row] = handover_rows(session, shop_id=shop_id, handovers=[handover])
    items = list(
        session.scalars(
            select(HandoverItem)
            .where(HandoverItem.shop_id == shop_id, HandoverItem.handover_id == handover.id)
            .order_by(HandoverItem.id)
        )
    )
    names = _names(
        session,
        shop_id,
        {i.outgoing_agent_id for i in items} | {i.acknowledged_by_id for i in items},
    )
    incoming = session.get(Shift, handover.next_shift_id) if handover.next_shift_id else None
    members = (
        members_of(session, shop_id=shop_id, shift_ids=[incoming.id])[incoming.id]
        if incoming is not None
        else []
    )
    return HandoverDetail(
        row=row,
        items=[
            ItemView(
                item=i,
                link=_link(i),
                outgoing_name=names.get(i.outgoing_agent_id, "") if i.outgoing_agent_id else "",
                acknowledged_by_name=(
                    names.get(i.acknowledged_by_id, "") if i.acknowledged_by_id else ""
                ),
            )
            for i in items
        ],
        incoming_member_ids=members,
        incoming_duty_manager_id=incoming.duty_manager_id if incoming is not None else None,
    )


def _link(item: HandoverItem) -> str:
    if item.kind is HandoverItemKind.TICKET and item.ticket_id is not None:
        return f"/tickets/{item.ticket_id}"
    if item.kind is HandoverItemKind.CONVERSATION and item.conversation_id is not None:
        return f"/desk?conversation={item.conversation_id}"
    return ""  # the ticket or chat was deleted since


def _names(session: Session, shop_id: int, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {
        row[0]: row[1]
        for row in session.execute(
            select(Agent.id, Agent.display_name).where(
                Agent.shop_id == shop_id, Agent.id.in_(wanted)
            )
        )
    }
