"""SLA policies: how long a shop gives itself to answer and to solve tickets of a type and
priority, in working or calendar minutes.

The most specific policy wins (type and priority, then type, then priority, then the
catch-all). A shop starts with :data:`DEFAULT_POLICIES`, written the first time anything
needs them; the catch-all stays (it can be edited, even to no targets at all, but not
deleted or narrowed), so a shop with no policy rows is one that was never set up.

Changing a policy applies from then on: to new tickets, to tickets whose type or priority
changes, to reopened tickets and to next responses started later. Clocks already running
keep their deadlines, also when their policy is deleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kefu.errors import Conflict, Invalid, NotFound
from kefu.shops import service as shops
from kefu.tickets.calendar import calendar_row
from kefu.tickets.models import BusinessCalendar, SlaPolicy, TicketPriority, TicketType
from kefu.uow import UnitOfWork
from kefu.validation import clean_text

MAX_MINUTES: Final = 525_600  # a year of minutes
MAX_NAME_LENGTH: Final = 60


@dataclass(frozen=True)
class DefaultPolicy:
    name: str
    ticket_type: TicketType | None
    priority: TicketPriority | None
    first_response: int
    resolution: int
    warn_before: int = 30


# The figures follow seed 000's rule for a shop's service: don't make buyers wait. An
# angry buyer (投诉, urgent) hears from a person within half an hour and has an answer the
# same working day; a complaint is answered within two working hours and settled within
# three working days of nine hours; a fault (障碍申告: payment fails, a page is down) stops
# sales, so an hour and one working day; after-sales waits on goods and couriers, so four
# hours and 48 hours; an escalation waits on the duty manager, so two hours and a working
# day; everything else a working day to answer and 72 hours to solve. All counted in
# working hours; a next response (the buyer wrote again after our answer) is due as fast
# as the first one.
DEFAULT_POLICIES: Final[tuple[DefaultPolicy, ...]] = (
    DefaultPolicy("投诉·紧急", TicketType.COMPLAINT, TicketPriority.URGENT, 30, 8 * 60, 10),
    DefaultPolicy("投诉", TicketType.COMPLAINT, None, 2 * 60, 24 * 60),
    DefaultPolicy("售后", TicketType.AFTERSALE, None, 4 * 60, 48 * 60),
    DefaultPolicy("障碍申告", TicketType.FAULT, None, 60, 8 * 60),
    DefaultPolicy("升级", TicketType.ESCALATION, None, 2 * 60, 9 * 60),
    DefaultPolicy("默认", None, None, 8 * 60, 72 * 60),
)


def list_policies(session: Session, *, shop_id: int) -> list[SlaPolicy]:
    """The shop's policies, most specific first (the order they are tried in), then by
    type and by priority, urgent first."""
    rows = session.scalars(select(SlaPolicy).where(SlaPolicy.shop_id == shop_id))
    types, priorities = list(TicketType), list(reversed(TicketPriority))
    return sorted(
        rows,
        key=lambda p: (
            _rank(p),
            types.index(p.ticket_type) if p.ticket_type else 0,
            priorities.index(p.priority) if p.priority else 0,
            p.id,
        ),
    )


def _rank(policy: SlaPolicy) -> int:
    return (policy.ticket_type is None) * 2 + (policy.priority is None)


def get_policy(session: Session, *, shop_id: int, policy_id: int) -> SlaPolicy:
    policy = session.scalar(
        select(SlaPolicy).where(SlaPolicy.shop_id == shop_id, SlaPolicy.id == policy_id)
    )
    if policy is None:
        raise NotFound("SLA policy not found", key="errors.tickets.sla.no_such_policy")
    return policy


def policy_for(
    session: Session, *, shop_id: int, ticket_type: TicketType, priority: TicketPriority
) -> SlaPolicy | None:
    """The policy for a ticket of this type and priority: the most specific that matches
    (None when none does, or before the shop's policies were first set up)."""
    candidates = session.scalars(
        select(SlaPolicy).where(
            SlaPolicy.shop_id == shop_id,
            (SlaPolicy.ticket_type == ticket_type) | SlaPolicy.ticket_type.is_(None),
            (SlaPolicy.priority == priority) | SlaPolicy.priority.is_(None),
        )
    )
    return min(candidates, key=lambda p: (_rank(p), p.id), default=None)


def ensure_policies(uow: UnitOfWork, *, shop_id: int) -> None:
    """Write the default policies if the shop has none yet (the first ticket, or the first
    look at the settings). Two transactions racing here seed once: the second waits on
    the calendar row's lock and then finds the rows."""
    session = uow.session
    if _count(session, shop_id) > 0:
        return
    calendar_row(uow, shop_id=shop_id)
    session.execute(
        update(BusinessCalendar)
        .where(BusinessCalendar.shop_id == shop_id)
        .values(shop_id=BusinessCalendar.shop_id)
        .execution_options(synchronize_session=False)
    )
    if _count(session, shop_id) > 0:
        return
    now = uow.clock.now()
    for default in DEFAULT_POLICIES:
        session.add(
            SlaPolicy(
                shop_id=shop_id,
                name=default.name,
                ticket_type=default.ticket_type,
                priority=default.priority,
                first_response_minutes=default.first_response,
                next_response_minutes=default.first_response,
                resolution_minutes=default.resolution,
                business_hours=True,
                warn_before_minutes=default.warn_before,
                created_at=now,
                updated_at=now,
            )
        )
    session.flush()


def _count(session: Session, shop_id: int) -> int:
    query = select(func.count(SlaPolicy.id)).where(SlaPolicy.shop_id == shop_id)
    return session.scalar(query) or 0


def create_policy(
    uow: UnitOfWork,
    *,
    shop_id: int,
    name: str,
    ticket_type: TicketType | None = None,
    priority: TicketPriority | None = None,
    first_response_minutes: int | None = None,
    next_response_minutes: int | None = None,
    resolution_minutes: int | None = None,
    business_hours: bool = True,
    warn_before_minutes: int = 30,
    commit: bool = True,
) -> SlaPolicy:
    """A policy for tickets of ``ticket_type`` and ``priority`` (None: any). A target left
    None is not timed; a policy without any target turns SLAs off for what it matches."""
    session = uow.session
    shops.get_shop(session, shop_id=shop_id)
    ensure_policies(uow, shop_id=shop_id)
    policy = SlaPolicy(shop_id=shop_id, created_at=uow.clock.now())
    _fill(
        session,
        policy,
        name=name,
        ticket_type=ticket_type,
        priority=priority,
        targets=(first_response_minutes, next_response_minutes, resolution_minutes),
        business_hours=business_hours,
        warn_before_minutes=warn_before_minutes,
    )
    policy.updated_at = uow.clock.now()
    session.add(policy)
    session.flush()
    if commit:
        uow.commit()
    return policy


def update_policy(
    uow: UnitOfWork,
    *,
    shop_id: int,
    policy_id: int,
    name: str,
    ticket_type: TicketType | None,
    priority: TicketPriority | None,
    first_response_minutes: int | None,
    next_response_minutes: int | None,
    resolution_minutes: int | None,
    business_hours: bool,
    warn_before_minutes: int,
    commit: bool = True,
) -> SlaPolicy:
    """Replace every setting of a policy (what the edit form and ``PUT`` send). Running
    clocks keep their deadlines."""
    session = uow.session
    policy = get_policy(session, shop_id=shop_id, policy_id=policy_id)
    if _is_catch_all(policy) and (ticket_type is not None or priority is not None):
        raise _catch_all_kept(policy)
    _fill(
        session,
        policy,
        name=name,
        ticket_type=ticket_type,
        priority=priority,
        targets=(first_response_minutes, next_response_minutes, resolution_minutes),
        business_hours=business_hours,
        warn_before_minutes=warn_before_minutes,
    )
    policy.updated_at = uow.clock.now()
    session.flush()
    if commit:
        uow.commit()
    return policy


def delete_policy(uow: UnitOfWork, *, shop_id: int, policy_id: int, commit: bool = True) -> None:
    """Delete a policy; its tickets' running clocks keep their deadlines, later ones follow
    the policy that now applies. The catch-all cannot be deleted."""
    session = uow.session
    policy = get_policy(session, shop_id=shop_id, policy_id=policy_id)
    if _is_catch_all(policy):
        raise _catch_all_kept(policy)
    session.delete(policy)
    session.flush()
    if commit:
        uow.commit()


def _is_catch_all(policy: SlaPolicy) -> bool:
    return policy.ticket_type is None and policy.priority is None


def _catch_all_kept(policy: SlaPolicy) -> Conflict:
    return Conflict(
        f"{policy.name!r} is the policy for every other ticket; it can be changed (even to "
        "no targets) but not deleted or limited to a type or priority",
        key="errors.tickets.sla.catch_all_kept",
        name=policy.name,
    )


def _fill(
    session: Session,
    policy: SlaPolicy,
    *,
    name: str,
    ticket_type: TicketType | None,
    priority: TicketPriority | None,
    targets: Sequence[int | None],
    business_hours: bool,
    warn_before_minutes: int,
) -> None:
    """Check every value first, then set them all, so a refusal changes nothing."""
    name = clean_text(name, field="name", max_length=MAX_NAME_LENGTH)
    if not name:
        raise Invalid(
            "the policy needs a name", field="name", key="errors.tickets.sla.name_required"
        )
    ticket_type = _choice(TicketType, ticket_type, "ticket_type")
    priority = _choice(TicketPriority, priority, "priority")
    fields = ("first_response_minutes", "next_response_minutes", "resolution_minutes")
    minutes = [_minutes(value, field=f) for value, f in zip(targets, fields, strict=True)]
    if not isinstance(business_hours, bool):
        raise Invalid(
            "business_hours must be true or false",
            field="business_hours",
            key="errors.tickets.sla.boolean",
        )
    smallest = min((m for m in minutes if m is not None), default=None)
    warn = warn_before_minutes
    if isinstance(warn, bool) or not isinstance(warn, int) or not 0 <= warn <= MAX_MINUTES:
        raise Invalid(
            f"warn_before_minutes must be a whole number from 0 to {MAX_MINUTES}",
            field="warn_before_minutes",
            key="errors.tickets.sla.minutes_range",
            min=0,
            max=MAX_MINUTES,
        )
    if smallest is not None and warn >= smallest:
        raise Invalid(
            f"the warning ({warn} minutes before) must come after the start of the "
            f"shortest target ({smallest} minutes): make it smaller",
            field="warn_before_minutes",
            key="errors.tickets.sla.warn_too_late",
            warn=warn,
            smallest=smallest,
        )
    clash = session.scalar(
        select(SlaPolicy).where(
            SlaPolicy.shop_id == policy.shop_id,
            SlaPolicy.ticket_type.is_(None)
            if ticket_type is None
            else SlaPolicy.ticket_type == ticket_type,
            SlaPolicy.priority.is_(None) if priority is None else SlaPolicy.priority == priority,
            SlaPolicy.id != (policy.id or 0),
        )
    )
    if clash is not None:
        raise Conflict(
            f"the policy {clash.name!r} already covers this type and priority; edit it instead",
            key="errors.tickets.sla.duplicate_policy",
            name=clash.name,
        )
    policy.name, policy.ticket_type, policy.priority = name, ticket_type, priority
    (
        policy.first_response_minutes,
        policy.next_response_minutes,
        policy.resolution_minutes,
    ) = minutes
    policy.business_hours, policy.warn_before_minutes = business_hours, warn


_Choice = TypeVar("_Choice", TicketType, TicketPriority)


def _choice(kind: type[_Choice], value: object, field: str) -> _Choice | None:
    if value is None:
        return None
    try:
        return kind(str(value))
    except ValueError:
        known = ", ".join(m.value for m in kind)
        raise Invalid(
            f"{field} {value!r} is not one of {known}",
            field=field,
            key="errors.tickets.sla.choice",
            value=str(value),
            known=known,
        ) from None


def _minutes(value: int | None, *, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_MINUTES:
        raise Invalid(
            f"{field} must be a whole number of minutes from 1 to {MAX_MINUTES}, or empty",
            field=field,
            key="errors.tickets.sla.minutes_range",
            min=1,
            max=MAX_MINUTES,
        )
    return value
