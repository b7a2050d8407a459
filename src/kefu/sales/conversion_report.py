"""询单转化率, read: how many inquiries of a period became paid orders, per agent or per
team, and for the whole shop (the rules are in :mod:`kefu.sales.conversion`).

A period's inquiries are those that *started* in it (``[since, until)``); each counts as
converted whenever its buyer paid, within the window. So a recent period's rate can still
rise for a few days: its youngest inquiries are still inside their window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.accounts.models import Agent
from kefu.errors import Invalid
from kefu.sales.conversion import conversion_window
from kefu.sales.models import Inquiry
from kefu.shops.models import Team

Grouping = Literal["agent", "team"]
GROUPINGS: tuple[Grouping, ...] = ("agent", "team")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class ConversionRow:
    key: int | None  # the agent's or team's id; None: nobody of 售前 had it / no team
    name: str
    inquiries: int
    converted: int
    rate: float | None  # converted / inquiries (0–1), None without inquiries
    amount: Decimal  # what the converted inquiries' orders came to


@dataclass(frozen=True)
class ConversionReport:
    by: Grouping
    since: datetime
    until: datetime
    window_days: int
    rows: list[ConversionRow]
    total: ConversionRow | None  # the whole shop; None when only one agent's row is shown


def recent_days(*, now: datetime, timezone: str, days: int) -> tuple[datetime, datetime]:
    """The last ``days`` days of the shop's calendar, today included: from midnight
    ``days - 1`` days ago until tonight's midnight (shop time)."""
    zone = ZoneInfo(timezone)
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    until = datetime.combine(tomorrow, time(0), tzinfo=zone)
    since = datetime.combine(tomorrow - timedelta(days=days), time(0), tzinfo=zone)
    return since, until


def _row(key: int | None, name: str, inquiries: int, converted: int, amount: Any) -> ConversionRow:
    return ConversionRow(
        key=key,
        name=name,
        inquiries=inquiries,
        converted=converted,
        rate=round(converted / inquiries, 4) if inquiries else None,
        amount=Decimal(amount or 0).quantize(CENT),
    )


def conversion_rates(
    session: Session,
    *,
    shop_id: int,
    since: datetime,
    until: datetime,
    by: str,
    agent_id: int | None = None,
) -> ConversionReport:
    """Inquiries started in ``[since, until)``, grouped ``by`` agent or team (most
    inquiries first), with the shop's total. ``agent_id``: only that agent's row (what an
    agent may see of it), and no total."""
    if by not in GROUPINGS:
        raise Invalid("group by agent or team", field="by")
    if since.tzinfo is None or until.tzinfo is None:
        raise Invalid("times must be timezone-aware", field="since")
    if until <= since:
        raise Invalid("until must come after since", field="until")
    grouping: Grouping = "agent" if by == "agent" else "team"
    key = Inquiry.agent_id if grouping == "agent" else Inquiry.team_id
    counted = (
        select(
            key,
            func.count(Inquiry.id),
            func.count(Inquiry.order_id),
            func.sum(Inquiry.amount),
        )
        .where(Inquiry.shop_id == shop_id, Inquiry.started_at >= since, Inquiry.started_at < until)
        .group_by(key)
    )
    if agent_id is not None:
        counted = counted.where(Inquiry.agent_id == agent_id)
    found = session.execute(counted).all()
    names = _names(session, shop_id=shop_id, grouping=grouping, ids=[r[0] for r in found])
    rows = [_row(k, names.get(k, "") if k is not None else "", n, c, a) for k, n, c, a in found]
    if agent_id is not None and not rows:  # an agent sees their row, even when empty
        rows = [_row(agent_id, _name_of(session, shop_id, agent_id), 0, 0, 0)]
    rows.sort(key=lambda r: (-r.inquiries, r.key is None, r.name, r.key or 0))
    total = None
    if agent_id is None:
        total = _row(
            None,
            "",
            sum(r.inquiries for r in rows),
            sum(r.converted for r in rows),
            sum((r.amount for r in rows), Decimal(0)),
        )
    return ConversionReport(
        by=grouping,
        since=since,
        until=until,
        window_days=conversion_window(session, shop_id=shop_id) // timedelta(days=1),
        rows=rows,
        total=total,
    )


def _names(
    session: Session, *, shop_id: int, grouping: Grouping, ids: list[int | None]
) -> dict[int | None, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    if grouping == "agent":
        query = select(Agent.id, Agent.display_name).where(
            Agent.shop_id == shop_id, Agent.id.in_(wanted)
        )
    else:
        query = select(Team.id, Team.name).where(Team.shop_id == shop_id, Team.id.in_(wanted))
    return {row[0]: row[1] for row in session.execute(query)}


def _name_of(session: Session, shop_id: int, agent_id: int) -> str:
    return _names(session, shop_id=shop_id, grouping="agent", ids=[agent_id]).get(agent_id, "")
