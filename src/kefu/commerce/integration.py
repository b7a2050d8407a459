"""How the shop's order system connects: the webhook signing secret and the shop's
shipping promise (发货时效), one CommerceSettings row per shop, made on first need."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.commerce.models import CommerceSettings
from kefu.commerce.queries import DEFAULT_SHIPS_WITHIN_HOURS
from kefu.errors import Invalid
from kefu.uow import UnitOfWork

MAX_SHIPS_WITHIN_HOURS = 720  # 30 days


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


def webhook_secret(session: Session, *, shop_id: int) -> str | None:
    """The key the shop's webhooks are signed with; None before the owner first needs one
    (a webhook then cannot be verified, and is refused)."""
    return session.scalar(
        select(CommerceSettings.webhook_secret).where(CommerceSettings.shop_id == shop_id)
    )


def commerce_settings(uow: UnitOfWork, *, shop_id: int) -> CommerceSettings:
    """The shop's settings, created (with a new secret) and committed the first time."""
    row = uow.session.get(CommerceSettings, shop_id)
    if row is None:
        row = CommerceSettings(
            shop_id=shop_id,
            webhook_secret=_new_secret(),
            ships_within_hours=DEFAULT_SHIPS_WITHIN_HOURS,
            updated_at=uow.clock.now(),
        )
        uow.session.add(row)
        uow.commit()
    return row


def rotate_webhook_secret(uow: UnitOfWork, *, shop_id: int) -> CommerceSettings:
    """Replace the secret: webhooks signed with the old one are refused from now on."""
    row = commerce_settings(uow, shop_id=shop_id)
    row.webhook_secret = _new_secret()
    row.updated_at = uow.clock.now()
    uow.commit()
    return row


def update_commerce_settings(
    uow: UnitOfWork, *, shop_id: int, ships_within_hours: int
) -> CommerceSettings:
    if isinstance(ships_within_hours, bool) or not (
        1 <= ships_within_hours <= MAX_SHIPS_WITHIN_HOURS
    ):
        raise Invalid(
            f"ships within must be 1–{MAX_SHIPS_WITHIN_HOURS} hours", field="ships_within_hours"
        )
    row = commerce_settings(uow, shop_id=shop_id)
    if row.ships_within_hours != ships_within_hours:
        row.ships_within_hours = ships_within_hours
        row.updated_at = uow.clock.now()
        uow.commit()
    return row
