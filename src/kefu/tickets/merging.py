"""Merging two tickets about one problem, and splitting one that turned out to be two.

Merge (合并): the source joins the target and is closed, pointing at it (``merged_into_id``).
The target gains the source's conversations, orders, tags, requester (when it had none) and
files, and a note quoting the source's number, title and description, so whoever works the
target reads the whole story in one place. The links are *copied*: the closed source keeps
its own, so its page still shows what it was about; being closed, nothing acts on it again
(no notices, no SLA, no buyer updates). Its running SLA clocks are cancelled.

Split (拆分): a new ticket of the same type, team, priority, requester and custom fields
takes the chosen comments (*moved*: a comment belongs to one ticket; its mentions and files
follow it) and the chosen conversations and orders (*copied*: the original problem was
raised in the same chat and about the same order, and stays open there — unlinking would
stop its buyer's updates).

Both check everything first and write in one transaction: nothing is half-merged.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.commerce.models import Order
from kefu.conversations.desk import customer_display_name
from kefu.conversations.models import Conversation
from kefu.crm.models import Customer
from kefu.errors import Conflict, Invalid
from kefu.tickets import checks, custom_fields, sla
from kefu.tickets.events import TicketsMerged, TicketSplit
from kefu.tickets.history import record_change, team_name
from kefu.tickets.lifecycle import create_ticket, refresh_search_text, set_tags, tags_of
from kefu.tickets.links import conversation_label
from kefu.tickets.models import (
    CommentKind,
    Ticket,
    TicketAttachment,
    TicketComment,
    TicketConversation,
    TicketOrder,
    TicketStatus,
)
from kefu.uow import UnitOfWork

# The merge note quotes the source's description up to this (the note stays a note).
MAX_QUOTED_DESCRIPTION: Final = 5_000


def merge_tickets(
    uow: UnitOfWork,
    *,
    shop_id: int,
    source_id: int,
    target_id: int,
    actor_agent_id: int | None,
    actor: str = "agent",
    commit: bool = True,
) -> Ticket:
    """Merge ``source_id`` into ``target_id`` (see the module's doc); returns the target."""
    session = uow.session
    checks.actor(session, shop_id=shop_id, actor_agent_id=actor_agent_id, actor=actor)
    if source_id == target_id:
        raise Invalid(
            "a ticket cannot be merged into itself",
            field="target_id",
            key="errors.tickets.merge_same",
        )
    # Locked in id order, so two people merging the same pair both ways take turns.
    locked = {
        ticket_id: checks.lock_ticket(session, shop_id=shop_id, ticket_id=ticket_id)
        for ticket_id in sorted((source_id, target_id))
    }
    source, target = locked[source_id], locked[target_id]
    for ticket in (source, target):
        _not_merged(session, ticket)
        checks.not_closed(ticket)

    source_conversations = _linked_ids(session, TicketConversation, source)
    target_conversations = _linked_ids(session, TicketConversation, target)
    new_conversations = [c for c in source_conversations if c not in target_conversations]
    source_orders = _linked_ids(session, TicketOrder, source)
    target_orders = _linked_ids(session, TicketOrder, target)
    new_orders = [o for o in source_orders if o not in target_orders]
    for added, existing, what in (
        (new_conversations, target_conversations, "conversation"),
        (new_orders, target_orders, "order"),
    ):
        if len(existing) + len(added) > checks.MAX_LINKS:
            raise Invalid(
                f"ticket #{target.number} would have {len(existing) + len(added)} linked "
                f"{what}s; the limit is {checks.MAX_LINKS}",
                field="target_id",
                key="errors.tickets.too_many_links",
                limit=checks.MAX_LINKS,
                existing=len(existing),
            )
    target_tags = tags_of(session, ticket=target)
    merged_tags = checks.tags([*target_tags, *tags_of(session, ticket=source)])
    target_files = _file_ids(session, target)
    new_files = [f for f in _file_ids(session, source) if f not in target_files]
    checks.attachment_room(existing=len(target_files), adding=len(new_files))

    # --- every check passed: write ----------------------------------------------------------
    now = uow.clock.now()
    note = TicketComment(
        shop_id=shop_id,
        ticket_id=target.id,
        kind=CommentKind.NOTE,
        author_agent_id=actor_agent_id,
        body=_merge_note(source),
        created_at=now,
    )
    session.add(note)
    session.flush()

    on_target = partial(
        record_change, uow, ticket=target, actor_agent_id=actor_agent_id, actor=actor
    )
    on_source = partial(
        record_change, uow, ticket=source, actor_agent_id=actor_agent_id, actor=actor
    )
    merged_from, merged_into = (
        f"#{source.number} {source.title}",
        f"#{target.number} {target.title}",
    )
    on_target(field="merged", old=merged_from, new=merged_into)
    for conversation_id in new_conversations:
        session.add(
            TicketConversation(
                shop_id=shop_id,
                ticket_id=target.id,
                conversation_id=conversation_id,
                created_at=now,
            )
        )
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None  # linked rows go with their conversation
        on_target(field="conversation", new=conversation_label(session, conversation))
    for order_id in new_orders:
        session.add(
            TicketOrder(shop_id=shop_id, ticket_id=target.id, order_id=order_id, created_at=now)
        )
        order = session.get(Order, order_id)
        assert order is not None
        on_target(field="order", new=order.order_no)
    if merged_tags != target_tags:
        set_tags(uow, ticket=target, tags=merged_tags)
        on_target(field="tags", old="、".join(target_tags), new="、".join(merged_tags))
    for attachment_id in new_files:
        # The files arrive with the note that says where they came from.
        session.add(
            TicketAttachment(
                shop_id=shop_id,
                ticket_id=target.id,
                attachment_id=attachment_id,
                comment_id=note.id,
                added_by_agent_id=actor_agent_id,
                created_at=now,
            )
        )
    if new_files:
        on_target(field="attachment", new=f"{len(new_files)} ← #{source.number}")
    if target.requester_customer_id is None and target.requester_team_id is None:
        target.requester_customer_id = source.requester_customer_id
        target.requester_team_id = source.requester_team_id
        if source.requester_customer_id is not None or source.requester_team_id is not None:
            on_target(field="requester", new=_requester_name(session, source))
    target.updated_at = now
    session.flush()
    refresh_search_text(session, ticket=target)

    old_status = source.status
    on_source(field="merged", old=merged_from, new=merged_into)
    on_source(field="status", old=old_status.value, new=TicketStatus.CLOSED.value)
    source.status = TicketStatus.CLOSED
    source.merged_into_id = target.id
    source.closed_at = source.updated_at = now
    sla.status_changed(uow, ticket=source, old=old_status, new=TicketStatus.CLOSED, at=now)

    uow.collect(
        TicketsMerged(
            shop_id=shop_id,
            source_id=source.id,
            target_id=target.id,
            actor_agent_id=actor_agent_id,
        )
    )
    if commit:
        uow.commit()
    return target


def split_ticket(
    uow: UnitOfWork,
    *,
    shop_id: int,
    ticket_id: int,
    title: str,
    actor_agent_id: int | None,
    comment_ids: Sequence[int] = (),
    conversation_ids: Sequence[int] = (),
    order_ids: Sequence[int] = (),
    actor: str = "agent",
    commit: bool = True,
) -> Ticket:
    """Split part of a ticket into a new one (see the module's doc); returns the new one.
    Its buyer (if a conversation comes along) is told the new number, as for any ticket."""
    session = uow.session
    checks.actor(session, shop_id=shop_id, actor_agent_id=actor_agent_id, actor=actor)
    new_title = checks.title(title)
    source = checks.lock_ticket(session, shop_id=shop_id, ticket_id=ticket_id)
    checks.not_closed(source)
    moving = _own_comments(session, source, comment_ids)
    conversations = _chosen(session, TicketConversation, source, conversation_ids, "conversation")
    orders = _chosen(session, TicketOrder, source, order_ids, "order")

    new = create_ticket(
        uow,
        shop_id=shop_id,
        type=source.type,
        title=new_title,
        description=f"拆分自工单 #{source.number}（{source.title}）",
        priority=source.priority,
        team_id=source.team_id,
        requester_customer_id=source.requester_customer_id,
        requester_team_id=source.requester_team_id,
        conversation_ids=conversations,
        order_ids=orders,
        custom_fields=custom_fields.values_of(source.custom_fields),
        actor_agent_id=actor_agent_id,
        actor=actor,
        split_from_id=source.id,
        commit=False,
    )
    now = uow.clock.now()
    if moving:
        session.flush()
        for comment in session.scalars(
            select(TicketComment).where(
                TicketComment.shop_id == shop_id, TicketComment.id.in_(moving)
            )
        ):
            comment.ticket_id = new.id
        # A comment's files go with it (its mentions point at the comment, so they follow).
        for file in session.scalars(
            select(TicketAttachment).where(
                TicketAttachment.shop_id == shop_id, TicketAttachment.comment_id.in_(moving)
            )
        ):
            file.ticket_id = new.id
    for ticket in (source, new):
        record_change(
            uow,
            ticket=ticket,
            field="split",
            old=f"#{source.number} {source.title}",
            new=f"#{new.number} {new.title}",
            actor_agent_id=actor_agent_id,
            actor=actor,
        )
    source.updated_at = new.updated_at = now
    session.flush()
    refresh_search_text(session, ticket=source)
    refresh_search_text(session, ticket=new)
    uow.collect(
        TicketSplit(
            shop_id=shop_id, source_id=source.id, new_id=new.id, actor_agent_id=actor_agent_id
        )
    )
    if commit:
        uow.commit()
    return new


# --- checks ----------------------------------------------------------------------------------


def _not_merged(session: Session, ticket: Ticket) -> None:
    if ticket.merged_into_id is None:
        return
    into = session.scalar(
        select(Ticket.number).where(
            Ticket.shop_id == ticket.shop_id, Ticket.id == ticket.merged_into_id
        )
    )
    raise Conflict(
        f"ticket #{ticket.number} was already merged into #{into}",
        key="errors.tickets.already_merged",
        number=ticket.number,
        into=into,
    )


def _own_comments(session: Session, ticket: Ticket, comment_ids: Sequence[int]) -> list[int]:
    wanted = list(dict.fromkeys(comment_ids))
    if not wanted:
        return []
    found = set(
        session.scalars(
            select(TicketComment.id).where(
                TicketComment.shop_id == ticket.shop_id,
                TicketComment.ticket_id == ticket.id,
                TicketComment.id.in_([c for c in wanted if _is_int(c)]),
            )
        )
    )
    for comment_id in wanted:
        if comment_id not in found:
            raise Invalid(
                f"comment #{comment_id} is not on ticket #{ticket.number}",
                field="comment_ids",
                key="errors.tickets.comment_not_on_ticket",
                id=comment_id,
                number=ticket.number,
            )
    return wanted


def _chosen(
    session: Session,
    model: type[TicketConversation] | type[TicketOrder],
    ticket: Ticket,
    ids: Sequence[int],
    what: str,
) -> list[int]:
    """The chosen conversations (or orders), each one linked to the ticket being split."""
    wanted = list(dict.fromkeys(ids))
    linked = _linked_ids(session, model, ticket)
    for item in wanted:
        if item not in linked:
            raise Invalid(
                f"{what} #{item} is not linked to ticket #{ticket.number}",
                field=f"{what}_ids",
                key="errors.tickets.not_linked",
                number=ticket.number,
            )
    return wanted


# --- reads and words ---------------------------------------------------------------------------


def _linked_ids(
    session: Session, model: type[TicketConversation] | type[TicketOrder], ticket: Ticket
) -> list[int]:
    column = (
        TicketConversation.conversation_id if model is TicketConversation else TicketOrder.order_id
    )
    return list(
        session.scalars(
            select(column)
            .where(model.shop_id == ticket.shop_id, model.ticket_id == ticket.id)
            .order_by(model.id)
        )
    )


def _file_ids(session: Session, ticket: Ticket) -> list[int]:
    return list(
        session.scalars(
            select(TicketAttachment.attachment_id)
            .where(
                TicketAttachment.shop_id == ticket.shop_id, TicketAttachment.ticket_id == ticket.id
            )
            .order_by(TicketAttachment.id)
        )
    )


def _merge_note(source: Ticket) -> str:
    description = source.description
    if len(description) > MAX_QUOTED_DESCRIPTION:
        description = description[: MAX_QUOTED_DESCRIPTION - 1] + "…"
    head = f"已合并工单 #{source.number}「{source.title}」"
    return f"{head}：\n{description}" if description else head


def _requester_name(session: Session, ticket: Ticket) -> str:
    if ticket.requester_customer_id is not None:
        customer = session.get(Customer, ticket.requester_customer_id)
        return customer_display_name(customer) if customer is not None else ""
    return team_name(session, ticket.requester_team_id)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
