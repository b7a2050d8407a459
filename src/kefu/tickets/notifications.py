"""Notifications for staff (通知): a mention, a ticket given to them, an SLA warning or breach,
an escalation, a handover to acknowledge — shown live in the page header and listed.

:func:`notify` is called inside other writes (a comment, an assignment, the SLA job …) and
never commits itself: the notification exists exactly when the change that caused it does,
and its :class:`NotificationCreated` goes out after that commit.

The text is worded once, when written, in the language the agent reads the desk in (their
own choice, else the shop's), so the list reads the same tomorrow whatever changes later.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kefu.accounts.models import Agent, Role
from kefu.db import MAX_ID
from kefu.errors import Invalid, NotFound
from kefu.shops import service as shops
from kefu.tickets.events import NotificationCreated
from kefu.tickets.models import Notification, NotificationKind
from kefu.uow import UnitOfWork

MAX_TEXT_LENGTH: Final = 300  # the column
MAX_LINK_LENGTH: Final = 200
MAX_LIST: Final = 200
MAX_MARK: Final = 500
# The language a notification falls back to when neither the agent's nor the shop's is
# among those given: the product is Chinese first.
FALLBACK_LOCALE: Final = "zh-CN"


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
    """One notification per active agent of the shop among ``agent_ids`` (repeats count
    once; deactivated agents and ids of another shop are skipped: nobody reads those).

    ``text`` is a plain string, or the same words per locale (``{"zh-CN": …, "en": …}``)
    picked by the agent's locale, else the shop's. Does not commit.
    """
    notification_kind = NotificationKind(kind)
    wanted = [agent_id for agent_id in dict.fromkeys(agent_ids) if _is_id(agent_id)]
    if not wanted:
        return []
    session = uow.session
    agents = {
        agent.id: agent
        for agent in session.scalars(
            select(Agent).where(
                Agent.shop_id == shop_id, Agent.id.in_(wanted), Agent.is_active.is_(True)
            )
        )
    }
    if not agents:
        return []
    shop_locale = shops.get_shop(session, shop_id=shop_id).locale
    now = uow.clock.now()
    rows = [
        Notification(
            shop_id=shop_id,
            agent_id=agent_id,
            kind=notification_kind,
            text=_short(_worded(text, agents[agent_id].locale, shop_locale), MAX_TEXT_LENGTH),
            link=link[:MAX_LINK_LENGTH],
            ticket_id=ticket_id,
            handover_id=handover_id,
            created_at=now,
        )
        for agent_id in wanted
        if agent_id in agents
    ]
    session.add_all(rows)
    session.flush()
    for row in rows:
        uow.collect(
            NotificationCreated(
                shop_id=shop_id,
                notification_id=row.id,
                agent_id=row.agent_id,
                kind=row.kind.value,
                text=row.text,
                link=row.link,
            )
        )
    return rows


def list_notifications(
    session: Session, *, shop_id: int, agent_id: int, unread_only: bool = False, limit: int = 50
) -> list[Notification]:
    """The agent's notifications, newest first."""
    query = select(Notification).where(
        Notification.shop_id == shop_id, Notification.agent_id == agent_id
    )
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    limit = max(1, min(limit, MAX_LIST))
    return list(session.scalars(query.order_by(Notification.id.desc()).limit(limit)))


def unread_count(session: Session, *, shop_id: int, agent_id: int) -> int:
    return (
        session.scalar(
            select(func.count(Notification.id)).where(
                Notification.shop_id == shop_id,
                Notification.agent_id == agent_id,
                Notification.read_at.is_(None),
            )
        )
        or 0
    )


def mark_read(
    uow: UnitOfWork,
    *,
    shop_id: int,
    agent_id: int,
    notification_ids: Sequence[int] | None = None,
    commit: bool = True,
) -> int:
    """Mark the agent's unread notifications read (these ids, or all when None); returns
    how many changed (one already read counts for nothing). An id that is not one of the
    agent's own — a colleague's, another shop's, or none at all — is NotFound, and nothing
    is marked: an agent only ever reads their own, and ids reveal nothing."""
    query = update(Notification).where(
        Notification.shop_id == shop_id,
        Notification.agent_id == agent_id,
        Notification.read_at.is_(None),
    )
    if notification_ids is not None:
        if isinstance(notification_ids, str | bytes):
            raise Invalid("notification ids must be a list", field="ids")
        ids = list(dict.fromkeys(notification_ids))
        if len(ids) > MAX_MARK:
            raise Invalid(
                f"at most {MAX_MARK} notifications at once (got {len(ids)})",
                field="ids",
                key="errors.tickets.too_many_notifications",
                limit=MAX_MARK,
            )
        if not ids:
            return 0
        own = set(
            uow.session.scalars(
                select(Notification.id).where(
                    Notification.shop_id == shop_id,
                    Notification.agent_id == agent_id,
                    Notification.id.in_([i for i in ids if _is_id(i)]),
                )
            )
        )
        if len(own) < len(ids):
            raise NotFound("notification not found", key="errors.tickets.notification_not_found")
        query = query.where(Notification.id.in_(ids))
    result = uow.session.execute(
        query.values(read_at=uow.clock.now()).execution_options(synchronize_session=False)
    )
    marked = int(getattr(result, "rowcount", 0) or 0)
    if commit:
        uow.commit()
    return marked


def supervisors_of(session: Session, *, shop_id: int) -> list[int]:
    """The shop's active supervisors and owners (who hear of breaches and flagged items),
    supervisors first: they run the floor; the owner is told too, not instead."""
    rows = session.execute(
        select(Agent.id, Agent.role).where(
            Agent.shop_id == shop_id,
            Agent.is_active.is_(True),
            Agent.role.in_([Role.SUPERVISOR, Role.OWNER]),
        )
    ).all()
    return [
        agent_id for agent_id, _ in sorted(rows, key=lambda row: (row[1] is Role.OWNER, row[0]))
    ]


# --- helpers -------------------------------------------------------------------------------


def _worded(text: str | Mapping[str, str], agent_locale: str | None, shop_locale: str) -> str:
    if isinstance(text, str):
        return text
    for locale in (agent_locale, shop_locale, FALLBACK_LOCALE):
        if locale and text.get(locale):
            return text[locale]
        # "zh" or "zh-TW" read the Chinese text; "en-GB" the English one.
        if locale:
            language = locale.split("-")[0].lower()
            for key, value in text.items():
                if value and key.split("-")[0].lower() == language:
                    return value
    return next((value for value in text.values() if value), "")


def _short(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID
