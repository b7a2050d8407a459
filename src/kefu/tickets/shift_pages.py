"""The shifts page (/shifts, 班次): every team's shifts in shop time, their people and duty
manager, and who is on now. Everyone reads it; supervisors and owners add, change and
remove shifts. A refused form shows the page again with the reason and what was typed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import HTMLResponse, Response

from kefu.accounts import service as accounts
from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.errors import DomainError, Invalid, NotFound
from kefu.shops import service as shops
from kefu.tickets import duty, shift_checks, shifts
from kefu.tickets.page_parts import back_to, form_id, ids_in, zone_of
from kefu.uow import UnitOfWork
from kefu.web.deps import ResourceId, ensure_role, get_uow, page_locale, page_principal
from kefu.web.errors import localised, status_of
from kefu.web.security import check_csrf
from kefu.web.templating import render

router = APIRouter(include_in_schema=False, prefix="/shifts")
NOTICES = {"created", "saved", "removed", "retired"}
WEEKDAYS = "1234567"


@dataclass
class ShiftForm:
    """What a shift form sent, read strictly (kept to show again when refused)."""

    team_id: str = ""
    name: str = ""
    start_time: str = ""
    end_time: str = ""
    weekdays: list[str] = field(default_factory=list)
    member_ids: list[str] = field(default_factory=list)
    duty_manager_id: str = ""
    ack_within_minutes: str = "30"
    is_active: str = "1"

    def days(self) -> str:
        return "".join(d for d in WEEKDAYS if d in self.weekdays)

    def ack(self) -> int:
        text = self.ack_within_minutes.strip()
        if not text.isdigit() or len(text) > 6:
            raise Invalid(
                "the acknowledgement window must be a number of minutes",
                field="ack_within_minutes",
                key="errors.tickets.shift.bad_ack_minutes",
                max=shift_checks.MAX_ACK_MINUTES,
            )
        return int(text)


def shift_form(
    team_id: str = Form(default="", max_length=12),
    name: str = Form(default="", max_length=400),
    start_time: str = Form(default="", max_length=10),
    end_time: str = Form(default="", max_length=10),
    weekdays: list[str] = Form(default=[], max_length=7),
    member_ids: list[str] = Form(default=[], max_length=200),
    duty_manager_id: str = Form(default="", max_length=12),
    ack_within_minutes: str = Form(default="30", max_length=10),
    is_active: str = Form(default="1", max_length=1),
) -> ShiftForm:
    return ShiftForm(
        team_id=team_id, name=name, start_time=start_time, end_time=end_time,
        weekdays=weekdays, member_ids=member_ids, duty_manager_id=duty_manager_id,
        ack_within_minutes=ack_within_minutes, is_active=is_active,
    )  # fmt: skip


@router.get("", response_class=HTMLResponse)
def shifts_page(
    request: Request,
    done: str = Query(default="", max_length=20),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    _: str = Depends(page_locale),
) -> HTMLResponse:
    return _page(request, uow, principal, notice=done if done in NOTICES else "")


def _page(
    request: Request,
    uow: UnitOfWork,
    principal: Principal,
    *,
    notice: str = "",
    error: str = "",
    error_shift: int | None = None,
    typed: ShiftForm | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    session, shop_id = uow.session, principal.shop_id
    now = uow.clock.now()
    listed = shifts.list_shifts(session, shop_id=shop_id)
    on_now = shifts.shifts_on(session, shop_id=shop_id, at=now)
    roster = accounts.roster(session, shop_id=shop_id)
    active = [entry for entry in roster.entries if entry.agent.is_active]
    manager_id = duty.duty_manager(session, shop_id=shop_id, at=now)
    names = {entry.agent.id: entry.agent.display_name for entry in roster.entries}
    views = shifts.shift_views(session, shop_id=shop_id, shifts=listed)
    # What each form shows: the shift as it is, or what was typed when it was refused.
    forms = {v.shift.id: _values_of(v) for v in views}
    new_form = ShiftForm()
    if typed is not None and error_shift in forms:
        forms[error_shift] = typed
    elif typed is not None:
        new_form = typed
    context = {
        "views": views,
        "forms": forms,
        "new_form": new_form,
        "on_now": {o.shift.id: o for o in on_now},
        "teams": shops.list_teams(session, shop_id=shop_id),
        # Members by team (an agent of two teams is offered in both).
        "members_by_team": [
            (team, [e.agent for e in active if any(t.id == team.id for t in e.teams)])
            for team in roster.teams
        ],
        "managers": [e.agent for e in active if e.agent.role in (Role.SUPERVISOR, Role.OWNER)],
        "duty_manager_name": names.get(manager_id, "") if manager_id else "",
        "weekdays": WEEKDAYS,
        "zone": zone_of(uow, principal),
        "now": now,
        "can_edit": principal.has_role(Role.SUPERVISOR),
        "notice": notice,
        "error": error,
        "error_shift": error_shift,
        "typed": typed,
    }
    return render(request, "shifts.html", context, status_code=status_code)


def _values_of(view: shifts.ShiftView) -> ShiftForm:
    s = view.shift
    return ShiftForm(
        team_id=str(s.team_id), name=s.name, start_time=s.start_time, end_time=s.end_time,
        weekdays=list(s.weekdays), member_ids=[str(agent_id) for agent_id, _ in view.members],
        duty_manager_id=str(s.duty_manager_id or ""),
        ack_within_minutes=str(s.ack_within_minutes), is_active="1" if s.is_active else "0",
    )  # fmt: skip


def _refused(
    request: Request,
    uow: UnitOfWork,
    principal: Principal,
    locale: str,
    exc: DomainError,
    *,
    shift_id: int | None,
    typed: ShiftForm,
) -> HTMLResponse:
    uow.rollback()
    return _page(
        request, uow, principal, error=localised(locale, exc), error_shift=shift_id or 0,
        typed=typed, status_code=status_of(exc),
    )  # fmt: skip


@router.post("", response_class=HTMLResponse)
def create(
    request: Request,
    form: ShiftForm = Depends(shift_form),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    check_csrf(request, csrf_token)
    ensure_role(principal, Role.SUPERVISOR)
    try:
        team_id = form_id(form.team_id, field="team_id")
        if team_id is None:
            raise Invalid("choose the shift's team", field="team_id", key="errors.tickets.pick_one")
        shifts.create_shift(
            uow, shop_id=principal.shop_id, team_id=team_id, name=form.name,
            start_time=form.start_time, end_time=form.end_time, weekdays=form.days(),
            member_ids=ids_in(form.member_ids, field="member_ids"),
            duty_manager_id=form_id(form.duty_manager_id, field="duty_manager_id"),
            ack_within_minutes=form.ack(),
        )  # fmt: skip
    except NotFound:
        raise
    except DomainError as exc:
        return _refused(request, uow, principal, locale, exc, shift_id=None, typed=form)
    return back_to("/shifts", done="created")


@router.post("/{shift_id}", response_class=HTMLResponse)
def update(
    request: Request,
    shift_id: ResourceId,
    form: ShiftForm = Depends(shift_form),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    check_csrf(request, csrf_token)
    ensure_role(principal, Role.SUPERVISOR)
    shifts.get_shift(uow.session, shop_id=principal.shop_id, shift_id=shift_id)  # 404 first
    try:
        shifts.update_shift(
            uow, shop_id=principal.shop_id, shift_id=shift_id, name=form.name,
            start_time=form.start_time, end_time=form.end_time, weekdays=form.days(),
            member_ids=ids_in(form.member_ids, field="member_ids"),
            duty_manager_id=form_id(form.duty_manager_id, field="duty_manager_id"),
            ack_within_minutes=form.ack(), is_active=form.is_active == "1",
        )  # fmt: skip
    except NotFound:
        raise
    except DomainError as exc:
        return _refused(request, uow, principal, locale, exc, shift_id=shift_id, typed=form)
    return back_to("/shifts", done="saved")


@router.post("/{shift_id}/delete", response_class=HTMLResponse)
def delete(
    request: Request,
    shift_id: ResourceId,
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
) -> Response:
    check_csrf(request, csrf_token)
    ensure_role(principal, Role.SUPERVISOR)
    removed = shifts.delete_shift(uow, shop_id=principal.shop_id, shift_id=shift_id)
    return back_to("/shifts", done="removed" if removed else "retired")
