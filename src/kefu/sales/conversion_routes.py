"""``/api/v1/sales/conversion``: 询单转化率 per agent or per team, for dashboards and the
analytics to come. Supervisors, owners and their API tokens see the whole shop; an agent
sees their own row."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query

from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.sales import service
from kefu.sales.schemas import ConversionOut, ConversionRowOut
from kefu.shops import service as shops
from kefu.uow import UnitOfWork
from kefu.web.deps import api_principal, ensure_role, get_uow

router = APIRouter(prefix="/api/v1/sales", tags=["sales"])
DEFAULT_DAYS = 30


def viewer_scope(principal: Principal, *, by: str) -> int | None:
    """None: the caller sees every row; else the one agent whose row they may see.
    Grouped by team, or for an API token below supervisor, there is no row of one's own."""
    if principal.has_role(Role.SUPERVISOR):
        return None
    if principal.agent_id is None or by != "agent":
        ensure_role(principal, Role.SUPERVISOR)
    return principal.agent_id


def _aware(value: datetime, zone: str) -> datetime:
    """A time without an offset (or a bare date: its midnight) is the shop's local time."""
    return value if value.tzinfo is not None else value.replace(tzinfo=ZoneInfo(zone))


def _row(row: service.ConversionRow) -> ConversionRowOut:
    return ConversionRowOut(
        id=row.key,
        name=row.name,
        inquiries=row.inquiries,
        converted=row.converted,
        rate=row.rate,
        amount=row.amount,
    )


@router.get("/conversion", response_model=ConversionOut)
def conversion(
    by: str = Query("agent", pattern="^(agent|team)$"),
    since: datetime | None = Query(
        None, description="inquiries started from then (default: 30 days before until)"
    ),
    until: datetime | None = Query(
        None, description="… until just before then (default: tonight's midnight, shop time)"
    ),
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> ConversionOut:
    """Inquiries (询单) started in ``[since, until)``, how many the buyer paid within the
    shop's window, and what they paid, grouped by agent or team, with the shop's total.
    Times without an offset, and bare dates, are the shop's local time."""
    agent_id = viewer_scope(principal, by=by)
    zone = shops.get_shop(uow.session, shop_id=principal.shop_id).timezone
    start, end = service.recent_days(now=uow.clock.now(), timezone=zone, days=DEFAULT_DAYS)
    if until is not None:
        end = _aware(until, zone)
        start = end - timedelta(days=DEFAULT_DAYS)
    if since is not None:
        start = _aware(since, zone)
    report = service.conversion_rates(
        uow.session,
        shop_id=principal.shop_id,
        since=start,
        until=end,
        by=by,
        agent_id=agent_id,
    )
    return ConversionOut(
        by=report.by,
        since=report.since,
        until=report.until,
        window_days=report.window_days,
        rows=[_row(r) for r in report.rows],
        total=_row(report.total) if report.total is not None else None,
    )
