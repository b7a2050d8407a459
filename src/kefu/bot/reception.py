"""What the bot does with one buyer message while it receives the conversation.

In order: greet once; hand on at once when the buyer asks for a person or is angry;
answer a question about the buyer's order from the order itself (``orders.py``);
answer from the knowledge base when confident (the agent sees which entry answered);
ask which one when two entries are too close to pick; otherwise record the question for
the owner and either hand on (a clear intent the bot can't serve, or the second question
in a row it could not answer) or ask the buyer to put it another way.

The bot replies through the same service function as a person, so its messages produce
the same events; it never reacts to its own messages, and stops when it looks like it is
talking to another bot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from uuid import uuid4

from sqlalchemy.orm import Session

from kefu.bot import hours, orders
from kefu.bot import service as settings_service
from kefu.bot.events import BotAnswered, BotHandedOff
from kefu.bot.models import BotConversationState, BotSettings
from kefu.bot.order_answers import OrderOutcome
from kefu.bot.summary import handoff_summary
from kefu.conversations import service as conversations
from kefu.conversations.events import MessageReceived
from kefu.conversations.models import Conversation, ConversationStatus, SenderType
from kefu.errors import NotFound
from kefu.kb import service as kb
from kefu.nlp.analyzer import Analyzer, Reading
from kefu.nlp.intents import Action
from kefu.nlp.segment import Vocabulary
from kefu.shops import service as shops
from kefu.shops.models import Shop
from kefu.uow import UnitOfWork

# "人工", "转人工", "真人", "找客服", "人工客服" … (simplified after normalisation).
_HUMAN = re.compile(r"人工|真人|活人|转客服|找客服|叫客服|客服在吗|人呢|有人吗|机器人.*(不|别)")
_CHOICE = re.compile(r"^\s*(?:第)?([12一二])(?:个|条)?\s*$")
# Intents whose action only a person may carry out: answering the policy is not enough.
PERSON_ACTIONS = frozenset(
    {
        Action.REFUND_REQUEST,
        Action.RETURN_REQUEST,
        Action.EXCHANGE_REQUEST,
        Action.ADDRESS_CHANGE,
        Action.CANCEL_ORDER,
        Action.HUMAN_REQUESTED,
    }
)
ACTION_CONFIDENCE = 0.6  # an intent this sure, with an action, goes to its team at once
MAX_REPLIES_IN_ROW = 8  # more bot replies than this without a person: another bot, or a loop
REPHRASE = "抱歉,这个问题{bot_name}还不太明白。您可以换个说法再问我,或回复“人工”转接客服。"
CLARIFY = "您想问的是哪一个呢?回复数字即可:\n1. {first}\n2. {second}"
ANGRY_APOLOGY = "非常抱歉给您带来了不好的体验,{bot_name}已为您优先转接专员处理,请您稍等。"
IMAGE_ONLY = "收到您发来的图片,已为您转接客服同事查看,请稍候。"


@dataclass(frozen=True)
class _Reply:
    body: str
    agent_note: str = ""  # shown to agents beside it: why the bot said it
    image_id: int | None = None  # an answer's picture, sent after its text


@dataclass
class _Turn:
    """Replies and the decision for one buyer message."""

    replies: list[_Reply] = field(default_factory=list)
    handoff_team: str | None = None
    priority: int = 0
    reason: str = ""
    order: str = ""  # the order the buyer asked about, for the hand-off summary


def respond(
    uow: UnitOfWork,
    *,
    event: MessageReceived,
    analyzer: Analyzer,
    vocabulary: Vocabulary,
) -> None:
    """React to a buyer's message if the bot still receives its conversation."""
    if event.message.sender_type != SenderType.CUSTOMER.value:
        return  # never its own messages, a colleague's, or the system's
    session = uow.session
    shop = shops.get_shop(session, shop_id=event.shop_id)
    conversation = conversations.lock_conversation(
        session, shop_id=event.shop_id, conversation_id=event.conversation_id
    )
    if not conversation.with_bot or conversation.status is not ConversationStatus.OPEN:
        return
    if not shop.bot_enabled:
        # Switched off while it was receiving this buyer: people take over now.
        conversations.hand_off(
            uow, shop_id=shop.id, conversation_id=conversation.id,
            team_code=shops.DEFAULT_TEAM_CODE, note="机器人已关闭,转人工",
        )  # fmt: skip
        return
    settings = settings_service.settings_of(session, shop_id=shop.id)
    now = uow.clock.now()
    state = _state(session, conversation, now=now)
    turn = _Turn()
    variables = _variables(session, shop, conversation, settings)
    if not state.greeted:
        # Sent before deciding, so whatever the decision writes to the conversation (an
        # after-sales case tells the buyer it is registered) comes after the greeting.
        state.greeted = True
        state.replies_in_row += 1
        _send(uow, shop_id=shop.id, conversation_id=conversation.id, name=settings.bot_name,
              body=_fill(settings.greeting, variables), agent_note="问候语")  # fmt: skip
    text = event.message.body.strip()
    if state.replies_in_row >= MAX_REPLIES_IN_ROW:
        turn.handoff_team, turn.reason = shops.DEFAULT_TEAM_CODE, "loop"
        reading = None
    elif not text:
        turn.replies.append(_Reply(IMAGE_ONLY))
        turn.handoff_team, turn.reason = shops.DEFAULT_TEAM_CODE, "image"
        reading = None
    else:
        reading = analyzer.classify(text, vocabulary=vocabulary)
        _decide(session, uow, turn, state, settings, shop, conversation, reading, variables)
    note = ""
    if turn.handoff_team is not None:
        note = handoff_summary(
            reading,
            text,
            reason=turn.reason,
            now=now,
            timezone=shop.timezone,
            order_pattern=settings_service.order_pattern_of(settings),
            order=turn.order,
        )
        _hand_off(uow, turn, settings, shop, conversation, variables, note, now=now)
        state.replies_in_row = 0
        state.awaiting_order_for = ""
    else:
        state.replies_in_row += len(turn.replies)
    for reply in turn.replies:
        _send(uow, shop_id=shop.id, conversation_id=conversation.id, name=settings.bot_name,
              body=reply.body, agent_note=reply.agent_note)  # fmt: skip
        if reply.image_id is not None:
            _send(uow, shop_id=shop.id, conversation_id=conversation.id, name=settings.bot_name,
                  body="", agent_note=reply.agent_note, image_id=reply.image_id)  # fmt: skip
    if turn.handoff_team is not None:
        conversations.hand_off(
            uow,
            shop_id=shop.id,
            conversation_id=conversation.id,
            team_code=turn.handoff_team,
            note=note,
            priority=turn.priority,
            commit=False,
        )
        uow.collect(
            BotHandedOff(
                shop_id=shop.id,
                conversation_id=conversation.id,
                team_code=turn.handoff_team,
                reason=turn.reason,
                priority=turn.priority,
            )
        )
    state.updated_at = now
    session.add(state)
    uow.commit()


def _send(
    uow: UnitOfWork,
    *,
    shop_id: int,
    conversation_id: int,
    name: str,
    body: str,
    agent_note: str,
    image_id: int | None = None,
) -> None:
    conversations.send_reply(
        uow,
        shop_id=shop_id,
        conversation_id=conversation_id,
        client_msg_id=f"bot-{uuid4().hex}",
        body=body,
        sender_type=SenderType.BOT,
        sender_agent_id=None,
        sender_name=name,
        agent_note=agent_note,
        attachment_id=image_id,
        commit=False,
    )


def _decide(
    session: Session,
    uow: UnitOfWork,
    turn: _Turn,
    state: BotConversationState,
    settings: BotSettings,
    shop: Shop,
    conversation: Conversation,
    reading: Reading,
    variables: dict[str, str],
) -> None:
    text = reading.normalized.text
    route = settings_service.route_for(session, shop_id=shop.id, intent=reading.intent)
    sure_of_intent = reading.confidence >= ACTION_CONFIDENCE
    if _HUMAN.search(text):
        turn.handoff_team = route.team if sure_of_intent else shops.DEFAULT_TEAM_CODE
        turn.reason = "asked_for_human"
        return
    if reading.angry:
        turn.replies.append(_Reply(_fill(ANGRY_APOLOGY, variables)))
        turn.handoff_team, turn.priority, turn.reason = "complaints", 1, "angry"
        return
    order = orders.respond(
        uow, shop=shop, conversation=conversation, state=state, reading=reading, route=route,
        order_pattern=settings_service.order_pattern_of(settings),
    )  # fmt: skip
    if order is not None and not order.kb_first:
        _take(turn, state, order)
        return
    chosen = _picked(session, state, shop.id, text)
    state.choices = ""
    decision = (
        kb.Decision(answer=chosen, choices=(), ranked=(chosen,))
        if chosen is not None
        else kb.find_answer(
            session, shop_id=shop.id, text=reading.normalized.original, threshold=settings.threshold
        )
    )
    if decision.answer is not None:
        found = decision.answer
        turn.replies.append(
            _Reply(
                kb.render_answer(found.answer, variables),
                f"知识库 #{found.entry_id}「{found.question}」 把握度 {found.score:.0%}",
                found.image_id,
            )
        )
        kb.record_hit(uow, shop_id=shop.id, entry_id=found.entry_id, commit=False)
        state.unanswered_turns = 0
        uow.collect(
            BotAnswered(
                shop_id=shop.id,
                conversation_id=conversation.id,
                entry_id=found.entry_id,
                score=found.score,
                intent=reading.intent,
            )
        )
        if route.action in PERSON_ACTIONS and sure_of_intent:
            # The policy is answered, but only a person may carry the request out.
            turn.handoff_team, turn.reason = route.team, "needs_person"
        return
    if order is not None:  # nothing in the knowledge base: the order answer stands
        kb.record_unanswered(
            uow, shop_id=shop.id, text=reading.normalized.original,
            conversation_id=conversation.id, customer_id=conversation.customer_id, commit=False,
        )  # fmt: skip
        _take(turn, state, order)
        return
    if len(decision.choices) >= 2:
        first, second = decision.choices[:2]
        state.choices = f"{first.entry_id},{second.entry_id}"
        note = f"两个问答接近:#{first.entry_id} 与 #{second.entry_id},请买家选择"
        turn.replies.append(
            _Reply(CLARIFY.format(first=first.question, second=second.question), note)
        )
        return
    kb.record_unanswered(
        uow,
        shop_id=shop.id,
        text=reading.normalized.original,
        conversation_id=conversation.id,
        customer_id=conversation.customer_id,
        commit=False,
    )
    state.unanswered_turns += 1
    if (route.action is not None and sure_of_intent) or state.unanswered_turns >= 2:
        turn.handoff_team = route.team
        turn.reason = "intent" if state.unanswered_turns < 2 else "unanswered"
        return
    best = decision.ranked[0] if decision.ranked else None
    note = (
        f"最接近:#{best.entry_id}「{best.question}」 {best.score:.0%}" if best else "知识库无匹配"
    )
    turn.replies.append(_Reply(_fill(REPHRASE, variables), note))


def _take(turn: _Turn, state: BotConversationState, order: OrderOutcome) -> None:
    turn.replies.extend(_Reply(said.body, said.note) for said in order.replies)
    if order.handoff_team is not None:
        turn.handoff_team, turn.reason = order.handoff_team, order.reason
    turn.order = order.summary
    if not order.missed:
        state.unanswered_turns = 0


def _hand_off(
    uow: UnitOfWork,
    turn: _Turn,
    settings: BotSettings,
    shop: Shop,
    conversation: Conversation,
    variables: dict[str, str],
    note: str,
    *,
    now: datetime,
) -> None:
    """Tell the buyer who takes over (or, out of hours, when people are back)."""
    if turn.reason == "angry" or turn.reason == "image":
        pass  # those replies already say a person is coming
    elif hours.is_working(settings, now=now, timezone=shop.timezone):
        team = _team_name(uow.session, shop.id, turn.handoff_team or shops.DEFAULT_TEAM_CODE)
        turn.replies.append(
            _Reply(_fill(settings.handoff_message, variables | {"team_name": team}), note)
        )
    if not hours.is_working(settings, now=now, timezone=shop.timezone):
        opening = hours.next_opening(settings, now=now, timezone=shop.timezone)
        extra = {
            "work_hours": hours.describe_hours(settings),
            "back_at": hours.describe_opening(opening, now=now),
        }
        turn.replies.append(_Reply(_fill(settings.offline_message, variables | extra), note))


def _team_name(session: Session, shop_id: int, code: str) -> str:
    try:
        return shops.get_team_by_code(session, shop_id=shop_id, code=code).name
    except NotFound:  # a team removed since: the buyer still gets a sentence
        return "客服"


def _picked(
    session: Session, state: BotConversationState, shop_id: int, text: str
) -> kb.Answer | None:
    """The entry a buyer picked by answering "1" or "2" to a clarifying question."""
    if not state.choices:
        return None
    match = _CHOICE.match(text)
    if match is None:
        return None
    index = 0 if match.group(1) in "1一" else 1
    ids = [int(part) for part in state.choices.split(",") if part]
    if index >= len(ids):
        return None
    try:
        view = kb.get_entry(session, shop_id=shop_id, entry_id=ids[index])
    except NotFound:
        return None  # deleted meanwhile: treat "1" as a new question
    if not view.entry.enabled:
        return None
    return kb.Answer(
        entry_id=view.id,
        question=view.questions[0] if view.questions else "",
        answer=view.entry.answer,
        score=1.0,
        category=view.entry.category,
        image_id=view.entry.image_id,
    )


def _state(session: Session, conversation: Conversation, *, now: datetime) -> BotConversationState:
    state = session.get(BotConversationState, conversation.id)
    if state is None:
        state = BotConversationState(
            conversation_id=conversation.id,
            shop_id=conversation.shop_id,
            greeted=False,
            unanswered_turns=0,
            replies_in_row=0,
            choices="",
            updated_at=now,
        )  # added when the turn ends: one INSERT with what the turn decided
    return state


def _variables(
    session: Session, shop: Shop, conversation: Conversation, settings: BotSettings
) -> dict[str, str]:
    values = kb.answer_variables(session, shop_id=shop.id, customer_id=conversation.customer_id)
    return values | {"bot_name": settings.bot_name}


def _fill(template: str, variables: dict[str, str]) -> str:
    return kb.render_answer(template, variables)
