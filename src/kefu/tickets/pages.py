"""The ticket list (工单列表): filters, the saved views to pick from, pages of rows.

The filters live in the address (so a list can be bookmarked, sent to a colleague and
reloaded live by tickets.js from ``/tickets/rows``); a saved view is a named filter. Its
forms (saving a view, bulk changes) are in list_forms.py.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import HTMLResponse

from kefu.accounts.auth import Principal
from kefu.accounts.models import Role
from kefu.errors import Invalid, NotFound
from kefu.tickets import listing, views
from kefu.tickets.listing import SLA_STATES, SORTS, TicketFilter
from kefu.tickets.models import TicketPriority, TicketStatus, TicketType
from kefu.tickets.page_parts import staff_choices, zone_of
from kefu.uow import UnitOfWork
from kefu.web.deps import get_uow, page_locale, page_principal
from kefu.web.errors import localised, status_of
from kefu.web.templating import render

router = APIRouter(include_in_schema=False, prefix="/tickets")
PAGE_SIZE = 30
EVERY = "all"  # the status choice of every ticket (no status chosen: the unsolved ones)


@dataclass(frozen=True)
class ListQuery:
    """The list's filters as the address and the form carry them (text, not types).

    ``status`` may repeat (a saved view of both pending states); none means unsolved.
    Unknown values are ignored, like a mistyped address: the list shows more, not an error.
    """

    status: tuple[str, ...] = ()
    team: str = ""
    assignee: str = ""
    type: str = ""
    priority: str = ""
    sla: str = ""
    tag: str = ""
    q: str = ""
    customer: str = ""
    conversation: str = ""
    order: str = ""
    sort: str = "-updated"

    def to_filter(self) -> TicketFilter:
        statuses = tuple(TicketStatus(s) for s in self.status if s in _STATUSES)
        assignee: int | str | None = None
        if self.assignee in ("me", "none"):
            assignee = self.assignee
        elif self.assignee.isdigit():
            assignee = int(self.assignee)
        return TicketFilter(
            status=statuses,
            open_only=not statuses and EVERY not in self.status,
            type=TicketType(self.type) if self.type in _TYPES else None,
            priority=TicketPriority(self.priority) if self.priority in _PRIORITIES else None,
            team_id=_number(self.team),
            assignee=assignee,  # type: ignore[arg-type]  # "me" | "none" | id, checked above
            sla=self.sla if self.sla in SLA_STATES else None,  # type: ignore[arg-type]
            tag=self.tag,
            q=self.q,
            customer_id=_number(self.customer),
            conversation_id=_number(self.conversation),
            order_id=_number(self.order),
        )

    @classmethod
    def of_filter(cls, filter: TicketFilter) -> ListQuery:
        """A saved view's filter as the form shows it."""
        status = tuple(s.value for s in filter.status) or (() if filter.open_only else (EVERY,))
        assignee = filter.assignee
        return cls(
            status=status,
            team=str(filter.team_id or ""),
            assignee="" if assignee is None else str(assignee),
            type=filter.type.value if filter.type else "",
            priority=filter.priority.value if filter.priority else "",
            sla=filter.sla or "",
            tag=filter.tag,
            q=filter.q,
            customer=str(filter.customer_id or ""),
            conversation=str(filter.conversation_id or ""),
            order=str(filter.order_id or ""),
        )

    def params(self) -> dict[str, Any]:
        values: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        values["sort"] = "" if self.sort == "-updated" else self.sort
        return values

    def query(self, **changes: Any) -> str:
        """The address's query for this list with some values changed (pages, sorting)."""
        merged = {**self.params(), **changes}
        pairs = [("status", s) for s in merged.pop("status")]
        pairs += [(k, str(v)) for k, v in merged.items() if v not in (None, "")]
        return urlencode(pairs)


_STATUSES = {s.value for s in TicketStatus}
_TYPES = {t.value for t in TicketType}
_PRIORITIES = {p.value for p in TicketPriority}


def _number(value: str) -> int | None:
    return int(value) if value.isdigit() and 0 < int(value) < 2**31 else None


def list_query(
    status: list[str] = Query(default=[], max_length=10),
    team: str = Query(default="", max_length=12),
    assignee: str = Query(default="", max_length=12),
    type: str = Query(default="", max_length=20),
    priority: str = Query(default="", max_length=20),
    sla: str = Query(default="", max_length=20),
    tag: str = Query(default="", max_length=200),
    q: str = Query(default="", max_length=400),
    customer: str = Query(default="", max_length=12),
    conversation: str = Query(default="", max_length=12),
    order: str = Query(default="", max_length=12),
    sort: str = Query(default="-updated", max_length=20),
) -> ListQuery:
    return ListQuery(
        status=tuple(s[:20] for s in status),
        team=team,
        assignee=assignee,
        type=type,
        priority=priority,
        sla=sla,
        tag=tag,
        q=q,
        customer=customer,
        conversation=conversation,
        order=order,
        sort=sort if sort in SORTS else "-updated",
    )


@router.get("", response_class=HTMLResponse)
def ticket_list(
    request: Request,
    asked: ListQuery = Depends(list_query),
    view: str = Query(default="", max_length=12),
    page: int = Query(default=1, ge=1, le=10_000),
    done: str = Query(default="", max_length=20),
    n: int = Query(default=0, ge=0, le=10_000),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    _: str = Depends(page_locale),
) -> HTMLResponse:
    return list_page(request, uow, principal, asked, view=view, page=page, done=done, n=n)


@router.get("/rows", response_class=HTMLResponse)
def ticket_rows(
    request: Request,
    asked: ListQuery = Depends(list_query),
    view: str = Query(default="", max_length=12),
    page: int = Query(default=1, ge=1, le=10_000),
    principal: Principal = Depends(page_principal),
    uow: UnitOfWork = Depends(get_uow),
    _: str = Depends(page_locale),
) -> HTMLResponse:
    """The table's rows alone, for tickets.js to swap in when a ticket changed."""
    try:
        context = _list_context(uow, principal, asked, view=view, page=page)
    except Invalid as exc:  # the page itself shows why; the script keeps the rows it has
        return HTMLResponse("", status_code=status_of(exc))
    return render(request, "tickets_rows.html", context)


def _list_context(
    uow: UnitOfWork, principal: Principal, asked: ListQuery, *, view: str, page: int
) -> dict[str, Any]:
    session, shop_id, agent_id = uow.session, principal.shop_id, principal.agent_id
    chosen = None
    if view.isdigit():
        try:
            chosen = views.get_view(session, shop_id=shop_id, agent_id=agent_id, view_id=int(view))
        except NotFound:
            chosen = None  # deleted meanwhile: the filters in the address still apply
        else:
            asked = replace(ListQuery.of_filter(views.filter_of(chosen)), sort=asked.sort)
    filter, now = asked.to_filter(), uow.clock.now()
    total = listing.count_tickets(
        session, shop_id=shop_id, filter=filter, viewer_agent_id=agent_id, now=now
    )
    rows = listing.list_tickets(
        session,
        shop_id=shop_id,
        filter=filter,
        viewer_agent_id=agent_id,
        now=now,
        sort=asked.sort,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    return {
        "rows": rows,
        "total": total,
        "asked": asked,
        "view_id": chosen.id if chosen else None,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "zone": zone_of(uow, principal),
        "now": now,
    }


def list_page(
    request: Request,
    uow: UnitOfWork,
    principal: Principal,
    asked: ListQuery,
    *,
    view: str = "",
    page: int = 1,
    done: str = "",
    n: int = 0,
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    locale = getattr(request.state, "locale", "zh-CN")
    session, shop_id = uow.session, principal.shop_id
    try:
        context = _list_context(uow, principal, asked, view=view, page=page)
    except Invalid as exc:  # a search text with a control character, too long a tag …
        context = _list_context(uow, principal, ListQuery(), view="", page=1)
        context["asked"] = asked
        error, status_code = localised(locale, exc), status_of(exc)
    choices = staff_choices(session, shop_id=shop_id)
    context.update(
        {
            "views": views.list_views(session, shop_id=shop_id, agent_id=principal.agent_id),
            "choices": choices,
            "statuses": list(TicketStatus),
            "types": list(TicketType),
            "priorities": list(TicketPriority),
            "sla_states": SLA_STATES,
            "sorts": SORTS,
            "can_share": principal.has_role(Role.SUPERVISOR),
            "done": done if done in NOTICES else "",
            "n": n,
            "error": error,
        }
    )
    return render(request, "tickets.html", context, status_code=status_code)


NOTICES = {"bulk", "view_saved", "view_deleted"}  # what list_forms.py lands back with
