"""Reading the demo's tickets back, for the demo's ticket tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from kefu.tickets import service as tickets
from kefu.uow import UnitOfWork

UowFactory = Callable[[], UnitOfWork]


def rows_of(uow_factory: UowFactory, shop_id: int, now: datetime) -> list[tickets.TicketRow]:
    """Every ticket of the shop as the list shows it, by number."""
    with uow_factory() as uow:
        rows = tickets.list_tickets(
            uow.session, shop_id=shop_id, filter=tickets.TicketFilter(), viewer_agent_id=None,
            now=now, sort="-created", limit=100,
        )  # fmt: skip
    return sorted(rows, key=lambda row: row.number)


def titled(rows: list[tickets.TicketRow], prefix: str) -> tickets.TicketRow:
    """The one ticket whose title starts so."""
    found = [row for row in rows if row.title.startswith(prefix)]
    assert len(found) == 1, (prefix, [row.title for row in rows])
    return found[0]
