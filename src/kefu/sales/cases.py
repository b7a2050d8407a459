"""After-sales cases (售后): a buyer's refund, return or exchange request, linked to the order
and the conversation, decided by a person and told to the buyer step by step.

open → approved → (return/exchange: goods_returned →) completed; open → rejected;
open/approved → cancelled (the buyer withdrew). Every step writes a :class:`CaseStep` and a
message to the buyer; deciding (approve or reject) needs an agent, so the bot, which has
no agent id, can open a case but never decide one.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select

from kefu.conversations import service as conversations
from kefu.conversations.models import Conversation, ConversationStatus, SenderType
from kefu.errors import Conflict, Invalid
from kefu.sales import case_checks as checks
from kefu.sales import case_messages as say
from kefu.sales.case_photos import recent_buyer_photos
from kefu.sales.events import AfterSalesCaseOpened, AfterSalesCaseUpdated
from kefu.sales.models import AfterSalesCase, CaseKind, CasePhoto, CaseStatus, CaseStep
from kefu.sales.settings import settings_of
from kefu.shops import service as shops
from kefu.uow import UnitOfWork
from kefu.validation import clean_text

__all__ = [
    "AFTERSALE_TEAM_CODE",
    "cancel_case",
    "complete_case",
    "decide_case",
    "mark_goods_returned",
    "open_case",
]

AFTERSALE_TEAM_CODE = "aftersale"


def open_case(
    uow: UnitOfWork,
    *,
    shop_id: int,
    order_id: int,
    kind: CaseKind,
    reason: str,
    conversation_id: int | None = None,
    photo_attachment_ids: Sequence[int] = (),
    opened_by_agent_id: int | None = None,
    amount: Decimal | None = None,
    commit: bool = True,
) -> AfterSalesCase:
    """Record a buyer's request as an open case, move the conversation to 售后 and tell
    the buyer it is registered.

    ``opened_by_agent_id`` None means the bot opened it from the buyer's own words: then
    the photos must be the buyer's own uploads. Without ``conversation_id`` (an order
    system's request) the buyer is told in their latest conversation, which stays where it
    is: the buyer may be talking about something else there, and 售后 works the case from
    its page.
    """
    session = uow.session
    kind = CaseKind(kind)
    reason = clean_text(reason, field="reason", max_length=checks.MAX_REASON_LENGTH, multiline=True)
    if not reason:
        raise Invalid("the buyer's reason is required", field="reason")
    order = checks.lock_order(session, shop_id=shop_id, order_id=order_id)
    checks.check_order_allows(order, kind)
    if opened_by_agent_id is not None:
        checks.active_agent(session, shop_id=shop_id, agent_id=opened_by_agent_id)
    conversation = checks.conversation_of(
        session, shop_id=shop_id, conversation_id=conversation_id, customer_id=order.customer_id
    )
    amount = checks.amount(kind, amount, order.total)
    photo_ids = checks.photos(
        session,
        shop_id=shop_id,
        attachment_ids=photo_attachment_ids,
        customer_id=order.customer_id if opened_by_agent_id is None else None,
    )
    if not photo_ids and conversation is not None and conversation_id is not None:
        # The pictures the buyer just sent in this chat (the torn seam, the wrong colour).
        photo_ids = recent_buyer_photos(uow, shop_id=shop_id, conversation_id=conversation.id)
    existing = session.scalar(
        select(AfterSalesCase.id).where(
            AfterSalesCase.shop_id == shop_id,
            AfterSalesCase.order_id == order.id,
            AfterSalesCase.kind == kind,
            AfterSalesCase.status.in_(say.ACTIVE),
        )
    )
    if existing is not None:
        raise Conflict(
            f"after-sales case #{existing} for this order's {kind.value} is still open",
            key="errors.case_already_open",
            case_id=existing,
        )
    now = uow.clock.now()
    case = AfterSalesCase(
        shop_id=shop_id,
        order_id=order.id,
        customer_id=order.customer_id,
        conversation_id=conversation.id if conversation is not None else None,
        kind=kind,
        status=CaseStatus.OPEN,
        reason=reason,
        amount=amount,
        opened_by_agent_id=opened_by_agent_id,
        created_at=now,
        updated_at=now,
    )
    session.add(case)
    session.flush()
    for attachment_id in photo_ids:
        session.add(CasePhoto(shop_id=shop_id, case_id=case.id, attachment_id=attachment_id))
    _step(uow, case, agent_id=opened_by_agent_id, note=reason)
    if conversation is not None:
        # Registered first, then handed over: the buyer reads why they are being moved.
        _tell(uow, case, say.opened(kind, case.id), agent_id=opened_by_agent_id)
        if conversation_id is not None:
            _route_to_aftersales(uow, conversation, by_agent_id=opened_by_agent_id)
    uow.collect(
        AfterSalesCaseOpened(
            shop_id=shop_id,
            case_id=case.id,
            order_id=order.id,
            customer_id=order.customer_id,
            conversation_id=case.conversation_id,
            kind=kind.value,
            amount=amount,
            opened_by_agent_id=opened_by_agent_id,
        )
    )
    if commit:
        uow.commit()
    return case


def decide_case(
    uow: UnitOfWork,
    *,
    shop_id: int,
    case_id: int,
    agent_id: int,
    approve: bool,
    note: str = "",
    commit: bool = True,
) -> AfterSalesCase:
    """A person approves or rejects an open case; a rejection says why (the buyer reads it)."""
    agent = checks.decider(uow.session, shop_id=shop_id, agent_id=agent_id)
    note = checks.note(note)
    if not approve and not note:
        raise Invalid("say why the request is rejected: the buyer is told", field="note")
    case = checks.lock_case(uow.session, shop_id=shop_id, case_id=case_id)
    status = CaseStatus.APPROVED if approve else CaseStatus.REJECTED
    checks.check_move(case, status)
    case.decided_by_agent_id = agent.id
    case.decided_at = uow.clock.now()
    case.decision_note = note
    if approve:
        body = say.approved(
            case.kind,
            case.id,
            amount=case.amount,
            return_address=settings_of(uow.session, shop_id=shop_id).return_address,
        )
    else:
        body = say.rejected(case.kind, case.id, note=note)
    return _move(uow, case, status, agent_id=agent.id, note=note, body=body, commit=commit)


def mark_goods_returned(
    uow: UnitOfWork,
    *,
    shop_id: int,
    case_id: int,
    tracking_no: str,
    agent_id: int | None = None,
    commit: bool = True,
) -> AfterSalesCase:
    """The buyer sent the goods back (a return or an exchange that was approved)."""
    if agent_id is not None:
        checks.active_agent(uow.session, shop_id=shop_id, agent_id=agent_id)
    tracking_no = checks.tracking(tracking_no, field="tracking_no")
    case = checks.lock_case(uow.session, shop_id=shop_id, case_id=case_id)
    if case.kind is CaseKind.REFUND:
        raise Invalid("a refund-only case has no goods to send back", field="case_id")
    checks.check_move(case, CaseStatus.GOODS_RETURNED)
    case.return_tracking_no = tracking_no
    body = say.goods_returned(case.kind, case.id, tracking_no=tracking_no)
    return _move(
        uow,
        case,
        CaseStatus.GOODS_RETURNED,
        agent_id=agent_id,
        note=f"退货运单号 {tracking_no}",
        body=body,
        commit=commit,
    )


def complete_case(
    uow: UnitOfWork,
    *,
    shop_id: int,
    case_id: int,
    agent_id: int,
    reship_tracking_no: str = "",
    note: str = "",
    commit: bool = True,
) -> AfterSalesCase:
    """Money refunded (refund, return) or the replacement shipped (exchange, which needs
    its tracking number). A return or exchange completes once the goods came back."""
    agent = checks.decider(uow.session, shop_id=shop_id, agent_id=agent_id)
    note = checks.note(note)
    case = checks.lock_case(uow.session, shop_id=shop_id, case_id=case_id)
    if case.kind is not CaseKind.REFUND and case.status is CaseStatus.APPROVED:
        raise Invalid(
            f"the case is {case.status.value}: the goods have not come back yet",
            field="status",
            key="errors.case_goods_not_back",
            case_id=case.id,
        )
    checks.check_move(case, CaseStatus.COMPLETED)
    if case.kind is CaseKind.EXCHANGE:
        case.reship_tracking_no = checks.tracking(reship_tracking_no, field="reship_tracking_no")
        note = note or f"补发运单号 {case.reship_tracking_no}"
    body = say.completed(
        case.kind, case.id, amount=case.amount, reship_tracking_no=case.reship_tracking_no
    )
    return _move(
        uow, case, CaseStatus.COMPLETED, agent_id=agent.id, note=note, body=body, commit=commit
    )


def cancel_case(
    uow: UnitOfWork,
    *,
    shop_id: int,
    case_id: int,
    agent_id: int | None = None,
    note: str = "",
    commit: bool = True,
) -> AfterSalesCase:
    """The buyer withdrew the request (an agent records it, or the bot on the buyer's word)."""
    if agent_id is not None:
        checks.active_agent(uow.session, shop_id=shop_id, agent_id=agent_id)
    note = checks.note(note)
    case = checks.lock_case(uow.session, shop_id=shop_id, case_id=case_id)
    checks.check_move(case, CaseStatus.CANCELLED)
    body = say.cancelled(case.kind, case.id)
    return _move(
        uow, case, CaseStatus.CANCELLED, agent_id=agent_id, note=note, body=body, commit=commit
    )


# --- helpers -------------------------------------------------------------------------------


def _step(uow: UnitOfWork, case: AfterSalesCase, *, agent_id: int | None, note: str) -> None:
    uow.session.add(
        CaseStep(
            shop_id=case.shop_id,
            case_id=case.id,
            status=case.status,
            agent_id=agent_id,
            note=note,
            created_at=uow.clock.now(),
        )
    )


def _route_to_aftersales(
    uow: UnitOfWork, conversation: Conversation, *, by_agent_id: int | None
) -> None:
    """Move a conversation that is with people to 售后. One still with the bot is left to
    the bot, which hands it off itself; a closed one waits for the buyer to come back."""
    if conversation.with_bot or conversation.status is not ConversationStatus.OPEN:
        return
    team = shops.get_team_by_code(
        uow.session, shop_id=conversation.shop_id, code=AFTERSALE_TEAM_CODE
    )
    if conversation.team_id == team.id:
        return
    conversations.transfer_conversation(
        uow,
        shop_id=conversation.shop_id,
        conversation_id=conversation.id,
        by_agent_id=by_agent_id,
        team_id=team.id,
        commit=False,
    )


def _tell(uow: UnitOfWork, case: AfterSalesCase, body: str, *, agent_id: int | None) -> None:
    """The buyer hears of the step in the case's conversation: from the agent who took it,
    else as a message from the shop. One message per case and status (retries reuse it)."""
    if case.conversation_id is None:
        return
    conversations.send_reply(
        uow,
        shop_id=case.shop_id,
        conversation_id=case.conversation_id,
        client_msg_id=f"case-{case.id}-{case.status.value}",
        body=body,
        sender_type=SenderType.AGENT if agent_id is not None else SenderType.SYSTEM,
        sender_agent_id=agent_id,
        commit=False,
    )


def _move(
    uow: UnitOfWork,
    case: AfterSalesCase,
    status: CaseStatus,
    *,
    agent_id: int | None,
    note: str,
    body: str,
    commit: bool,
) -> AfterSalesCase:
    case.status = status
    case.updated_at = uow.clock.now()
    _step(uow, case, agent_id=agent_id, note=note)
    _tell(uow, case, body, agent_id=agent_id)
    uow.collect(
        AfterSalesCaseUpdated(
            shop_id=case.shop_id,
            case_id=case.id,
            order_id=case.order_id,
            customer_id=case.customer_id,
            conversation_id=case.conversation_id,
            kind=case.kind.value,
            status=status.value,
            agent_id=agent_id,
        )
    )
    if commit:
        uow.commit()
    return case
