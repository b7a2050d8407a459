"""The demo's after-sales cases and settled reminders, from its scripted conversations.

Written after the conversations, in the seeder's transaction: a 换码 chat becomes an
exchange case and a 退款进度 chat a refund case, some already approved by 售后阿敏; a
buyer an agent already nudged in a 催付 chat gets no automatic reminder on top. The rows
the services write at "now" are dated to just after each conversation's last message.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from kefu.commerce.models import Order, OrderStatus
from kefu.conversations.models import Conversation, Message
from kefu.sales import service as sales
from kefu.sales.models import AfterSalesCase, CaseKind, CaseStep
from kefu.uow import UnitOfWork

# Subject of the scripted conversation → the case it leads to, and the order it is about.
_CASES: dict[str, tuple[CaseKind, OrderStatus, str]] = {
    "换码": (CaseKind.EXCHANGE, OrderStatus.DELIVERED, "尺码偏小,想换大一码"),
    "退款进度": (CaseKind.REFUND, OrderStatus.REFUNDING, "不想要了,申请退款"),
}
APPROVE_EVERY = 2  # every second case was already approved; the rest wait for 售后
DECIDED_AFTER = timedelta(minutes=30)  # 售后 answered within the half hour


def write_cases(uow: UnitOfWork, *, shop_id: int, decider_id: int) -> int:
    """Open a case for each scripted after-sales chat; approve some. Does not commit."""
    session = uow.session
    chats = session.scalars(
        select(Conversation)
        .where(
            Conversation.shop_id == shop_id,
            Conversation.subject.in_(list(_CASES)),
            Conversation.closed_at.is_not(None),  # the chats that reached their end
        )
        .order_by(Conversation.created_at, Conversation.id)
    ).all()
    opened = 0
    taken: set[tuple[int, CaseKind]] = set()  # a buyer with two such chats: one case
    for chat in chats:
        kind, status, reason = _CASES[chat.subject]
        order = session.scalar(
            select(Order)
            .where(
                Order.shop_id == shop_id,
                Order.customer_id == chat.customer_id,
                Order.status == status,
            )
            .order_by(Order.created_at.desc())
            .limit(1)
        )
        if order is None or (order.id, kind) in taken:
            continue
        taken.add((order.id, kind))
        first_new_seq = chat.last_seq + 1
        at = chat.last_message_at + timedelta(minutes=2)
        if at + timedelta(minutes=2) > uow.clock.now():
            continue  # a chat that only just ended: nothing is dated in the future
        case = sales.open_case(
            uow, shop_id=shop_id, order_id=order.id, kind=kind, reason=reason,
            conversation_id=chat.id, commit=False,
        )  # fmt: skip
        opened += 1
        if opened % APPROVE_EVERY == 0 and at + DECIDED_AFTER < uow.clock.now():
            sales.decide_case(
                uow, shop_id=shop_id, case_id=case.id, agent_id=decider_id, approve=True,
                commit=False,
            )  # fmt: skip
        _backdate(uow, case, conversation=chat, first_new_seq=first_new_seq, at=at)
    return opened


def _backdate(
    uow: UnitOfWork,
    case: AfterSalesCase,
    *,
    conversation: Conversation,
    first_new_seq: int,
    at: datetime,
) -> None:
    session = uow.session
    session.flush()
    decided_at = at + DECIDED_AFTER
    case.created_at = case.updated_at = at
    if case.decided_at is not None:
        case.decided_at = case.updated_at = decided_at
    for step in session.scalars(select(CaseStep).where(CaseStep.case_id == case.id)):
        step.created_at = at if step.agent_id is None else decided_at
    told = session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation.id, Message.seq >= first_new_seq)
        .order_by(Message.seq)
    ).all()
    for offset, message in enumerate(told):
        message.created_at = at + timedelta(seconds=offset)
    if told and case.decided_at is not None:
        told[-1].created_at = decided_at  # the approval is the last thing the buyer was told
    if told:
        # The agent closed the chat after telling the buyer (its history stays in order).
        conversation.last_message_at = told[-1].created_at
        conversation.closed_at = told[-1].created_at + timedelta(minutes=1)


def settle_scripted_reminders(uow: UnitOfWork, *, shop_id: int) -> int:
    """Unpaid orders whose buyer an agent already reminded in a 催付 chat. Does not commit."""
    session = uow.session
    reminded = select(Conversation.customer_id).where(
        Conversation.shop_id == shop_id, Conversation.subject == "催付"
    )
    orders = session.scalars(
        select(Order.id).where(
            Order.shop_id == shop_id,
            Order.status == OrderStatus.UNPAID,
            Order.customer_id.in_(reminded),
        )
    ).all()
    for order_id in orders:
        sales.note_reminded_by_hand(uow, shop_id=shop_id, order_id=order_id, commit=False)
    return len(orders)
