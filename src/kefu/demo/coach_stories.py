"""The demo's quality-inspection stories (质检): a handful of conversations told through the
conversations service on the demo's clock, each showing what the coach catches.

- 首句推退款: an angry buyer — "你们的东西质量太差了，我要退款" — gets "那你退款好了" from
  售后阿敏; the supervisor steps in, apologises first and offers a remedy "如果…那么"
  (seed 001's wrong and right answers, word for word). The issue's "done when".
- 物流甩锅: 发货客服阿强 blames the courier and promises a delivery day (the shop's own
  rule); the supervisor reviews it, confirms the one and lets the other pass.
- 回复超时 + 禁用语: the buyer waits five minutes behind the bot's "请稍等", and 客服小雅
  answers without apologising, "你自己去查" (seed 002's 不可以说).
- 承诺未跟进: 活动专员朵朵 skips the greeting and promises "稍后回复您", then never does.
- And one still open: an angry buyer waiting in the owner's own desk, where the live coach
  is one reply away.

Every conversation's buyer, order and moment come from what the demo already holds, so the
same seed tells the same stories; the scripted chats' rules (buyers answered within two
minutes, nobody writing more than three lines in a row) hold here too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import QueryableAttribute

from kefu.accounts.models import Role
from kefu.clock import FrozenClock
from kefu.coach import service as coach
from kefu.commerce.models import Order, OrderLine, OrderStatus, Product
from kefu.conversations import service as conversations
from kefu.conversations.models import Channel, Conversation, SenderType
from kefu.crm.models import Customer
from kefu.uow import UnitOfWork

# The demo's staff (kefu.demo.seed), by e-mail.
OWNER: Final = "owner@demo.kefu"
LEAD: Final = "lead@demo.kefu"
PRESALE2: Final = "presale2@demo.kefu"
AFTERSALE: Final = "aftersale@demo.kefu"
PROMOTION: Final = "promotion@demo.kefu"
SHIPPING: Final = "shipping@demo.kefu"

# The conversation the supervisor reviewed, and the verdicts she gave, by rule code (the
# shop's own rule is named "custom" here: its code is given when the rule is made).
REVIEWED_SUBJECT: Final = "物流催件"
DONE_WHEN_SUBJECT: Final = "退款申请"
OPEN_SUBJECT: Final = "质量投诉"
ASKED_AT: Final = time(10, 30)  # when the buyer of a late parcel asks (shop time)
LEAD_TIME: Final = timedelta(hours=1)  # nothing is told closer to now, but the open chat


@contextmanager
def clock_at(uow: UnitOfWork, moment: datetime) -> Iterator[None]:
    """The services read the time from the unit of work's clock: set it to the story's
    moment for one step."""
    real = uow.clock
    uow.clock = FrozenClock(moment)
    try:
        yield
    finally:
        uow.clock = real


@dataclass
class Stage:
    """Where the stories happen: the shop, its staff (by e-mail), its time zone and now."""

    uow: UnitOfWork
    shop_id: int
    now: datetime
    zone: ZoneInfo
    people: dict[str, int]
    phrases: dict[str, int]  # shared phrase id by shortcut
    used_customers: set[int] = field(default_factory=set)
    told: list[int] = field(default_factory=list)  # conversation ids, in the order told

    def local(self, days_ago: int, clock: str) -> datetime:
        """``clock`` (HH:MM, shop time) ``days_ago`` days before today."""
        day = self.now.astimezone(self.zone).date() - timedelta(days=days_ago)
        hour, minute = (int(part) for part in clock.split(":"))
        return datetime.combine(day, time(hour, minute), tzinfo=self.zone).astimezone(
            self.now.tzinfo
        )

    def orders(
        self,
        *conditions: ColumnElement[bool],
        title_has: str = "",
        gender: str | None = None,
        newest_by: QueryableAttribute[Any] | None = None,
    ) -> list[Order]:
        """Orders meeting ``conditions`` (newest by ``newest_by`` first) of buyers no chat
        and no story has talked to yet, whose lines include a title holding ``title_has``."""
        query = (
            select(Order)
            .join(Customer, Customer.id == Order.customer_id)
            .where(Order.shop_id == self.shop_id, Order.customer_id.not_in(self._talked()))
            .where(*conditions)
            .order_by((newest_by if newest_by is not None else Order.created_at).desc(), Order.id)
        )
        if gender is not None:
            query = query.where(Customer.gender == gender)
        if title_has:
            query = query.where(
                Order.id.in_(
                    select(OrderLine.order_id).where(
                        OrderLine.shop_id == self.shop_id, OrderLine.title.contains(title_has)
                    )
                )
            )
        found = self.uow.session.scalars(query.limit(50))
        return [order for order in found if order.customer_id not in self.used_customers]

    def order(self, *conditions: ColumnElement[bool], **options: Any) -> Order | None:
        """The first of :meth:`orders`; its buyer is taken for the story."""
        found = self.orders(*conditions, **options)
        if not found:
            return None
        self.used_customers.add(found[0].customer_id)
        return found[0]

    def customer(self, *, gender: str) -> int | None:
        """A buyer nobody has talked to yet (a new visitor asking before buying)."""
        query = (
            select(Customer.id)
            .where(
                Customer.shop_id == self.shop_id,
                Customer.gender == gender,
                Customer.id.not_in(self._talked()),
            )
            .order_by(Customer.id)
        )
        for customer_id in self.uow.session.scalars(query.limit(50)):
            if customer_id not in self.used_customers:
                self.used_customers.add(customer_id)
                return customer_id
        return None

    def product(self, title_has: str) -> str | None:
        """A listed product's short title (连帽卫衣男, from "棉里 连帽卫衣男 纯棉毛圈…")."""
        title = self.uow.session.scalar(
            select(Product.title)
            .where(Product.shop_id == self.shop_id, Product.title.contains(title_has))
            .order_by(Product.id)
            .limit(1)
        )
        return None if title is None else title.removeprefix("棉里 ").split(" ")[0]

    def _talked(self) -> Select[Any]:
        return select(Conversation.customer_id).where(Conversation.shop_id == self.shop_id)


class Talk:
    """One conversation told step by step, each step on the clock at its moment."""

    def __init__(
        self, stage: Stage, *, key: str, customer_id: int, team: str, subject: str, at: datetime
    ) -> None:
        self.stage, self.key, self.at = stage, key, at
        self.lines = 0
        with clock_at(stage.uow, at):
            self.conversation = conversations.start_conversation(
                stage.uow, shop_id=stage.shop_id, customer_id=customer_id,
                channel=Channel.WIDGET, team_code=team, subject=subject, route=False,
                commit=False,
            )  # fmt: skip
        stage.told.append(self.conversation.id)

    @property
    def id(self) -> int:
        return self.conversation.id

    def _next(self, seconds: float) -> tuple[str, datetime]:
        self.lines += 1
        self.at += timedelta(seconds=seconds)
        return f"demo-coach-{self.key}-{self.lines:02d}", self.at

    def buyer(self, seconds: float, body: str) -> None:
        client_msg_id, at = self._next(seconds)
        with clock_at(self.stage.uow, at):
            conversations.receive_message(
                self.stage.uow, shop_id=self.stage.shop_id, conversation_id=self.id,
                client_msg_id=client_msg_id, body=body, commit=False,
            )  # fmt: skip

    def bot(self, seconds: float, body: str) -> None:
        self._shop(seconds, body, SenderType.BOT, None)

    def agent(self, seconds: float, email: str, body: str) -> None:
        """A reply; the agent takes the conversation first if it is not theirs yet."""
        agent_id = self.stage.people[email]
        if self.conversation.assignee_id != agent_id:
            self.take(0, email)
        self._shop(seconds, body, SenderType.AGENT, agent_id)

    def note(self, seconds: float, email: str, body: str) -> None:
        self._shop(seconds, body, SenderType.AGENT, self.stage.people[email], private=True)

    def phrase(self, email: str, shortcut: str) -> str:
        """A shared 快捷短语 as the agent's composer fills it in for this buyer."""
        with clock_at(self.stage.uow, self.at):
            return coach.use_phrase(
                self.stage.uow, shop_id=self.stage.shop_id, agent_id=self.stage.people[email],
                role=Role.SUPERVISOR if email in (LEAD, OWNER) else Role.AGENT,
                phrase_id=self.stage.phrases[shortcut], conversation_id=self.id, commit=False,
            )  # fmt: skip

    def take(self, seconds: float, email: str) -> None:
        self.at += timedelta(seconds=seconds)
        agent_id = self.stage.people[email]
        with clock_at(self.stage.uow, self.at):
            conversations.transfer_conversation(
                self.stage.uow, shop_id=self.stage.shop_id, conversation_id=self.id,
                by_agent_id=agent_id, agent_id=agent_id, commit=False,
            )  # fmt: skip

    def close(self, seconds: float, email: str) -> None:
        self.at += timedelta(seconds=seconds)
        with clock_at(self.stage.uow, self.at):
            conversations.close_conversation(
                self.stage.uow, shop_id=self.stage.shop_id, conversation_id=self.id,
                closed_by_agent_id=self.stage.people[email], commit=False,
            )  # fmt: skip

    def _shop(
        self, seconds: float, body: str, sender: SenderType, agent_id: int | None,
        *, private: bool = False,
    ) -> None:  # fmt: skip
        client_msg_id, at = self._next(seconds)
        with clock_at(self.stage.uow, at):
            conversations.send_reply(
                self.stage.uow, shop_id=self.stage.shop_id, conversation_id=self.id,
                client_msg_id=client_msg_id, body=body, sender_type=sender,
                sender_agent_id=agent_id, is_private=private, commit=False,
            )  # fmt: skip


# --- the stories ------------------------------------------------------------------------------


def refund_first(stage: Stage) -> int | None:
    """The issue's "done when": "那你退款好了" to an angry buyer; the supervisor mends it."""
    at = stage.local(2, "15:10")
    order = stage.order(
        Order.status == OrderStatus.DELIVERED, Order.delivered_at < at - timedelta(days=2),
        Order.delivered_at > at - timedelta(days=12), title_has="家居服女", gender="F",
        newest_by=Order.delivered_at,
    )  # fmt: skip
    if order is None:
        return None
    talk = Talk(
        stage, key="refund", customer_id=order.customer_id, team="aftersale",
        subject=DONE_WHEN_SUBJECT, at=at,
    )  # fmt: skip
    talk.buyer(0, "你们的东西质量太差了，我要退款")
    talk.agent(48, AFTERSALE, "那你退款好了")
    talk.buyer(35, "什么态度？东西差还不让人说了？")
    talk.note(20, LEAD, "@售后阿敏 买家在气头上，先道歉安抚，别直接让买家退款。这个我来接。")
    talk.agent(30, LEAD, "您好，我是客服主管晓雯。" + talk.phrase(LEAD, "道歉"))
    talk.buyer(70, f"衣服洗了一次就起球了，袖口全是球。订单号{order.order_no}")
    talk.agent(50, LEAD, talk.phrase(LEAD, "质量"))
    talk.buyer(60, "那换个新的吧，这次别再起球了")
    talk.agent(
        45, LEAD,
        "好的，新的一件今天下午就从仓库发出，发货前我们会逐件检查；快递员上门取回原来那件，"
        "不用您垫付运费。再次向您说声抱歉，感谢您的理解！",
    )  # fmt: skip
    talk.agent(20, LEAD, talk.phrase(LEAD, "好评"))
    talk.buyer(40, "好的")
    talk.close(120, LEAD)
    return talk.id


def courier_blamed(stage: Stage) -> int | None:
    """物流甩锅: the parcel is late; the agent blames the courier and promises a day."""
    found = _late_parcel(stage)
    if found is None:
        return None
    order, at = found
    assert order.shipped_at is not None
    talk = Talk(
        stage, key="courier", customer_id=order.customer_id, team="shipping",
        subject=REVIEWED_SUBJECT, at=at,
    )  # fmt: skip
    days = (at - order.shipped_at).days
    talk.buyer(0, f"我的快递怎么发出{days}天了还没到？订单号{order.order_no}")
    talk.agent(
        55, SHIPPING,
        f"亲，您好，让您久等了。我查了一下，包裹在中转站滞留了，是{order.courier}那边的问题。"
        "我已经帮您催件了，保证明天送到。",
    )  # fmt: skip
    talk.buyer(50, "好吧，那你们帮我盯着点")
    talk.agent(
        40, SHIPPING,
        "好的亲，已经登记加急派送，有新消息第一时间告诉您。感谢您的耐心，"
        "如果对我的服务还满意，欢迎在会话结束后给个评价~",
    )  # fmt: skip
    talk.close(200, SHIPPING)
    return talk.id


def _late_parcel(stage: Stage) -> tuple[Order, datetime] | None:
    """A parcel two days or more on its way, delivered in the last fortnight (or, if no
    parcel was that slow, in the last month), and the last morning before it arrived,
    when the buyer asks where it is."""
    for fortnights in (1, 2):
        since = stage.now - timedelta(days=14 * fortnights)
        candidates = stage.orders(
            Order.delivered_at > since, Order.delivered_at < stage.now - LEAD_TIME,
            Order.shipped_at.is_not(None), Order.courier.is_not(None),
            newest_by=Order.delivered_at,
        )  # fmt: skip
        for order in candidates:
            if order.delivered_at is None or order.shipped_at is None:
                continue
            # 10:30 shop time, at least three hours before the parcel arrived.
            asked = order.delivered_at - timedelta(hours=3)
            day = asked.astimezone(stage.zone).date()
            if asked.astimezone(stage.zone).time() < ASKED_AT:
                day -= timedelta(days=1)
            at = datetime.combine(day, ASKED_AT, tzinfo=stage.zone).astimezone(stage.now.tzinfo)
            if at - order.shipped_at >= timedelta(days=2) and since < at < stage.now - LEAD_TIME:
                stage.used_customers.add(order.customer_id)
                return order, at
    return None


def slow_and_forbidden(stage: Stage) -> int | None:
    """回复超时 + 禁用语: five minutes behind the bot, then "你自己去查"."""
    at = stage.local(6, "20:40")
    customer_id = stage.customer(gender="M")
    product = stage.product("卫衣男")
    if customer_id is None or product is None:
        return None
    talk = Talk(
        stage, key="slow", customer_id=customer_id, team="presale", subject="尺码咨询", at=at
    )
    talk.buyer(0, f"{product}，我180斤穿什么码？")
    talk.bot(2, "亲,您好~ 正在为您转接人工客服,请稍等哦")
    talk.agent(318, PRESALE2, "亲，尺码表详情页都写着呢，你自己去查")
    talk.buyer(75, "我看了，不知道选XL还是XXL")
    talk.agent(42, PRESALE2, "180斤的话建议XXL，穿着宽松一点，感谢您的咨询~")
    talk.buyer(30, "好")
    talk.close(300, PRESALE2)
    return talk.id


def promise_forgotten(stage: Stage) -> int | None:
    """承诺未跟进: no greeting, "稍后回复您", and nothing after it."""
    at = stage.local(9, "11:15")
    order = stage.order(Order.status == OrderStatus.PAID, gender="F") or stage.order(
        Order.status == OrderStatus.DELIVERED, gender="F"
    )
    if order is None:
        return None
    talk = Talk(
        stage, key="promise", customer_id=order.customer_id, team="promotion",
        subject="满减叠加", at=at,
    )  # fmt: skip
    talk.buyer(0, "店里的满减能和优惠券一起用吗？")
    talk.agent(45, PROMOTION, "可以叠加的，我帮您查一下这款参不参加，稍后回复您")
    talk.buyer(40, "好的，我等你消息")
    talk.close(1500, PROMOTION)
    return talk.id


def angry_and_waiting(stage: Stage) -> int | None:
    """Still open: an angry buyer in the owner's own desk, for the live coach."""
    at = stage.now - timedelta(minutes=9)
    order = stage.order(
        Order.status == OrderStatus.DELIVERED,
        Order.delivered_at < at - timedelta(days=1),
        title_has="四件套",
        newest_by=Order.delivered_at,
    ) or stage.order(Order.status == OrderStatus.DELIVERED, newest_by=Order.delivered_at)
    if order is None:
        return None
    talk = Talk(
        stage, key="open", customer_id=order.customer_id, team="complaints",
        subject=OPEN_SUBJECT, at=at,
    )  # fmt: skip
    talk.buyer(0, f"订单{order.order_no}，你们的东西质量太差了，我要退款！")
    talk.buyer(25, "一股怪味，洗了一次就掉色，这么差的东西也敢卖？")
    talk.take(40, OWNER)  # the owner picked it from the queue; the buyer waits for a word
    return talk.id


STORIES = (refund_first, courier_blamed, slow_and_forbidden, promise_forgotten, angry_and_waiting)
