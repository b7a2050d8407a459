"""「转工单」: a ticket prefilled from a conversation, for the agent to check and send.

Nothing is written here: the draft only proposes. The title comes from the bot's hand-off
note (its reading of what the buyer wants) or the buyer's first words; the description
from that note and the buyer's last lines; the type from the team the chat is in and the
buyer's mood; the orders from the numbers the buyer named (only their own), else their
latest order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.bot import service as bot
from kefu.commerce import service as commerce
from kefu.conversations import service as conversations
from kefu.conversations.desk import customer_display_name
from kefu.conversations.models import Conversation, Message, SenderType
from kefu.crm import service as crm
from kefu.nlp.analyzer import anger_cues
from kefu.nlp.entities import extract
from kefu.nlp.text import normalize
from kefu.shops import service as shops
from kefu.shops.models import Team
from kefu.tickets.checks import MAX_DESCRIPTION_LENGTH, MAX_TITLE_LENGTH
from kefu.tickets.models import TicketPriority, TicketType

COMPLAINTS_TEAM: Final = "complaints"
AFTERSALE_TEAM: Final = "aftersale"
# How much of the chat the draft reads, and how many of the buyer's last lines it quotes.
READ_MESSAGES: Final = 200
QUOTED_LINES: Final = 6
TITLE_WORDS: Final = 40
# Something of the shop's is broken (障碍申告): payment, login, a page, the app.
_FAULT = re.compile(
    "付款(?:未|没有?|不)成功|支付(?:失败|不了|不成功)|付不了款|无法(?:支付|付款|登录|下单|打开)|"
    "打不开|登不上|登录不了|报错|闪退|白屏|卡死|系统(?:错误|故障|出错)|故障|障碍"
)
# What the bot's hand-off note says of an angry buyer (see bot/summary.py).
_ANGRY_NOTE = re.compile("买家不满|情绪:生气|情绪：生气")
_INTENT_IN_NOTE = re.compile(r"意图[:：]([^()（）·]+)")


@dataclass(frozen=True)
class TicketDraft:
    conversation_id: int
    customer_id: int
    customer_name: str
    type: TicketType
    title: str
    description: str
    priority: TicketPriority
    team_id: int | None
    order_ids: list[int] = field(default_factory=list)


def draft_from_conversation(session: Session, *, shop_id: int, conversation_id: int) -> TicketDraft:
    conversation = conversations.get_conversation(
        session, shop_id=shop_id, conversation_id=conversation_id
    )
    customer = crm.get_customer(session, shop_id=shop_id, customer_id=conversation.customer_id)
    lines = _buyer_lines(session, conversation)
    team = session.get(Team, conversation.team_id) if conversation.team_id is not None else None
    # Anger from the words themselves (the analyzer's cues: 投诉, 差评, 骗子, "!!!", 😡 …),
    # the bot's note, or the urgent flag the bot set on an angry buyer's chat. The cues are
    # regular expressions: the page opens at once, without loading the intent model.
    angry = (
        conversation.priority >= 1
        or bool(_ANGRY_NOTE.search(conversation.handoff_note))
        or any(anger_cues(normalize(line)) for line in lines)
    )
    ticket_type = _type_of(team, angry=angry, lines=lines)
    return TicketDraft(
        conversation_id=conversation.id,
        customer_id=customer.id,
        customer_name=customer_display_name(customer),
        type=ticket_type,
        title=_title(conversation, lines),
        description=_description(conversation, lines),
        priority=TicketPriority.HIGH if angry else TicketPriority.NORMAL,
        team_id=_team_for(session, shop_id=shop_id, ticket_type=ticket_type, team=team),
        order_ids=_orders(session, conversation, lines),
    )


def _buyer_lines(session: Session, conversation: Conversation) -> list[str]:
    """The buyer's text messages, oldest first (of the latest ones)."""
    bodies = session.scalars(
        select(Message.body)
        .where(
            Message.shop_id == conversation.shop_id,
            Message.conversation_id == conversation.id,
            Message.sender_type == SenderType.CUSTOMER,
        )
        .order_by(Message.seq.desc())
        .limit(READ_MESSAGES)
    ).all()
    return [" ".join(body.split()) for body in reversed(bodies) if body.strip()]


def _type_of(team: Team | None, *, angry: bool, lines: list[str]) -> TicketType:
    code = team.code if team is not None else ""
    if code == COMPLAINTS_TEAM or angry:
        return TicketType.COMPLAINT
    if code == AFTERSALE_TEAM:
        return TicketType.AFTERSALE
    if any(_FAULT.search(normalize(line).text) for line in lines):
        return TicketType.FAULT
    return TicketType.OTHER


def _team_for(
    session: Session, *, shop_id: int, ticket_type: TicketType, team: Team | None
) -> int | None:
    code = {TicketType.COMPLAINT: COMPLAINTS_TEAM, TicketType.AFTERSALE: AFTERSALE_TEAM}.get(
        ticket_type
    )
    if ticket_type is TicketType.ESCALATION:
        return None  # the duty manager's, not a team's
    if code is None:
        return team.id if team is not None else None
    found = session.scalar(select(Team.id).where(Team.shop_id == shop_id, Team.code == code))
    # A shop that removed its 投诉 or 售后 team: the chat's own team works it.
    return found if found is not None else (team.id if team is not None else None)


def _title(conversation: Conversation, lines: list[str]) -> str:
    first = _clip(lines[0], TITLE_WORDS) if lines else ""
    intent = _INTENT_IN_NOTE.search(conversation.handoff_note)
    if intent is not None:
        what = intent.group(1).strip()
        title = f"{what}：{first}" if first else what
    elif first:
        title = first
    elif conversation.subject:
        title = conversation.subject
    else:
        title = f"会话 #{conversation.id}"
    return _clip(title, MAX_TITLE_LENGTH)


def _description(conversation: Conversation, lines: list[str]) -> str:
    parts = []
    if conversation.handoff_note:
        parts.append(f"机器人摘要：{conversation.handoff_note}")
    if lines:
        quoted = "\n".join(f"- {_clip(line, 300)}" for line in lines[-QUOTED_LINES:])
        parts.append(f"买家最近的消息：\n{quoted}")
    parts.append(f"来自会话 #{conversation.id}")
    return _clip("\n\n".join(parts), MAX_DESCRIPTION_LENGTH)


def _orders(session: Session, conversation: Conversation, lines: list[str]) -> list[int]:
    """Orders the buyer named that are theirs (another buyer's number is not shown to whoever
    reads this buyer's ticket), else their latest order."""
    shop_id = conversation.shop_id
    pattern = bot.order_pattern_of(bot.settings_of(session, shop_id=shop_id))
    now = conversation.last_message_at.astimezone(
        ZoneInfo(shops.get_shop(session, shop_id=shop_id).timezone)
    )
    named: list[int] = []
    for line in lines:
        for entity in extract(line, now=now, order_pattern=pattern):
            if entity.kind != "order_no":
                continue
            order = commerce.find_order(session, shop_id=shop_id, order_no=str(entity.value))
            mine = order is not None and order.customer_id == conversation.customer_id
            if mine and order is not None and order.id not in named:
                named.append(order.id)
    if named:
        return named
    latest = commerce.list_orders_of_customer(
        session, shop_id=shop_id, customer_id=conversation.customer_id, limit=1
    )
    return [latest[0].id] if latest else []


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
