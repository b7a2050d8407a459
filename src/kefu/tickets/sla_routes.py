"""``/api/v1/tickets/sla``: SLA policies, the business calendar and the SLA report over
REST. Everyone of the shop (agents, API tokens of any role) reads; supervisors and owners
(and tokens with that role) change policies and the calendar."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.shops import service as shops
from kefu.tickets import calendar, holidays_cn, sla, sla_report
from kefu.tickets.models import DayKind, SlaPolicy, TicketPriority, TicketType
from kefu.tickets.work_hours import WeeklyHours
from kefu.uow import UnitOfWork
from kefu.web.deps import ResourceId, api_principal, ensure_role, get_uow

router = APIRouter(prefix="/api/v1/tickets/sla", tags=["ticket SLAs"])
REPORT_DAYS = 30


class PolicyIn(BaseModel):
    """Every setting of a policy (``PUT`` replaces them all). Minutes: 1–525600, or null
    for a target that is not timed."""

    name: str = Field(max_length=200)
    ticket_type: str | None = Field(default=None, max_length=20, description="null: any type")
    priority: str | None = Field(default=None, max_length=20, description="null: any priority")
    first_response_minutes: int | None = None
    next_response_minutes: int | None = None
    resolution_minutes: int | None = None
    business_hours: bool = Field(True, description="count working hours, else every minute")
    warn_before_minutes: int = Field(30, description="0: no warning")


class PolicyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    ticket_type: TicketType | None
    priority: TicketPriority | None
    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None
    business_hours: bool
    warn_before_minutes: int
    updated_at: datetime


class CalendarIn(BaseModel):
    weekly_hours: dict[int, list[list[str]]] | None = Field(
        default=None,
        description='ISO weekday (1 = Monday) → periods such as [["09:00", "12:00"], '
        '["13:30", "18:00"]]; a missing day is closed',
    )
    cn_holidays: bool | None = None


class DayIn(BaseModel):
    day: date
    kind: DayKind
    name: str = Field(default="", max_length=200)


class DayOut(BaseModel):
    day: date
    kind: DayKind
    name: str


class CalendarOut(BaseModel):
    timezone: str
    weekly_hours: dict[int, list[list[str]]]
    cn_holidays: bool
    days: list[DayOut] = Field(description="the shop's own days (they win)")
    builtin_years: list[int]
    builtin_days: list[DayOut] = Field(description="China's 放假 and 调休 days built in")


class ReportRowOut(BaseModel):
    team_id: int | None
    team_name: str
    metric: str
    due: int
    met_in_time: int
    breached: int
    running: int
    rate: float | None


class BreachOut(BaseModel):
    ticket_id: int
    number: int
    title: str
    metric: str
    due_at: datetime
    breached_at: datetime | None
    met_at: datetime | None
    team_name: str
    assignee_name: str


class ReportOut(BaseModel):
    since: datetime
    until: datetime
    rows: list[ReportRowOut]
    totals: list[ReportRowOut]
    breaches: list[BreachOut]


# --- policies ------------------------------------------------------------------------------


def _policy_out(policy: SlaPolicy) -> PolicyOut:
    return PolicyOut.model_validate(policy)


@router.get("/policies", response_model=list[PolicyOut])
def list_policies(
    principal: Principal = Depends(api_principal), uow: UnitOfWork = Depends(get_uow)
) -> list[PolicyOut]:
    """Most specific first (the order they are tried in). A new shop's defaults are
    written on the first look."""
    sla.ensure_policies(uow, shop_id=principal.shop_id)
    uow.commit()
    return [_policy_out(p) for p in sla.list_policies(uow.session, shop_id=principal.shop_id)]


@router.post("/policies", response_model=PolicyOut, status_code=201)
def create_policy(
    body: PolicyIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> PolicyOut:
    """A policy for tickets of a type and priority (null: any). Refused when another
    policy already covers the same type and priority (409), or when the warning would
    come before the shortest target starts (422)."""
    ensure_role(principal, Role.SUPERVISOR)
    policy = sla.create_policy(uow, shop_id=principal.shop_id, **_policy_values(body))
    return _policy_out(policy)


@router.get("/policies/{policy_id}", response_model=PolicyOut)
def get_policy(
    policy_id: ResourceId,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> PolicyOut:
    """One policy of the shop (another shop's id: 404)."""
    return _policy_out(sla.get_policy(uow.session, shop_id=principal.shop_id, policy_id=policy_id))


@router.put("/policies/{policy_id}", response_model=PolicyOut)
def update_policy(
    policy_id: ResourceId,
    body: PolicyIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> PolicyOut:
    """Replace the policy's settings; running clocks keep their deadlines."""
    ensure_role(principal, Role.SUPERVISOR)
    policy = sla.update_policy(
        uow, shop_id=principal.shop_id, policy_id=policy_id, **_policy_values(body)
    )
    return _policy_out(policy)


@router.delete("/policies/{policy_id}", status_code=204)
def delete_policy(
    policy_id: ResourceId,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> Response:
    """The catch-all policy (any type, any priority) cannot be deleted."""
    ensure_role(principal, Role.SUPERVISOR)
    sla.delete_policy(uow, shop_id=principal.shop_id, policy_id=policy_id)
    return Response(status_code=204)


def _policy_values(body: PolicyIn) -> dict[str, Any]:
    # Types and priorities go to the service as given: it names an unknown one.
    return body.model_dump()


# --- the calendar ------------------------------------------------------------------------


def _calendar_out(uow: UnitOfWork, shop_id: int) -> CalendarOut:
    settings = calendar.calendar_settings(uow.session, shop_id=shop_id)
    return CalendarOut(
        timezone=settings.timezone,
        weekly_hours={d: [list(p) for p in v] for d, v in settings.weekly_hours.items()},
        cn_holidays=settings.cn_holidays,
        days=[DayOut(day=d.day, kind=d.kind, name=d.name) for d in settings.days],
        builtin_years=list(holidays_cn.YEARS),
        builtin_days=[
            DayOut(day=d, kind=k, name=n)
            for year in holidays_cn.YEARS
            for d, k, n in holidays_cn.days_of(year)
        ],
    )


@router.get("/calendar", response_model=CalendarOut)
def get_calendar(
    principal: Principal = Depends(api_principal), uow: UnitOfWork = Depends(get_uow)
) -> CalendarOut:
    """Working hours in the shop's time zone, whether China's holidays apply (and which
    are built in), and the shop's own days."""
    return _calendar_out(uow, principal.shop_id)


@router.put("/calendar", response_model=CalendarOut)
def update_calendar(
    body: CalendarIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> CalendarOut:
    """Replace the week (all of it: a day left out is closed) and/or switch China's
    holidays; null keeps either. Deadlines already set do not move."""
    ensure_role(principal, Role.SUPERVISOR)
    # Each period goes to the service as sent: it names one that is not two times.
    week = cast("WeeklyHours | None", body.weekly_hours)
    calendar.update_calendar(
        uow, shop_id=principal.shop_id, weekly_hours=week, cn_holidays=body.cn_holidays
    )
    return _calendar_out(uow, principal.shop_id)


@router.post("/calendar/days", response_model=DayOut, status_code=201)
def set_day(
    body: DayIn,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> DayOut:
    """Mark a day of the shop's own: closed (holiday) or worked (workday, with the hours
    of a normal weekday). A day already marked is changed."""
    ensure_role(principal, Role.SUPERVISOR)
    row = calendar.set_calendar_day(
        uow, shop_id=principal.shop_id, day=body.day, kind=body.kind, name=body.name
    )
    return DayOut(day=row.day, kind=row.kind, name=row.name)


@router.delete("/calendar/days/{day}", status_code=204)
def remove_day(
    day: date,
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> Response:
    """Drop the shop's own mark on a day (``YYYY-MM-DD``): the week and the built-in
    holidays apply to it again. 404 when the shop has none for that day."""
    ensure_role(principal, Role.SUPERVISOR)
    calendar.remove_calendar_day(uow, shop_id=principal.shop_id, day=day)
    return Response(status_code=204)


# --- the report --------------------------------------------------------------------------


@router.get("/report", response_model=ReportOut)
def report(
    since: datetime | None = Query(None, description="default: 30 days before until"),
    until: datetime | None = Query(None, description="default: now"),
    principal: Principal = Depends(api_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> ReportOut:
    """Deadlines falling in ``[since, until)`` per team and metric: met in time, breached,
    still running, and the rate; and the breaches (latest first, at most 200). Times
    without an offset are the shop's local time."""
    session, shop_id = uow.session, principal.shop_id
    zone = ZoneInfo(shops.get_shop(session, shop_id=shop_id).timezone)
    end = _aware(until, zone) if until is not None else uow.clock.now()
    start = _aware(since, zone) if since is not None else end - timedelta(days=REPORT_DAYS)
    rows = sla_report.breach_report(session, shop_id=shop_id, since=start, until=end)
    missed = sla_report.list_breaches(session, shop_id=shop_id, since=start, until=end)
    return ReportOut(
        since=start,
        until=end,
        rows=[_row_out(r) for r in rows],
        totals=[_row_out(r) for r in sla_report.totals(rows)],
        breaches=[
            BreachOut(
                ticket_id=b.ticket_id,
                number=b.number,
                title=b.title,
                metric=b.metric.value,
                due_at=b.due_at,
                breached_at=b.breached_at,
                met_at=b.met_at,
                team_name=b.team_name,
                assignee_name=b.assignee_name,
            )
            for b in missed
        ],
    )


def _row_out(row: sla_report.BreachRow) -> ReportRowOut:
    return ReportRowOut(
        team_id=row.team_id,
        team_name=row.team_name,
        metric=row.metric.value,
        due=row.due,
        met_in_time=row.met_in_time,
        breached=row.breached,
        running=row.running,
        rate=row.rate,
    )


def _aware(value: datetime, zone: ZoneInfo) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)
