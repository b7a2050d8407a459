"""The demo shop: a believable Chinese home-wear and home-textile store to try Kefu on.

``seed_demo_shop`` fills a new shop with staff who can log in, about 50 products, 200
buyers, 500 orders over the last two months in every status, 45 past conversations,
some still waiting in the queues, and a dozen tickets with their SLA clocks, shifts and
the last evening's handover (:mod:`kefu.demo.tickets`), and the coach's phrases, rules and
weeks of scored conversations (:mod:`kefu.demo.coach`). Everything comes from one seed:
the same seed gives the same shop, with times relative to the unit of work's clock. Every
row goes through the domain services (so the same validation and events apply); only
creation times are moved back, before the commit, so that the history looks lived-in
(the tickets and the coach's stories are written on a clock set back instead: SLA
deadlines and quality scores depend on it).

The whole shop is written in one transaction, so a failure leaves nothing behind. Events
are dispatched as usual after the commit: seed before subscribing anything that should
not react to history (a bot would otherwise answer the old buyer messages). The SLA and
handover jobs' first round follows, so the demo opens with its warnings recorded.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.accounts import service as accounts
from kefu.accounts.models import Role
from kefu.bot import service as bot
from kefu.bot.schemas import BotSettingsIn
from kefu.commerce import service as commerce
from kefu.commerce.models import OrderStatus
from kefu.commerce.service import OrderLineSpec
from kefu.crm import service as crm
from kefu.demo import aftersales, catalogue, chats, coach, faq, tickets
from kefu.demo import people as people_data
from kefu.demo.orders import STATUS_QUOTA, Buyer, PlannedOrder, plan_orders
from kefu.sales import service as sales
from kefu.shops import service as shops
from kefu.shops.models import Shop
from kefu.uow import UnitOfWork

DEMO_SHOP_SLUG = "demo"
HISTORY = timedelta(days=90)  # further back than any of the demo's orders and chats
DEMO_PASSWORD = "kefu-demo"  # noqa: S105 (published on purpose: it is a demo)
DEMO_CUSTOMERS = 200


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: str
    name: str
    team: str  # team name, or "—" for those in every team


@dataclass(frozen=True)
class DemoSummary:
    shop_id: int
    products: int
    customers: int
    orders: dict[str, int]  # per status value
    conversations: int
    agents: int
    faq_entries: int = 0
    tickets: int = 0


# (login, team codes): the owner and the supervisor are in every team.
_STAFF: tuple[tuple[DemoLogin, tuple[str, ...]], ...] = (
    (DemoLogin("owner@demo.kefu", Role.OWNER.value, "掌柜老林", "—"), ()),
    (DemoLogin("lead@demo.kefu", Role.SUPERVISOR.value, "客服主管晓雯", "—"), ()),
    (DemoLogin("presale@demo.kefu", Role.AGENT.value, "客服小美", "售前"), ("presale",)),
    (DemoLogin("presale2@demo.kefu", Role.AGENT.value, "客服小雅", "售前"), ("presale",)),
    (DemoLogin("aftersale@demo.kefu", Role.AGENT.value, "售后阿敏", "售后"), ("aftersale",)),
    (DemoLogin("complaints@demo.kefu", Role.AGENT.value, "客服芳芳", "投诉"), ("complaints",)),
    (DemoLogin("promotion@demo.kefu", Role.AGENT.value, "活动专员朵朵", "推广"), ("promotion",)),
    (DemoLogin("shipping@demo.kefu", Role.AGENT.value, "发货客服阿强", "发货"), ("shipping",)),
)
DEMO_LOGINS: tuple[DemoLogin, ...] = tuple(login for login, _ in _STAFF)


def demo_exists(session: Session, *, slug: str = DEMO_SHOP_SLUG) -> bool:
    slug = slug.strip().lower()
    return session.scalar(select(Shop.id).where(Shop.slug == slug)) is not None


def seed_demo_shop(
    uow_factory: Callable[[], UnitOfWork],
    *,
    seed: int = 2026,
    slug: str = DEMO_SHOP_SLUG,
    name: str = "棉里家居服饰旗舰店",
) -> DemoSummary:
    """Create and fill the demo shop. Raises ``Conflict`` if the slug is taken."""

    def rng(part: str) -> random.Random:
        # One stream per part, so a change in one part leaves the others as they were.
        return random.Random(f"kefu-demo:{seed}:{part}")

    # One transaction: a failure half-way leaves no half-built shop behind.
    with uow_factory() as uow:
        now = uow.clock.now()
        shop = shops.create_shop(uow, slug=slug, name=name, timezone="Asia/Shanghai", commit=False)
        shop_id = shop.id
        teams = {t.code: t.id for t in shops.list_teams(uow.session, shop_id=shop_id)}
        agent_ids = _create_staff(uow, shop_id=shop_id, teams=teams)
        listed_at = _create_products(uow, shop_id=shop_id, rng=rng("catalogue"), now=now)
        faq_entries = faq.write_faq(uow, shop_id=shop_id, owner_id=agent_ids[DEMO_LOGINS[0].email])

        buyers, order_buyers = _plan_buyers(rng("buyers"))
        orders = plan_orders(
            rng("orders"), now=now, buyers=buyers, order_buyers=order_buyers, listed_at=listed_at
        )
        customer_ids = _create_customers(
            uow, shop_id=shop_id, rng=rng("joined"), now=now, buyers=buyers, orders=orders
        )
        _create_orders(uow, shop_id=shop_id, orders=orders, customer_ids=customer_ids)

        by_team: dict[str, list[tuple[str, str]]] = {}
        for login, codes in _STAFF:
            for code in codes:
                by_team.setdefault(code, []).append((login.email, login.name))
        planned = chats.plan_conversations(
            rng("conversations"),
            now=now,
            shop_name=name,
            buyers=buyers,
            orders=orders,
            agents=by_team,
        )
        count = chats.write_conversations(
            uow,
            shop_id=shop_id,
            planned=planned,
            customer_ids=customer_ids,
            agent_ids=agent_ids,
        )
        aftersales.write_cases(uow, shop_id=shop_id, decider_id=agent_ids["aftersale@demo.kefu"])
        aftersales.settle_scripted_reminders(uow, shop_id=shop_id)
        ticket_count = tickets.write_tickets(uow, shop_id=shop_id)
        # 质检: phrases, rules, the coach's stories, every closed chat scored, a review.
        count += coach.write_coach(uow, shop_id=shop_id)
        # The bot receives new buyers from now on (after the history: it is not routed).
        bot.update_settings(uow, shop_id=shop_id, changes=BotSettingsIn(enabled=True), commit=False)
        uow.commit()

    # 询单转化 over the demo's history (its chats were written back-dated, unrouted, so the
    # live subscribers never saw them reach 售前): after the shop's own transaction.
    with uow_factory() as uow:
        sales.reconcile_conversions(uow, shop_id=shop_id, since=now - HISTORY)
    # What the app's SLA and handover jobs would do at once: the demo's warning, breach and
    # unacknowledged handover item are there when it opens.
    tickets.run_watchers(uow_factory, now=now)
    statuses = Counter(order.status.value for order in orders)
    return DemoSummary(
        shop_id=shop_id,
        products=len(catalogue.CATALOGUE),
        customers=len(customer_ids),
        orders={status.value: statuses[status.value] for status in OrderStatus},
        conversations=count,
        agents=len(agent_ids),
        faq_entries=faq_entries,
        tickets=ticket_count,
    )


def _create_staff(uow: UnitOfWork, *, shop_id: int, teams: dict[str, int]) -> dict[str, int]:
    """The staff, by e-mail. Each hashes a password (argon2), which is most of the time spent."""
    ids: dict[str, int] = {}
    for login, codes in _STAFF:
        agent = accounts.create_agent(
            uow,
            shop_id=shop_id,
            email=login.email,
            display_name=login.name,
            password=DEMO_PASSWORD,
            role=Role(login.role),
            team_ids=[teams[code] for code in codes] if codes else list(teams.values()),
            commit=False,
        )
        ids[login.email] = agent.id
    return ids


def _create_products(
    uow: UnitOfWork, *, shop_id: int, rng: random.Random, now: datetime
) -> dict[str, datetime]:
    """The catalogue; returns when each product was listed (new arrivals are weeks old)."""
    listed_at: dict[str, datetime] = {}
    for item in catalogue.CATALOGUE:
        product = commerce.create_product(
            uow,
            shop_id=shop_id,
            sku=item.sku,
            title=item.title,
            category=item.category,
            price=item.price,
            variants=catalogue.variants(item, rng),
            tags=item.tags,
            description=item.description,
            on_sale=item.on_sale,
            commit=False,
        )
        days = rng.uniform(20, 45) if "新品" in item.tags else rng.uniform(90, 720)
        product.created_at = listed_at[item.sku] = now - timedelta(days=days)
    return listed_at


def _plan_buyers(rng: random.Random) -> tuple[list[Buyer], list[int]]:
    """200 buyers and who placed each of the 500 orders: a few loyal buyers order often.

    The VIP level follows how often a buyer ordered, as a shop's membership does.
    """
    persons = [people_data.person(rng) for _ in range(DEMO_CUSTOMERS)]
    weights = [min(rng.paretovariate(1.3), 12.0) for _ in persons]
    total_orders = sum(STATUS_QUOTA.values())
    order_buyers = rng.choices(range(len(persons)), weights=weights, k=total_orders)
    counts = Counter(order_buyers)
    buyers = []
    for index, person in enumerate(persons):
        n = counts[index]
        level = sum(n >= threshold for threshold in (2, 3, 4, 6, 9))  # 0–5
        if level and rng.random() < 0.15:
            level -= 1
        buyers.append(Buyer(person=person, vip_level=level))
    return buyers, order_buyers


def _create_customers(
    uow: UnitOfWork,
    *,
    shop_id: int,
    rng: random.Random,
    now: datetime,
    buyers: list[Buyer],
    orders: list[PlannedOrder],
) -> list[int]:
    """The buyers, each joined before their first order. Returns their ids by buyer index."""
    first_order: dict[int, datetime] = {}
    for order in orders:  # oldest first
        first_order.setdefault(order.customer, order.created_at)
    external_ids: set[str] = set()
    ids = []
    for index, buyer in enumerate(buyers):
        external_id = f"tb_{rng.randrange(10**9, 10**10)}"
        while external_id in external_ids:
            external_id = f"tb_{rng.randrange(10**9, 10**10)}"
        external_ids.add(external_id)
        person = buyer.person
        customer = crm.create_customer(
            uow,
            shop_id=shop_id,
            name=person.name,
            nickname=person.nickname,
            external_id=external_id,
            gender=person.gender,
            phone=person.phone,
            email=person.email,
            city=person.city.short,
            vip_level=buyer.vip_level,
            commit=False,
        )
        joined = first_order.get(index, now) - timedelta(days=rng.uniform(0.01, 400))
        customer.created_at = joined
        ids.append(customer.id)
    return ids


def _create_orders(
    uow: UnitOfWork,
    *,
    shop_id: int,
    orders: list[PlannedOrder],
    customer_ids: list[int],
) -> None:
    for order in orders:
        commerce.create_order(
            uow,
            shop_id=shop_id,
            order_no=order.order_no,
            customer_id=customer_ids[order.customer],
            lines=[
                OrderLineSpec(sku=line.sku, quantity=line.quantity, unit_price=line.unit_price)
                for line in order.lines
            ],
            status=order.status,
            created_at=order.created_at,
            paid_at=order.paid_at,
            shipped_at=order.shipped_at,
            delivered_at=order.delivered_at,
            closed_at=order.closed_at,
            refunded_at=order.refunded_at,
            courier=order.courier,
            tracking_no=order.tracking_no,
            coupon_code=order.coupon_code,
            discount=order.discount,
            shipping_fee=order.shipping_fee,
            ship_to_name=order.ship_to_name,
            ship_to_phone=order.ship_to_phone,
            ship_to_address=order.ship_to_address,
            commit=False,
        )
