"""Shops (tenants) and their teams."""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kefu.errors import Conflict, Invalid, NotFound
from kefu.shops.events import ShopCreated
from kefu.shops.models import Shop, Team
from kefu.uow import UnitOfWork
from kefu.validation import clean_text

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]$")


@dataclass(frozen=True)
class TeamTemplate:
    code: str
    name: str
    description: str


# The roles of an online shop's service staff (seed 000): answering and guiding buyers
# before the sale, after-sales care, complaints, promotion, and packing/shipping.
DEFAULT_TEAMS: tuple[TeamTemplate, ...] = (
    TeamTemplate("presale", "售前", "咨询与导购:解答商品问题,推荐合适的商品"),
    TeamTemplate("aftersale", "售后", "退换货、退款与售后问题"),
    TeamTemplate("complaints", "投诉", "处理投诉与不满意的顾客,先安抚再解决"),
    TeamTemplate("promotion", "推广", "活动、优惠券与会员推广"),
    TeamTemplate("shipping", "发货", "打包、发货与物流跟踪"),
)
DEFAULT_TEAM_CODE = "presale"


def create_shop(
    uow: UnitOfWork, *, slug: str, name: str, timezone: str, commit: bool = True
) -> Shop:
    """Create a shop with the default teams. ``commit=False`` lets a caller build more first."""
    slug = slug.strip().lower()
    name = clean_text(name, field="name", min_length=1, max_length=120)
    if not SLUG_PATTERN.match(slug):
        raise Invalid(
            "shop code must be 3–40 lowercase letters, digits or hyphens",
            field="slug",
        )
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid(f"unknown time zone {timezone!r}", field="timezone") from exc
    session = uow.session
    if session.scalar(select(Shop.id).where(Shop.slug == slug)) is not None:
        raise Conflict(f"a shop with code {slug!r} already exists", slug=slug)
    now = uow.clock.now()
    shop = Shop(slug=slug, name=name, timezone=timezone, locale="zh-CN", created_at=now)
    session.add(shop)
    session.flush()
    for order, template in enumerate(DEFAULT_TEAMS):
        session.add(
            Team(
                shop_id=shop.id,
                code=template.code,
                name=template.name,
                description=template.description,
                sort_order=order,
                created_at=now,
            )
        )
    uow.collect(ShopCreated(shop_id=shop.id, slug=slug))
    if commit:
        uow.commit()
    return shop


def get_shop(session: Session, *, shop_id: int) -> Shop:
    shop = session.get(Shop, shop_id)
    if shop is None:
        raise NotFound("shop not found")
    return shop


def get_shop_by_slug(session: Session, *, slug: str) -> Shop:
    shop = session.scalar(select(Shop).where(Shop.slug == slug.strip().lower()))
    if shop is None:
        raise NotFound(f"unknown shop {slug!r}", key="errors.unknown_shop", slug=slug)
    return shop


def list_shops(session: Session, *, limit: int | None = None) -> list[Shop]:
    return list(session.scalars(select(Shop).order_by(Shop.id).limit(limit)))


def count_shops(session: Session) -> int:
    return session.scalar(select(func.count(Shop.id))) or 0


def list_teams(session: Session, *, shop_id: int) -> list[Team]:
    return list(
        session.scalars(
            select(Team).where(Team.shop_id == shop_id).order_by(Team.sort_order, Team.id)
        )
    )


def get_team(session: Session, *, shop_id: int, team_id: int) -> Team:
    team = session.scalar(select(Team).where(Team.shop_id == shop_id, Team.id == team_id))
    if team is None:
        raise NotFound("team not found")
    return team


def get_team_by_code(session: Session, *, shop_id: int, code: str) -> Team:
    team = session.scalar(select(Team).where(Team.shop_id == shop_id, Team.code == code))
    if team is None:
        raise NotFound(f"team {code!r} not found")
    return team


def lock_team(session: Session, *, shop_id: int, team_id: int) -> None:
    """Serialise work on one team's queue (routing) across threads and processes.

    A no-op UPDATE takes the row lock on PostgreSQL and the write lock on SQLite, where a
    SELECT … FOR UPDATE would lock nothing.
    """
    result = session.execute(
        update(Team)
        .where(Team.shop_id == shop_id, Team.id == team_id)
        .values(sort_order=Team.sort_order)
    )
    if getattr(result, "rowcount", 1) == 0:
        raise NotFound("team not found")
