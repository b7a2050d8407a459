"""Linking conversations, orders and files to a ticket: only the shop's own, once each, at
most 20 files, every link and unlink in the history."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from kefu.commerce.models import Order
from kefu.errors import Conflict, Invalid
from kefu.events import EventBus
from kefu.tickets import service as tickets
from kefu.tickets.events import TicketUpdated
from kefu.tickets.models import CommentKind, TicketComment, TicketStatus
from tests.factories import UowFactory
from tests.tickets.conftest import (
    BuyerChat,
    Elsewhere,
    TicketStaff,
    fresh_ticket,
    history_fields,
    make_ticket,
    snapshot,
    upload,
)


def test_linking_a_chat_and_an_order_and_unlinking_them(
    uow_factory: UowFactory, db: Engine, bus: EventBus, staff: TicketStaff,
    buyer_chat: BuyerChat, paid_order: Order,
) -> None:  # fmt: skip
    ticket = make_ticket(uow_factory, staff)
    shop_id, agent_id = staff.shop_id, staff.agent.id
    with bus.capture() as events:
        for _ in range(2):  # the second time changes nothing
            with uow_factory() as uow:
                tickets.link_conversation(
                    uow, shop_id=shop_id, ticket_id=ticket.id,
                    conversation_id=buyer_chat.conversation_id, actor_agent_id=agent_id,
                )  # fmt: skip
            with uow_factory() as uow:
                tickets.link_order(
                    uow, shop_id=shop_id, ticket_id=ticket.id, order_id=paid_order.id,
                    actor_agent_id=agent_id,
                )  # fmt: skip
    # A ticket nobody had asked for is now the buyer's.
    assert fresh_ticket(db, ticket.id).requester_customer_id == buyer_chat.customer_id
    with uow_factory() as uow:
        detail = tickets.ticket_detail(uow.session, shop_id=shop_id, ticket_id=ticket.id)
    assert [(c.id, c.customer_name) for c in detail.conversations] == [
        (buyer_chat.conversation_id, "王女士")
    ]
    assert detail.conversations[0].preview == "都三天了还没人处理，太过分了！！我要投诉"
    assert [(o.order_no, o.status) for o in detail.orders] == [(paid_order.order_no, "paid")]
    assert [e.changed for e in events if isinstance(e, TicketUpdated)] == [
        ("conversations", "requester"),
        ("orders",),
    ]
    with uow_factory() as uow:
        tickets.unlink_conversation(
            uow, shop_id=shop_id, ticket_id=ticket.id,
            conversation_id=buyer_chat.conversation_id, actor_agent_id=agent_id,
        )  # fmt: skip
        tickets.unlink_order(
            uow, shop_id=shop_id, ticket_id=ticket.id, order_id=paid_order.id,
            actor_agent_id=agent_id,
        )  # fmt: skip
    chat = f"#{buyer_chat.conversation_id} 王女士"
    assert history_fields(db, ticket.id)[1:] == [
        ("conversation", "", chat),
        ("requester", "", "王女士"),
        ("order", "", paid_order.order_no),
        ("conversation", chat, ""),
        ("order", paid_order.order_no, ""),
    ]


def test_another_shops_chat_or_order_is_never_linked(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff, elsewhere: Elsewhere
) -> None:
    ticket = make_ticket(uow_factory, staff)
    before = snapshot(db)
    with pytest.raises(Invalid) as chat, uow_factory() as uow:
        tickets.link_conversation(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id,
            conversation_id=elsewhere.conversation_id, actor_agent_id=staff.agent.id,
        )  # fmt: skip
    assert chat.value.key == "errors.tickets.conversation_not_found"
    with pytest.raises(Invalid) as order, uow_factory() as uow:
        tickets.link_order(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, order_id=elsewhere.order_id,
            actor_agent_id=staff.agent.id,
        )  # fmt: skip
    assert order.value.key == "errors.tickets.order_not_found"
    assert snapshot(db) == before


def test_unlinking_what_is_not_linked_is_refused(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff, buyer_chat: BuyerChat
) -> None:
    ticket = make_ticket(uow_factory, staff)
    with pytest.raises(Invalid) as refused, uow_factory() as uow:
        tickets.unlink_conversation(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id,
            conversation_id=buyer_chat.conversation_id, actor_agent_id=staff.agent.id,
        )  # fmt: skip
    assert refused.value.key == "errors.tickets.not_linked"


def test_a_closed_ticket_takes_no_new_links(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff, paid_order: Order
) -> None:
    ticket = make_ticket(uow_factory, staff)
    with uow_factory() as uow:
        tickets.change_status(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, status=TicketStatus.CLOSED,
            actor_agent_id=staff.agent.id,
        )  # fmt: skip
    before = snapshot(db)
    with pytest.raises(Conflict), uow_factory() as uow:
        tickets.link_order(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, order_id=paid_order.id,
            actor_agent_id=staff.agent.id,
        )  # fmt: skip
    assert snapshot(db) == before


def test_at_most_twenty_files_all_or_none(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff, tmp_path: Path
) -> None:
    photos = [
        upload(uow_factory, staff.shop_id, tmp_path, agent_id=staff.agent.id, name=f"{i}.png")
        for i in range(21)
    ]
    ticket = make_ticket(uow_factory, staff, attachment_ids=photos[:19])

    def attach(ids: list[int]) -> None:
        with uow_factory() as uow:
            tickets.add_attachments(
                uow, shop_id=staff.shop_id, ticket_id=ticket.id, attachment_ids=ids,
                actor_agent_id=staff.agent.id,
            )  # fmt: skip

    before = snapshot(db)
    with pytest.raises(Invalid) as refused:
        attach(photos[19:21])
    assert refused.value.key == "errors.tickets.too_many_attachments"
    assert refused.value.params == {"limit": 20, "existing": 19}
    assert snapshot(db) == before
    attach([photos[0], photos[19]])  # one already there: only the new one counts
    assert history_fields(db, ticket.id)[-1] == ("attachment", "", "19.png")
    with uow_factory() as uow:
        detail = tickets.ticket_detail(uow.session, shop_id=staff.shop_id, ticket_id=ticket.id)
    assert len(detail.attachments) == 20
    assert detail.attachments[-1].url.startswith("/uploads/")


def test_a_comments_files_may_join_a_closed_ticket(
    uow_factory: UowFactory, db: Engine, staff: TicketStaff, tmp_path: Path
) -> None:
    """A note written after closing (“退款已到账”) may carry its screenshot."""
    ticket = make_ticket(uow_factory, staff)
    photo = upload(uow_factory, staff.shop_id, tmp_path, agent_id=staff.agent.id)
    with uow_factory() as uow:
        tickets.change_status(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, status=TicketStatus.CLOSED,
            actor_agent_id=staff.agent.id, commit=False,
        )  # fmt: skip
        comment = TicketComment(
            shop_id=staff.shop_id, ticket_id=ticket.id, kind=CommentKind.NOTE,
            author_agent_id=staff.agent.id, body="退款已到账", created_at=uow.clock.now(),
        )  # fmt: skip
        uow.session.add(comment)
        uow.session.flush()
        tickets.add_attachments(
            uow, shop_id=staff.shop_id, ticket_id=ticket.id, attachment_ids=[photo],
            actor_agent_id=staff.agent.id, comment_id=comment.id,
        )  # fmt: skip
    with uow_factory() as uow:
        detail = tickets.ticket_detail(uow.session, shop_id=staff.shop_id, ticket_id=ticket.id)
    assert detail.comments[0].attachment_ids == [photo]
    assert detail.attachments[0].comment_id == detail.comments[0].id
