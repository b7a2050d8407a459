"""The demo shop's order book: 500 orders over about 60 days, in every status.

Pure planning: from a :class:`random.Random`, the buyers and the moment "now", it decides
every order (lines, timeline, courier, coupon, address) without touching the database.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from kefu.commerce.models import OrderStatus
from kefu.demo import people
from kefu.demo.catalogue import CATALOGUE, Item, variant_price, variant_sku

SHANGHAI = ZoneInfo("Asia/Shanghai")
CENT = Decimal("0.01")

# How many orders of each status the demo holds (500 in all): mostly completed trades.
STATUS_QUOTA: dict[OrderStatus, int] = {
    OrderStatus.UNPAID: 30,
    OrderStatus.PAID: 55,
    OrderStatus.SHIPPED: 70,
    OrderStatus.DELIVERED: 255,
    OrderStatus.CLOSED: 40,
    OrderStatus.REFUNDING: 15,
    OrderStatus.REFUNDED: 35,
}
# Couriers and how often the shop uses them (中通 is the default; 顺丰 costs extra).
COURIERS: tuple[tuple[str, int], ...] = (
    ("中通快递", 34),
    ("圆通速递", 20),
    ("韵达快递", 18),
    ("顺丰速运", 16),
    ("京东物流", 8),
    ("EMS", 4),
)
FREE_SHIPPING_FROM = Decimal(39)  # 满39包邮
SMALL_ORDER_FEE = Decimal(6)
REMOTE_FEE = Decimal(15)
OFF_SALE_FOR = timedelta(days=20)  # the products not on sale were taken off this long ago
VIP_RATE = {3: Decimal("0.02"), 4: Decimal("0.05"), 5: Decimal("0.08")}  # 会员折扣


@dataclass(frozen=True)
class Coupon:
    code: str
    threshold: Decimal
    amount: Decimal
    label: str


COUPONS: tuple[Coupon, ...] = (
    Coupon("NEW10", Decimal(59), Decimal(10), "新人首单立减10元"),
    Coupon("MJ199-20", Decimal(199), Decimal(20), "满199减20"),
    Coupon("MJ399-50", Decimal(399), Decimal(50), "满399减50"),
    Coupon("DOUBLE11-80", Decimal(599), Decimal(80), "双11满599减80"),
)


# Tracking number formats: (prefixes, number of digits after the prefix).
TRACKING_FORMATS: dict[str, tuple[tuple[str, ...], int]] = {
    "顺丰速运": (("SF",), 13),
    "中通快递": (("75", "73"), 12),
    "圆通速递": (("YT",), 13),
    "韵达快递": (("43", "46", "31"), 11),
    "京东物流": (("JDVA",), 11),
    "EMS": (("10", "11", "98"), 11),
}


def tracking_no(rng: random.Random, courier: str) -> str:
    """A tracking number in the courier's own format."""
    prefixes, length = TRACKING_FORMATS[courier]
    return rng.choice(prefixes) + "".join(rng.choice("0123456789") for _ in range(length))


def order_no(rng: random.Random) -> str:
    """A Taobao-style order number: 19 digits."""
    return str(rng.randrange(10**18, 4 * 10**18))


@dataclass(frozen=True)
class PlannedLine:
    item: Item
    sku: str
    colour: str
    size: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class PlannedOrder:
    order_no: str
    customer: int  # index into the planned buyers
    status: OrderStatus
    lines: tuple[PlannedLine, ...]
    created_at: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    closed_at: datetime | None
    refunded_at: datetime | None
    courier: str | None
    tracking_no: str | None
    coupon_code: str | None
    discount: Decimal
    shipping_fee: Decimal
    ship_to_name: str
    ship_to_phone: str
    ship_to_address: str

    @property
    def items_total(self) -> Decimal:
        return sum((line.unit_price * line.quantity for line in self.lines), Decimal(0))


@dataclass(frozen=True)
class Buyer:
    """What the planner needs to know of a buyer."""

    person: people.Person
    vip_level: int


# How busy each hour of the day is (Shanghai time): lunch break and evenings.
HOUR_WEIGHTS = (2, 1, 1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 6, 5, 5, 5, 5, 6, 8, 10, 11, 9, 5)


def local_moment(rng: random.Random, now: datetime, days_ago: float) -> datetime:
    """A moment about ``days_ago`` days back, at an hour when people shop (Shanghai time)."""
    day = (now - timedelta(days=days_ago)).astimezone(SHANGHAI)
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    moment = day.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60))
    return moment.astimezone(now.tzinfo)


def hours_ago(rng: random.Random, now: datetime, low: float, high: float) -> datetime:
    """A moment between ``low`` and ``high`` hours ago, more likely at a busy hour."""
    while True:
        moment = now - timedelta(hours=rng.uniform(low, high))
        if rng.random() * max(HOUR_WEIGHTS) < HOUR_WEIGHTS[moment.astimezone(SHANGHAI).hour]:
            return moment


def _timeline(rng: random.Random, status: OrderStatus, now: datetime) -> dict[str, datetime]:
    """created/paid/shipped/delivered/closed/refunded times that fit the status."""

    def minutes(low: float, high: float) -> timedelta:
        return timedelta(minutes=rng.uniform(low, high))

    def hours(low: float, high: float) -> timedelta:
        return timedelta(hours=rng.uniform(low, high))

    t: dict[str, datetime] = {}
    if status is OrderStatus.UNPAID:
        # Half placed within the last two hours: the ones a 催付 reminder is for.
        if rng.random() < 0.5:
            return {"created_at": now - minutes(3, 120)}
        return {"created_at": hours_ago(rng, now, 2, 22)}
    if status is OrderStatus.CLOSED:
        t["created_at"] = local_moment(rng, now, rng.uniform(2, 60))
        timeout = timedelta(hours=24) if rng.random() < 0.6 else minutes(10, 240)
        t["closed_at"] = t["created_at"] + timeout
        return t
    if status is OrderStatus.PAID:
        # Most are paid today; a few have waited too long to ship (什么时候发货?).
        low, high = (0.3, 20) if rng.random() < 0.8 else (48, 70)
        t["created_at"] = hours_ago(rng, now, low, high)
        t["paid_at"] = t["created_at"] + minutes(0.5, 15)
        return _not_after(t, now, rng)
    days_back = {
        OrderStatus.SHIPPED: (1.5, 6),
        OrderStatus.DELIVERED: (4, 60),
        OrderStatus.REFUNDING: (3, 25),
        OrderStatus.REFUNDED: (5, 60),
    }[status]
    t["created_at"] = local_moment(rng, now, rng.uniform(*days_back))
    t["paid_at"] = t["created_at"] + minutes(0.5, 30)
    ships = status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED) or rng.random() < 0.6
    if ships:
        t["shipped_at"] = t["paid_at"] + hours(3, 40)
        if status is not OrderStatus.SHIPPED:
            t["delivered_at"] = t["shipped_at"] + hours(20, 96)
    if status is OrderStatus.REFUNDED:
        # Returned after delivery, or refunded before the parcel left.
        start = t.get("delivered_at", t["paid_at"])
        t["refunded_at"] = start + (hours(48, 168) if ships else hours(1, 30))
    return _not_after(t, now, rng)


def _not_after(t: dict[str, datetime], now: datetime, rng: random.Random) -> dict[str, datetime]:
    """Move a whole timeline back when its last step would be in the future."""
    latest = max(t.values())
    if latest <= now:
        return t
    shift = latest - now + timedelta(minutes=rng.uniform(5, 180))
    return {name: moment - shift for name, moment in t.items()}


def _for_gender(item: Item, gender: str | None) -> int:
    """How likely a buyer picks the item: mostly for themself, sometimes as a present."""
    women, men = "女" in item.title, "男" in item.title
    if (gender == "F" and men and not women) or (gender == "M" and women and not men):
        return 1
    return 4


def _pick_lines(
    rng: random.Random,
    created_at: datetime,
    listed_at: dict[str, datetime],
    now: datetime,
    gender: str | None,
) -> tuple[PlannedLine, ...]:
    # What was for sale then: products listed by that day; off-sale ones until 20 days ago.
    available = [
        item
        for item in CATALOGUE
        if listed_at[item.sku] <= created_at and (item.on_sale or created_at < now - OFF_SALE_FOR)
    ]
    weights = [
        (4 if "爆款" in item.tags else 2 if "新品" in item.tags else 1) * _for_gender(item, gender)
        for item in available
    ]
    count = rng.choices((1, 2, 3), weights=(70, 22, 8))[0]
    chosen: list[Item] = []
    while len(chosen) < count:
        item = rng.choices(available, weights=weights)[0]
        if item not in chosen:
            chosen.append(item)
    lines = []
    for item in chosen:
        colour, size = rng.choice(item.colours), rng.choice(item.sizes)
        bulk = item.category in ("毛巾", "袜子") or "枕套" in item.title
        quantity = rng.choices((1, 2, 3), weights=(60, 30, 10))[0] if bulk else 1
        if not bulk and rng.random() < 0.05:
            quantity = 2
        lines.append(
            PlannedLine(
                item=item,
                sku=variant_sku(item, colour, size),
                colour=colour,
                size=size,
                quantity=quantity,
                unit_price=variant_price(item, size),
            )
        )
    return tuple(lines)


def plan_orders(
    rng: random.Random,
    *,
    now: datetime,
    buyers: list[Buyer],
    order_buyers: list[int],
    listed_at: dict[str, datetime],
) -> list[PlannedOrder]:
    """One order per entry of ``order_buyers`` (buyer indexes), oldest first."""
    statuses = [status for status, count in STATUS_QUOTA.items() for _ in range(count)]
    if len(statuses) != len(order_buyers):
        raise ValueError("one buyer per order is needed")
    rng.shuffle(statuses)
    numbers: set[str] = set()
    orders = []
    for status, buyer_index in zip(statuses, order_buyers, strict=True):
        buyer = buyers[buyer_index]
        number = order_no(rng)
        while number in numbers:
            number = order_no(rng)
        numbers.add(number)
        t = _timeline(rng, status, now)
        lines = _pick_lines(rng, t["created_at"], listed_at, now, buyer.person.gender)
        items_total = sum((line.unit_price * line.quantity for line in lines), Decimal(0))
        coupon = _coupon(rng, items_total)
        discount = coupon.amount if coupon else Decimal(0)
        rate = VIP_RATE.get(buyer.vip_level)
        if rate:
            discount += (items_total * rate).quantize(CENT, rounding=ROUND_HALF_UP)
        name, phone, city, address = _ship_to(rng, buyer.person)
        fee = REMOTE_FEE if city.remote else Decimal(0)
        if items_total < FREE_SHIPPING_FROM:
            fee = max(fee, SMALL_ORDER_FEE)
        courier = None
        if "shipped_at" in t:
            courier = rng.choices([c for c, _ in COURIERS], weights=[w for _, w in COURIERS])[0]
        orders.append(
            PlannedOrder(
                order_no=number,
                customer=buyer_index,
                status=status,
                lines=lines,
                created_at=t["created_at"],
                paid_at=t.get("paid_at"),
                shipped_at=t.get("shipped_at"),
                delivered_at=t.get("delivered_at"),
                closed_at=t.get("closed_at"),
                refunded_at=t.get("refunded_at"),
                courier=courier,
                tracking_no=tracking_no(rng, courier) if courier else None,
                coupon_code=coupon.code if coupon else None,
                discount=discount,
                shipping_fee=fee,
                ship_to_name=name,
                ship_to_phone=phone,
                ship_to_address=address,
            )
        )
    orders.sort(key=lambda order: order.created_at)
    return orders


def _coupon(rng: random.Random, items_total: Decimal) -> Coupon | None:
    usable = [coupon for coupon in COUPONS if items_total >= coupon.threshold]
    if not usable or rng.random() > 0.35:
        return None
    return max(usable, key=lambda coupon: coupon.amount)


def _ship_to(rng: random.Random, person: people.Person) -> tuple[str, str, people.City, str]:
    """Home most of the time; sometimes the office, sometimes a present for a relative."""
    roll = rng.random()
    phone = person.phone or people.phone(rng)
    if roll < 0.08:
        city = people.pick_city(rng)
        name = people.relative_name(rng, person.name)
        return name, people.phone(rng), city, people.address(rng, city)
    if roll < 0.2:
        return person.name, phone, person.city, people.address(rng, person.city, office=True)
    return person.name, phone, person.city, person.address
