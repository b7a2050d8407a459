"""The buyer's photos of an after-sales case, gathered from the conversation: the
pictures the buyer sent shortly before the case was opened, and those sent while it is
active (a 售后 agent asks "麻烦拍一下破损的地方" and the photo lands on the case)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from kefu.conversations.models import Attachment, Message, SenderType
from kefu.sales import case_messages as say
from kefu.sales.case_checks import MAX_PHOTOS
from kefu.sales.models import AfterSalesCase, CasePhoto
from kefu.uow import UnitOfWork

# Pictures sent this long before the case was opened are taken to be about it.
RECENT = timedelta(hours=24)


def recent_buyer_photos(uow: UnitOfWork, *, shop_id: int, conversation_id: int) -> list[int]:
    """The buyer's pictures in the conversation over the last day, oldest first."""
    rows = uow.session.scalars(
        select(Attachment.id)
        .join(Message, Message.attachment_id == Attachment.id)
        .where(
            Message.shop_id == shop_id,
            Message.conversation_id == conversation_id,
            Message.sender_type == SenderType.CUSTOMER,
            Message.created_at >= uow.clock.now() - RECENT,
            Attachment.content_type.startswith("image/"),
        )
        .order_by(Message.seq)
        .limit(MAX_PHOTOS)
    )
    return list(rows)


def add_buyer_photo(
    uow: UnitOfWork, *, shop_id: int, conversation_id: int, attachment_id: int, commit: bool = True
) -> int | None:
    """A picture the buyer just sent joins the conversation's active case, if it has one
    (the latest), up to the limit. Returns the case's id, or None when nothing changed."""
    session = uow.session
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or attachment.shop_id != shop_id:
        return None
    if not attachment.content_type.startswith("image/"):
        return None
    case = session.scalar(
        select(AfterSalesCase)
        .where(
            AfterSalesCase.shop_id == shop_id,
            AfterSalesCase.conversation_id == conversation_id,
            AfterSalesCase.status.in_(say.ACTIVE),
        )
        .order_by(AfterSalesCase.created_at.desc(), AfterSalesCase.id.desc())
        .limit(1)
    )
    if case is None or attachment.customer_id != case.customer_id:
        return None
    count = session.scalar(select(func.count(CasePhoto.id)).where(CasePhoto.case_id == case.id))
    already = session.scalar(
        select(CasePhoto.id).where(
            CasePhoto.case_id == case.id, CasePhoto.attachment_id == attachment_id
        )
    )
    if already is not None or (count or 0) >= MAX_PHOTOS:
        return None
    session.add(CasePhoto(shop_id=shop_id, case_id=case.id, attachment_id=attachment_id))
    case.updated_at = uow.clock.now()
    if commit:
        uow.commit()
    return case.id
