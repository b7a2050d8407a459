"""``/ws/staff``: the staff's pages hear tickets change and their own notifications arrive,
and nothing else — not the shop's chats, not a colleague's notifications — and opening
one never makes the agent available for chats.

To show that a frame did *not* arrive, a test sends ``ping`` and reads up to the ``pong``
(frames are delivered in order per connection; see test_sockets.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import Engine, select
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from kefu.accounts.models import Agent
from kefu.events import EventBus
from kefu.tickets import comments, merging
from kefu.tickets import service as tickets
from kefu.tickets.events import (
    NotificationCreated,
    TicketCommented,
    TicketCreated,
    TicketUpdated,
)
from kefu.tickets.models import CommentKind, TicketType
from tests.realtime.conftest import Desk, receive_until
from tests.realtime.test_sockets import start_conversation, until_pong


@contextmanager
def staff_socket(desk: Desk, email: str | None = None) -> Iterator[WebSocketTestSession]:
    with desk.client.websocket_connect("/ws/staff", headers=desk.login(email)) as ws:
        receive_until(ws, "ready")
        yield ws


def _created(desk: Desk, ticket_id: int = 7, number: int = 1001) -> TicketCreated:
    return TicketCreated(
        shop_id=desk.staff.shop.id,
        ticket_id=ticket_id,
        number=number,
        type="complaint",
        status="new",
        team_id=None,
        assignee_id=None,
        actor_agent_id=desk.staff.agent.id,
    )


def _notification(
    agent_id: int, shop_id: int, text: str = "主管在工单 #1001 中提到了你"
) -> NotificationCreated:
    return NotificationCreated(
        shop_id=shop_id,
        notification_id=3,
        agent_id=agent_id,
        kind="mention",
        text=text,
        link="/tickets/7",
    )


def test_a_ticket_change_reaches_every_staff_page_of_the_shop_as_a_ticket_frame(
    desk: Desk, bus: EventBus
) -> None:
    shop_id = desk.staff.shop.id
    with staff_socket(desk) as agent, staff_socket(desk, desk.staff.supervisor.email) as lead:
        bus.dispatch([_created(desk)])
        assert receive_until(agent, "ticket") == {
            "type": "ticket",
            "ticket_id": 7,
            "number": 1001,
            "changed": ["created"],
        }
        assert receive_until(lead, "ticket")["number"] == 1001
        bus.dispatch(
            [
                TicketUpdated(
                    shop_id=shop_id,
                    ticket_id=7,
                    number=1001,
                    changed=("status", "assignee"),
                    status="open",
                    team_id=None,
                    assignee_id=desk.staff.agent.id,
                    actor_agent_id=desk.staff.supervisor.id,
                ),
                TicketCommented(
                    shop_id=shop_id,
                    ticket_id=7,
                    number=1001,
                    comment_id=1,
                    kind="note",
                    author_agent_id=desk.staff.supervisor.id,
                ),
            ]
        )
        assert receive_until(agent, "ticket")["changed"] == ["status", "assignee"]
        assert receive_until(agent, "ticket")["changed"] == ["comment"]


def test_another_shops_staff_hear_nothing_of_its_tickets(desk: Desk, bus: EventBus) -> None:
    with staff_socket(desk) as ws:
        bus.dispatch([replace(_created(desk), shop_id=999)])
        assert until_pong(ws) == []


def test_the_staff_socket_carries_no_chat_frames(desk: Desk) -> None:
    """A supervisor's ticket page must not receive every buyer's lines: only the desk,
    filtered by team, does."""
    with staff_socket(desk, desk.staff.supervisor.email) as ws:
        start_conversation(desk)
        assert until_pong(ws) == []


def test_a_notification_reaches_only_its_agents_pages(desk: Desk, bus: EventBus) -> None:
    shop_id = desk.staff.shop.id
    with (
        staff_socket(desk) as mine,
        staff_socket(desk) as my_other_tab,
        staff_socket(desk, desk.staff.supervisor.email) as colleague,
    ):
        bus.dispatch([_notification(desk.staff.agent.id, shop_id)])
        frame = receive_until(mine, "notification")
        assert frame == {
            "type": "notification",
            "id": 3,
            "kind": "mention",
            "text": "主管在工单 #1001 中提到了你",
            "link": "/tickets/7",
        }
        assert receive_until(my_other_tab, "notification")["id"] == 3
        assert until_pong(colleague) == []


def test_a_notification_neither_reaches_nor_disturbs_the_desk(desk: Desk, bus: EventBus) -> None:
    """The desk socket shares the agent's channel; a notification there is not a reason to
    check its session again, and the desk page never sees it (the bell's socket does)."""
    with desk.client.websocket_connect("/ws/desk", headers=desk.login()) as ws:
        receive_until(ws, "ready")
        bus.dispatch([_notification(desk.staff.agent.id, desk.staff.shop.id)])
        assert [f["type"] for f in until_pong(ws) if f["type"] != "presence"] == []


def test_opening_staff_pages_does_not_make_the_agent_available_for_chats(
    desk: Desk, db: Engine
) -> None:
    with staff_socket(desk), db.connect() as connection:
        seen = connection.scalar(
            select(Agent.presence_seen_at).where(Agent.id == desk.staff.agent.id)
        )
    assert seen is None


def test_the_staff_socket_only_takes_ping(desk: Desk) -> None:
    with staff_socket(desk) as ws:
        ws.send_json({"type": "send", "conversation_id": 1, "client_msg_id": "x", "body": "hi"})
        assert receive_until(ws, "error")["code"] == "bad_frame"
        ws.send_text("not json")
        assert receive_until(ws, "error")["code"] == "bad_frame"
        ws.send_json({"type": "ping"})
        assert receive_until(ws, "pong") == {"type": "pong"}


def _refused(ws: WebSocketTestSession) -> tuple[dict[str, Any], int]:
    error: dict[str, Any] = ws.receive_json()
    with pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_json()
    return error, closed.value.code


def test_a_staff_socket_needs_a_session_from_its_own_origin(desk: Desk) -> None:
    with desk.client.websocket_connect("/ws/staff") as ws:
        error, code = _refused(ws)
    assert (error["code"], code) == ("unauthenticated", 4401)
    evil = {**desk.login(), "origin": "https://evil.example"}
    with desk.client.websocket_connect("/ws/staff", headers=evil) as ws:
        error, code = _refused(ws)
    assert (error["code"], code) == ("unauthenticated", 4401)
    own = {**desk.login(), "origin": "http://testserver"}
    with desk.client.websocket_connect("/ws/staff", headers=own) as ws:
        ready = receive_until(ws, "ready")
    assert ready["agent"] == {"id": desk.staff.agent.id, "name": desk.staff.agent.display_name}


def test_an_open_staff_page_is_closed_when_its_session_is_logged_out(desk: Desk) -> None:
    headers = desk.login()
    with desk.client.websocket_connect("/ws/staff", headers=headers) as ws:
        receive_until(ws, "ready")
        logged_out = desk.client.post("/api/v1/auth/logout", headers=headers)
        assert logged_out.status_code == 204, logged_out.text
        assert receive_until(ws, "error")["code"] in ("unauthenticated", "session_expired")
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4401


# --- through the real services ------------------------------------------------------------


def _ticket(desk: Desk, title: str) -> int:
    with desk.uow_factory() as uow:
        return tickets.create_ticket(
            uow, shop_id=desk.staff.shop.id, type=TicketType.OTHER, title=title,
            actor_agent_id=desk.staff.agent.id,
        ).id  # fmt: skip


def test_creating_and_merging_tickets_is_heard_with_their_numbers(desk: Desk) -> None:
    with staff_socket(desk, desk.staff.supervisor.email) as ws:
        first = _ticket(desk, "大衣破洞")
        assert receive_until(ws, "ticket") == {
            "type": "ticket", "ticket_id": first, "number": 1001, "changed": ["created"],
        }  # fmt: skip
        second = _ticket(desk, "大衣破洞（重复）")
        receive_until(ws, "ticket")
        with desk.uow_factory() as uow:
            merging.merge_tickets(
                uow, shop_id=desk.staff.shop.id, source_id=second, target_id=first,
                actor_agent_id=desk.staff.supervisor.id,
            )  # fmt: skip
        heard = {
            (f["number"], tuple(f["changed"])) for f in until_pong(ws) if f["type"] == "ticket"
        }
    assert {(1002, ("merged",)), (1001, ("merged",))} <= heard


def test_a_mention_rings_the_mentioned_agents_bell(desk: Desk) -> None:
    ticket_id = _ticket(desk, "要主管看看")
    with staff_socket(desk, desk.staff.supervisor.email) as lead, staff_socket(desk) as author:
        with desk.uow_factory() as uow:
            comments.add_comment(
                uow, shop_id=desk.staff.shop.id, ticket_id=ticket_id, kind=CommentKind.NOTE,
                body="@主管 这个要不要退款？", author_agent_id=desk.staff.agent.id,
            )  # fmt: skip
        frame = receive_until(lead, "notification")
        assert frame["kind"] == "mention" and "#1001" in frame["text"]
        assert frame["link"] == f"/tickets/{ticket_id}"
        assert [f["type"] for f in until_pong(author)] == ["ticket"]  # the note, not a bell
