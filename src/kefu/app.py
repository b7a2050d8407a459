"""create_app(settings): the ASGI application, wired from settings and nothing else."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

import kefu
from kefu.accounts import pages as account_pages
from kefu.accounts import routes as account_routes
from kefu.accounts import staff_pages, token_pages
from kefu.analytics import pages as analytics_pages
from kefu.clock import Clock, SystemClock
from kefu.config import Settings
from kefu.conversations import routes as conversation_routes
from kefu.crm import routes as crm_routes
from kefu.db import ensure_sqlite_directory, make_engine, make_session_factory
from kefu.events import EventBus
from kefu.shops import routes as shop_routes
from kefu.web import errors, health
from kefu.web.context import AppContext
from kefu.web.middleware import (
    BodySizeLimitMiddleware,
    RequestLogMiddleware,
    SecurityHeadersMiddleware,
)

STATIC_DIR = Path(__file__).parent / "web" / "static"


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    bus: EventBus | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    if engine is None:
        ensure_sqlite_directory(settings.database_url)
        engine = make_engine(settings.database_url)
    context = AppContext(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        bus=bus or EventBus(),
        clock=clock or SystemClock(),
    )
    app = FastAPI(
        title="Kefu 客服 API",
        version=kefu.__version__,
        description="Customer-service desk for online shops. Authenticate with "
        "`Authorization: Bearer <API token>` or the agent session cookie.",
        # Swagger UI and ReDoc load scripts from a CDN; Kefu serves nothing from outside.
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.kefu = context

    errors.install(app)
    for router in (
        health.router,
        account_pages.router,
        analytics_pages.router,
        staff_pages.router,
        token_pages.router,
        account_routes.router,
        shop_routes.router,
        crm_routes.router,
        conversation_routes.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    # Added innermost first: the request log wraps everything, so it sees the final status.
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestLogMiddleware)
    return app
