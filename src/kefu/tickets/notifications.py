"""Notifications for staff (placeholder; helper B replaces this module)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kefu.tickets.models import Notification, NotificationKind
from kefu.uow import UnitOfWork


def notify(
    uow: UnitOfWork,
    *,
    shop_id: int,
    agent_ids: Iterable[int],
    kind: NotificationKind,
    text: str | Mapping[str, str],
    link: str = "",
    ticket_id: int | None = None,
    handover_id: int | None = None,
) -> list[Notification]:
    return []
