"""The chat widget's REST API and pages, as a buyer's browser uses them (docs/REALTIME.md,
Buyer): sessions and tokens, signed identities, sending once, catching up, private notes
staying private, limits, uploads, the chat page and widget.js."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from kefu.app import create_app
from kefu.channels.visitors import encode_identity, sign_identity, widget_secret
from kefu.clock import FrozenClock
from kefu.config import Settings
from kefu.conversations import service as conversations
from kefu.conversations.models import Attachment, Conversation, Message, SenderType
from kefu.crm import service as crm
from kefu.crm.models import Customer
from kefu.events import EventBus
from kefu.realtime.ratelimit import Limits
from kefu.realtime.runtime import BUYER_BURST, BUYER_RATE
from tests.conftest import TEST_SECRET
from tests.factories import UowFactory, make_shop, make_shop_with_staff
from tests.realtime.conftest import Desk

SESSION = "/api/v1/widget/{slug}/session"
MESSAGES = "/api/v1/widget/messages"
UPLOADS = "/api/v1/widget/uploads"


def png(width: int = 1, height: int = 1, padding: int = 0) -> bytes:
    """A real PNG: signature, IHDR, one IDAT of grey pixels, IEND (and ``padding`` bytes of
    an ancillary chunk to make it as big as a test needs)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    extra = chunk(b"tEXt", b"c\x00" + b"x" * padding) if padding else b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + extra
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def visitor(token: str) -> dict[str, str]:
    return {"X-Visitor-Token": token}


def send(desk: Desk, token: str, client_msg_id: str, body: str, **extra: Any) -> Any:
    return desk.client.post(
        MESSAGES,
        json={"client_msg_id": client_msg_id, "body": body, **extra},
        headers=visitor(token),
    )


def count(db: Engine, model: Any, *where: Any) -> int:
    with db.connect() as connection:
        return connection.scalar(select(func.count()).select_from(model).where(*where)) or 0


def identity_for(desk: Desk, clock: FrozenClock, external_id: str, **fields: Any) -> dict[str, str]:
    identity = encode_identity(external_id=external_id, ts=int(clock.now().timestamp()), **fields)
    key = widget_secret(secret=TEST_SECRET, shop_id=desk.staff.shop.id)
    return {"identity": identity, "signature": sign_identity(key=key, identity=identity)}


def flip(token: str, index: int) -> str:
    return token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]


@pytest.fixture
def slug(desk: Desk) -> str:
    return desk.staff.shop.slug


# --- sessions -----------------------------------------------------------------------------


def test_a_new_session_has_a_token_a_customer_and_no_conversation_yet(
    desk: Desk, db: Engine
) -> None:
    session = desk.buyer()
    assert session["visitor_token"]
    assert session["shop"] == {"name": desk.staff.shop.name, "slug": "live"}
    assert session["customer"]["display_name"] == f"访客{session['customer']['id']}"
    assert session["conversation"] is None
    assert session["messages"] == []
    assert session["limits"] == {"max_length": 5000, "max_upload_bytes": 5 * 1_048_576}
    assert count(db, Conversation) == 0  # no empty conversations


def test_the_token_resumes_the_same_buyer_and_their_history(desk: Desk) -> None:
    first = desk.buyer()
    token = first["visitor_token"]
    assert send(desk, token, "c-1", "有M码吗?").status_code == 201
    again = desk.buyer(visitor_token=token)
    assert again["customer"]["id"] == first["customer"]["id"]
    assert again["visitor_token"] == token
    assert again["conversation"]["status"] == "open"
    assert again["conversation"]["last_seq"] == 1
    assert [m["body"] for m in again["messages"]] == ["有M码吗?"]


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_a_tampered_token_is_refused(desk: Desk, slug: str, where: str) -> None:
    token = desk.buyer()["visitor_token"]
    index = {"first": 0, "middle": len(token) // 2, "last": len(token) - 1}[where]
    tampered = flip(token, index)
    response = desk.client.post(SESSION.format(slug=slug), json={"visitor_token": tampered})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_visitor_token"
    listed = desk.client.get(MESSAGES, headers=visitor(tampered))
    assert listed.status_code == 401
    assert listed.json()["error"]["code"] == "invalid_visitor_token"


def test_a_token_of_another_shop_is_refused(desk: Desk, slug: str) -> None:
    make_shop_with_staff(desk.uow_factory, "other")
    foreign = desk.client.post(SESSION.format(slug="other"), json={}).json()["visitor_token"]
    response = desk.client.post(SESSION.format(slug=slug), json={"visitor_token": foreign})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_visitor_token"


def test_an_expired_token_is_refused(desk: Desk, slug: str, clock: FrozenClock) -> None:
    token = desk.buyer()["visitor_token"]
    clock.advance(timedelta(days=366))
    response = desk.client.post(SESSION.format(slug=slug), json={"visitor_token": token})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_visitor_token"
    assert send(desk, token, "c-1", "还在吗").status_code == 401


@pytest.mark.parametrize("garbage", ["garbage", "v1.1.1.1.x", "...."])
def test_a_garbage_token_is_refused(desk: Desk, slug: str, garbage: str) -> None:
    response = desk.client.post(SESSION.format(slug=slug), json={"visitor_token": garbage})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_visitor_token"


def test_the_widget_api_needs_a_visitor_token(desk: Desk) -> None:
    for response in (
        desk.client.get(MESSAGES),
        desk.client.post(MESSAGES, json={"client_msg_id": "c-1", "body": "hi"}),
    ):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_visitor_token"


def test_a_session_for_an_unknown_shop_is_404(desk: Desk) -> None:
    response = desk.client.post(SESSION.format(slug="nosuchshop"), json={})
    assert response.status_code == 404


# --- signed identities --------------------------------------------------------------------


def test_a_signed_identity_links_the_buyer_to_their_customer_record(
    desk: Desk, slug: str, clock: FrozenClock
) -> None:
    with desk.uow_factory() as uow:
        known = crm.create_customer(
            uow, shop_id=desk.staff.shop.id, name="王芳", external_id="u-1001", vip_level=3
        )
    body = identity_for(desk, clock, "u-1001")
    session = desk.buyer(**body)
    assert session["customer"]["id"] == known.id
    assert session["customer"]["display_name"] != f"访客{known.id}"


def test_a_signed_identity_creates_the_customer_once(
    desk: Desk, slug: str, clock: FrozenClock, db: Engine
) -> None:
    body = identity_for(desk, clock, "u-2002", name="李雷", phone="13900001111")
    first = desk.buyer(**body)
    assert send(desk, first["visitor_token"], "c-1", "我的订单呢").status_code == 201
    clock.advance(timedelta(hours=1))
    second = desk.buyer(**identity_for(desk, clock, "u-2002", name="李雷"))
    assert second["customer"]["id"] == first["customer"]["id"]
    assert [m["body"] for m in second["messages"]] == ["我的订单呢"]
    assert count(db, Customer, Customer.external_id == "u-2002") == 1
    with desk.uow_factory() as uow:
        customer = crm.get_customer(
            uow.session, shop_id=desk.staff.shop.id, customer_id=first["customer"]["id"]
        )
        assert (customer.name, customer.phone) == ("李雷", "13900001111")


def test_two_first_chats_at_once_share_one_customer(
    desk: Desk, clock: FrozenClock, db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two tabs open the chat for the first time together: between one looking the buyer
    up and creating them, the other has created them. Both get the same record, no 500."""
    real_create = crm.create_customer

    def other_tab_first(uow: Any, **fields: Any) -> Any:
        with desk.uow_factory() as other:
            real_create(other, **fields)  # the other tab wins the race and commits
        return real_create(uow, **fields)

    monkeypatch.setattr("kefu.channels.service.crm.create_customer", other_tab_first)
    session = desk.buyer(**identity_for(desk, clock, "u-race", name="韩梅梅"))
    assert count(db, Customer, Customer.external_id == "u-race") == 1
    with desk.uow_factory() as uow:
        customer = uow.session.scalar(select(Customer).where(Customer.external_id == "u-race"))
        assert customer is not None
        assert session["customer"]["id"] == customer.id


def test_an_identity_wins_over_an_anonymous_token(desk: Desk, clock: FrozenClock) -> None:
    anonymous = desk.buyer()
    linked = desk.buyer(
        visitor_token=anonymous["visitor_token"], **identity_for(desk, clock, "u-9")
    )
    assert linked["customer"]["id"] != anonymous["customer"]["id"]
    assert linked["visitor_token"] != anonymous["visitor_token"]
    # The new token is the linked buyer's.
    assert (
        desk.buyer(visitor_token=linked["visitor_token"])["customer"]["id"]
        == (linked["customer"]["id"])
    )


def test_a_bad_identity_signature_is_401(
    desk: Desk, slug: str, clock: FrozenClock, db: Engine
) -> None:
    body = identity_for(desk, clock, "u-3003")
    body["signature"] = flip(body["signature"], 3)
    response = desk.client.post(SESSION.format(slug=slug), json=body)
    assert response.status_code == 401
    assert count(db, Customer, Customer.external_id == "u-3003") == 0


def test_an_identity_signed_for_another_shop_is_401(
    desk: Desk, clock: FrozenClock, uow_factory: Any
) -> None:
    make_shop_with_staff(uow_factory, "other")
    body = identity_for(desk, clock, "u-4004")  # signed with "live"'s key
    response = desk.client.post(SESSION.format(slug="other"), json=body)
    assert response.status_code == 401


def test_an_expired_identity_is_401(desk: Desk, slug: str, clock: FrozenClock) -> None:
    body = identity_for(desk, clock, "u-5005")
    clock.advance(timedelta(hours=24, seconds=1))
    response = desk.client.post(SESSION.format(slug=slug), json=body)
    assert response.status_code == 401


# --- sending and reading ------------------------------------------------------------------


def test_send_retry_and_catch_up(desk: Desk, db: Engine) -> None:
    token = desk.buyer()["visitor_token"]
    sent = send(desk, token, "c-1", "有M码吗?")
    assert sent.status_code == 201
    message = sent.json()
    assert (message["seq"], message["sender_type"], message["body"]) == (1, "customer", "有M码吗?")
    retry = send(desk, token, "c-1", "有M码吗?")
    assert retry.status_code == 200
    assert (retry.json()["id"], retry.json()["seq"]) == (message["id"], 1)
    assert count(db, Message) == 1
    assert send(desk, token, "c-2", "蓝色的").status_code == 201
    assert send(desk, token, "c-3", "多少钱").status_code == 201
    page = desk.client.get(MESSAGES, params={"after_seq": 1}, headers=visitor(token)).json()
    assert page["conversation_id"] == message["conversation_id"]
    assert [(m["seq"], m["body"]) for m in page["messages"]] == [(2, "蓝色的"), (3, "多少钱")]
    assert page["last_seq"] == 3
    assert (
        desk.client.get(MESSAGES, params={"after_seq": 3}, headers=visitor(token)).json()[
            "messages"
        ]
        == []
    )


def test_reusing_a_client_id_for_a_different_message_is_a_conflict(desk: Desk) -> None:
    token = desk.buyer()["visitor_token"]
    send(desk, token, "c-1", "第一句")
    response = send(desk, token, "c-1", "不一样的一句")
    assert response.status_code == 409


def test_before_the_first_message_there_is_nothing_to_read(desk: Desk) -> None:
    token = desk.buyer()["visitor_token"]
    page = desk.client.get(MESSAGES, headers=visitor(token)).json()
    assert page == {"conversation_id": None, "messages": [], "last_seq": 0}


def test_a_buyer_sees_only_their_own_conversation(desk: Desk) -> None:
    alice, bob = desk.buyer()["visitor_token"], desk.buyer()["visitor_token"]
    send(desk, alice, "c-1", "我是爱丽丝")
    send(desk, bob, "c-1", "我是鲍勃")
    seen = desk.client.get(MESSAGES, headers=visitor(bob)).json()["messages"]
    assert [m["body"] for m in seen] == ["我是鲍勃"]


def test_private_notes_never_reach_the_widget(desk: Desk) -> None:
    token = desk.buyer()["visitor_token"]
    conversation_id = send(desk, token, "c-1", "在吗").json()["conversation_id"]
    with desk.uow_factory() as uow:
        for client_msg_id, body, private in (
            ("n-1", "内部备注:这位是老客户", True),
            ("r-1", "在的亲", False),
        ):
            conversations.send_reply(
                uow,
                shop_id=desk.staff.shop.id,
                conversation_id=conversation_id,
                client_msg_id=client_msg_id,
                body=body,
                sender_type=SenderType.AGENT,
                sender_agent_id=desk.staff.agent.id,
                is_private=private,
                commit=False,
            )
        uow.commit()
    listed = desk.client.get(MESSAGES, headers=visitor(token)).json()
    history = desk.buyer(visitor_token=token)["messages"]
    for shown in (listed["messages"], history):
        assert [m["body"] for m in shown] == ["在吗", "在的亲"]
        assert "内部备注" not in str(shown)
    assert listed["last_seq"] == 3  # the gap at 2 is the note; the widget never sees it


def test_a_message_over_5000_characters_is_refused_naming_the_limit(desk: Desk, db: Engine) -> None:
    token = desk.buyer()["visitor_token"]
    response = send(desk, token, "c-1", "好" * 5001)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == "body"
    assert "5000" in error["message"] and "5001" in error["message"]
    english = desk.client.post(
        MESSAGES,
        json={"client_msg_id": "c-1", "body": "a" * 5001},
        headers={**visitor(token), "Accept-Language": "en"},
    )
    assert english.json()["error"]["message"] == (
        "The message is 5001 characters; the limit is 5000."
    )
    assert send(desk, token, "c-2", "好" * 5000).status_code == 201
    assert count(db, Message) == 1


@pytest.mark.parametrize("body", ["", "   ", "\n\n"])
def test_an_empty_message_is_refused(desk: Desk, db: Engine, body: str) -> None:
    token = desk.buyer()["visitor_token"]
    response = send(desk, token, "c-1", body)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "body"
    assert count(db, Message) == 0
    assert count(db, Conversation) == 0  # and no empty conversation either


def test_a_flood_of_messages_is_rate_limited_with_retry_after(desk: Desk, db: Engine) -> None:
    now = [1000.0]
    desk.app.state.kefu.realtime.buyer_limits = Limits(
        capacity=BUYER_BURST, per_second=BUYER_RATE, monotonic=lambda: now[0]
    )
    token = desk.buyer()["visitor_token"]
    for i in range(BUYER_BURST):
        assert send(desk, token, f"c-{i}", f"第{i}条").status_code == 201
    limited = send(desk, token, "c-over", "再来一条")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"
    assert limited.json()["error"]["code"] == "rate_limited"
    assert count(db, Message) == BUYER_BURST
    # A retry of a stored message is not a new message: never limited.
    assert send(desk, token, "c-0", "第0条").status_code == 200
    # Another buyer has their own allowance.
    assert send(desk, desk.buyer()["visitor_token"], "c-1", "我也来").status_code == 201
    now[0] += 1.0
    assert send(desk, token, "c-over", "再来一条").status_code == 201


# --- uploads ------------------------------------------------------------------------------


def _files(settings: Settings) -> list[Path]:
    folder = settings.uploads_path
    return sorted(folder.iterdir()) if folder.exists() else []


def upload(client: TestClient, token: str, data: bytes, name: str = "photo.png") -> Any:
    return client.post(UPLOADS, files={"file": (name, data, "image/png")}, headers=visitor(token))


def test_a_png_is_accepted_and_served(desk: Desk, settings: Settings) -> None:
    token = desk.buyer()["visitor_token"]
    data = png(4, 4)
    response = upload(desk.client, token, data, "我的照片.png")
    assert response.status_code == 201
    attachment = response.json()
    assert attachment["content_type"] == "image/png"
    assert attachment["size"] == len(data)
    assert attachment["name"] == "我的照片.png"
    assert attachment["url"].startswith("/uploads/")
    served = desk.client.get(attachment["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/png"
    assert served.content == data
    assert [p.name for p in _files(settings)] == [attachment["url"].removeprefix("/uploads/")]
    sent = send(desk, token, "c-1", "", attachment_id=attachment["id"])
    assert sent.status_code == 201
    assert sent.json()["attachment"] == attachment


def test_a_text_file_renamed_png_is_refused(desk: Desk, settings: Settings, db: Engine) -> None:
    token = desk.buyer()["visitor_token"]
    response = upload(desk.client, token, b"<script>alert(1)</script>", "evil.png")
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "file"
    assert _files(settings) == []
    assert count(db, Attachment) == 0


def test_an_empty_file_is_refused(desk: Desk, settings: Settings) -> None:
    token = desk.buyer()["visitor_token"]
    assert upload(desk.client, token, b"").status_code == 422
    assert _files(settings) == []


@pytest.fixture
def small_uploads(
    settings: Settings, db: Engine, bus: EventBus, clock: FrozenClock
) -> Iterator[tuple[TestClient, Settings]]:
    small = settings.model_copy(update={"max_upload_bytes": 2048})
    app = create_app(small, engine=db, bus=bus, clock=clock)
    with TestClient(app, base_url="http://testserver") as client:
        yield client, small


@pytest.mark.parametrize("size", [2049, 200_000, 2_000_000])
def test_a_file_over_the_upload_limit_is_refused_and_nothing_is_kept(
    small_uploads: tuple[TestClient, Settings], db: Engine, uow_factory: Any, size: int
) -> None:
    client, small = small_uploads
    make_shop_with_staff(uow_factory, "small")
    token = client.post(SESSION.format(slug="small"), json={}).json()["visitor_token"]
    data = png(padding=size)[:size]  # a PNG header, then as many bytes as asked
    assert len(data) == size
    response = upload(client, token, data)
    assert 400 <= response.status_code < 500
    assert response.status_code in (413, 422)
    assert _files(small) == []
    assert count(db, Attachment) == 0
    just_fits = upload(client, token, png(padding=1500))
    assert just_fits.status_code == 201, just_fits.text


def test_a_buyer_cannot_send_another_buyers_attachment(desk: Desk, db: Engine) -> None:
    alice, bob = desk.buyer()["visitor_token"], desk.buyer()["visitor_token"]
    alices = upload(desk.client, alice, png()).json()
    response = send(desk, bob, "c-1", "看这个", attachment_id=alices["id"])
    assert response.status_code == 404
    assert count(db, Message) == 0


def test_a_buyer_cannot_send_an_agents_attachment(desk: Desk, db: Engine) -> None:
    agent = desk.login()
    agents = desk.client.post(
        "/api/v1/uploads", files={"file": ("a.png", png(), "image/png")}, headers=agent
    )
    assert agents.status_code == 201, agents.text
    token = desk.buyer()["visitor_token"]
    response = send(desk, token, "c-1", "", attachment_id=agents.json()["id"])
    assert response.status_code == 404
    assert count(db, Message) == 0


def test_an_unknown_upload_is_404(desk: Desk) -> None:
    assert desk.client.get("/uploads/" + "0" * 32 + ".png").status_code == 404


# --- pages --------------------------------------------------------------------------------


def test_the_chat_page_of_a_shop(desk: Desk, slug: str) -> None:
    response = desk.client.get(f"/chat/{slug}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert desk.staff.shop.name in response.text
    # Embeddable in the shop's own site, still no scripts from elsewhere.
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors *" in policy and "script-src 'self'" in policy
    assert "x-frame-options" not in response.headers


def test_the_chat_page_of_an_unknown_shop_is_404(desk: Desk) -> None:
    assert desk.client.get("/chat/nosuchshop").status_code == 404


def test_widget_js_is_served_as_javascript(desk: Desk) -> None:
    response = desk.client.get("/widget.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "/chat/" in response.text


def test_a_buyer_who_comes_back_within_a_year_keeps_their_history(
    desk: Desk, clock: FrozenClock
) -> None:
    first = desk.buyer()
    assert send(desk, first["visitor_token"], "c-1", "还记得我吗").status_code == 201
    clock.advance(timedelta(days=300))
    again = desk.buyer(visitor_token=first["visitor_token"])
    assert again["visitor_token"] != first["visitor_token"]  # renewed
    clock.advance(timedelta(days=300))  # the first token has expired; the renewed one has not
    later = desk.buyer(visitor_token=again["visitor_token"])
    assert later["customer"]["id"] == first["customer"]["id"]
    assert [m["body"] for m in later["messages"]] == ["还记得我吗"]


def test_new_anonymous_visitors_from_one_address_are_limited(
    settings: Settings, db: Engine, bus: EventBus, clock: FrozenClock, uow_factory: UowFactory
) -> None:
    """Each new anonymous visitor is a customer row: one address may not mint them without
    end. Returning buyers (with their token) are not counted."""
    app = create_app(
        settings.model_copy(update={"new_visitors_per_minute": 3}), engine=db, bus=bus, clock=clock
    )
    make_shop(uow_factory, "limits")
    with TestClient(app) as client:
        tokens = [
            client.post("/api/v1/widget/limits/session", json={}).json()["visitor_token"]
            for _ in range(3)
        ]
        refused = client.post("/api/v1/widget/limits/session", json={})
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["error"]["code"] == "rate_limited"
        again = client.post("/api/v1/widget/limits/session", json={"visitor_token": tokens[0]})
        assert again.status_code == 200
    assert count(db, Customer) == 3
