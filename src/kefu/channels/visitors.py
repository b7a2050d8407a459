"""Signed buyer credentials for the chat widget.

A *visitor token* names a shop and a customer record and is signed by the server (HMAC
with the server secret), so it needs no table and survives restarts; it is long-lived
because a buyer's chat history should still be there next month. A shop's own site may
vouch for a buyer with a *signed identity* (HMAC with the shop's widget secret), which
links the chat to the shop's customer record and therefore to their orders.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from kefu.errors import Invalid, Unauthenticated

TOKEN_LIFETIME = timedelta(days=365)
IDENTITY_MAX_AGE = timedelta(hours=24)
MAX_TOKEN_LENGTH = 200
MAX_IDENTITY_LENGTH = 2000


class InvalidVisitorToken(Unauthenticated):
    code = "invalid_visitor_token"


@dataclass(frozen=True)
class VisitorClaims:
    shop_id: int
    customer_id: int
    issued_at: datetime


@dataclass(frozen=True)
class Identity:
    external_id: str
    name: str
    phone: str | None


def _mac(key: str, purpose: str, payload: str) -> str:
    digest = hmac.new(key.encode(), f"{purpose}:{payload}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def issue_visitor_token(*, secret: str, shop_id: int, customer_id: int, now: datetime) -> str:
    payload = f"v1.{shop_id}.{customer_id}.{int(now.timestamp())}"
    return f"{payload}.{_mac(secret, 'visitor', payload)}"


def verify_visitor_token(*, secret: str, token: str, now: datetime) -> VisitorClaims:
    """The claims of a token this server issued, unexpired; anything else is refused."""
    refused = InvalidVisitorToken(
        "the visitor token is invalid or expired; start a new session",
        key="errors.invalid_visitor_token",
    )
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise refused
    payload, _, signature = token.rpartition(".")
    if not hmac.compare_digest(signature.encode(), _mac(secret, "visitor", payload).encode()):
        raise refused
    try:
        version, shop_id, customer_id, issued = payload.split(".")
        claims = VisitorClaims(
            shop_id=int(shop_id),
            customer_id=int(customer_id),
            issued_at=datetime.fromtimestamp(int(issued), tz=now.tzinfo),
        )
    except ValueError:
        raise refused from None
    if version != "v1" or now - claims.issued_at > TOKEN_LIFETIME:
        raise refused
    return claims


def widget_secret(*, secret: str, shop_id: int) -> str:
    """The key a shop's site signs identities with: derived, so there is nothing to store;
    rotating the server secret rotates every shop's."""
    return hmac.new(
        secret.encode(), f"widget-identity:{shop_id}".encode(), hashlib.sha256
    ).hexdigest()


def sign_identity(*, key: str, identity: str) -> str:
    return hmac.new(key.encode(), identity.encode(), hashlib.sha256).hexdigest()


def encode_identity(*, external_id: str, name: str = "", phone: str | None = None, ts: int) -> str:
    """What the shop's site sends (tests and the docs' example use it)."""
    data: dict[str, object] = {"external_id": external_id, "name": name, "ts": ts}
    if phone:
        data["phone"] = phone
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def verify_identity(
    *, secret: str, shop_id: int, identity: str, signature: str, now: datetime
) -> Identity:
    if len(identity) > MAX_IDENTITY_LENGTH:
        raise Invalid("identity is too long", field="identity")
    expected = sign_identity(key=widget_secret(secret=secret, shop_id=shop_id), identity=identity)
    if not hmac.compare_digest(signature.strip().lower().encode(), expected.encode()):
        raise Unauthenticated(
            "the identity signature does not match", key="errors.bad_identity_signature"
        )
    try:
        padded = identity + "=" * (-len(identity) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        external_id = str(data["external_id"]).strip()
        ts = int(data["ts"])
    except (ValueError, KeyError, TypeError) as exc:
        raise Invalid(
            "identity must be base64url JSON with external_id and ts", field="identity"
        ) from exc
    if not external_id:
        raise Invalid("identity has an empty external_id", field="identity")
    age = now.timestamp() - ts
    if age > IDENTITY_MAX_AGE.total_seconds() or age < -300:
        raise Unauthenticated("the identity has expired", key="errors.identity_expired")
    phone = data.get("phone")
    return Identity(
        external_id=external_id[:80],
        name=str(data.get("name") or "")[:60],
        phone=str(phone)[:20] if phone else None,
    )
