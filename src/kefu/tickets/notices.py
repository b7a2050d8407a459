"""What the buyer reads in the chat about their ticket (工单): its number when it is opened,
then its progress, worded from the shop's templates (or the defaults below).

Not every status change is news to the buyer. They are told when:
- the ticket is created (its number: what they quote if they come back);
- it waits for them (pending_buyer): we are asking them something;
- it is open again right after waiting for them (their answer arrived, work goes on);
- it is solved (and that they may still tell us if it is not);
- it is closed without having been solved first (closing a solved ticket is bookkeeping:
  they were already told it was done).
pending_internal is the shop's own business (another team is working on it), and "open"
after "new" only means someone took it: neither changes anything for the buyer.
"""

from __future__ import annotations

import json
import re
from typing import Final
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.conversations import service as conversations
from kefu.conversations.models import Conversation, SenderType
from kefu.errors import Invalid
from kefu.shops.models import Team
from kefu.tickets.models import Ticket, TicketConversation, TicketSettings, TicketStatus
from kefu.uow import UnitOfWork

NOTICE_KEYS: Final = ("created", "open", "pending_buyer", "pending_internal", "solved", "closed")
VARIABLES: Final = ("number", "title", "team", "status")
MAX_TEMPLATE_LENGTH: Final = 500

# Kind, plain and short: the buyer hears the number once and then only what matters to them.
DEFAULT_NOTICES: Final[dict[str, str]] = {
    "created": "您的问题已登记为工单 #{number}（{title}），{team}专员会尽快为您处理，"
    "处理进展会在这里通知您。",
    "open": "感谢您的回复！工单 #{number} 已继续为您处理，有进展会第一时间告诉您。",
    "pending_buyer": "关于工单 #{number}（{title}），我们需要向您确认一些信息，"
    "麻烦您方便时在这里回复我们，谢谢！",
    "pending_internal": "工单 #{number} 正在由相关部门处理中，请您耐心等待，有结果会马上通知您。",
    "solved": "您反馈的问题（工单 #{number}）已处理完毕，感谢您的耐心等待！"
    "如仍有疑问请随时告诉我们。",
    "closed": "工单 #{number} 已关闭。如还有其他需要，欢迎随时联系我们，祝您生活愉快！",
}

# What each notice is, for error messages about the shop's templates.
NOTICE_NAMES: Final[dict[str, tuple[str, str]]] = {
    "created": ("工单创建时", "created"),
    "open": ("买家回复后继续处理时", "open again"),
    "pending_buyer": ("等待买家回复时", "waiting for the buyer"),
    "pending_internal": ("转内部处理时", "with another team"),
    "solved": ("工单解决时", "solved"),
    "closed": ("未解决即关闭时", "closed"),
}

# How the buyer reads a status ({status} in a template).
STATUS_NAMES: Final[dict[TicketStatus, str]] = {
    TicketStatus.NEW: "待处理",
    TicketStatus.OPEN: "处理中",
    TicketStatus.PENDING_BUYER: "待您回复",
    TicketStatus.PENDING_INTERNAL: "处理中",
    TicketStatus.SOLVED: "已解决",
    TicketStatus.CLOSED: "已关闭",
}
# A ticket with no team yet: who the buyer is told will handle it.
NO_TEAM_NAME: Final = "客服"

# {name}, or a doubled brace (a literal one); anything else with a brace is a mistake.
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


def notice_for_status(old: TicketStatus, new: TicketStatus) -> str | None:
    """Which notice (if any) tells the buyer of a move from ``old`` to ``new`` (see above)."""
    if new is TicketStatus.PENDING_BUYER:
        return "pending_buyer"
    if new is TicketStatus.OPEN and old is TicketStatus.PENDING_BUYER:
        return "open"
    if new is TicketStatus.SOLVED:
        return "solved"
    if new is TicketStatus.CLOSED and old is not TicketStatus.SOLVED:
        return "closed"
    return None


def check_template(key: str, text: str) -> None:
    """Refuse a template naming a variable that does not exist (naming it), or a stray brace."""
    rest = _TOKEN.sub("", text)
    if "{" in rest or "}" in rest:
        raise Invalid(
            f"the {key} notice has an unmatched brace: write a variable as {{number}}",
            field=f"notice_templates.{key}",
            key="errors.tickets.template_brace",
            notice=key,
            notice_zh=NOTICE_NAMES[key][0],
            notice_en=NOTICE_NAMES[key][1],
        )
    for match in _TOKEN.finditer(text):
        name = match.group(1)
        if name is not None and name not in VARIABLES:
            raise Invalid(
                f"the {key} notice uses {{{name}}}, which does not exist; "
                f"use {', '.join('{' + v + '}' for v in VARIABLES)}",
                field=f"notice_templates.{key}",
                key="errors.tickets.unknown_template_variable",
                notice=key,
                notice_zh=NOTICE_NAMES[key][0],
                notice_en=NOTICE_NAMES[key][1],
                variable=name,
                variables=" ".join("{" + v + "}" for v in VARIABLES),
            )


def render(template: str, values: dict[str, str]) -> str:
    """Fill the variables. Only names are replaced (never attribute or index lookups, as
    str.format would do), and a name unknown here is left as written."""

    def fill(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        return values.get(match.group(1), token)

    return _TOKEN.sub(fill, template)


def own_templates(row: TicketSettings | None) -> dict[str, str]:
    """The shop's own wordings (notice key → text); a missing key uses the default."""
    if row is None:
        return {}
    try:
        loaded = json.loads(row.notice_templates or "{}")
    except ValueError:
        return {}
    if not isinstance(loaded, dict):
        return {}
    return {k: v for k, v in loaded.items() if k in NOTICE_KEYS and isinstance(v, str) and v}


def templates_of(session: Session, *, shop_id: int) -> dict[str, str]:
    """The wording of every notice: the shop's own where it set one, else the default."""
    own = own_templates(session.get(TicketSettings, shop_id))
    return {key: own.get(key, DEFAULT_NOTICES[key]) for key in NOTICE_KEYS}


def latest_conversation_id(uow: UnitOfWork, *, ticket: Ticket) -> int | None:
    """The linked conversation the buyer wrote in last (where they will look)."""
    return uow.session.scalar(
        select(Conversation.id)
        .join(TicketConversation, TicketConversation.conversation_id == Conversation.id)
        .where(
            TicketConversation.shop_id == ticket.shop_id,
            TicketConversation.ticket_id == ticket.id,
        )
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
        .limit(1)
    )


def tell_buyer(uow: UnitOfWork, *, ticket: Ticket, notice: str) -> int | None:
    """Send the notice as a message from the shop in the ticket's latest linked
    conversation; returns the message id, or None when no conversation is linked."""
    if notice not in NOTICE_KEYS:
        raise ValueError(f"unknown notice {notice!r}")
    conversation_id = latest_conversation_id(uow, ticket=ticket)
    if conversation_id is None:
        return None
    team = uow.session.get(Team, ticket.team_id) if ticket.team_id is not None else None
    body = render(
        templates_of(uow.session, shop_id=ticket.shop_id)[notice],
        {
            "number": str(ticket.number),
            "title": ticket.title,
            "team": team.name if team is not None else NO_TEAM_NAME,
            "status": STATUS_NAMES[ticket.status],
        },
    )
    message = conversations.send_reply(
        uow,
        shop_id=ticket.shop_id,
        conversation_id=conversation_id,
        # Unique per notice sent: a ticket may wait for the buyer more than once.
        client_msg_id=f"ticket-{ticket.id}-{notice}-{uuid4().hex[:12]}",
        body=body[: conversations.MAX_MESSAGE_LENGTH],
        sender_type=SenderType.SYSTEM,
        sender_agent_id=None,
        commit=False,
    )
    return message.id
