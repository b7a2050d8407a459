"""Read receipts: how far the shop received and read the buyer's messages, and the buyer
the shop's (已送达 / 已读)."""

from __future__ import annotations

from kefu.conversations.events import ReceiptsUpdated
from kefu.conversations.messages import get_conversation
from kefu.conversations.models import Conversation
from kefu.errors import Invalid
from kefu.uow import UnitOfWork


def update_receipts(
    uow: UnitOfWork,
    *,
    shop_id: int,
    conversation_id: int,
    shop_delivered_seq: int | None = None,
    shop_read_seq: int | None = None,
    buyer_read_seq: int | None = None,
    commit: bool = True,
) -> Conversation:
    """Raise the receipts (never lower them, never past the last message). Emits only when
    something moved, so a desk repeating itself costs one read."""
    conversation = get_conversation(uow.session, shop_id=shop_id, conversation_id=conversation_id)
    moved = False
    for name, value in (
        ("shop_delivered_seq", shop_delivered_seq),
        ("shop_read_seq", shop_read_seq),
        ("buyer_read_seq", buyer_read_seq),
    ):
        if value is None:
            continue
        if value < 0:
            raise Invalid("seq must be 0 or more", field="seq")
        value = min(value, conversation.last_seq)
        if value > getattr(conversation, name):
            setattr(conversation, name, value)
            moved = True
    # What was read was received.
    if conversation.shop_read_seq > conversation.shop_delivered_seq:
        conversation.shop_delivered_seq = conversation.shop_read_seq
    if moved:
        uow.collect(
            ReceiptsUpdated(
                shop_id=shop_id,
                conversation_id=conversation.id,
                customer_id=conversation.customer_id,
                team_id=conversation.team_id,
                assignee_id=conversation.assignee_id,
                shop_delivered_seq=conversation.shop_delivered_seq,
                shop_read_seq=conversation.shop_read_seq,
                buyer_read_seq=conversation.buyer_read_seq,
            )
        )
    if commit:
        uow.commit()
    return conversation
