"""Images buyers and agents send: checked by content, stored on disk, described in a row.

The file's type is decided by its first bytes, never by its name or the browser's claim,
so a script renamed ``.png`` is refused. Files are written to a temporary name and moved
into place, and the row is committed after the file exists: nothing half-written.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.conversations.models import Attachment
from kefu.errors import Invalid, NotFound
from kefu.uow import UnitOfWork

# Content type by magic number.
SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"GIF87a", "image/gif", ".gif"),
    (b"GIF89a", "image/gif", ".gif"),
)


def sniff(data: bytes) -> tuple[str, str] | None:
    for magic, content_type, suffix in SIGNATURES:
        if data.startswith(magic):
            return content_type, suffix
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", ".webp"
    return None


def store_upload(
    uow: UnitOfWork,
    *,
    shop_id: int,
    directory: Path,
    data: bytes,
    filename: str,
    max_bytes: int,
    customer_id: int | None = None,
    agent_id: int | None = None,
    commit: bool = True,
) -> Attachment:
    if not data:
        raise Invalid("the file is empty", field="file")
    if len(data) > max_bytes:
        raise Invalid(
            f"the file is {len(data)} bytes; the limit is {max_bytes}",
            field="file",
            key="errors.upload_too_large",
            limit_mb=round(max_bytes / 1_048_576, 1),
        )
    kind = sniff(data)
    if kind is None:
        raise Invalid(
            "only PNG, JPEG, GIF or WebP images can be sent",
            field="file",
            key="errors.upload_type",
        )
    content_type, suffix = kind
    key = secrets.token_hex(16) + suffix
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / key
    partial = directory / f".{key}.part"
    partial.write_bytes(data)
    os.replace(partial, final)
    name = "".join(ch for ch in Path(filename or "").name if ch.isprintable())[:120]
    attachment = Attachment(
        shop_id=shop_id,
        key=key,
        name=name,
        content_type=content_type,
        size=len(data),
        customer_id=customer_id,
        agent_id=agent_id,
        created_at=uow.clock.now(),
    )
    uow.session.add(attachment)
    try:
        uow.session.flush()
        if commit:
            uow.commit()
    except Exception:
        final.unlink(missing_ok=True)
        raise
    return attachment


def find_by_key(session: Session, *, key: str) -> Attachment:
    attachment = session.scalar(select(Attachment).where(Attachment.key == key))
    if attachment is None:
        raise NotFound("file not found")
    return attachment
