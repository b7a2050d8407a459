"""create_app(settings): the ASGI application, wired from settings and nothing else."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from anyio import to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

import kefu
from kefu.accounts import pages as account_pages
from kefu.accounts import routes as account_routes
from kefu.accounts import staff_pages, token_pages
from kefu.analytics import pages as analytics_pages
from kefu.bot import pages as bot_pages
from kefu.bot import routes as bot_routes
from kefu.bot import subscribers as bot_subscribers
from kefu.bot import watchdog as bot_watchdog
from kefu.channels import pages as chat_pages
from kefu.channels import routes as widget_routes
from kefu.clock import Clock, SystemClock
from kefu.coach import live_routes as coach_live_routes
from kefu.coach import phrase_pages as coach_phrase_pages
from kefu.coach import phrase_routes as coach_phrase_routes
from kefu.coach import qa_pages as coach_qa_pages
from kefu.coach import qa_routes as coach_qa_routes
from kefu.coach import qa_sweep as coach_qa_sweep
from kefu.coach import rule_pages as coach_rule_pages
from kefu.coach import rule_routes as coach_rule_routes
from kefu.coach import subscribers as coach_subscribers
from kefu.commerce import import_pages as commerce_import_pages
from kefu.commerce import pages as commerce_pages
from kefu.commerce import routes as commerce_routes
from kefu.commerce import settings_pages as commerce_settings_pages
from kefu.config import Settings
from kefu.conversations import desk_routes
from kefu.conversations import pages as desk_pages
from kefu.conversations import routes as conversation_routes
from kefu.conversations import subscribers as conversation_subscribers
from kefu.crm import routes as crm_routes
from kefu.db import ensure_sqlite_directory, make_engine, make_session_factory
from kefu.events import EventBus
from kefu.kb import import_pages as kb_import_pages
from kefu.kb import pages as kb_pages
from kefu.kb import routes as kb_routes
from kefu.kb import unanswered_pages as kb_unanswered_pages
from kefu.realtime import routes as realtime_routes
from kefu.realtime.runtime import Realtime
from kefu.sales import (
    case_pages,
    case_routes,
    conversion_pages,
    conversion_routes,
    conversion_sweep,
    reminder_pages,
    reminder_routes,
    reminder_sender,
)
from kefu.sales import subscribers as sales_subscribers
from kefu.shops import routes as shop_routes
from kefu.tickets import (
    escalation_pages,
    handover_pages,
    handover_watch,
    list_forms,
    notification_pages,
    shift_pages,
    shift_routes,
    sla_pages,
    sla_routes,
    sla_watch,
    ticket_forms,
    ticket_pages,
)
from kefu.tickets import link_routes as ticket_link_routes
from kefu.tickets import pages as ticket_list_pages
from kefu.tickets import routes as ticket_routes
from kefu.tickets import setup_routes as ticket_setup_routes
from kefu.tickets import subscribers as ticket_subscribers
from kefu.uow import UnitOfWork
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
    bus = bus or EventBus()
    clock = clock or SystemClock()
    session_factory = make_session_factory(engine)

    def unit_of_work() -> UnitOfWork:
        return UnitOfWork(session_factory, bus, clock)

    conversation_subscribers.install(bus, unit_of_work)
    realtime = Realtime(
        bus=bus,
        unit_of_work=unit_of_work,
        session_factory=session_factory,
        redis_url=settings.redis_url,
        new_visitors_per_minute=settings.new_visitors_per_minute,
    )
    # After realtime: a buyer's line reaches the desks before the bot's answer to it.
    bot_worker = bot_subscribers.BotWorker(unit_of_work)
    bot_subscribers.install(bus, unit_of_work, worker=bot_worker)
    sales_subscribers.install(bus, unit_of_work)
    ticket_subscribers.install(bus, unit_of_work)
    coach_subscribers.install(bus, unit_of_work)
    context = AppContext(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        bus=bus,
        clock=clock,
        realtime=realtime,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await realtime.start()
        watchdog = asyncio.create_task(bot_watchdog.watch(unit_of_work))
        conversions = asyncio.create_task(conversion_sweep.watch(unit_of_work))
        reminders = asyncio.create_task(reminder_sender.watch(unit_of_work))
        sla_deadlines = asyncio.create_task(sla_watch.watch(unit_of_work))
        handovers = asyncio.create_task(handover_watch.watch(unit_of_work))
        quality = asyncio.create_task(coach_qa_sweep.watch(unit_of_work))
        try:
            yield
        finally:
            for task in (watchdog, conversions, reminders, sla_deadlines, handovers, quality):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await to_thread.run_sync(bot_worker.stop)
            await realtime.stop()

    app = FastAPI(
        title="Kefu 客服 API",
        version=kefu.__version__,
        description="Customer-service desk for online shops. Authenticate with "
        "`Authorization: Bearer <API token>` or the agent session cookie.",
        # Swagger UI and ReDoc load scripts from a CDN; Kefu serves nothing from outside.
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        lifespan=lifespan,
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
        desk_routes.router,
        desk_routes.files,
        desk_pages.router,
        widget_routes.router,
        chat_pages.router,
        realtime_routes.router,
        commerce_import_pages.router,
        commerce_pages.router,
        commerce_routes.router,
        commerce_routes.hooks,
        commerce_settings_pages.router,
        kb_routes.router,
        kb_import_pages.router,  # before kb_pages: /kb/{entry_id} would take /kb/import
        kb_unanswered_pages.router,
        kb_pages.router,
        bot_routes.router,
        bot_pages.router,
        conversion_routes.router,
        conversion_pages.router,
        reminder_routes.router,
        reminder_pages.router,
        case_routes.router,
        case_pages.router,
        # Ticket pages: /tickets/{id} only matches digits, so /tickets/new, /tickets/rows and
        # other pages under /tickets/ never reach it, whatever the order.
        ticket_list_pages.router,
        list_forms.router,
        ticket_pages.router,
        ticket_forms.router,
        notification_pages.router,
        sla_pages.router,  # /settings/sla and /tickets/sla-report
        escalation_pages.router,  # /tickets/escalations/…, /tickets/{id}/escalation/…
        shift_pages.router,  # /shifts
        handover_pages.router,  # /handovers
        # The API: /api/v1/tickets/views, /fields, /settings before /api/v1/tickets/{ticket_id}.
        sla_routes.router,  # /api/v1/tickets/sla/…
        *shift_routes.routers,  # /api/v1/shifts, /api/v1/handovers, /api/v1/tickets/escalations
        ticket_setup_routes.router,
        ticket_setup_routes.notifications,
        ticket_link_routes.router,
        ticket_routes.router,
        # The coach (质检): /api/v1/coach/…, /settings/coach, /phrases, /quality.
        coach_rule_routes.router,
        coach_phrase_routes.router,
        coach_qa_routes.router,
        coach_live_routes.router,
        coach_rule_pages.router,
        coach_phrase_pages.router,
        coach_qa_pages.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    # Added innermost first: the request log wraps everything, so it sees the final status.
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        upload_bytes=settings.max_upload_bytes,
    )
    app.add_middleware(RequestLogMiddleware)
    return app
