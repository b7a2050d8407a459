"""The two websockets as clients use them (docs/REALTIME.md): stored once, caught up without
gaps or doubles, typing and receipts, private notes, and every kind of bad input answered
with an error frame on a connection that keeps working.

To show that a frame did *not* arrive, a test sends ``ping`` and reads up to the ``pong``:
frames are delivered in order per connection, and whatever a committed change published was
queued before the ping was read.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from kefu.accounts.models import Role
from kefu.conversations.models import Message
from kefu.realtime.ratelimit import Limits
from kefu.realtime.runtime import BUYER_BURST, BUYER_RATE
from tests.factories import make_agent, make_shop_with_staff
from tests.realtime.conftest import Desk, receive_until


def until_pong(ws: WebSocketTestSession) -> list[dict[str, Any]]:
    """Every frame that arrives before the answer to a ping (the ping's pong excluded)."""
    ws.send_json({"type": "ping"})
    frames = []
    for _ in range(50):
        frame: dict[str, Any] = ws.receive_json()
        if frame["type"] == "pong":
            return frames
        frames.append(frame)
    raise AssertionError("no pong")


def stored(db: Engine, conversation_id: int | None = None) -> list[tuple[int, str, str]]:
    query = select(Message.seq, Message.client_msg_id, Message.body).order_by(
        Message.conversation_id, Message.seq
    )
    if conversation_id is not None:
        query = query.where(Message.conversation_id == conversation_id)
    with db.connect() as connection:
        return [tuple(row) for row in connection.execute(query)]  # type: ignore[misc]


def message_count(db: Engine) -> int:
    with db.connect() as connection:
        return connection.scalar(select(func.count(Message.id))) or 0


@contextmanager
def buyer_socket(desk: Desk, token: str) -> Iterator[WebSocketTestSession]:
    with desk.client.websocket_connect(f"/ws/widget?token={token}") as ws:
        receive_until(ws, "ready")
        yield ws


@contextmanager
def desk_socket(desk: Desk, email: str | None = None) -> Iterator[WebSocketTestSession]:
    with desk.client.websocket_connect("/ws/desk", headers=desk.login(email)) as ws:
        receive_until(ws, "ready")
        yield ws


def acked(ws: WebSocketTestSession, client_msg_id: str) -> dict[str, Any]:
    """The stored message of an ``ack``; an error frame instead fails the test at once
    (rather than waiting forever for an ack that will not come)."""
    for _ in range(20):
        frame: dict[str, Any] = ws.receive_json()
        if frame["type"] == "error":
            raise AssertionError(f"{client_msg_id}: {frame}")
        if frame["type"] == "ack":
            assert frame["client_msg_id"] == client_msg_id, frame
            message: dict[str, Any] = frame["message"]
            return message
    raise AssertionError(f"no ack for {client_msg_id}")


def buyer_says(ws: WebSocketTestSession, client_msg_id: str, body: str) -> dict[str, Any]:
    ws.send_json({"type": "send", "client_msg_id": client_msg_id, "body": body})
    return acked(ws, client_msg_id)


def agent_says(
    ws: WebSocketTestSession, conversation_id: int, client_msg_id: str, body: str, **extra: Any
) -> dict[str, Any]:
    ws.send_json(
        {
            "type": "send",
            "conversation_id": conversation_id,
            "client_msg_id": client_msg_id,
            "body": body,
            **extra,
        }
    )
    return acked(ws, client_msg_id)


def error_after(ws: WebSocketTestSession, frame: Any) -> dict[str, Any]:
    if isinstance(frame, bytes):
        ws.send_bytes(frame)
    elif isinstance(frame, str):
        ws.send_text(frame)
    else:
        ws.send_json(frame)
    return receive_until(ws, "error")


def start_conversation(desk: Desk) -> tuple[str, int]:
    """A buyer who has written once (over REST): their token and conversation id."""
    token = desk.buyer()["visitor_token"]
    response = desk.client.post(
        "/api/v1/widget/messages",
        json={"client_msg_id": "c-0", "body": "你好"},
        headers={"X-Visitor-Token": token},
    )
    assert response.status_code == 201
    return token, response.json()["conversation_id"]


# --- stored once, caught up without gaps ------------------------------------------------


def test_an_ack_carries_the_stored_id_and_seq(desk: Desk, db: Engine) -> None:
    token = desk.buyer()["visitor_token"]
    with buyer_socket(desk, token) as ws:
        first = buyer_says(ws, "c-1", "有M码吗?")
        second = buyer_says(ws, "c-2", "蓝色")
    assert (first["seq"], second["seq"]) == (1, 2)
    assert first["id"] != second["id"]
    assert first["sender_type"] == "customer"
    assert stored(db) == [(1, "c-1", "有M码吗?"), (2, "c-2", "蓝色")]


def test_a_retry_over_the_socket_returns_the_same_message_and_stores_nothing_new(
    desk: Desk, db: Engine
) -> None:
    token = desk.buyer()["visitor_token"]
    with buyer_socket(desk, token) as ws:
        first = buyer_says(ws, "c-1", "有M码吗?")
        again = buyer_says(ws, "c-1", "有M码吗?")
    assert (again["id"], again["seq"]) == (first["id"], first["seq"])
    assert stored(db) == [(1, "c-1", "有M码吗?")]


def test_an_agent_retry_returns_the_same_message(desk: Desk, db: Engine) -> None:
    _, conversation_id = start_conversation(desk)
    with desk_socket(desk) as ws:
        first = agent_says(ws, conversation_id, "d-1", "在的")
        again = agent_says(ws, conversation_id, "d-1", "在的")
    assert (again["id"], again["seq"]) == (first["id"], 2)
    assert stored(db, conversation_id) == [(1, "c-0", "你好"), (2, "d-1", "在的")]


def test_a_client_id_reused_for_another_text_is_a_conflict(desk: Desk, db: Engine) -> None:
    token = desk.buyer()["visitor_token"]
    with buyer_socket(desk, token) as ws:
        buyer_says(ws, "c-1", "第一句")
        error = error_after(ws, {"type": "send", "client_msg_id": "c-1", "body": "别的"})
    assert (error["code"], error["client_msg_id"]) == ("conflict", "c-1")
    assert stored(db) == [(1, "c-1", "第一句")]


def test_sync_returns_exactly_the_missed_messages_in_order(desk: Desk) -> None:
    token, conversation_id = start_conversation(desk)
    with desk_socket(desk) as agent:
        for i in range(1, 5):
            agent_says(agent, conversation_id, f"d-{i}", f"回复{i}")
        agent.send_json({"type": "sync", "conversation_id": conversation_id, "after_seq": 2})
        desk_sync = receive_until(agent, "sync")
    assert [m["seq"] for m in desk_sync["messages"]] == [3, 4, 5]
    assert desk_sync["last_seq"] == 5
    with buyer_socket(desk, token) as ws:
        ws.send_json({"type": "sync", "after_seq": 3})
        reply = receive_until(ws, "sync")
    assert reply["conversation_id"] == conversation_id
    assert [(m["seq"], m["body"]) for m in reply["messages"]] == [(4, "回复3"), (5, "回复4")]
    assert reply["last_seq"] == 5


def test_a_reconnect_loses_nothing_and_doubles_nothing(desk: Desk, db: Engine) -> None:
    token = desk.buyer()["visitor_token"]
    with buyer_socket(desk, token) as ws:
        conversation_id = buyer_says(ws, "c-1", "在吗")["conversation_id"]
        buyer_says(ws, "c-2", "想问尺码")
        last_shown = 2
    # While the buyer is away (tunnel, closed laptop) the agent answers twice.
    with desk_socket(desk) as agent:
        agent_says(agent, conversation_id, "d-1", "在的")
        agent_says(agent, conversation_id, "d-2", "您身高多少?")
    with desk.client.websocket_connect(f"/ws/widget?token={token}") as ws:
        ready = receive_until(ws, "ready")
        assert (ready["conversation_id"], ready["last_seq"]) == (conversation_id, 4)
        # The outbox is resent (its ack had been lost) and the gap is filled.
        again = buyer_says(ws, "c-2", "想问尺码")
        assert again["seq"] == 2
        ws.send_json({"type": "sync", "after_seq": last_shown})
        caught_up = receive_until(ws, "sync")
    assert [(m["seq"], m["body"]) for m in caught_up["messages"]] == [
        (3, "在的"),
        (4, "您身高多少?"),
    ]
    assert stored(db, conversation_id) == [
        (1, "c-1", "在吗"),
        (2, "c-2", "想问尺码"),
        (3, "d-1", "在的"),
        (4, "d-2", "您身高多少?"),
    ]


def test_a_buyers_message_is_echoed_to_their_other_tab(desk: Desk) -> None:
    token = desk.buyer()["visitor_token"]
    with buyer_socket(desk, token) as tab1, buyer_socket(desk, token) as tab2:
        sent = buyer_says(tab1, "c-1", "两个标签页")
        echoed = receive_until(tab2, "message")
    assert echoed["message"]["id"] == sent["id"]


# --- live frames ----------------------------------------------------------------------------


def test_typing_from_the_buyer_reaches_the_desk(desk: Desk) -> None:
    token, conversation_id = start_conversation(desk)
    with desk_socket(desk) as agent, buyer_socket(desk, token) as ws:
        ws.send_json({"type": "typing"})
        typing = receive_until(agent, "typing")
    assert typing == {
        "type": "typing",
        "conversation_id": conversation_id,
        "sender_type": "customer",
    }


def test_typing_from_the_agent_reaches_the_buyer_with_the_agents_name(desk: Desk) -> None:
    token, conversation_id = start_conversation(desk)
    with desk_socket(desk) as agent, buyer_socket(desk, token) as ws:
        agent.send_json({"type": "typing", "conversation_id": conversation_id})
        typing = receive_until(ws, "typing")
    assert typing == {
        "type": "typing",
        "conversation_id": conversation_id,
        "sender_type": "agent",
        "name": desk.staff.agent.display_name,
    }


def test_typing_into_another_teams_conversation_reaches_no_buyer(desk: Desk) -> None:
    make_agent(
        desk.uow_factory,
        desk.staff.shop,
        email="after@live.test",
        name="售后小王",
        team_codes=("aftersale",),
    )
    token, conversation_id = start_conversation(desk)
    with desk_socket(desk, "after@live.test") as other, buyer_socket(desk, token) as ws:
        error = error_after(other, {"type": "typing", "conversation_id": conversation_id})
        assert error["code"] == "forbidden"
        assert [f for f in until_pong(ws) if f["type"] == "typing"] == []


def test_a_private_note_reaches_the_desk_but_never_the_buyer(desk: Desk) -> None:
    token, conversation_id = start_conversation(desk)
    with (
        desk_socket(desk, desk.staff.supervisor.email) as supervisor,
        desk_socket(desk) as agent,
        buyer_socket(desk, token) as ws,
    ):
        note = agent_says(agent, conversation_id, "n-1", "内部:老客户,优先处理", is_private=True)
        assert note["is_private"] is True
        seen = receive_until(supervisor, "message")
        assert seen["message"]["id"] == note["id"]
        assert seen["message"]["is_private"] is True
        assert seen["conversation"]["preview"] == ""  # a note is no preview for the list
        assert "老客户" not in json.dumps(until_pong(ws), ensure_ascii=False)
        reply = agent_says(agent, conversation_id, "d-1", "您好")
        assert receive_until(ws, "message")["message"]["id"] == reply["id"]
        ws.send_json({"type": "sync", "after_seq": 0})
        synced = receive_until(ws, "sync")
    assert [m["body"] for m in synced["messages"]] == ["你好", "您好"]


def test_read_and_delivered_receipts_reach_the_buyer_and_the_buyers_read_reaches_the_desk(
    desk: Desk,
) -> None:
    token, conversation_id = start_conversation(desk)
    with desk_socket(desk) as agent, buyer_socket(desk, token) as ws:
        buyer_says(ws, "c-1", "第二句")
        agent.send_json({"type": "delivered", "conversation_id": conversation_id, "seq": 2})
        delivered = receive_until(ws, "receipt")
        assert (delivered["shop_delivered_seq"], delivered["shop_read_seq"]) == (2, 0)
        agent.send_json({"type": "read", "conversation_id": conversation_id, "seq": 2})
        read = receive_until(ws, "receipt")
        assert read["conversation_id"] == conversation_id
        assert (read["shop_delivered_seq"], read["shop_read_seq"]) == (2, 2)
        agent_says(agent, conversation_id, "d-1", "好的")
        ws.send_json({"type": "read", "seq": 3})
        seen = receive_until(agent, "receipt")
        while seen["buyer_read_seq"] != 3:
            seen = receive_until(agent, "receipt")
        assert seen["conversation_id"] == conversation_id
        receive_until(ws, "receipt")  # the buyer's own read, echoed to their other tabs
        # Reading the same point again says nothing new.
        agent.send_json({"type": "read", "conversation_id": conversation_id, "seq": 2})
        assert [f for f in until_pong(ws) if f["type"] == "receipt"] == []


def test_presence_changes_reach_colleagues_desks(desk: Desk) -> None:
    with desk_socket(desk, desk.staff.supervisor.email) as supervisor:
        with desk_socket(desk) as agent:
            came = receive_until(supervisor, "presence")
            assert came == {
                "type": "presence",
                "agent_id": desk.staff.agent.id,
                "presence": "online",
            }
            agent.send_json({"type": "presence", "status": "away"})
            away = receive_until(supervisor, "presence")
            assert (away["agent_id"], away["presence"]) == (desk.staff.agent.id, "away")
        gone = receive_until(supervisor, "presence")
        assert (gone["agent_id"], gone["presence"]) == (desk.staff.agent.id, "offline")


def test_a_desk_sees_only_its_teams_conversations(desk: Desk) -> None:
    make_agent(
        desk.uow_factory,
        desk.staff.shop,
        email="after@live.test",
        name="售后小王",
        team_codes=("aftersale",),
    )
    token = desk.buyer()["visitor_token"]
    with (
        desk_socket(desk, "after@live.test") as aftersale,
        desk_socket(desk) as presale,
        buyer_socket(desk, token) as ws,
    ):
        sent = buyer_says(ws, "c-1", "售前问题")
        assert receive_until(presale, "message")["message"]["id"] == sent["id"]
        leaked = [f for f in until_pong(aftersale) if f["type"] in ("message", "conversation")]
        assert leaked == []


# --- bad input --------------------------------------------------------------------------------

BAD_FRAMES = {
    "not json": "{this is not json",
    "json but not an object": "[1, 2, 3]",
    "unknown type": {"type": "dance"},
    "no type": {"body": "hi"},
    "missing field": {"type": "send", "body": "hi"},
    "wrong field type": {"type": "sync", "after_seq": "3"},
    "negative seq": {"type": "sync", "after_seq": -1},
    "extra field": {"type": "ping", "admin": True},
    "binary": b"\x00\x01binary",
    "huge": json.dumps({"type": "ping", "pad": "x" * 70_000}),
    # 30,000 characters but 90,000 bytes: the limit is in bytes.
    "huge in bytes": json.dumps({"type": "ping", "pad": "好" * 30_000}, ensure_ascii=False),
}


@pytest.mark.parametrize("bad", BAD_FRAMES.values(), ids=BAD_FRAMES.keys())
def test_a_bad_frame_from_a_buyer_is_answered_and_the_socket_keeps_working(
    desk: Desk, db: Engine, bad: Any
) -> None:
    token = desk.buyer()["visitor_token"]
    with buyer_socket(desk, token) as ws:
        error = error_after(ws, bad)
        assert error["code"] == "bad_frame"
        assert error["message"]
        assert until_pong(ws) == []
        assert buyer_says(ws, "c-1", "还能发")["seq"] == 1
    assert message_count(db) == 1


AGENT_BAD_FRAMES = {
    **BAD_FRAMES,
    "missing conversation": {"type": "send", "client_msg_id": "d-1", "body": "hi"},
    "conversation id as text": {
        "type": "send",
        "conversation_id": "1",
        "client_msg_id": "d-1",
        "body": "hi",
    },
    "presence offline is not a choice here": {"type": "presence", "status": "invisible"},
}


@pytest.mark.parametrize("bad", AGENT_BAD_FRAMES.values(), ids=AGENT_BAD_FRAMES.keys())
def test_a_bad_frame_from_a_desk_is_answered_and_the_socket_keeps_working(
    desk: Desk, db: Engine, bad: Any
) -> None:
    with desk_socket(desk) as ws:
        error = error_after(ws, bad)
        assert error["code"] == "bad_frame"
        assert until_pong(ws) == []
    assert message_count(db) == 0


def test_a_bad_send_frame_names_its_client_id(desk: Desk) -> None:
    token = desk.buyer()["visitor_token"]
    with buyer_socket(desk, token) as ws:
        error = error_after(ws, {"type": "send", "client_msg_id": "c-7", "body": 5})
    assert (error["code"], error["client_msg_id"]) == ("bad_frame", "c-7")


@pytest.mark.parametrize("length", [5001, 20_001])
def test_a_message_over_5000_characters_is_invalid_with_its_client_id(
    desk: Desk, db: Engine, length: int
) -> None:
    token = desk.buyer()["visitor_token"]
    with buyer_socket(desk, token) as ws:
        error = error_after(ws, {"type": "send", "client_msg_id": "c-long", "body": "好" * length})
        assert error["client_msg_id"] == "c-long"
        if length == 5001:
            assert error["code"] == "invalid"
            assert "5000" in error["message"]
        else:
            assert error["code"] in ("invalid", "bad_frame")
        assert until_pong(ws) == []
    assert message_count(db) == 0


def test_an_empty_message_is_invalid(desk: Desk, db: Engine) -> None:
    token = desk.buyer()["visitor_token"]
    with buyer_socket(desk, token) as ws:
        error = error_after(ws, {"type": "send", "client_msg_id": "c-1", "body": "  "})
    assert (error["code"], error["client_msg_id"]) == ("invalid", "c-1")
    assert message_count(db) == 0


def test_an_unknown_or_another_shops_conversation_is_not_found_and_nothing_is_written(
    desk: Desk, db: Engine
) -> None:
    other = make_shop_with_staff(desk.uow_factory, "other")
    foreign_token = desk.client.post("/api/v1/widget/other/session", json={}).json()[
        "visitor_token"
    ]
    foreign = desk.client.post(
        "/api/v1/widget/messages",
        json={"client_msg_id": "c-1", "body": "别家的秘密"},
        headers={"X-Visitor-Token": foreign_token},
    ).json()["conversation_id"]
    assert other.shop.id != desk.staff.shop.id
    before = stored(db)
    for email in (desk.staff.agent.email, desk.staff.owner.email):
        with desk_socket(desk, email) as ws:
            for conversation_id in (foreign, 999_999):
                for frame in (
                    {
                        "type": "send",
                        "conversation_id": conversation_id,
                        "client_msg_id": "d-x",
                        "body": "闯入",
                    },
                    {"type": "sync", "conversation_id": conversation_id, "after_seq": 0},
                    {"type": "read", "conversation_id": conversation_id, "seq": 1},
                    {"type": "typing", "conversation_id": conversation_id},
                ):
                    error = error_after(ws, frame)
                    assert error["code"] == "not_found", (email, frame, error)
                    assert "别家的秘密" not in json.dumps(error, ensure_ascii=False)
            assert until_pong(ws) == []
    assert stored(db) == before


def test_an_agent_of_another_team_may_not_write_but_a_supervisor_may(
    desk: Desk, db: Engine
) -> None:
    make_agent(
        desk.uow_factory,
        desk.staff.shop,
        email="after@live.test",
        name="售后小王",
        team_codes=("aftersale",),
    )
    _, conversation_id = start_conversation(desk)
    with desk_socket(desk, "after@live.test") as ws:
        error = error_after(
            ws,
            {
                "type": "send",
                "conversation_id": conversation_id,
                "client_msg_id": "d-1",
                "body": "我是售后",
            },
        )
        assert (error["code"], error["client_msg_id"]) == ("forbidden", "d-1")
        sync = error_after(ws, {"type": "sync", "conversation_id": conversation_id})
        assert sync["code"] == "forbidden"
    with desk_socket(desk, desk.staff.supervisor.email) as ws:
        assert agent_says(ws, conversation_id, "d-1", "主管来了")["seq"] == 2
    assert stored(db, conversation_id) == [(1, "c-0", "你好"), (2, "d-1", "主管来了")]


def test_a_flood_from_a_buyer_is_rate_limited_and_the_socket_stays_up(
    desk: Desk, db: Engine
) -> None:
    now = [500.0]
    desk.app.state.kefu.realtime.buyer_limits = Limits(
        capacity=BUYER_BURST, per_second=BUYER_RATE, monotonic=lambda: now[0]
    )
    token = desk.buyer()["visitor_token"]
    with buyer_socket(desk, token) as ws:
        for i in range(BUYER_BURST):
            buyer_says(ws, f"c-{i}", f"第{i}条")
        error = error_after(ws, {"type": "send", "client_msg_id": "c-over", "body": "刷屏"})
        assert error["code"] == "rate_limited"
        assert error["retry_after"] == 1
        assert error["client_msg_id"] == "c-over"
        assert until_pong(ws) == []
        now[0] += 1
        assert buyer_says(ws, "c-over", "刷屏")["seq"] == BUYER_BURST + 1
    assert message_count(db) == BUYER_BURST + 1


# --- authentication ---------------------------------------------------------------------------


def _refused(ws: WebSocketTestSession) -> tuple[dict[str, Any], int]:
    error: dict[str, Any] = ws.receive_json()
    with pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_json()
    return error, closed.value.code


def test_a_tampered_visitor_token_gets_an_error_and_close_4401(desk: Desk) -> None:
    token = desk.buyer()["visitor_token"]
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    with desk.client.websocket_connect(f"/ws/widget?token={tampered}") as ws:
        error, code = _refused(ws)
    assert (error["type"], error["code"], code) == ("error", "invalid_visitor_token", 4401)


def test_a_widget_socket_without_a_token_is_refused(desk: Desk) -> None:
    with desk.client.websocket_connect("/ws/widget") as ws:
        error, code = _refused(ws)
    assert (error["code"], code) == ("invalid_visitor_token", 4401)


def test_a_desk_socket_without_a_session_cookie_is_refused(desk: Desk) -> None:
    with desk.client.websocket_connect("/ws/desk") as ws:
        error, code = _refused(ws)
    assert (error["code"], code) == ("unauthenticated", 4401)


def test_a_desk_socket_after_logout_is_refused(desk: Desk) -> None:
    headers = desk.login()
    logout = desk.client.post("/api/v1/auth/logout", headers=headers)
    assert logout.status_code in (200, 204)
    desk.client.cookies.clear()
    with desk.client.websocket_connect("/ws/desk", headers=headers) as ws:
        error, code = _refused(ws)
    assert code == 4401
    assert error["code"] in ("unauthenticated", "session_expired")


def test_a_desk_socket_from_another_origin_is_refused(desk: Desk) -> None:
    headers = {**desk.login(), "origin": "https://evil.example"}
    with desk.client.websocket_connect("/ws/desk", headers=headers) as ws:
        error, code = _refused(ws)
    assert (error["code"], code) == ("unauthenticated", 4401)


def test_a_desk_socket_from_its_own_origin_is_accepted(desk: Desk) -> None:
    headers = {**desk.login(), "origin": "http://testserver"}
    with desk.client.websocket_connect("/ws/desk", headers=headers) as ws:
        ready = receive_until(ws, "ready")
    assert ready["agent"]["id"] == desk.staff.agent.id
    assert ready["agent"]["role"] == Role.AGENT.value


def test_resending_the_outbox_after_a_reconnect_is_not_rate_limited(desk: Desk, db: Engine) -> None:
    """A client resends every unacknowledged message after a reconnect (same ids): those
    are not new messages, so they must not use up the buyer's allowance (as over REST)."""
    desk.app.state.kefu.realtime.buyer_limits = Limits(
        capacity=BUYER_BURST, per_second=BUYER_RATE, monotonic=lambda: 500.0
    )
    token = desk.buyer()["visitor_token"]
    with buyer_socket(desk, token) as ws:
        first = [buyer_says(ws, f"c-{i}", f"第{i}条") for i in range(BUYER_BURST)]
    with buyer_socket(desk, token) as ws:
        again = [buyer_says(ws, f"c-{i}", f"第{i}条") for i in range(BUYER_BURST)]
        assert [(m["id"], m["seq"]) for m in again] == [(m["id"], m["seq"]) for m in first]
        error = error_after(ws, {"type": "send", "client_msg_id": "c-new", "body": "新的一条"})
        assert error["code"] == "rate_limited"  # a new message still is
    assert message_count(db) == BUYER_BURST


def test_an_agents_resent_reply_is_not_rate_limited(desk: Desk) -> None:
    from kefu.realtime.runtime import AGENT_BURST, AGENT_RATE

    desk.app.state.kefu.realtime.agent_limits = Limits(
        capacity=AGENT_BURST, per_second=AGENT_RATE, monotonic=lambda: 500.0
    )
    _, conversation_id = start_conversation(desk)
    with desk_socket(desk) as ws:
        for i in range(AGENT_BURST):
            agent_says(ws, conversation_id, f"d-{i}", f"回复{i}")
        assert agent_says(ws, conversation_id, "d-0", "回复0")["seq"] == 2
        error = error_after(
            ws,
            {
                "type": "send",
                "conversation_id": conversation_id,
                "client_msg_id": "d-x",
                "body": "x",
            },
        )
        assert error["code"] == "rate_limited"


# --- known bugs (strict xfail: they start failing when fixed; then drop the mark) ---------


def test_a_buyers_typing_reaches_only_desks_that_may_see_the_conversation(desk: Desk) -> None:
    make_agent(
        desk.uow_factory,
        desk.staff.shop,
        email="after@live.test",
        name="售后小王",
        team_codes=("aftersale",),
    )
    token, _ = start_conversation(desk)
    with (
        desk_socket(desk, "after@live.test") as aftersale,
        desk_socket(desk) as presale,
        buyer_socket(desk, token) as ws,
    ):
        ws.send_json({"type": "typing"})
        receive_until(presale, "typing")  # published
        assert [f for f in until_pong(aftersale) if f["type"] == "typing"] == []


def test_a_deactivated_agents_open_desk_can_no_longer_reply(desk: Desk, db: Engine) -> None:
    _, conversation_id = start_conversation(desk)
    owner = desk.login(desk.staff.owner.email)
    with desk_socket(desk) as ws:
        deactivated = desk.client.patch(
            f"/api/v1/agents/{desk.staff.agent.id}", json={"is_active": False}, headers=owner
        )
        assert deactivated.status_code == 200
        before = message_count(db)
        ws.send_json(
            {
                "type": "send",
                "conversation_id": conversation_id,
                "client_msg_id": "d-after",
                "body": "我已经离职了",
            }
        )
        with contextlib.suppress(WebSocketDisconnect):
            for _ in range(20):
                if ws.receive_json()["type"] in ("ack", "error"):
                    break
    assert message_count(db) == before


def test_an_idle_desk_is_closed_when_its_agent_logs_out_elsewhere(desk: Desk) -> None:
    """Logging out ends the session; an open desk of that session stops receiving the
    shop's conversations at once, without waiting for it to send anything."""
    headers = desk.login()
    with desk.client.websocket_connect("/ws/desk", headers=headers) as ws:
        receive_until(ws, "ready")
        logged_out = desk.client.post("/api/v1/auth/logout", headers=headers)
        assert logged_out.status_code == 204, logged_out.text
        frame = receive_until(ws, "error")
        assert frame["code"] in ("unauthenticated", "session_expired")
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4401
