"""Answers the knowledge base suggests to an agent for a conversation's latest question:
the top three beside the composer, variables already filled for this buyer."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from kefu.conversations import desk
from kefu.conversations import service as conversations
from kefu.conversations.models import SenderType
from kefu.kb import service as kb

LOOK_BACK = 6  # messages: the buyer's question is usually among the last few lines


@dataclass(frozen=True)
class Suggested:
    entry_id: int
    question: str
    answer: str  # ready to send: variables filled for this buyer
    score: float


@dataclass(frozen=True)
class Suggestions:
    question: str  # the buyer's line they answer ("" when the buyer said nothing yet)
    items: list[Suggested]


def suggestions_for(
    session: Session, *, shop_id: int, conversation_id: int, viewer: desk.Viewer, limit: int = 3
) -> Suggestions:
    conversation = desk.conversation_for(
        session, shop_id=shop_id, conversation_id=conversation_id, viewer=viewer
    )
    recent = conversations.latest_messages(
        session, shop_id=shop_id, conversation_id=conversation.id, limit=LOOK_BACK,
        include_private=False,
    )  # fmt: skip
    question = next(
        (m.body for m in reversed(recent) if m.sender_type is SenderType.CUSTOMER and m.body),
        "",
    )
    if not question:
        return Suggestions(question="", items=[])
    variables = kb.answer_variables(session, shop_id=shop_id, customer_id=conversation.customer_id)
    found = kb.suggest(session, shop_id=shop_id, text=question, limit=limit)
    return Suggestions(
        question=question,
        items=[
            Suggested(
                entry_id=item.entry_id,
                question=item.question,
                answer=kb.render_answer(item.answer, variables),
                score=item.score,
            )
            for item in found
        ],
    )
