"""What the demo's ticket stories are told with (:mod:`kefu.demo.ticket_stories`): the
shop, its people and calendar, the demo's scripted chats, and the steps of each story on
the demo's clock.

A story is a list of steps, each at a moment of the past: a ticket opened at the end of a
scripted chat, a note five working hours later, solved the next day. The steps of every
story are run in the order of their moments (:mod:`kefu.demo.tickets`), each through the
ticket services with the unit of work's clock set to that moment, so what a step reads (the
tickets open then, the SLA clocks, who was on duty) is what was true at that moment. A step
after ``now`` minus a few minutes is not told: the story stops where the demo's present is.

Messages a story sends the buyer go at the end of the chat they belong to, before the agent
closes it, so the transcript stays in order; and no more than three shop messages follow the
buyer's last line (nobody talks to a buyer in walls of text).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import select

from kefu.commerce.models import Order, OrderLine, OrderStatus
from kefu.conversations.models import Conversation, ConversationStatus, Message, SenderType
from kefu.tickets import service as tickets
from kefu.tickets.models import CommentKind, Ticket, TicketStatus
from kefu.uow import UnitOfWork

# The demo's staff (kefu.demo.seed), by e-mail.
OWNER: Final = "owner@demo.kefu"
LEAD: Final = "lead@demo.kefu"
PRESALE: Final = "presale@demo.kefu"
AFTERSALE: Final = "aftersale@demo.kefu"
COMPLAINTS: Final = "complaints@demo.kefu"
PROMOTION: Final = "promotion@demo.kefu"
SHIPPING: Final = "shipping@demo.kefu"

MINUTE: Final = timedelta(minutes=1)
# Nothing is told closer to now than this: the demo's present has just begun.
LEAD_TIME: Final = timedelta(minutes=5)
MAX_SHOP_LINES: Final = 3  # in a row, after the buyer's last line


@dataclass(frozen=True)
class Step:
    at: datetime
    action: Callable[[], None]


@dataclass
class Ref:
    """A ticket a story opened, for its later steps."""

    id: int = 0
    number: int = 0

    def set(self, ticket: Ticket) -> None:
        self.id, self.number = ticket.id, ticket.number


@dataclass(frozen=True)
class Chat:
    """A closed scripted conversation a ticket may come from."""

    id: int
    customer_id: int
    ended: datetime  # its last message
    room: int  # shop messages that may still follow the buyer's last line
    order_ids: tuple[int, ...]
    description: str


@dataclass
class Plot:
    """Where the stories happen, and the steps they place (run later, in time order)."""

    uow: UnitOfWork
    shop_id: int
    now: datetime
    people: dict[str, int]  # by e-mail
    names: dict[str, str]  # e-mail → display name, for @mentions
    teams: dict[str, int]  # by code
    calendar: tickets.WorkCalendar
    zone: ZoneInfo  # the shop's
    evening_end: datetime  # the end of the last evening shift the demo shows handed over
    evening_shift_id: int  # 投诉 · 晚班
    steps: list[Step] = field(default_factory=list)

    # --- placing steps --------------------------------------------------------------------

    def at(self, moment: datetime, action: Callable[[], None]) -> bool:
        """Tell ``action`` at ``moment``, unless that is in the demo's present or future."""
        if moment > self.now - LEAD_TIME:
            return False
        self.steps.append(Step(moment, action))
        return True

    def working(self, start: datetime, minutes: int) -> datetime:
        """``minutes`` of the shop's working time after (or, negative, before) ``start``."""
        return self.calendar.add(start, minutes)

    def mention(self, email: str) -> str:
        return "@" + self.names[email]

    # --- what the demo already holds -------------------------------------------------------

    def chats(self, subject: str) -> list[Chat]:
        """The closed scripted chats of a subject, the one that ended first first."""
        session = self.uow.session
        found = session.scalars(
            select(Conversation)
            .where(
                Conversation.shop_id == self.shop_id,
                Conversation.subject == subject,
                Conversation.status == ConversationStatus.CLOSED,
            )
            .order_by(Conversation.last_message_at, Conversation.id)
        ).all()
        chats = []
        for conversation in found:
            draft = tickets.draft_from_conversation(
                session, shop_id=self.shop_id, conversation_id=conversation.id
            )
            chats.append(
                Chat(
                    id=conversation.id,
                    customer_id=conversation.customer_id,
                    ended=conversation.last_message_at,
                    room=self._room(conversation.id),
                    order_ids=tuple(draft.order_ids),
                    description=draft.description,
                )
            )
        return chats

    def _room(self, conversation_id: int) -> int:
        senders = self.uow.session.scalars(
            select(Message.sender_type)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.seq.desc())
            .limit(MAX_SHOP_LINES + 1)
        ).all()
        trailing = next(
            (i for i, s in enumerate(senders) if s is SenderType.CUSTOMER), len(senders)
        )
        return max(0, MAX_SHOP_LINES - trailing)

    def first_line(self, order_ids: Sequence[int]) -> OrderLine | None:
        if not order_ids:
            return None
        return self.uow.session.scalar(
            select(OrderLine).where(OrderLine.order_id == order_ids[0]).order_by(OrderLine.id)
        )

    def latest_order(
        self, status: OrderStatus, *, before: datetime, title_has: str = ""
    ) -> Order | None:
        """The order now in ``status`` that got there last before ``before`` (paid, or
        delivered: by its own time), with a line whose title holds ``title_has``."""
        since = {
            OrderStatus.DELIVERED: Order.delivered_at,
            OrderStatus.PAID: Order.paid_at,
            OrderStatus.REFUNDING: Order.paid_at,
        }.get(status, Order.created_at)
        query = (
            select(Order)
            .where(Order.shop_id == self.shop_id, Order.status == status, since < before)
            .order_by(since.desc(), Order.id.desc())
            .limit(1)
        )
        if title_has:
            query = query.where(
                Order.id.in_(
                    select(OrderLine.order_id).where(
                        OrderLine.shop_id == self.shop_id,
                        OrderLine.title.contains(title_has),
                    )
                )
            )
        return self.uow.session.scalar(query)

    # --- actions (run later, at their moment) ----------------------------------------------

    def open_ticket(
        self, ref: Ref, *, by: str, chat: Chat | None = None, **options: Any
    ) -> Callable[[], None]:
        def run() -> None:
            ticket = tickets.create_ticket(
                self.uow,
                shop_id=self.shop_id,
                conversation_ids=[chat.id] if chat is not None else [],
                actor_agent_id=self.people[by],
                commit=False,
                **options,
            )
            ref.set(ticket)
            if chat is not None:
                self._closed_after_last(chat.id)

        return run

    def note(self, ref: Ref, *, by: str, body: str) -> Callable[[], None]:
        return self._comment(ref, CommentKind.NOTE, by, body, None)

    def reply(self, ref: Ref, *, by: str, chat: Chat | None, body: str) -> Callable[[], None]:
        return self._comment(ref, CommentKind.REPLY, by, body, chat)

    def _comment(
        self, ref: Ref, kind: CommentKind, by: str, body: str, chat: Chat | None
    ) -> Callable[[], None]:
        def run() -> None:
            tickets.add_comment(
                self.uow, shop_id=self.shop_id, ticket_id=ref.id, kind=kind,
                body=body.replace("{number}", str(ref.number)),
                author_agent_id=self.people[by], commit=False,
            )  # fmt: skip
            if chat is not None:
                self._closed_after_last(chat.id)

        return run

    def move(self, ref: Ref, status: TicketStatus, *, by: str | None) -> Callable[[], None]:
        """A status change the buyer is not told of in the chat (the stories tell them
        themselves, and a closed chat takes nothing after its end)."""

        def run() -> None:
            tickets.change_status(
                self.uow, shop_id=self.shop_id, ticket_id=ref.id, status=status,
                actor_agent_id=self.people[by] if by else None,
                actor="agent" if by else "system", tell_buyer=False, commit=False,
            )  # fmt: skip

        return run

    def _closed_after_last(self, conversation_id: int) -> None:
        """The agent closed the chat after the last thing the buyer was told (the
        transcript stays in order: nothing after its close)."""
        conversation = self.uow.session.scalars(
            select(Conversation)
            .where(Conversation.id == conversation_id)
            .execution_options(populate_existing=True)
        ).one()
        after = conversation.last_message_at + MINUTE
        if conversation.closed_at is not None and conversation.closed_at < after:
            conversation.closed_at = after


def short_title(line: OrderLine | None) -> str:
    """纯棉家居服女春秋款长袖开衫两件套, from an order line's listing title."""
    if line is None:
        return "商品"
    return line.title.removeprefix("棉里 ").split(" ")[0]
