"""Tickets (工单) are opened and edited here: numbered per shop, every input checked before
anything is written, a history row per change, the buyer told its number in the chat.

Moving a ticket between people (:mod:`kefu.tickets.assignment`), between statuses
(:mod:`kefu.tickets.statuses`) and linking chats, orders and files
(:mod:`kefu.tickets.links`) live in modules of their own; they are re-exported here so
``lifecycle`` is the one place to import a ticket's writes from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kefu.errors import Invalid
from kefu.kb.models import UnansweredGroup
from kefu.nlp.text import normalize_text
from kefu.tickets import checks, notices, sla
from kefu.tickets import custom_fields as field_defs
from kefu.tickets.assignment import assign_ticket as assign_ticket
from kefu.tickets.assignment import notify_assignee
from kefu.tickets.checks import KEEP as KEEP
from kefu.tickets.checks import _Keep as _Keep
from kefu.tickets.checks import get_ticket as get_ticket
from kefu.tickets.checks import lock_ticket as lock_ticket
from kefu.tickets.events import TicketCreated
from kefu.tickets.history import record_change, touched
from kefu.tickets.links import add_attachments as add_attachments
from kefu.tickets.links import link_conversation as link_conversation
from kefu.tickets.links import link_order as link_order
from kefu.tickets.links import unlink_conversation as unlink_conversation
from kefu.tickets.links import unlink_order as unlink_order
from kefu.tickets.models import (
    Ticket,
    TicketAttachment,
    TicketComment,
    TicketConversation,
    TicketOrder,
    TicketPriority,
    TicketStatus,
    TicketTag,
    TicketType,
)
from kefu.tickets.settings import take_number
from kefu.tickets.statuses import change_status as change_status
from kefu.tickets.statuses import reopen_ticket as reopen_ticket
from kefu.uow import UnitOfWork


def create_ticket(
    uow: UnitOfWork,
    *,
    shop_id: int,
    type: TicketType,
    title: str,
    description: str = "",
    priority: TicketPriority = TicketPriority.NORMAL,
    team_id: int | None = None,
    assignee_id: int | None = None,
    requester_customer_id: int | None = None,
    requester_team_id: int | None = None,
    conversation_ids: Sequence[int] = (),
    order_ids: Sequence[int] = (),
    tags: Sequence[str] = (),
    custom_fields: Mapping[str, object] | None = None,
    attachment_ids: Sequence[int] = (),
    actor_agent_id: int | None = None,
    actor: str = "agent",
    unanswered_group_id: int | None = None,
    tell_buyer: bool = True,
    announce_assignment: bool = True,
    split_from_id: int | None = None,
    commit: bool = True,
) -> Ticket:
    """Open a ticket. A ticket given to a person starts open, else new (in its team's list).

    The requester is, unless named, the buyer of the first linked conversation; that buyer
    is told the number in the latest linked conversation (``tell_buyer``). The SLA clocks
    start, the assignee is notified (unless they opened it themselves), and the history
    starts with "created".
    """
    session = uow.session
    # --- every check first: nothing is written until all of them passed -------------------
    ticket_type = checks.choice(TicketType, type, "type")
    ticket_priority = checks.choice(TicketPriority, priority, "priority")
    checks.actor(session, shop_id=shop_id, actor_agent_id=actor_agent_id, actor=actor)
    clean_title = checks.title(title)
    clean_description = checks.description(description)
    team = checks.team(session, shop_id=shop_id, team_id=team_id) if team_id is not None else None
    assignee = (
        checks.active_agent(session, shop_id=shop_id, agent_id=assignee_id, field="assignee_id")
        if assignee_id is not None
        else None
    )
    if assignee is not None and team is not None:
        checks.in_team(session, agent=assignee, team=team)
    if requester_customer_id is not None:
        checks.customer(session, shop_id=shop_id, customer_id=requester_customer_id)
    if requester_team_id is not None:
        try:
            checks.team(session, shop_id=shop_id, team_id=requester_team_id)
        except Invalid as exc:
            raise Invalid(
                exc.message, field="requester_team_id", key=exc.key, **exc.params
            ) from exc
    linked = checks.conversations(session, shop_id=shop_id, ids=conversation_ids)
    orders = checks.orders(session, shop_id=shop_id, ids=order_ids)
    files = checks.attachments(session, shop_id=shop_id, ids=attachment_ids)
    tag_list = checks.tags(tags)
    values = field_defs.check_values(
        session, shop_id=shop_id, ticket_type=ticket_type, values=custom_fields or {}
    )
    if unanswered_group_id is not None:
        _unanswered_group(session, shop_id=shop_id, group_id=unanswered_group_id)
    if split_from_id is not None:
        checks.get_ticket(session, shop_id=shop_id, ticket_id=split_from_id)
    if requester_customer_id is None and requester_team_id is None and linked:
        requester_customer_id = linked[0].customer_id

    # --- then the writes -------------------------------------------------------------------
    now = uow.clock.now()
    ticket = Ticket(
        shop_id=shop_id,
        number=take_number(uow, shop_id=shop_id),
        type=ticket_type,
        title=clean_title,
        description=clean_description,
        priority=ticket_priority,
        status=TicketStatus.OPEN if assignee is not None else TicketStatus.NEW,
        requester_customer_id=requester_customer_id,
        requester_team_id=requester_team_id,
        team_id=team.id if team is not None else None,
        assignee_id=assignee.id if assignee is not None else None,
        created_by_agent_id=actor_agent_id,
        custom_fields=field_defs.dump(values),
        unanswered_group_id=unanswered_group_id,
        split_from_id=split_from_id,
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    session.flush()
    for conversation in linked:
        session.add(
            TicketConversation(
                shop_id=shop_id,
                ticket_id=ticket.id,
                conversation_id=conversation.id,
                created_at=now,
            )
        )
    for order in orders:
        session.add(
            TicketOrder(shop_id=shop_id, ticket_id=ticket.id, order_id=order.id, created_at=now)
        )
    for tag in tag_list:
        session.add(TicketTag(shop_id=shop_id, ticket_id=ticket.id, tag=tag))
    for attachment in files:
        session.add(
            TicketAttachment(
                shop_id=shop_id,
                ticket_id=ticket.id,
                attachment_id=attachment.id,
                added_by_agent_id=actor_agent_id,
                created_at=now,
            )
        )
    session.flush()
    refresh_search_text(session, ticket=ticket)
    record_change(
        uow,
        ticket=ticket,
        field="created",
        new=f"#{ticket.number} {ticket.title}",
        actor_agent_id=actor_agent_id,
        actor=actor,
    )
    sla.start_targets(uow, ticket=ticket)
    # An escalation tells the duty manager in words of its own (announce_assignment=False).
    if announce_assignment and assignee is not None and assignee.id != actor_agent_id:
        notify_assignee(uow, ticket=ticket, assignee_id=assignee.id)
    if tell_buyer and linked:
        notices.tell_buyer(uow, ticket=ticket, notice="created")
    uow.collect(
        TicketCreated(
            shop_id=shop_id,
            ticket_id=ticket.id,
            number=ticket.number,
            type=ticket.type.value,
            status=ticket.status.value,
            team_id=ticket.team_id,
            assignee_id=ticket.assignee_id,
            actor_agent_id=actor_agent_id,
            conversation_ids=tuple(c.id for c in linked),
        )
    )
    if commit:
        uow.commit()
    return ticket


def update_ticket(
    uow: UnitOfWork,
    *,
    shop_id: int,
    ticket_id: int,
    actor_agent_id: int | None,
    actor: str = "agent",
    title: str | None = None,
    description: str | None = None,
    type: TicketType | None = None,
    priority: TicketPriority | None = None,
    tags: Sequence[str] | None = None,
    custom_fields: Mapping[str, object] | None = None,
    commit: bool = True,
) -> Ticket:
    """Change what is given (None = unchanged): a history row per field that really
    changed. A new type or priority re-applies the SLA policy; a new type checks the custom
    fields against that type's (values of fields the new type lacks are dropped)."""
    session = uow.session
    checks.actor(session, shop_id=shop_id, actor_agent_id=actor_agent_id, actor=actor)
    new_title = checks.title(title) if title is not None else None
    new_description = checks.description(description) if description is not None else None
    new_type = checks.choice(TicketType, type, "type") if type is not None else None
    new_priority = (
        checks.choice(TicketPriority, priority, "priority") if priority is not None else None
    )
    new_tags = checks.tags(tags) if tags is not None else None
    ticket = checks.lock_ticket(session, shop_id=shop_id, ticket_id=ticket_id)
    checks.not_closed(ticket)
    values = _new_values(session, ticket, new_type, custom_fields)
    # Worded before anything changes: the old values read with the old type's labels.
    old_values = field_defs.values_of(ticket.custom_fields)
    old_fields = (
        fields_text(session, shop_id=shop_id, ticket_type=ticket.type, values=old_values)
        if values is not None
        else ""
    )

    changed: list[str] = []

    def note(field: str, old: str, new: str) -> None:
        record_change(
            uow, ticket=ticket, field=field, old=old, new=new,
            actor_agent_id=actor_agent_id, actor=actor,
        )  # fmt: skip
        changed.append(field)

    if new_title is not None and new_title != ticket.title:
        note("title", ticket.title, new_title)
        ticket.title = new_title
    if new_description is not None and new_description != ticket.description:
        note("description", ticket.description, new_description)
        ticket.description = new_description
    if new_type is not None and new_type is not ticket.type:
        note("type", ticket.type.value, new_type.value)
        ticket.type = new_type
    if new_priority is not None and new_priority is not ticket.priority:
        note("priority", ticket.priority.value, new_priority.value)
        ticket.priority = new_priority
    if new_tags is not None:
        old_tags, now_tags = set_tags(uow, ticket=ticket, tags=new_tags)
        if old_tags != now_tags:
            note("tags", "、".join(old_tags), "、".join(now_tags))
    if values is not None and values != old_values:
        new_fields = fields_text(session, shop_id=shop_id, ticket_type=ticket.type, values=values)
        note("fields", old_fields, new_fields)
        ticket.custom_fields = field_defs.dump(values)
    if {"title", "description"} & set(changed):
        session.flush()
        refresh_search_text(session, ticket=ticket)
    if {"type", "priority"} & set(changed):
        sla.reapply_policy(uow, ticket=ticket)
    touched(uow, ticket=ticket, changed=changed, actor_agent_id=actor_agent_id)
    if commit:
        uow.commit()
    return ticket


def refresh_search_text(session: Session, *, ticket: Ticket) -> None:
    """Title, description and comments, normalised (simplified, half width, lower case), so
    a search typed in 繁體 finds text written in 简体 and the other way round."""
    bodies = session.scalars(
        select(TicketComment.body)
        .where(TicketComment.shop_id == ticket.shop_id, TicketComment.ticket_id == ticket.id)
        .order_by(TicketComment.id)
    ).all()
    ticket.search_text = normalize_text("\n".join([ticket.title, ticket.description, *bodies]))


def tags_of(session: Session, *, ticket: Ticket) -> list[str]:
    return list(
        session.scalars(
            select(TicketTag.tag)
            .where(TicketTag.shop_id == ticket.shop_id, TicketTag.ticket_id == ticket.id)
            .order_by(TicketTag.id)
        )
    )


def set_tags(
    uow: UnitOfWork, *, ticket: Ticket, tags: Sequence[str]
) -> tuple[list[str], list[str]]:
    """Make the ticket's tags exactly ``tags`` (already checked); returns (before, after)."""
    session = uow.session
    before = tags_of(session, ticket=ticket)
    after = list(tags)
    if before == after:
        return before, after
    wanted = {tag.casefold(): tag for tag in after}
    stale = [tag for tag in before if wanted.get(tag.casefold()) != tag]
    if stale:
        session.execute(
            delete(TicketTag).where(
                TicketTag.shop_id == ticket.shop_id,
                TicketTag.ticket_id == ticket.id,
                TicketTag.tag.in_(stale),
            )
        )
    kept = {tag for tag in before if tag not in stale}
    for tag in after:
        if tag not in kept:
            session.add(TicketTag(shop_id=ticket.shop_id, ticket_id=ticket.id, tag=tag))
    session.flush()
    return before, tags_of(session, ticket=ticket)


# --- helpers -------------------------------------------------------------------------------


def _new_values(
    session: Session,
    ticket: Ticket,
    new_type: TicketType | None,
    given: Mapping[str, object] | None,
) -> dict[str, object] | None:
    """The ticket's custom field values after the update, or None when they cannot change."""
    type_changes = new_type is not None and new_type is not ticket.type
    if given is None and not type_changes:
        return None
    ticket_type = new_type if new_type is not None else ticket.type
    current = field_defs.values_of(ticket.custom_fields)
    if type_changes:
        keys = {
            f.key
            for f in field_defs.fields_for(session, shop_id=ticket.shop_id, ticket_type=ticket_type)
        }
        # Whatever the new type also asks for is kept, the rest dropped; then the whole
        # set is checked, so a required field of the new type must be given.
        merged = {k: v for k, v in current.items() if k in keys}
        merged.update(given or {})
        return field_defs.check_values(
            session, shop_id=ticket.shop_id, ticket_type=ticket_type, values=merged
        )
    assert given is not None
    changes = field_defs.check_values(
        session, shop_id=ticket.shop_id, ticket_type=ticket_type, values=given, partial=True
    )
    result = dict(current)
    for key, value in changes.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def fields_text(
    session: Session, *, shop_id: int, ticket_type: TicketType, values: Mapping[str, object]
) -> str:
    """The values as the history shows them: "label: value", in the type's field order
    (labels, not keys: the history reads right for a person)."""
    defs = field_defs.fields_for(session, shop_id=shop_id, ticket_type=ticket_type)
    order = [field.key for field in defs] + sorted(
        k for k in values if k not in {f.key for f in defs}
    )
    labels = {field.key: field.label for field in defs}
    return "；".join(
        f"{labels.get(k, k)}: {field_defs.shown(values[k])}" for k in order if k in values
    )


def _unanswered_group(session: Session, *, shop_id: int, group_id: int) -> None:
    found = session.scalar(
        select(UnansweredGroup.id).where(
            UnansweredGroup.shop_id == shop_id, UnansweredGroup.id == group_id
        )
    )
    if found is None:
        raise Invalid(
            f"no unanswered question group #{group_id} in this shop",
            field="unanswered_group_id",
            key="errors.tickets.unanswered_group_not_found",
            group_id=group_id,
        )
