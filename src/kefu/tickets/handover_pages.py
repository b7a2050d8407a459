"""The handover pages (交班): the list of reports (/handovers) with the 「交班」 form for the
shifts the agent works, and one report (/handovers/{id}) with its items, the outgoing
note, what is flagged, and the acknowledge buttons for the incoming shift.

Everyone reads them. A refused form shows the page again with the reason; nothing changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import HTMLResponse, Response

from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.errors import DomainError, NotFound
from kefu.shops import service as shops
from kefu.tickets import handover, handover_reads, shifts
from kefu.tickets.handover import HANDOVER_WINDOW
from kefu.tickets.models import Shift
from kefu.tickets.page_parts import acting_agent, back_to, form_id, zone_of
from kefu.tickets.shift_times import latest_ended
from kefu.uow import UnitOfWork
from kefu.web.deps import ResourceId, get_uow, page_locale, page_principal
from kefu.web.errors import localised, status_of
from kefu.web.security import check_csrf
from kefu.web.templating import render

router = APIRouter(include_in_schema=False, prefix="/handovers")
PAGE_SIZE = 30
NOTICES = {"handed", "acknowledged"}


@dataclass(frozen=True)
class MyShift:
    """A shift the agent may hand over, and where it stands now."""

    shift: Shift
    team_name: str
    on_until: datetime | None  # on now, until then
    ended_at: datetime | None  # else: just ended then (within the handover window)


@router.get("", response_class=HTMLResponse)
def handovers_page(
    request: Request,
    team_id: str = Query(default="", max_length=12),
    page: int = Query(default=1, ge=1, le=10_000),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    _: str = Depends(page_locale),
) -> HTMLResponse:
    chosen = int(team_id) if team_id.isdigit() and len(team_id) < 10 else None
    return _list(request, uow, principal, team_id=chosen, page=page)


def _list(
    request: Request,
    uow: UnitOfWork,
    principal: Principal,
    *,
    team_id: int | None = None,
    page: int = 1,
    error: str = "",
    note: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    session, shop_id = uow.session, principal.shop_id
    listed = handover_reads.list_handovers(
        session, shop_id=shop_id, team_id=team_id, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    total = handover_reads.count_handovers(session, shop_id=shop_id, team_id=team_id)
    context = {
        "rows": handover_reads.handover_rows(session, shop_id=shop_id, handovers=listed),
        "total": total,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "team_id": team_id,
        "teams": shops.list_teams(session, shop_id=shop_id),
        "mine": _my_shifts(uow, principal),
        "zone": zone_of(uow, principal),
        "error": error,
        "note": note,
    }
    return render(request, "handovers.html", context, status_code=status_code)


def _my_shifts(uow: UnitOfWork, principal: Principal) -> list[MyShift]:
    """The active shifts the caller works (member or duty manager; a supervisor: all)."""
    session, shop_id, now = uow.session, principal.shop_id, uow.clock.now()
    active = shifts.list_shifts(session, shop_id=shop_id, active_only=True)
    if not principal.has_role(Role.SUPERVISOR):
        members = shifts.members_of(session, shop_id=shop_id, shift_ids=[s.id for s in active])
        active = [
            s
            for s in active
            if principal.agent_id in members[s.id] or s.duty_manager_id == principal.agent_id
        ]
    teams = {t.id: t.name for t in shops.list_teams(session, shop_id=shop_id)}
    zone = shifts.shop_zone(session, shop_id=shop_id)
    found = []
    for shift in active:
        on = shifts.current_occurrence(session, shift=shift, at=now)
        ended = None if on else latest_ended(shift, zone, at=now, within=HANDOVER_WINDOW)
        found.append(
            MyShift(
                shift=shift,
                team_name=teams.get(shift.team_id, ""),
                on_until=on.end if on else None,
                ended_at=ended.end if ended else None,
            )
        )
    return found


@router.post("", response_class=HTMLResponse)
def hand_over(
    request: Request,
    shift_id: str = Form(default="", max_length=12),
    note: str = Form(default="", max_length=20_000),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    """「交班」: the report of the chosen shift's occurrence on now (or just ended)."""
    check_csrf(request, csrf_token)
    agent_id = acting_agent(principal)
    try:
        chosen = form_id(shift_id, field="shift_id")
        if chosen is None:
            raise NotFound("shift not found", key="errors.tickets.shift.not_found")
        report = handover.hand_over(
            uow, shop_id=principal.shop_id, shift_id=chosen, note=note, actor_agent_id=agent_id
        )
    except DomainError as exc:
        uow.rollback()
        return _list(
            request, uow, principal, error=localised(locale, exc), note=note,
            status_code=status_of(exc),
        )  # fmt: skip
    return back_to(f"/handovers/{report.id}", done="handed")


@router.get("/{handover_id}", response_class=HTMLResponse)
def handover_page(
    request: Request,
    handover_id: ResourceId,
    done: str = Query(default="", max_length=20),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    _: str = Depends(page_locale),
) -> HTMLResponse:
    return _report(request, uow, principal, handover_id, notice=done if done in NOTICES else "")


def _report(
    request: Request,
    uow: UnitOfWork,
    principal: Principal,
    handover_id: int,
    *,
    notice: str = "",
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    session = uow.session
    detail = handover_reads.handover_detail(
        session, shop_id=principal.shop_id, handover_id=handover_id
    )
    context = {
        "r": detail.row,
        "h": detail.handover,
        "items": detail.items,
        "can_acknowledge": detail.can_acknowledge(session, agent_id=principal.agent_id),
        "zone": zone_of(uow, principal),
        "now": uow.clock.now(),
        "notice": notice,
        "error": error,
    }
    return render(request, "handover.html", context, status_code=status_code)


@router.post("/{handover_id}/acknowledge", response_class=HTMLResponse)
def acknowledge(
    request: Request,
    handover_id: ResourceId,
    item_id: str = Form(default="", max_length=12),
    csrf_token: str = Form(default=""),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    locale: str = Depends(page_locale),
) -> Response:
    """One item (``item_id``), or 「全部确认」 without one."""
    check_csrf(request, csrf_token)
    handover_reads.get_handover(uow.session, shop_id=principal.shop_id, handover_id=handover_id)
    agent_id = acting_agent(principal)
    try:
        chosen = form_id(item_id, field="item_ids")
        handover.acknowledge(
            uow, shop_id=principal.shop_id, handover_id=handover_id, agent_id=agent_id,
            item_ids=None if chosen is None else [chosen],
        )  # fmt: skip
    except DomainError as exc:
        uow.rollback()
        return _report(
            request, uow, principal, handover_id, error=localised(locale, exc),
            status_code=status_of(exc),
        )  # fmt: skip
    return back_to(f"/handovers/{handover_id}", done="acknowledged")
