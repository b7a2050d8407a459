"""The forms of the ticket page: status and reopening, assignment, editing, comments with
@mentions, files, links to conversations and orders, merging and splitting.

Each posts, calls one service function and lands back on the ticket with a notice — or
shows the page again with the reason next to that form and what was typed still in it,
nothing changed (the service wrote nothing, or its unit of work was rolled back).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from starlette.responses import HTMLResponse, Response

from kefu.accounts.auth import Principal
from kefu.commerce import service as commerce
from kefu.conversations import service as conversations
from kefu.errors import DomainError, Invalid
from kefu.tickets import comments, listing, merging
from kefu.tickets import service as tickets
from kefu.tickets.listing import TicketFilter
from kefu.tickets.models import CommentKind, TicketPriority, TicketStatus, TicketType
from kefu.tickets.page_parts import (
    acting_agent,
    back_to,
    choice,
    custom_values,
    form_id,
    ids_in,
    tags_in,
)
from kefu.tickets.ticket_pages import show_ticket
from kefu.uow import UnitOfWork
from kefu.web.context import AppContext
from kefu.web.deps import ResourceId, get_context, get_uow, page_locale, page_principal
from kefu.web.errors import localised, status_of
from kefu.web.security import check_csrf

router = APIRouter(include_in_schema=False, prefix="/tickets/{ticket_id:int}")
Done = tuple[int, str]  # where to land (a ticket id) and the notice to show there


class Page:
    """One form post on one ticket: the caller, the ticket (another shop's is 404 before
    anything is read from the form) and how to answer."""

    def __init__(
        self,
        request: Request,
        ticket_id: ResourceId,
        csrf_token: str = Form(default=""),
        principal: Principal = Depends(page_principal),
        uow: UnitOfWork = Depends(get_uow),
        app: AppContext = Depends(get_context),
        locale: str = Depends(page_locale),
    ) -> None:
        check_csrf(request, csrf_token)
        self.request, self.ticket_id, self.principal = request, ticket_id, principal
        self.uow, self.app, self.locale = uow, app, locale
        self.shop_id = principal.shop_id
        tickets.get_ticket(uow.session, shop_id=self.shop_id, ticket_id=ticket_id)
        self.agent_id = acting_agent(principal)

    def act(self, form: str, typed: dict[str, str], action: Callable[[], Done]) -> Response:
        try:
            target_id, notice = action()
        except DomainError as exc:
            self.uow.rollback()
            return show_ticket(
                self.request,
                self.uow,
                self.principal,
                self.ticket_id,
                app=self.app,
                error=localised(self.locale, exc),
                error_form=form,
                typed=typed,
                status_code=status_of(exc),
            )
        return back_to(f"/tickets/{target_id}", done=notice)


@router.post("/status", response_class=HTMLResponse)
def change_status(
    status: str = Form(default="", max_length=20), page: Page = Depends()
) -> Response:
    def action() -> Done:
        tickets.change_status(
            page.uow,
            shop_id=page.shop_id,
            ticket_id=page.ticket_id,
            status=choice(TicketStatus, status, field="status"),
            actor_agent_id=page.agent_id,
        )
        return page.ticket_id, "status"

    return page.act("status", {"status": status}, action)


@router.post("/reopen", response_class=HTMLResponse)
def reopen(reason: str = Form(default="", max_length=2000), page: Page = Depends()) -> Response:
    def action() -> Done:
        tickets.reopen_ticket(
            page.uow,
            shop_id=page.shop_id,
            ticket_id=page.ticket_id,
            actor_agent_id=page.agent_id,
            reason=reason,
        )
        return page.ticket_id, "reopened"

    return page.act("status", {"reason": reason}, action)


@router.post("/assign", response_class=HTMLResponse)
def assign(
    team: str = Form(default="", max_length=12),
    assignee: str = Form(default="", max_length=12),
    page: Page = Depends(),
) -> Response:
    """Both as chosen: an empty team or assignee clears it."""

    def action() -> Done:
        tickets.assign_ticket(
            page.uow,
            shop_id=page.shop_id,
            ticket_id=page.ticket_id,
            actor_agent_id=page.agent_id,
            team_id=form_id(team, field="team_id"),
            assignee_id=form_id(assignee, field="assignee_id"),
        )
        return page.ticket_id, "assigned"

    return page.act("assign", {"team": team, "assignee": assignee}, action)


@router.post("/edit", response_class=HTMLResponse)
def edit(
    title: str = Form(default="", max_length=1000),
    description: str = Form(default="", max_length=20_000),
    type: str = Form(default="", max_length=20),
    priority: str = Form(default="", max_length=20),
    tags: str = Form(default="", max_length=1000),
    fields: dict[str, str] = Depends(custom_values),
    page: Page = Depends(),
) -> Response:
    typed = {"title": title, "description": description, "type": type, "priority": priority}
    typed |= {"tags": tags} | {f"field.{k}": v for k, v in fields.items()}

    def action() -> Done:
        current = tickets.get_ticket(
            page.uow.session, shop_id=page.shop_id, ticket_id=page.ticket_id
        )
        new_type = choice(TicketType, type, field="type")
        tickets.update_ticket(
            page.uow,
            shop_id=page.shop_id,
            ticket_id=page.ticket_id,
            actor_agent_id=page.agent_id,
            title=title,
            description=description,
            type=new_type,
            priority=choice(TicketPriority, priority, field="priority"),
            tags=tags_in(tags),
            # The form showed the fields of the type it had; a new type's come next time.
            custom_fields={k: v for k, v in fields.items() if v.strip()}
            if new_type is current.type and fields
            else None,
        )
        return page.ticket_id, "edited"

    return page.act("edit", typed, action)


@router.post("/comments", response_class=HTMLResponse)
def comment(
    kind: str = Form(default="note", max_length=10),
    body: str = Form(default="", max_length=20_000),
    page: Page = Depends(),
) -> Response:
    def action() -> Done:
        made = comments.add_comment(
            page.uow,
            shop_id=page.shop_id,
            ticket_id=page.ticket_id,
            kind=CommentKind(kind) if kind in {k.value for k in CommentKind} else CommentKind.NOTE,
            body=body,
            author_agent_id=page.agent_id,
        )
        return page.ticket_id, made.kind.value

    return page.act("comment", {"kind": kind, "body": body}, action)


@router.post("/uploads", response_class=HTMLResponse)
def attach(file: UploadFile = File(...), page: Page = Depends()) -> Response:
    """A file for the ticket, stored like a chat upload (images, the same limit) and
    attached in the same transaction: a refused one leaves no attachment row."""
    settings = page.app.settings

    def action() -> Done:
        data = file.file.read(settings.max_upload_bytes + 1)
        stored = conversations.store_upload(
            page.uow,
            shop_id=page.shop_id,
            directory=settings.uploads_path,
            data=data,
            filename=file.filename or "",
            max_bytes=settings.max_upload_bytes,
            agent_id=page.agent_id,
            commit=False,
        )
        tickets.add_attachments(
            page.uow,
            shop_id=page.shop_id,
            ticket_id=page.ticket_id,
            attachment_ids=[stored.id],
            actor_agent_id=page.agent_id,
        )
        return page.ticket_id, "attached"

    return page.act("files", {}, action)


@router.post("/conversations", response_class=HTMLResponse)
def link_conversation(
    conversation_id: str = Form(default="", max_length=20), page: Page = Depends()
) -> Response:
    def action() -> Done:
        chosen = form_id(conversation_id.strip().lstrip("#c"), field="conversation_id")
        if chosen is None:
            raise Invalid(
                "type the conversation's number",
                field="conversation_id",
                key="errors.tickets.need_conversation",
            )
        tickets.link_conversation(
            page.uow,
            shop_id=page.shop_id,
            ticket_id=page.ticket_id,
            conversation_id=chosen,
            actor_agent_id=page.agent_id,
        )
        return page.ticket_id, "linked"

    return page.act("links", {"conversation_id": conversation_id}, action)


@router.post("/conversations/{conversation_id}/unlink", response_class=HTMLResponse)
def unlink_conversation(conversation_id: ResourceId, page: Page = Depends()) -> Response:
    def action() -> Done:
        tickets.unlink_conversation(
            page.uow,
            shop_id=page.shop_id,
            ticket_id=page.ticket_id,
            conversation_id=conversation_id,
            actor_agent_id=page.agent_id,
        )
        return page.ticket_id, "unlinked"

    return page.act("links", {}, action)


@router.post("/orders", response_class=HTMLResponse)
def link_order(
    order_no: str = Form(default="", max_length=100), page: Page = Depends()
) -> Response:
    def action() -> Done:
        order = commerce.find_order(
            page.uow.session, shop_id=page.shop_id, order_no=order_no.strip()
        )
        if order is None:
            raise Invalid(
                f"no order {order_no.strip()} in this shop",
                field="order_no",
                key="errors.tickets.unknown_order_no",
                order_no=order_no.strip(),
            )
        tickets.link_order(
            page.uow,
            shop_id=page.shop_id,
            ticket_id=page.ticket_id,
            order_id=order.id,
            actor_agent_id=page.agent_id,
        )
        return page.ticket_id, "linked"

    return page.act("links", {"order_no": order_no}, action)


@router.post("/orders/{order_id}/unlink", response_class=HTMLResponse)
def unlink_order(order_id: ResourceId, page: Page = Depends()) -> Response:
    def action() -> Done:
        tickets.unlink_order(
            page.uow,
            shop_id=page.shop_id,
            ticket_id=page.ticket_id,
            order_id=order_id,
            actor_agent_id=page.agent_id,
        )
        return page.ticket_id, "unlinked"

    return page.act("links", {}, action)


@router.post("/merge", response_class=HTMLResponse)
def merge(into: str = Form(default="", max_length=20), page: Page = Depends()) -> Response:
    """Into the ticket of the number typed (「#1002」 or 「1002」); lands on that ticket."""

    def action() -> Done:
        target_id = _by_number(page, into)
        merged = merging.merge_tickets(
            page.uow,
            shop_id=page.shop_id,
            source_id=page.ticket_id,
            target_id=target_id,
            actor_agent_id=page.agent_id,
        )
        return merged.id, "merged"

    return page.act("merge", {"into": into}, action)


@router.post("/split", response_class=HTMLResponse)
def split(
    title: str = Form(default="", max_length=1000),
    comment_ids: list[str] = Form(default=[], max_length=200),
    conversation_ids: list[str] = Form(default=[], max_length=50),
    order_ids: list[str] = Form(default=[], max_length=50),
    page: Page = Depends(),
) -> Response:
    """The ticked comments (and links) become a new ticket; lands on it."""

    def action() -> Done:
        made = merging.split_ticket(
            page.uow,
            shop_id=page.shop_id,
            ticket_id=page.ticket_id,
            title=title,
            actor_agent_id=page.agent_id,
            comment_ids=ids_in(comment_ids, field="comment_ids"),
            conversation_ids=ids_in(conversation_ids, field="conversation_ids"),
            order_ids=ids_in(order_ids, field="order_ids"),
        )
        return made.id, "split"

    return page.act("split", {"title": title}, action)


def _by_number(page: Page, typed: str) -> int:
    text = typed.strip().lstrip("#＃").strip()
    number = int(text) if text.isdigit() and len(text) <= 9 else None
    found = []
    if number is not None:
        rows = listing.list_tickets(
            page.uow.session,
            shop_id=page.shop_id,
            filter=TicketFilter(q=f"#{number}"),
            viewer_agent_id=page.agent_id,
            now=page.uow.clock.now(),
            limit=1,
        )
        found = [r.id for r in rows if r.number == number]
    if not found:
        raise Invalid(
            f"no ticket #{text or '?'} in this shop",
            field="into",
            key="errors.tickets.unknown_number",
            number=text or "?",
        )
    if found[0] == page.ticket_id:
        raise Invalid(
            "a ticket cannot be merged into itself", field="into", key="errors.tickets.merge_self"
        )
    return found[0]
