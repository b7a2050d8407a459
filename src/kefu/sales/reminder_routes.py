"""``/api/v1/sales``: the 催付 reminders (list and figures) and the shop's sales settings,
over REST. Everyone of the shop may read; supervisors and owners change the settings."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query

from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.sales import service
from kefu.sales.schemas import ReminderOut, ReminderReportOut, SalesSettingsIn, SalesSettingsOut
from kefu.shops import service as shops
from kefu.uow import UnitOfWork
from kefu.web.deps import api_principal, ensure_role, get_uow

router = APIRouter(prefix="/api/v1/sales", tags=["sales"])
DEFAULT_DAYS = 30


@router.get("/reminders", response_model=list[ReminderOut])
def list_reminders(
    status: service.ReminderStatus | None = Query(None),
    limit: int = Query(50, ge=1, le=200),
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> list[ReminderOut]:
    """The shop's latest payment reminders, newest first (``status`` filters)."""
    rows = service.list_reminders(
        uow.session, shop_id=principal.shop_id, status=status, limit=limit
    )
    return [
        ReminderOut(
            id=r.id,
            order_id=r.order_id,
            order_no=r.order_no,
            customer_id=r.customer_id,
            customer_name=r.customer_name,
            status=r.status.value,
            reason=r.reason,
            due_at=r.due_at,
            sent_at=r.sent_at,
            conversation_id=r.conversation_id,
            paid_at=r.paid_at,
            paid_amount=r.paid_amount,
        )
        for r in rows
    ]


@router.get("/reminders/report", response_model=ReminderReportOut)
def reminder_report(
    since: datetime | None = Query(None, description="default: 30 days before until"),
    until: datetime | None = Query(None, description="default: now"),
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> ReminderReportOut:
    """Reminders sent in ``[since, until)``, how many of those orders were paid after the
    reminder and what they paid (recovered revenue); cancelled and skipped ones scheduled
    in the period; pending now. Times without an offset are the shop's local time."""
    zone = ZoneInfo(shops.get_shop(uow.session, shop_id=principal.shop_id).timezone)
    end = _aware(until, zone) if until is not None else uow.clock.now()
    start = _aware(since, zone) if since is not None else end - timedelta(days=DEFAULT_DAYS)
    report = service.reminder_report(uow.session, shop_id=principal.shop_id, since=start, until=end)
    return ReminderReportOut(
        since=report.since,
        until=report.until,
        sent=report.sent,
        paid_after_reminder=report.paid_after_reminder,
        paid_rate=report.paid_rate,
        recovered_revenue=report.recovered_revenue,
        cancelled=report.cancelled,
        skipped=report.skipped,
        pending=report.pending,
    )


def _aware(value: datetime, zone: ZoneInfo) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


@router.get("/settings", response_model=SalesSettingsOut)
def get_settings(
    principal: Principal = Depends(api_principal), uow: UnitOfWork = Depends(get_uow)
) -> SalesSettingsOut:
    """Reminders (on/off, delay, quiet hours, wording) and the conversion window."""
    settings = service.settings_of(uow.session, shop_id=principal.shop_id)
    return SalesSettingsOut.model_validate(settings)


@router.patch("/settings", response_model=SalesSettingsOut)
def update_settings(
    body: SalesSettingsIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> SalesSettingsOut:
    """Change some settings (supervisors and owners): only the fields given change. An
    unknown variable in the template is refused with its name."""
    ensure_role(principal, Role.SUPERVISOR)
    settings = service.update_settings(
        uow, shop_id=principal.shop_id, **body.model_dump(exclude_none=True)
    )
    return SalesSettingsOut.model_validate(settings)
