"""Visitor tokens and signed identities: what the server issued verifies, anything else is
refused — a changed character, another server's key, an old token, garbage."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from kefu.channels.visitors import (
    IDENTITY_MAX_AGE,
    MAX_TOKEN_LENGTH,
    TOKEN_LIFETIME,
    InvalidVisitorToken,
    encode_identity,
    issue_visitor_token,
    sign_identity,
    verify_identity,
    verify_visitor_token,
    widget_secret,
)
from kefu.errors import Invalid, Unauthenticated

SECRET = "server-secret-for-visitor-tests-0123456789"
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def _token(shop_id: int = 3, customer_id: int = 17, now: datetime = NOW) -> str:
    return issue_visitor_token(secret=SECRET, shop_id=shop_id, customer_id=customer_id, now=now)


def _flip(text: str, index: int) -> str:
    replacement = "A" if text[index] != "A" else "B"
    return text[:index] + replacement + text[index + 1 :]


def test_a_token_names_its_shop_and_customer() -> None:
    claims = verify_visitor_token(secret=SECRET, token=_token(3, 17), now=NOW)
    assert (claims.shop_id, claims.customer_id, claims.issued_at) == (3, 17, NOW)


def test_changing_any_single_character_of_a_token_is_refused() -> None:
    token = _token()
    assert len(token) <= MAX_TOKEN_LENGTH
    for index in range(len(token)):
        tampered = _flip(token, index)
        with pytest.raises(InvalidVisitorToken) as caught:
            verify_visitor_token(secret=SECRET, token=tampered, now=NOW)
        assert caught.value.code == "invalid_visitor_token", tampered


def test_claiming_another_customer_with_the_old_signature_is_refused() -> None:
    payload, _, signature = _token(3, 17).rpartition(".")
    forged = payload.replace(".17.", ".18.") + "." + signature
    with pytest.raises(InvalidVisitorToken):
        verify_visitor_token(secret=SECRET, token=forged, now=NOW)


def test_a_token_signed_with_another_key_is_refused() -> None:
    foreign = issue_visitor_token(
        secret="another-server-0123456789", shop_id=3, customer_id=17, now=NOW
    )
    with pytest.raises(InvalidVisitorToken):
        verify_visitor_token(secret=SECRET, token=foreign, now=NOW)


def test_a_token_lives_a_year() -> None:
    token = _token()
    verify_visitor_token(secret=SECRET, token=token, now=NOW + TOKEN_LIFETIME)
    with pytest.raises(InvalidVisitorToken):
        verify_visitor_token(secret=SECRET, token=token, now=NOW + timedelta(days=366))


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "x",
        ".",
        "v1.3.17",
        "v1.3.17.1795000000.",
        "v1.a.b.c.d",
        "访客.3.17.1795000000.sig",
        "v1.3.17.1795000000." + "A" * 300,
        "\x00" * 20,
    ],
)
def test_garbage_is_refused_not_crashed_on(garbage: str) -> None:
    with pytest.raises(InvalidVisitorToken):
        verify_visitor_token(secret=SECRET, token=garbage, now=NOW)


def test_a_well_signed_token_of_an_unknown_version_is_refused() -> None:
    from kefu.channels.visitors import _mac

    payload = f"v2.3.17.{int(NOW.timestamp())}"
    token = f"{payload}.{_mac(SECRET, 'visitor', payload)}"
    with pytest.raises(InvalidVisitorToken):
        verify_visitor_token(secret=SECRET, token=token, now=NOW)


# --- signed identities --------------------------------------------------------------------


def _signed(shop_id: int = 3, **fields: object) -> tuple[str, str]:
    data: dict[str, object] = {"external_id": "u-1001", "ts": int(NOW.timestamp())}
    data.update(fields)
    identity = encode_identity(
        external_id=str(data["external_id"]),
        name=str(data.get("name", "")),
        phone=data.get("phone"),  # type: ignore[arg-type]
        ts=int(data["ts"]),  # type: ignore[call-overload]
    )
    key = widget_secret(secret=SECRET, shop_id=shop_id)
    return identity, sign_identity(key=key, identity=identity)


def test_a_signed_identity_is_read_back() -> None:
    identity, signature = _signed(name="王芳", phone="13812345678")
    who = verify_identity(secret=SECRET, shop_id=3, identity=identity, signature=signature, now=NOW)
    assert (who.external_id, who.name, who.phone) == ("u-1001", "王芳", "13812345678")
    # Hex in capitals (some languages' default) is the same signature.
    verify_identity(
        secret=SECRET, shop_id=3, identity=identity, signature=signature.upper(), now=NOW
    )


def test_each_shop_has_its_own_identity_key() -> None:
    assert widget_secret(secret=SECRET, shop_id=3) != widget_secret(secret=SECRET, shop_id=4)
    identity, signature = _signed(shop_id=4)
    with pytest.raises(Unauthenticated):
        verify_identity(secret=SECRET, shop_id=3, identity=identity, signature=signature, now=NOW)


def test_a_wrong_signature_is_refused() -> None:
    identity, signature = _signed()
    for bad in ("", "00" * 32, _flip(signature, 5)):
        with pytest.raises(Unauthenticated) as caught:
            verify_identity(secret=SECRET, shop_id=3, identity=identity, signature=bad, now=NOW)
        assert caught.value.key == "errors.bad_identity_signature"


def test_a_changed_identity_no_longer_matches_its_signature() -> None:
    identity, signature = _signed(external_id="u-1001")
    other, _ = _signed(external_id="u-1002")
    with pytest.raises(Unauthenticated):
        verify_identity(secret=SECRET, shop_id=3, identity=other, signature=signature, now=NOW)
    assert identity != other


def test_an_identity_older_than_a_day_or_from_the_future_is_refused() -> None:
    old = int((NOW - IDENTITY_MAX_AGE - timedelta(seconds=1)).timestamp())
    future = int((NOW + timedelta(minutes=10)).timestamp())
    for ts in (old, future):
        identity, signature = _signed(ts=ts)
        with pytest.raises(Unauthenticated) as caught:
            verify_identity(
                secret=SECRET, shop_id=3, identity=identity, signature=signature, now=NOW
            )
        assert caught.value.key == "errors.identity_expired"
    fresh = int((NOW - IDENTITY_MAX_AGE + timedelta(minutes=1)).timestamp())
    identity, signature = _signed(ts=fresh)
    verify_identity(secret=SECRET, shop_id=3, identity=identity, signature=signature, now=NOW)


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[1, 2]",
        b'"just a string"',
        b'{"ts": 1795000000}',
        b'{"external_id": "u-1"}',
        b'{"external_id": "   ", "ts": 1795000000}',
        b'{"external_id": "u-1", "ts": "soon"}',
        b"\xff\xfe",
    ],
)
def test_a_correctly_signed_but_malformed_identity_is_invalid(raw: bytes) -> None:
    identity = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    key = widget_secret(secret=SECRET, shop_id=3)
    with pytest.raises(Invalid) as caught:
        verify_identity(
            secret=SECRET,
            shop_id=3,
            identity=identity,
            signature=sign_identity(key=key, identity=identity),
            now=NOW,
        )
    assert caught.value.field == "identity"


def test_encode_identity_is_base64url_json() -> None:
    identity = encode_identity(external_id="u-1", name="王芳", ts=1)
    padded = identity + "=" * (-len(identity) % 4)
    assert json.loads(base64.urlsafe_b64decode(padded)) == {
        "external_id": "u-1",
        "name": "王芳",
        "ts": 1,
    }
