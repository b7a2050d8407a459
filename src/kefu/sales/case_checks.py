"""The rules an after-sales case is checked against: which orders allow which kind, the
amount, the photos, who may decide, and which status may follow which."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kefu.accounts import service as accounts
from kefu.accounts.models import Agent
from kefu.commerce.models import Order, OrderStatus
from kefu.conversations import service as conversations
from kefu.conversations.models import Attachment, Conversation
from kefu.errors import Invalid, NotFound, PermissionDenied
from kefu.sales import case_messages as say
from kefu.sales.models import AfterSalesCase, CaseKind, CaseStatus
from kefu.validation import clean_text

MAX_REASON_LENGTH = 1000
MAX_NOTE_LENGTH = 1000
MAX_PHOTOS = 9
MAX_TRACKING_LENGTH = 40
CENT = Decimal("0.01")
# A refund needs money paid; sending goods back needs goods sent.
PAID = frozenset(
    {OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.REFUNDING}
)
SENT = frozenset({OrderStatus.SHIPPED, OrderStatus.DELIVERED})
_NOT_PAID_REASON = {
    OrderStatus.UNPAID: "the order is not paid yet, so there is nothing to give back",
    OrderStatus.CLOSED: "the order is closed",
    OrderStatus.REFUNDED: "the order was already refunded",
}


def lock_order(session: Session, *, shop_id: int, order_id: int) -> Order:
    # A no-op UPDATE locks the order's row on PostgreSQL and takes the write lock on SQLite
    # (where SELECT … FOR UPDATE locks nothing), so two requests for the same order cannot
    # both find "no open case" and both open one.
    result = session.execute(
        update(Order)
        .where(Order.shop_id == shop_id, Order.id == order_id)
        .values(shop_id=Order.shop_id)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 1) == 0:
        raise NotFound("order not found")
    order = session.get(Order, order_id, populate_existing=True)
    assert order is not None  # just updated under lock
    return order


def lock_case(session: Session, *, shop_id: int, case_id: int) -> AfterSalesCase:
    # Locked as the order is: two people deciding at once → the second sees the first's.
    result = session.execute(
        update(AfterSalesCase)
        .where(AfterSalesCase.shop_id == shop_id, AfterSalesCase.id == case_id)
        .values(status=AfterSalesCase.status)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 1) == 0:
        raise NotFound("after-sales case not found")
    case = session.get(AfterSalesCase, case_id, populate_existing=True)
    assert case is not None
    return case


def check_order_allows(order: Order, kind: CaseKind) -> None:
    if order.status not in PAID:
        why = _NOT_PAID_REASON.get(order.status, f"the order is {order.status.value}")
        raise Invalid(
            f"no {kind.value} for order {order.order_no}: {why}",
            field="order_id",
            key=f"errors.case_order_{order.status.value}",
            order_no=order.order_no,
        )
    if kind is not CaseKind.REFUND and order.status not in SENT:
        raise Invalid(
            f"no {kind.value} for order {order.order_no}: it has not been shipped "
            f"(it is {order.status.value}); a refund is possible instead",
            field="kind",
            key="errors.case_order_not_shipped",
            order_no=order.order_no,
            kind_zh=say.KIND_NAMES[kind],
        )


def amount(kind: CaseKind, amount: Decimal | None, total: Decimal) -> Decimal | None:
    if kind is CaseKind.EXCHANGE:
        if amount is not None:
            raise Invalid("an exchange gives no money back: leave the amount empty", field="amount")
        return None
    if amount is None:
        return total
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise Invalid("the amount must be more than 0", field="amount")
    if amount != amount.quantize(CENT):
        raise Invalid("the amount has more than 2 decimal places", field="amount")
    if amount > total:
        raise Invalid(
            f"the amount {amount} is more than the order's total {total}",
            field="amount",
            key="errors.case_amount_over_total",
            total=f"{total:.2f}",
        )
    return amount.quantize(CENT)


def conversation_of(
    session: Session, *, shop_id: int, conversation_id: int | None, customer_id: int
) -> Conversation | None:
    if conversation_id is None:
        return conversations.latest_conversation(session, shop_id=shop_id, customer_id=customer_id)
    conversation = conversations.get_conversation(
        session, shop_id=shop_id, conversation_id=conversation_id
    )
    if conversation.customer_id != customer_id:
        raise Invalid("this order belongs to another buyer", field="order_id")
    return conversation


def photos(
    session: Session, *, shop_id: int, attachment_ids: Sequence[int], customer_id: int | None
) -> list[int]:
    ids = list(dict.fromkeys(attachment_ids))
    if len(ids) > MAX_PHOTOS:
        raise Invalid(f"at most {MAX_PHOTOS} photos", field="photo_attachment_ids")
    if not ids:
        return []
    rows = session.scalars(
        select(Attachment).where(Attachment.shop_id == shop_id, Attachment.id.in_(ids))
    ).all()
    found = {row.id: row for row in rows}
    for attachment_id in ids:
        row = found.get(attachment_id)
        if row is None or (customer_id is not None and row.customer_id != customer_id):
            raise Invalid(f"no such photo: {attachment_id}", field="photo_attachment_ids")
        if not row.content_type.startswith("image/"):
            raise Invalid(
                f"attachment {attachment_id} is not a picture", field="photo_attachment_ids"
            )
    return ids


def active_agent(session: Session, *, shop_id: int, agent_id: int) -> Agent:
    try:
        agent = accounts.get_agent(session, shop_id=shop_id, agent_id=agent_id)
    except NotFound as exc:
        raise Invalid("no such agent in this shop", field="agent_id") from exc
    if not agent.is_active:
        raise Invalid("this agent is deactivated", field="agent_id")
    return agent


def decider(session: Session, *, shop_id: int, agent_id: int | None) -> Agent:
    # Refund decisions are always a person's: the bot has no agent id to give here.
    if not isinstance(agent_id, int) or isinstance(agent_id, bool):
        raise PermissionDenied(
            "only a member of staff decides an after-sales case",
            key="errors.case_needs_person",
        )
    return active_agent(session, shop_id=shop_id, agent_id=agent_id)


def note(note: str) -> str:
    return clean_text(note, field="note", max_length=MAX_NOTE_LENGTH, multiline=True)


def tracking(value: str, *, field: str) -> str:
    value = clean_text(value, field=field, max_length=MAX_TRACKING_LENGTH)
    if not value:
        raise Invalid("the tracking number is required", field=field)
    return value


def check_move(case: AfterSalesCase, status: CaseStatus) -> None:
    if status not in say.NEXT[case.status]:
        raise Invalid(
            f"after-sales case #{case.id} is {case.status.value}: it cannot become {status.value}",
            field="status",
            key="errors.case_bad_move",
            case_id=case.id,
            status=case.status.value,
            status_zh=say.STATUS_NAMES[case.status],
        )
