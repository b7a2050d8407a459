"""A buyer and an agent talk over the websockets: stored once, delivered live, caught up."""

from __future__ import annotations

from kefu.conversations.models import Conversation, Message
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
