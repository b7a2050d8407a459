"""A buyer and an agent talk over the websockets: stored once, delivered live, caught up."""

from __future__ import annotations

from kefu.conversations.models import Conversation, Message
from tests.factories import make_agent
from tests.realtime.conftest import Desk, receive_until


def test_a_buyer_message_reaches_the_agent_and_the_reply_reaches_the_buyer(desk: Desk) -> None:
    agent = desk.login()
    token = desk.buyer()["visitor_token"]
    client = desk.client
    if True:
        with (
            client.websocket_connect("/ws/desk", headers=agent) as desk_ws,
            client.websocket_connect(f"/ws/widget?token={token}") as buyer_ws,
        ):
            ready = receive_until(desk_ws, "ready")
            assert ready["agent"]["presence"] == "online"
            assert receive_until(buyer_ws, "ready")["conversation_id"] is None

            buyer_ws.send_json({"type": "send", "client_msg_id": "c-1", "body": "有M码吗?"})
            ack = receive_until(buyer_ws, "ack")
            assert ack["client_msg_id"] == "c-1"
            assert ack["message"]["seq"] == 1
            conversation_id = ack["message"]["conversation_id"]

            # The new conversation is routed to the only online presale agent.
            started = receive_until(desk_ws, "message")
            assert started["message"]["body"] == "有M码吗?"
            assert started["conversation"]["assignee_id"] == desk.staff.agent.id

            desk_ws.send_json(
                {
                    "type": "send",
                    "conversation_id": conversation_id,
                    "client_msg_id": "d-1",
                    "body": "亲,有的哦",
                }
            )
            assert receive_until(desk_ws, "ack")["message"]["seq"] == 2
            reply = receive_until(buyer_ws, "message")
            # The buyer's own message may be echoed first (other tabs); skip to the reply.
            while reply["message"]["sender_type"] != "agent":
                reply = receive_until(buyer_ws, "message")
            assert reply["message"]["body"] == "亲,有的哦"
            assert reply["message"]["sender_name"] == desk.staff.agent.display_name
    with desk.uow_factory() as uow:
        conversation = uow.session.get(Conversation, conversation_id)
        assert conversation is not None
        assert conversation.assignee_id == desk.staff.agent.id
        rows = uow.session.query(Message.seq, Message.body).order_by(Message.seq).all()
        assert [tuple(r) for r in rows] == [(1, "有M码吗?"), (2, "亲,有的哦")]


def test_a_colleague_who_opened_the_conversation_hears_it_live_and_others_do_not(
    desk: Desk,
) -> None:
    """Lines of a conversation go to its agent and to desks that have it open, not to every
    desk of the team (the team's desks follow it through conversation frames)."""
    colleague = make_agent(desk.uow_factory, desk.staff.shop, email="second@live.test", name="小丽")
    bystander = make_agent(desk.uow_factory, desk.staff.shop, email="third@live.test", name="小芳")
    client = desk.client
    token = desk.buyer()["visitor_token"]
    with client.websocket_connect(f"/ws/widget?token={token}") as buyer_ws:
        receive_until(buyer_ws, "ready")
        with client.websocket_connect("/ws/desk", headers=desk.login()) as owner_of_chat:
            receive_until(owner_of_chat, "ready")
            buyer_ws.send_json({"type": "send", "client_msg_id": "c-1", "body": "在吗"})
            conversation_id = receive_until(buyer_ws, "ack")["message"]["conversation_id"]
            assert receive_until(owner_of_chat, "message")["message"]["body"] == "在吗"
        with (
            client.websocket_connect("/ws/desk", headers=desk.login(colleague.email)) as opened,
            client.websocket_connect(
                "/ws/desk", headers=desk.login(desk.staff.agent.email)
            ) as assignee,
            client.websocket_connect("/ws/desk", headers=desk.login(bystander.email)) as other,
        ):
            receive_until(opened, "ready")
            receive_until(assignee, "ready")
            receive_until(other, "ready")
            opened.send_json({"type": "sync", "conversation_id": conversation_id})
            assert [m["body"] for m in receive_until(opened, "sync")["messages"]] == ["在吗"]
            buyer_ws.send_json({"type": "send", "client_msg_id": "c-2", "body": "有人吗"})
            receive_until(buyer_ws, "ack")
            assert receive_until(opened, "message")["message"]["body"] == "有人吗"
            assert receive_until(assignee, "message")["message"]["body"] == "有人吗"
            other.send_json({"type": "ping"})
            before_pong = []
            while (frame := other.receive_json())["type"] != "pong":
                before_pong.append(frame["type"])
            assert "message" not in before_pong


def test_the_sending_tab_gets_its_ack_and_the_buyers_other_tab_the_message(desk: Desk) -> None:
    client = desk.client
    token = desk.buyer()["visitor_token"]
    with (
        client.websocket_connect(f"/ws/widget?token={token}") as sending,
        client.websocket_connect(f"/ws/widget?token={token}") as other,
    ):
        receive_until(sending, "ready")
        receive_until(other, "ready")
        sending.send_json({"type": "send", "client_msg_id": "c-1", "body": "第一句"})
        ack = receive_until(sending, "ack")
        echoed = receive_until(other, "message")
        assert echoed["message"]["id"] == ack["message"]["id"]
        # The sender's next frame is the answer to its ping, not an echo of its own line.
        sending.send_json({"type": "ping"})
        assert sending.receive_json() == {"type": "pong"}
