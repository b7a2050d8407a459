"""What happened in the sales domain (dispatched after commit).

One section per concept; each module's events are added in its section.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from kefu.events import Event

# --- 催付 reminders (reminders.py) --------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PaymentReminderSent(Event):
    """The buyer of an unpaid order got the shop's one gentle reminder (a message with the
    order's card) in their latest conversation."""

    reminder_id: int
    order_id: int
    order_no: str
    customer_id: int
    conversation_id: int
    message_id: int


@dataclass(frozen=True, kw_only=True)
class PaymentReminderCancelled(Event):
    """A reminder will not be sent: the order was paid or closed first (``reason`` is the
    order's status), or when due there was no way or no permission to send it (``reason``
    disabled, no_channel, expired: ``status`` is then skipped, else cancelled)."""

    reminder_id: int
    order_id: int
    customer_id: int
    status: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class PaymentReminderRecovered(Event):
    """An order was paid after its reminder was sent: revenue the reminder recovered."""

    reminder_id: int
    order_id: int
    customer_id: int
    amount: Decimal
    paid_at: datetime


# --- after-sales cases (cases.py) ---------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AfterSalesCaseOpened(Event):
    """A buyer's refund, return or exchange request became a case (by an agent or the bot)."""

    case_id: int
    order_id: int
    customer_id: int
    conversation_id: int | None
    kind: str
    amount: Decimal | None
    opened_by_agent_id: int | None


@dataclass(frozen=True, kw_only=True)
class AfterSalesCaseUpdated(Event):
    """A case moved on: decided, goods sent back, completed or withdrawn (``status``)."""

    case_id: int
    order_id: int
    customer_id: int
    conversation_id: int | None
    kind: str
    status: str
    agent_id: int | None


# --- inquiries and conversion (conversion.py) ---------------------------------------------


@dataclass(frozen=True, kw_only=True)
class InquiryConverted(Event):
    """A pre-sale inquiry (询单) became a paid order within the shop's window: credited to
    ``agent_id`` (None: no person of 售前 had it) and ``team_id``."""

    inquiry_id: int
    conversation_id: int
    customer_id: int
    order_id: int
    agent_id: int | None
    team_id: int | None
    amount: Decimal
    converted_at: datetime  # when the buyer paid (the shop's time of it)
