"""Customers (buyers)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from kefu.crm.events import CustomerCreated
from kefu.crm.models import Customer
from kefu.errors import Conflict, Invalid, NotFound
from kefu.uow import UnitOfWork
from kefu.validation import clean_text

MAX_PAGE_SIZE = 200
# Few enough parameters for any database's IN list.
_CHUNK = 500


def create_customer(
    uow: UnitOfWork,
    *,
    shop_id: int,
    name: str = "",
    nickname: str = "",
    external_id: str | None = None,
    gender: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    city: str = "",
    vip_level: int = 0,
    commit: bool = True,
) -> Customer:
    """Record a buyer. ``commit=False`` lets a bulk caller (the demo) commit once."""
    if gender not in (None, "M", "F"):
        raise Invalid("gender must be M, F or empty", field="gender")
    if not 0 <= vip_level <= 10:
        raise Invalid("VIP level must be 0–10", field="vip_level")
    name = clean_text(name, field="name", max_length=60)
    nickname = clean_text(nickname, field="nickname", max_length=60)
    city = clean_text(city, field="city", max_length=40)
    if phone is not None:
        phone = clean_text(phone, field="phone", max_length=20)
    if email is not None:
        email = clean_text(email, field="email", max_length=254)
    if external_id is not None:
        external_id = clean_text(external_id, field="external_id", min_length=1, max_length=80)
    session = uow.session
    if external_id is not None:
        taken = session.scalar(
            select(Customer.id).where(
                Customer.shop_id == shop_id, Customer.external_id == external_id
            )
        )
        if taken is not None:
            raise Conflict(f"customer {external_id!r} already exists", external_id=external_id)
    customer = Customer(
        shop_id=shop_id,
        external_id=external_id,
        name=name,
        nickname=nickname,
        gender=gender,
        phone=phone,
        email=email,
        city=city,
        vip_level=vip_level,
        created_at=uow.clock.now(),
    )
    session.add(customer)
    session.flush()
    uow.collect(CustomerCreated(shop_id=shop_id, customer_id=customer.id))
    if commit:
        uow.commit()
    return customer


def get_customer(session: Session, *, shop_id: int, customer_id: int) -> Customer:
    customer = session.scalar(
        select(Customer).where(Customer.shop_id == shop_id, Customer.id == customer_id)
    )
    if customer is None:
        raise NotFound("customer not found")
    return customer


def list_customers(
    session: Session, *, shop_id: int, search: str = "", limit: int = 50, offset: int = 0
) -> list[Customer]:
    query = select(Customer).where(Customer.shop_id == shop_id)
    search = clean_text(search, field="q", max_length=60)
    if search:
        pattern = f"%{search}%"
        query = query.where(
            or_(
                Customer.name.like(pattern),
                Customer.nickname.like(pattern),
                Customer.phone.like(pattern),
                Customer.external_id.like(pattern),
            )
        )
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    return list(session.scalars(query.order_by(Customer.id).limit(limit).offset(max(0, offset))))


def count_customers(session: Session, *, shop_id: int) -> int:
    return session.scalar(select(func.count(Customer.id)).where(Customer.shop_id == shop_id)) or 0


def title_of(customer: Customer) -> str | None:
    """先生 or 女士 after the buyer's surname, when both their name and gender are known."""
    if customer.name and customer.gender in ("M", "F"):
        return "先生" if customer.gender == "M" else "女士"
    return None


def salutation(customer: Customer) -> str:
    """How an agent addresses the buyer (seed 002): surname + 先生/女士, else the nickname."""
    title = title_of(customer)
    if title is not None:
        return customer.name[0] + title
    return customer.nickname or customer.name or "亲"


def customers_by_id(session: Session, *, shop_id: int, ids: list[int]) -> dict[int, Customer]:
    if not ids:
        return {}
    query = select(Customer).where(Customer.shop_id == shop_id, Customer.id.in_(set(ids)))
    return {customer.id: customer for customer in session.scalars(query)}


class ExternalBuyer(NamedTuple):
    """A buyer as the shop's own system names them (by its own id)."""

    name: str = ""
    phone: str | None = None


def customers_by_external_id(
    uow: UnitOfWork, *, shop_id: int, buyers: Mapping[str, ExternalBuyer]
) -> dict[str, Customer]:
    """The shop's customers with these external ids, creating those not known yet.

    For bulk callers (order imports): one query per 500 ids and one insert for the new
    ones, whatever the number. Known customers are left as they are. Nothing is committed.
    """
    cleaned: dict[str, ExternalBuyer] = {}
    for external_id, buyer in buyers.items():
        key = clean_text(external_id, field="external_id", min_length=1, max_length=80)
        cleaned[key] = ExternalBuyer(
            name=clean_text(buyer.name, field="name", max_length=60),
            phone=None
            if buyer.phone is None
            else clean_text(buyer.phone, field="phone", max_length=20) or None,
        )
    session = uow.session
    found: dict[str, Customer] = {}
    keys = list(cleaned)
    for start in range(0, len(keys), _CHUNK):
        query = select(Customer).where(
            Customer.shop_id == shop_id, Customer.external_id.in_(keys[start : start + _CHUNK])
        )
        found.update({c.external_id: c for c in session.scalars(query) if c.external_id})
    now = uow.clock.now()
    new = [
        Customer(
            shop_id=shop_id,
            external_id=key,
            name=buyer.name,
            nickname="",
            gender=None,
            phone=buyer.phone,
            email=None,
            city="",
            vip_level=0,
            created_at=now,
        )
        for key, buyer in cleaned.items()
        if key not in found
    ]
    if new:
        session.add_all(new)
        session.flush()
        for customer in new:
            uow.collect(CustomerCreated(shop_id=shop_id, customer_id=customer.id))
            found[customer.external_id or ""] = customer
    return found
