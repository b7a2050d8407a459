"""What message events carry: a snapshot of the message (and its attachment) and where
the conversation stood, so subscribers never read the database to learn it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from kefu.conversations.events import AttachmentSnapshot, ConversationRef, MessageSnapshot
from kefu.conversations.models import Attachment, Conversation, Message


def snapshot(message: Message, attachment: Attachment | None = None) -> MessageSnapshot:
    return MessageSnapshot(
        id=message.id,
        conversation_id=message.conversation_id,
        seq=message.seq,
        client_msg_id=message.client_msg_id,
        sender_type=message.sender_type.value,
        sender_agent_id=message.sender_agent_id,
        sender_name=message.sender_name,
        body=message.body,
        is_private=message.is_private,
        agent_note=message.agent_note,
        attachment=None
        if attachment is None
        else AttachmentSnapshot(
            id=attachment.id,
            key=attachment.key,
            name=attachment.name,
            content_type=attachment.content_type,
            size=attachment.size,
        ),
        created_at=message.created_at,
        card=message.card,
    )


def ref(conversation: Conversation, *, last_seq: int | None = None) -> ConversationRef:
    return ConversationRef(
        conversation_id=conversation.id,
        customer_id=conversation.customer_id,
        team_id=conversation.team_id,
        assignee_id=conversation.assignee_id,
        status=conversation.status.value,
        last_seq=conversation.last_seq if last_seq is None else last_seq,
    )


def attachment_of(session: Session, message: Message) -> Attachment | None:
    if message.attachment_id is None:
        return None
    return session.get(Attachment, message.attachment_id)
