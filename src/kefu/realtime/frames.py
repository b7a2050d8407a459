"""Frames clients send over the websockets (docs/REALTIME.md), validated strictly."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from kefu.db import MAX_ID

Id = Annotated[int, Field(ge=1, le=MAX_ID, strict=True)]
Seq = Annotated[int, Field(ge=0, le=MAX_ID, strict=True)]
# Longer than any valid message, so the service can say "5,001 characters; the limit is 5,000".
Body = Annotated[str, Field(max_length=20_000)]
ClientId = Annotated[str, Field(min_length=1, max_length=64)]
MAX_FRAME_BYTES = 64 * 1024


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BuyerSend(_Frame):
    type: Literal["send"]
    client_msg_id: ClientId
    body: Body = ""
    attachment_id: Id | None = None


class BuyerSync(_Frame):
    type: Literal["sync"]
    after_seq: Seq = 0


class BuyerRead(_Frame):
    type: Literal["read"]
    seq: Seq


class Typing(_Frame):
    type: Literal["typing"]


class Ping(_Frame):
    type: Literal["ping"]


class AgentSend(_Frame):
    type: Literal["send"]
    conversation_id: Id
    client_msg_id: ClientId
    body: Body = ""
    is_private: bool = False
    attachment_id: Id | None = None


class AgentSync(_Frame):
    type: Literal["sync"]
    conversation_id: Id
    after_seq: Seq = 0


class AgentTyping(_Frame):
    type: Literal["typing"]
    conversation_id: Id


class AgentReceipt(_Frame):
    type: Literal["read", "delivered"]
    conversation_id: Id
    seq: Seq


class AgentPresence(_Frame):
    type: Literal["presence"]
    status: Literal["online", "away"]


BuyerFrame = Annotated[
    BuyerSend | BuyerSync | BuyerRead | Typing | Ping, Field(discriminator="type")
]
AgentFrame = Annotated[
    AgentSend | AgentSync | AgentTyping | AgentReceipt | AgentPresence | Ping,
    Field(discriminator="type"),
]
_buyer = TypeAdapter[Any](BuyerFrame)
_agent = TypeAdapter[Any](AgentFrame)


class BadFrame(Exception):
    def __init__(self, message: str, client_msg_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.client_msg_id = client_msg_id


def _parse(adapter: TypeAdapter[Any], text: str) -> Any:
    # Characters first (cheap); UTF-8 bytes only when the text could be over (Chinese text
    # takes three bytes a character).
    if len(text) > MAX_FRAME_BYTES or (
        len(text) * 4 > MAX_FRAME_BYTES and len(text.encode()) > MAX_FRAME_BYTES
    ):
        raise BadFrame(f"frame is larger than {MAX_FRAME_BYTES} bytes")
    try:
        return adapter.validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "frame"
        client_msg_id = None
        if first["type"] != "json_invalid":
            try:
                raw = json.loads(text)
                candidate = raw.get("client_msg_id") if isinstance(raw, dict) else None
                client_msg_id = candidate if isinstance(candidate, str) else None
            except ValueError:
                pass
        if first["type"] == "json_invalid":
            raise BadFrame("frame is not valid JSON") from None
        raise BadFrame(f"{where}: {first['msg']}", client_msg_id) from None


def parse_buyer(text: str) -> BuyerSend | BuyerSync | BuyerRead | Typing | Ping:
    frame: BuyerSend | BuyerSync | BuyerRead | Typing | Ping = _parse(_buyer, text)
    return frame


def parse_agent(
    text: str,
) -> AgentSend | AgentSync | AgentTyping | AgentReceipt | AgentPresence | Ping:
    frame: AgentSend | AgentSync | AgentTyping | AgentReceipt | AgentPresence | Ping = _parse(
        _agent, text
    )
    return frame
