"""ASGI middleware: request ids and access logs, body size limits, security headers."""

from __future__ import annotations

import logging
import secrets
import time

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("kefu.request")


class RequestLogMiddleware:
    """Gives every request an id (echoed as X-Request-ID) and logs one line when it ends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )


class BodySizeLimitMiddleware:
    """Refuses bodies over the limit with 413, whether announced by Content-Length or streamed."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, upload_bytes: int | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # Upload endpoints take a file plus its multipart envelope.
        self.upload_bytes = max(max_bytes, (upload_bytes or 0) + 64 * 1024)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        # Uploads, and batches of up to 1,000 products or orders (API and webhooks), are big.
        big = path.endswith(("/uploads", "/batch")) or path.startswith("/api/v1/hooks/")
        limit = self.upload_bytes if big else self.max_bytes
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > limit:
                    # Answered here, before anything reads the body: the app never sees it.
                    response = JSONResponse(
                        {
                            "error": {
                                "code": "payload_too_large",
                                "message": f"request body is {declared} bytes; limit {limit}",
                            }
                        },
                        status_code=413,
                    )
                    await response(scope, receive, send)
                    return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(
                        413, detail=f"request body is over the limit of {limit} bytes"
                    )
            return message

        await self.app(scope, limited_receive, send)


# Pages load nothing from other origins but pictures; inline scripts are not allowed, so even
# text that escaped escaping could not run. Product pictures live on each shop's own image
# host (https only), so img-src allows any https origin: an image cannot run script.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob: https:; style-src 'self'; "
    "script-src 'self'; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
# The buyer chat page is embedded in shops' own sites (widget.js puts it in an iframe).
EMBEDDABLE_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace(
    "frame-ancestors 'none'", "frame-ancestors *"
)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                if "content-security-policy" not in headers:
                    # A page that sets its own policy (the embeddable chat) decides framing.
                    headers["X-Frame-Options"] = "DENY"
                    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
            await send(message)

        await self.app(scope, receive, send_wrapper)
