"""What a ticket is about: the conversations (their transcripts), the orders and the files
linked to it. Each must be the shop's own; linking twice changes nothing; each link and
unlink is a history row."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from kefu.conversations.desk import customer_display_name
from kefu.conversations.models import Conversation
from kefu.crm.models import Customer
from kefu.errors import Invalid
from kefu.tickets import checks
from kefu.tickets.history import record_change, touched
from kefu.tickets.models import (
    Ticket,
    TicketAttachment,
    TicketComment,
    TicketConversation,
    TicketOrder,
)
from kefu.uow import UnitOfWork


def link_conversation(
    uow: UnitOfWork,
    *,
    shop_id: int,
    ticket_id: int,
    conversation_id: int,
    actor_agent_id: int | None,
    actor: str = "agent",
    commit: bool = True,
) -> None:
    """Link a conversation. A ticket nobody asked for yet gets its buyer as the requester."""
    session = uow.session
    checks.actor(session, shop_id=shop_id, actor_agent_id=actor_agent_id, actor=actor)
    (conversation,) = checks.conversations(session, shop_id=shop_id, ids=[conversation_id])
    ticket = checks.lock_ticket(session, shop_id=shop_id, ticket_id=ticket_id)
    checks.not_closed(ticket)
    if _linked(
        session, TicketConversation, TicketConversation.conversation_id, ticket, conversation.id
    ):
        _done(uow, commit)
        return
    _room(session, TicketConversation, ticket, what="conversation")
    session.add(
        TicketConversation(
            shop_id=shop_id,
            ticket_id=ticket.id,
            conversation_id=conversation.id,
            created_at=uow.clock.now(),
        )
    )
    changed = ["conversations"]
    record_change(
        uow, ticket=ticket, field="conversation", new=conversation_label(session, conversation),
        actor_agent_id=actor_agent_id, actor=actor,
    )  # fmt: skip
    if ticket.requester_customer_id is None and ticket.requester_team_id is None:
        ticket.requester_customer_id = conversation.customer_id
        record_change(
            uow, ticket=ticket, field="requester", new=_buyer(session, conversation.customer_id),
            actor_agent_id=actor_agent_id, actor=actor,
        )  # fmt: skip
        changed.append("requester")
    touched(uow, ticket=ticket, changed=changed, actor_agent_id=actor_agent_id)
    _done(uow, commit)


def unlink_conversation(
    uow: UnitOfWork,
    *,
    shop_id: int,
    ticket_id: int,
    conversation_id: int,
    actor_agent_id: int | None,
    actor: str = "agent",
    commit: bool = True,
) -> None:
    session = uow.session
    checks.actor(session, shop_id=shop_id, actor_agent_id=actor_agent_id, actor=actor)
    ticket = checks.lock_ticket(session, shop_id=shop_id, ticket_id=ticket_id)
    checks.not_closed(ticket)
    if not _linked(
        session, TicketConversation, TicketConversation.conversation_id, ticket, conversation_id
    ):
        raise _not_linked("conversation", conversation_id, ticket)
    conversation = session.get(Conversation, conversation_id)
    assert conversation is not None  # linked rows cascade with the conversation
    _remove_link(
        uow, ticket=ticket, row=TicketConversation.conversation_id, item_id=conversation_id,
        field="conversation", label=conversation_label(session, conversation),
        actor_agent_id=actor_agent_id, actor=actor,
    )  # fmt: skip
    _done(uow, commit)


def link_order(
    uow: UnitOfWork,
    *,
    shop_id: int,
    ticket_id: int,
    order_id: int,
    actor_agent_id: int | None,
    actor: str = "agent",
    commit: bool = True,
) -> None:
    session = uow.session
    checks.actor(session, shop_id=shop_id, actor_agent_id=actor_agent_id, actor=actor)
    (order,) = checks.orders(session, shop_id=shop_id, ids=[order_id])
    ticket = checks.lock_ticket(session, shop_id=shop_id, ticket_id=ticket_id)
    checks.not_closed(ticket)
    if _linked(session, TicketOrder, TicketOrder.order_id, ticket, order.id):
        _done(uow, commit)
        return
    _room(session, TicketOrder, ticket, what="order")
    session.add(
        TicketOrder(
            shop_id=shop_id, ticket_id=ticket.id, order_id=order.id, created_at=uow.clock.now()
        )
    )
    record_change(
        uow, ticket=ticket, field="order", new=order.order_no,
        actor_agent_id=actor_agent_id, actor=actor,
    )  # fmt: skip
    touched(uow, ticket=ticket, changed=["orders"], actor_agent_id=actor_agent_id)
    _done(uow, commit)


def unlink_order(
    uow: UnitOfWork,
    *,
    shop_id: int,
    ticket_id: int,
    order_id: int,
    actor_agent_id: int | None,
    actor: str = "agent",
    commit: bool = True,
) -> None:
    session = uow.session
    checks.actor(session, shop_id=shop_id, actor_agent_id=actor_agent_id, actor=actor)
    ticket = checks.lock_ticket(session, shop_id=shop_id, ticket_id=ticket_id)
    checks.not_closed(ticket)
    if not _linked(session, TicketOrder, TicketOrder.order_id, ticket, order_id):
        raise _not_linked("order", order_id, ticket)
    (order,) = checks.orders(session, shop_id=shop_id, ids=[order_id])
    _remove_link(
        uow, ticket=ticket, row=TicketOrder.order_id, item_id=order_id, field="order",
        label=order.order_no, actor_agent_id=actor_agent_id, actor=actor,
    )  # fmt: skip
    _done(uow, commit)


def add_attachments(
    uow: UnitOfWork,
    *,
    shop_id: int,
    ticket_id: int,
    attachment_ids: Sequence[int],
    actor_agent_id: int | None,
    comment_id: int | None = None,
    commit: bool = True,
) -> None:
    """Attach the shop's uploaded files (at most 20 per ticket, all or none). With
    ``comment_id`` they belong to that comment, which a closed ticket may still get (a note
    after closing); otherwise a closed ticket takes no new files."""
    session = uow.session
    actor = "agent" if actor_agent_id is not None else "system"
    checks.actor(session, shop_id=shop_id, actor_agent_id=actor_agent_id, actor=actor)
    files = checks.attachments(session, shop_id=shop_id, ids=attachment_ids)
    ticket = checks.lock_ticket(session, shop_id=shop_id, ticket_id=ticket_id)
    if comment_id is None:
        checks.not_closed(ticket)
    else:
        found = session.scalar(
            select(TicketComment.id).where(
                TicketComment.shop_id == shop_id,
                TicketComment.ticket_id == ticket.id,
                TicketComment.id == comment_id,
            )
        )
        if found is None:
            raise Invalid(
                f"comment #{comment_id} is not on ticket #{ticket.number}", field="comment_id"
            )
    already = set(
        session.scalars(
            select(TicketAttachment.attachment_id).where(
                TicketAttachment.shop_id == shop_id, TicketAttachment.ticket_id == ticket.id
            )
        )
    )
    new = [attachment for attachment in files if attachment.id not in already]
    if not new:
        _done(uow, commit)
        return
    checks.attachment_room(existing=len(already), adding=len(new))
    now = uow.clock.now()
    for attachment in new:
        session.add(
            TicketAttachment(
                shop_id=shop_id,
                ticket_id=ticket.id,
                attachment_id=attachment.id,
                comment_id=comment_id,
                added_by_agent_id=actor_agent_id,
                created_at=now,
            )
        )
    record_change(
        uow, ticket=ticket, field="attachment",
        new="、".join(attachment.name or f"#{attachment.id}" for attachment in new),
        actor_agent_id=actor_agent_id, actor=actor,
    )  # fmt: skip
    touched(uow, ticket=ticket, changed=["attachments"], actor_agent_id=actor_agent_id)
    _done(uow, commit)


def conversation_label(session: Session, conversation: Conversation) -> str:
    """How the history names a conversation: its number and the buyer."""
    return f"#{conversation.id} {_buyer(session, conversation.customer_id)}"


# --- helpers -------------------------------------------------------------------------------


def _buyer(session: Session, customer_id: int) -> str:
    customer = session.get(Customer, customer_id)
    return customer_display_name(customer) if customer is not None else f"#{customer_id}"


def _linked(
    session: Session,
    model: type[TicketConversation] | type[TicketOrder],
    column: object,
    ticket: Ticket,
    item_id: int,
) -> bool:
    return (
        session.scalar(
            select(model.id).where(
                model.shop_id == ticket.shop_id,
                model.ticket_id == ticket.id,
                column == item_id,  # type: ignore[arg-type]
            )
        )
        is not None
    )


def _room(
    session: Session,
    model: type[TicketConversation] | type[TicketOrder],
    ticket: Ticket,
    *,
    what: str,
) -> None:
    count = session.scalar(
        select(func.count(model.id)).where(
            model.shop_id == ticket.shop_id, model.ticket_id == ticket.id
        )
    )
    if (count or 0) >= checks.MAX_LINKS:
        raise Invalid(
            f"ticket #{ticket.number} already has {checks.MAX_LINKS} linked {what}s",
            field=f"{what}_id",
            key="errors.tickets.too_many_links",
            limit=checks.MAX_LINKS,
            existing=count,
        )


def _not_linked(what: str, item_id: int, ticket: Ticket) -> Invalid:
    return Invalid(
        f"{what} #{item_id} is not linked to ticket #{ticket.number}",
        field=f"{what}_id",
        key="errors.tickets.not_linked",
        number=ticket.number,
    )


def _remove_link(
    uow: UnitOfWork,
    *,
    ticket: Ticket,
    row: InstrumentedAttribute[int],
    item_id: int,
    field: str,
    label: str,
    actor_agent_id: int | None,
    actor: str,
) -> None:
    """Delete the ticket's link row (``row`` is its conversation_id or order_id column) and
    record it: the history keeps what was linked, by its label."""
    model = row.class_
    uow.session.execute(
        delete(model).where(
            model.shop_id == ticket.shop_id, model.ticket_id == ticket.id, row == item_id
        )
    )
    record_change(
        uow, ticket=ticket, field=field, old=label, actor_agent_id=actor_agent_id, actor=actor
    )
    touched(uow, ticket=ticket, changed=[f"{field}s"], actor_agent_id=actor_agent_id)


def _done(uow: UnitOfWork, commit: bool) -> None:
    if commit:
        uow.commit()
