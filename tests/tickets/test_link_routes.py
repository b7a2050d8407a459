"""What a ticket holds over REST: linked chats and orders, files, notes, merge and split."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine

from tests.factories import UowFactory
from tests.tickets.api import API, Caller, error
from tests.tickets.conftest import BuyerChat, Elsewhere, TicketStaff, snapshot, upload


def test_links_files_merge_and_split(
    app: FastAPI, uow_factory: UowFactory, staff: TicketStaff, buyer_chat: BuyerChat,
    paid_order: Any, settings: Any,
) -> None:  # fmt: skip
    caller = Caller(app, staff.aftersale.email)
    first = caller.ok("POST", API, {"type": "aftersale", "title": "袖子破洞"}, status=201)
    second = caller.ok("POST", API, {"type": "aftersale", "title": "又来问破洞"}, status=201)
    url = f"{API}/{first['id']}"
    linked = caller.ok("POST", f"{url}/conversations/{buyer_chat.conversation_id}")
    assert [c["id"] for c in linked["conversations"]] == [buyer_chat.conversation_id]
    linked = caller.ok("POST", f"{url}/orders/{paid_order.id}")
    assert [o["order_no"] for o in linked["orders"]] == [paid_order.order_no]
    assert caller.get(API, order_id=paid_order.id).json()["total"] == 1
    photo = upload(
        uow_factory, staff.shop_id, Path(settings.uploads_path), agent_id=staff.aftersale.id
    )
    with_file = caller.ok("POST", f"{url}/attachments", {"attachment_ids": [photo]})
    assert [a["id"] for a in with_file["attachments"]] == [photo]
    assert with_file["attachments"][0]["url"].startswith("/uploads/")
    unlinked = caller.ok("DELETE", f"{url}/orders/{paid_order.id}")
    assert unlinked["orders"] == []
    note = caller.ok("POST", f"{url}/comments", {"body": "换货的事另开一单"}, status=201)
    split = caller.ok(
        "POST", f"{url}/split", {"title": "换货", "comment_ids": [note["id"]]}, status=201
    )
    assert (split["title"], split["split_from"]) == ("换货", {"id": first["id"], "number": 1001})
    merged = caller.ok("POST", f"{API}/{second['id']}/merge", {"target_id": first["id"]})
    assert merged["id"] == first["id"]
    source = caller.ok("GET", f"{API}/{second['id']}")
    assert (source["status"], source["merged_into"]) == (
        "closed", {"id": first["id"], "number": 1001},
    )  # fmt: skip


def test_another_shops_files_chats_and_orders_are_refused_and_nothing_is_written(
    app: FastAPI, staff: TicketStaff, elsewhere: Elsewhere, db: Engine
) -> None:
    caller = Caller(app, staff.aftersale.email)
    ticket = caller.ok("POST", API, {"type": "aftersale", "title": "袖子破洞"}, status=201)
    url = f"{API}/{ticket['id']}"
    before = snapshot(db)
    file = caller.send("POST", f"{url}/attachments", {"attachment_ids": [elsewhere.attachment_id]})
    error(file, 422, "invalid", "attachment_ids")
    chat = caller.send("POST", f"{url}/conversations/{elsewhere.conversation_id}")
    order = caller.send("POST", f"{url}/orders/{elsewhere.order_id}")
    assert (chat.status_code, order.status_code) in ((404, 404), (422, 422)), chat.text
    note = caller.send(
        "POST", f"{url}/comments",
        {"body": "照片见附件", "attachment_ids": [elsewhere.attachment_id]},
    )  # fmt: skip
    error(note, 422, "invalid", "attachment_ids")
    assert snapshot(db) == before
