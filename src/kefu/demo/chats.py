"""Places the dialogue scripts on real buyers and orders, and writes them as conversations.

A conversation about an order happens when it makes sense (where is my parcel: after it
shipped and before it arrived), during the hours the shop's staff work; the ones left open
are the newest, waiting in their team's queue. Messages go through the conversations
service like any other; only their timestamps are moved back before the commit.
"""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from kefu.conversations import service as conversations
from kefu.conversations.models import Channel, SenderType
from kefu.demo import dialogues
from kefu.demo.catalogue import CATALOGUE, Item
from kefu.demo.dialogues import SCRIPTS, Script
from kefu.demo.orders import SHANGHAI, Buyer, PlannedOrder
from kefu.uow import UnitOfWork

WORKING_HOURS = range(8, 24)  # when the shop's staff answer (Shanghai time)
SENDERS = {
    "B": SenderType.CUSTOMER,
    "A": SenderType.AGENT,
    "R": SenderType.BOT,
    "N": SenderType.AGENT,
}


@dataclass(frozen=True)
class PlannedMessage:
    sender: SenderType
    body: str
    at: datetime
    private: bool


@dataclass(frozen=True)
class PlannedConversation:
    script: Script
    customer: int  # buyer index
    channel: Channel
    agent: str | None  # e-mail of the agent who answered (None: only the bot)
    messages: tuple[PlannedMessage, ...]
    closed_at: datetime | None  # None: still open, waiting for the shop

    @property
    def started_at(self) -> datetime:
        return self.messages[0].at


def short_name(item: Item) -> str:
    """纯棉家居服女春秋款长袖开衫两件套, from the full listing title."""
    return item.title.removeprefix("棉里 ").split(" ")[0]


def _fits(item: Item, size: str, needs: str) -> bool:
    letters = item.size_set in ("W", "U", "M")
    return {
        "": True,
        "letters": letters,
        "bigger": letters and size != item.sizes[-1],
        "clothes": letters or item.size_set in ("H", "HM", "K"),
        "colours": len(item.colours) > 1,
        "pilling": item.category in ("家居服", "睡衣", "T恤", "卫衣") and "丝" not in item.title,
        "bedding": item.category == "床品" and "件套" in item.title,
    }[needs]


def _wears(item: Item, gender: str | None) -> bool:
    women, men = "女" in item.title, "男" in item.title
    return not ((gender == "F" and men and not women) or (gender == "M" and women and not men))


def size_label(size: str) -> str:
    """How a size is said: M码, 110码, 38-39码; 均码, 160/84A and 1.5m床 stand alone."""
    return f"{size}码" if re.fullmatch(r"[A-Z]+|\d+|\d+-\d+", size) else size


def _gaps(rng: random.Random, lines: tuple[str, ...]) -> list[timedelta]:
    """Seconds before each line: buyers type, agents answer within a minute or so, bots at once."""
    gaps = [timedelta(0)]
    for previous, line in itertools.pairwise(lines):
        kind, before = line[0], previous[0]
        if kind == "R":
            seconds = rng.uniform(1, 3)
        elif kind in "AN":
            seconds = rng.uniform(10, 40) if before in "AN" else rng.uniform(15, 75)
        else:
            seconds = rng.uniform(8, 30) if before == "B" else rng.uniform(20, 150)
        gaps.append(timedelta(seconds=seconds))
    return gaps


def _context(
    rng: random.Random,
    *,
    shop_name: str,
    agent_name: str,
    buyer: Buyer,
    item: Item,
    colour: str,
    size: str,
    order: PlannedOrder | None,
) -> dict[str, str]:
    height, weight = dialogues.SIZE_BODY.get(size, (163, 110))
    others = [c for c in item.colours if c != colour] or [colour]
    sizes = item.sizes
    bigger = sizes[min(sizes.index(size) + 1, len(sizes) - 1)]
    addon = rng.choice([i for i in CATALOGUE if i.on_sale and i.category in ("毛巾", "袜子")])
    context = {
        "shop": shop_name,
        "agent": agent_name,
        "product": short_name(item),
        "colour": colour,
        "size": size,
        "size_label": size_label(size),
        "height": str(height + rng.randint(-2, 2)),
        "weight": str(weight + rng.randint(-4, 4)),
        "other_colour": rng.choice(others),
        "bigger": bigger,
        "addon": short_name(addon),
        "cheap": str(int(item.price * Decimal("0.7"))),
        "city": buyer.person.city.short,
        "company": buyer.person.city.short
        + rng.choice(dialogues.COMPANY_WORDS)
        + rng.choice(dialogues.COMPANY_KINDS),
        "tax_id": "91"
        + f"{rng.randrange(10**6):06d}"
        + "MA"
        + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8)),
    }
    if order is not None:
        total = order.items_total - order.discount + order.shipping_fee
        context |= {
            "order_no": order.order_no,
            "courier": order.courier or "",
            "tracking_no": order.tracking_no or "",
            "total": f"{total:.2f}",
            "address": order.ship_to_address,
            "ship_name": order.ship_to_name,
            "city": order.ship_to_address.split(" ")[1].removesuffix("市"),
        }
    return context


def _window(script: Script, order: PlannedOrder, now: datetime) -> tuple[datetime, datetime] | None:
    """When the conversation may take place, from the order's timeline; never after ``now``."""
    if script.anchor == "before":
        return order.created_at + script.window[0], order.created_at + script.window[1]
    anchor = getattr(order, script.anchor)
    if anchor is None:
        return None
    end = min(anchor + script.window[1], now - timedelta(minutes=5))
    if script.anchor == "shipped_at" and order.delivered_at is not None:
        end = min(end, order.delivered_at - timedelta(hours=1))
    return anchor + script.window[0], end


def _start_in(
    rng: random.Random, window: tuple[datetime, datetime], duration: timedelta, hours: range
) -> datetime | None:
    """A start time inside the window and the hours, leaving room for the whole talk."""
    earliest, latest = window[0], window[1] - duration
    if latest <= earliest:
        return None
    for _ in range(30):
        start = earliest + (latest - earliest) * rng.random()
        if start.astimezone(SHANGHAI).hour in hours:
            return start
    return None


def plan_conversations(
    rng: random.Random,
    *,
    now: datetime,
    shop_name: str,
    buyers: list[Buyer],
    orders: list[PlannedOrder],
    agents: dict[str, list[tuple[str, str]]],
) -> list[PlannedConversation]:
    """Every script's finished conversations, then the ones still open; oldest first.

    ``agents`` maps a team code to its agents' (e-mail, display name). A script that no
    order fits (possible with few orders of a status) is used fewer times, never forced.
    """
    planned: list[PlannedConversation] = []
    used: set[str] = set()
    for script in SCRIPTS:
        candidates = [
            order
            for order in orders
            if (not script.statuses or order.status in script.statuses)
            and _fits(order.lines[0].item, order.lines[0].size, script.needs)
            # A size question is about clothes for oneself.
            and (
                script.needs not in ("letters", "bigger")
                or _wears(order.lines[0].item, buyers[order.customer].person.gender)
            )
        ]
        rng.shuffle(candidates)
        # Staff answer during the day; only if no order allows that, at any hour.
        for hours in (WORKING_HOURS, range(24)):
            for order in candidates:
                done = sum(1 for p in planned if p.script is script)
                if done == script.closed:
                    break
                if order.order_no in used:
                    continue
                gaps = _gaps(rng, script.lines)
                close_after = timedelta(minutes=rng.uniform(3, 15))
                window = _window(script, order, now)
                talk = sum(gaps, close_after)
                start = _start_in(rng, window, talk, hours) if window else None
                if start is None:
                    continue
                used.add(order.order_no)
                email, agent_name = rng.choice(agents[script.team])
                line = order.lines[0]
                context = _context(
                    rng,
                    shop_name=shop_name,
                    agent_name=agent_name,
                    buyer=buyers[order.customer],
                    item=line.item,
                    colour=line.colour,
                    size=line.size,
                    order=order,
                )
                planned.append(
                    _conversation(
                        rng, script, order.customer, email, context, start, gaps, close_after
                    )
                )
        if script.open_keep:
            waiting = _open_conversation(
                rng, script, now, shop_name, buyers, candidates, used, agents[script.team]
            )
            if waiting is not None:
                planned.append(waiting)
    planned.sort(key=lambda conversation: conversation.started_at)
    return planned


def _open_conversation(
    rng: random.Random,
    script: Script,
    now: datetime,
    shop_name: str,
    buyers: list[Buyer],
    candidates: list[PlannedOrder],
    used: set[str],
    team_agents: list[tuple[str, str]],
) -> PlannedConversation | None:
    """A conversation whose buyer wrote a few minutes ago and waits for the team.

    If an agent already answered in it, the conversation stays with that agent.
    """
    email, agent_name = rng.choice(team_agents)
    lines = script.lines[: script.open_keep]
    gaps = _gaps(rng, lines)
    start = now - timedelta(minutes=rng.uniform(2, 35)) - sum(gaps, timedelta())
    if script.anchor == "before":
        # Not bought yet: any product that fits, any buyer.
        items = [i for i in CATALOGUE if i.on_sale and _fits(i, i.sizes[0], script.needs)]
        item = rng.choice(items)
        size = rng.choice(item.sizes[:-1] if script.needs == "bigger" else item.sizes)
        colour, order, customer = rng.choice(item.colours), None, rng.randrange(len(buyers))
    else:
        # The most recent order the talk fits: a complaint soon after delivery, say.
        def anchor_of(order: PlannedOrder) -> datetime:
            return getattr(order, script.anchor) or order.created_at

        for order in sorted(candidates, key=anchor_of, reverse=True):
            window = _window(script, order, now + timedelta(minutes=10))
            in_transit = script.anchor != "shipped_at" or order.delivered_at is None
            if order.order_no not in used and window and window[0] <= start and in_transit:
                break
        else:
            return None
        used.add(order.order_no)
        item, colour, size = order.lines[0].item, order.lines[0].colour, order.lines[0].size
        customer = order.customer
    context = _context(
        rng,
        shop_name=shop_name,
        agent_name=agent_name,
        buyer=buyers[customer],
        item=item,
        colour=colour,
        size=size,
        order=order,
    )
    return _conversation(
        rng, script, customer, email, context, start, gaps, None, keep=script.open_keep
    )


def _conversation(
    rng: random.Random,
    script: Script,
    customer: int,
    agent: str | None,
    context: dict[str, str],
    start: datetime,
    gaps: list[timedelta],
    close_after: timedelta | None,
    keep: int | None = None,
) -> PlannedConversation:
    messages = []
    at = start
    for line, gap in zip(script.lines[:keep], gaps, strict=True):
        at += gap
        kind, body = line[0], line[2:]
        messages.append(
            PlannedMessage(
                sender=SENDERS[kind],
                body=body.format_map(context),
                at=at,
                private=kind == "N",
            )
        )
    humans = any(kind[0] in "AN" for kind in script.lines[:keep])
    return PlannedConversation(
        script=script,
        customer=customer,
        channel=Channel.WECHAT if rng.random() < 0.2 else Channel.WIDGET,
        agent=agent if humans else None,
        messages=tuple(messages),
        closed_at=at + close_after if close_after is not None else None,
    )


def write_conversations(
    uow: UnitOfWork,
    *,
    shop_id: int,
    planned: list[PlannedConversation],
    customer_ids: list[int],
    agent_ids: dict[str, int],
) -> int:
    """Store the planned conversations through the service, back-dated. Does not commit."""
    for number, plan in enumerate(planned, start=1):
        agent_id = agent_ids[plan.agent] if plan.agent else None
        conversation = conversations.start_conversation(
            uow,
            shop_id=shop_id,
            customer_id=customer_ids[plan.customer],
            channel=plan.channel,
            team_code=plan.script.team,
            subject=plan.script.subject,
            route=False,  # the demo says who handled it, back-dated below
            commit=False,
        )
        for index, message in enumerate(plan.messages, start=1):
            client_msg_id = f"demo-{number:03d}-{index:02d}"
            if message.sender is SenderType.CUSTOMER:
                row = conversations.receive_message(
                    uow,
                    shop_id=shop_id,
                    conversation_id=conversation.id,
                    client_msg_id=client_msg_id,
                    body=message.body,
                    commit=False,
                )
            else:
                row = conversations.send_reply(
                    uow,
                    shop_id=shop_id,
                    conversation_id=conversation.id,
                    client_msg_id=client_msg_id,
                    body=message.body,
                    sender_type=message.sender,
                    sender_agent_id=agent_id if message.sender is SenderType.AGENT else None,
                    is_private=message.private,
                    commit=False,
                )
            row.created_at = message.at
        if plan.closed_at is not None:
            conversations.close_conversation(
                uow,
                shop_id=shop_id,
                conversation_id=conversation.id,
                closed_by_agent_id=agent_id,
                commit=False,
            )
            conversation.closed_at = plan.closed_at
        conversation.assignee_id = agent_id
        if agent_id is not None:
            conversation.assigned_at = plan.started_at
        elif plan.closed_at is None:
            conversation.waiting_since = plan.started_at
        conversation.created_at = plan.started_at
        conversation.last_message_at = plan.messages[-1].at
    return len(planned)
